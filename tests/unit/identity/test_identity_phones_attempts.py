from datetime import datetime, timedelta, timezone

import pytest

from services.contracts.errors import TooManyRequests, ValidationFailed
from services.identity.domain.phones import check_phone, normalise_phone
from services.identity.domain.verification import AttemptPolicy, ensure_attempt_allowed, next_attempt_at

NOW = datetime(2020, 7, 1, 2, 0, tzinfo=timezone.utc)  # 10:00 Beijing


@pytest.mark.parametrize("typed", ["13812345678", " 138 1234 5678 ", "138-1234-5678", "+8613812345678",
                                   "0086 13812345678", "8613812345678", "１３８１２３４５６７８"])
def test_phones_as_people_type_them(typed):
    assert check_phone(typed) == "13812345678"


@pytest.mark.parametrize("typed", ["", None, "1381234567", "138123456789", "12812345678", "23812345678",
                                   "1381234567x", "+85291234567"])
def test_phones_refused_with_a_chinese_reason(typed):
    with pytest.raises(ValidationFailed) as caught:
        check_phone(typed)
    assert caught.value.code == "invalid_phone" and caught.value.details["phone"]


def test_normalise_keeps_what_it_cannot_fold():
    assert normalise_phone("86") == "86"


def test_five_attempts_in_six_hours():
    times = [NOW - timedelta(hours=5, minutes=59 - i, seconds=30) for i in range(4)]
    ensure_attempt_allowed(times, NOW)
    times.append(NOW - timedelta(minutes=1))
    with pytest.raises(TooManyRequests) as caught:
        ensure_attempt_allowed(times, NOW)
    error = caught.value
    assert error.code == "verification_attempts_exceeded"
    until = times[0] + timedelta(hours=6)
    assert next_attempt_at(times, NOW) == until
    assert error.details["retry_after"] == int((until - NOW).total_seconds())
    assert "6小时内最多5次" in error.message and "北京时间7月1日10:01" in error.message  # 10:00:30 rounded up
    ensure_attempt_allowed(times, until)


def test_old_and_future_attempts_do_not_count():
    times = [NOW - timedelta(hours=6)] * 5 + [NOW + timedelta(minutes=1)] * 5
    assert next_attempt_at(times, NOW) is None
    assert next_attempt_at([NOW] * 2, NOW, AttemptPolicy(max_attempts=2)) == NOW + timedelta(hours=6)
