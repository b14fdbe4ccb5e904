from datetime import datetime, timedelta, timezone

import pytest

from services.contracts.errors import TooManyRequests
from services.identity.domain.lockout import (
    AccountLocked,
    LockoutPolicy,
    attempts_left,
    ensure_not_locked,
    locked_until,
)

# 2020-07-01 10:00 Beijing time.
T0 = datetime(2020, 7, 1, 2, 0, tzinfo=timezone.utc)


def minutes(*offsets):
    return [T0 + timedelta(minutes=m) for m in offsets]


def test_four_failures_do_not_lock():
    failures = minutes(0, 1, 2, 3)
    assert locked_until(failures, T0 + timedelta(minutes=4)) is None
    assert attempts_left(failures, T0 + timedelta(minutes=4)) == 1


def test_five_failures_within_thirty_minutes_lock_for_fifteen():
    failures = minutes(0, 10, 20, 25, 29)
    assert locked_until(failures, T0 + timedelta(minutes=29)) == T0 + timedelta(minutes=44)
    assert locked_until(failures, T0 + timedelta(minutes=43, seconds=59)) == T0 + timedelta(minutes=44)
    assert locked_until(failures, T0 + timedelta(minutes=44)) is None
    assert attempts_left(failures, T0 + timedelta(minutes=30)) == 0


def test_failures_spread_over_more_than_thirty_minutes_do_not_lock():
    failures = minutes(0, 10, 20, 25, 30)
    assert locked_until(failures, T0 + timedelta(minutes=30)) is None
    assert attempts_left(failures, T0 + timedelta(minutes=30)) == 1


def test_after_a_lock_the_count_starts_afresh():
    failures = minutes(0, 1, 2, 3, 4)  # locked until minute 19
    after = minutes(20, 21, 22, 23)
    assert attempts_left(failures, T0 + timedelta(minutes=20)) == 5
    assert locked_until(failures + after, T0 + timedelta(minutes=23)) is None
    assert locked_until(failures + after + minutes(24), T0 + timedelta(minutes=24)) == T0 + timedelta(minutes=39)


def test_failures_recorded_while_locked_neither_count_nor_extend():
    failures = minutes(0, 1, 2, 3, 4) + minutes(5, 6, 7, 8, 9)
    assert locked_until(failures, T0 + timedelta(minutes=10)) == T0 + timedelta(minutes=19)
    assert locked_until(failures, T0 + timedelta(minutes=19)) is None


def test_order_of_input_and_future_timestamps_do_not_matter():
    failures = list(reversed(minutes(0, 1, 2, 3, 4)))
    assert locked_until(failures, T0 + timedelta(minutes=4)) == T0 + timedelta(minutes=19)
    assert locked_until(minutes(0, 1, 2, 3, 60), T0 + timedelta(minutes=4)) is None


def test_policy_is_configurable():
    policy = LockoutPolicy(max_failures=2, window=timedelta(minutes=1), lock_for=timedelta(hours=1))
    assert locked_until(minutes(0, 0.5), T0 + timedelta(minutes=1), policy) == T0 + timedelta(minutes=60.5)


def test_refusal_names_the_beijing_time_rounded_up():
    failures = [T0 + timedelta(minutes=4, seconds=30)] + minutes(0, 1, 2, 3)  # lock ends 10:19:30 Beijing
    with pytest.raises(AccountLocked) as caught:
        ensure_not_locked(failures, T0 + timedelta(minutes=5))
    error = caught.value
    assert isinstance(error, TooManyRequests) and error.code == "account_locked" and error.http_status == 429
    assert "北京时间10:20后再试" in error.message
    assert error.details["retry_after"] == 14 * 60 + 30
    assert error.details["locked_until"] == (T0 + timedelta(minutes=19, seconds=30)).isoformat()


def test_refusal_shows_the_exact_minute_when_it_is_one():
    with pytest.raises(AccountLocked) as caught:
        ensure_not_locked(minutes(0, 1, 2, 3, 4), T0 + timedelta(minutes=5))
    assert "北京时间10:19后再试" in caught.value.message


def test_not_locked_passes():
    ensure_not_locked([], T0)
    ensure_not_locked(minutes(0, 1, 2, 3), T0 + timedelta(minutes=3))
