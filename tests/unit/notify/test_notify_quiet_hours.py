from datetime import datetime, time, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.notify.domain.quiet_hours import BEIJING, QuietHoursPolicy, release_time

POLICY = QuietHoursPolicy()


def utc(text):
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


@pytest.mark.parametrize("now, expected", [
    ("2020-07-03T14:30", "2020-07-04T00:00"),  # 22:30 Beijing → 08:00 next morning
    ("2020-07-03T14:00", "2020-07-04T00:00"),  # 22:00 sharp: the window has opened
    ("2020-07-03T13:59", "2020-07-03T13:59"),  # 21:59: still the evening
    ("2020-07-03T16:00", "2020-07-04T00:00"),  # midnight Beijing → 08:00 the same (local) day
    ("2020-07-03T23:59", "2020-07-04T00:00"),  # 07:59
    ("2020-07-04T00:00", "2020-07-04T00:00"),  # 08:00: released
    ("2020-07-04T02:00", "2020-07-04T02:00"),  # 10:00: daytime
    ("2020-12-31T15:00", "2021-01-01T00:00"),  # 23:00 on new year's eve → next year
])
def test_non_urgent_messages_wait_for_the_morning(now, expected):
    assert release_time("submission_receipt", utc(now), POLICY) == utc(expected)


def test_verification_codes_go_at_once():
    now = utc("2020-07-03T14:30")
    assert release_time("verification_code", now, POLICY) == now


def test_result_is_utc_even_for_a_beijing_input():
    now = datetime(2020, 7, 3, 23, 0, tzinfo=BEIJING)
    released = release_time("approved", now, POLICY)
    assert released.tzinfo == timezone.utc and released == utc("2020-07-04T00:00")


def test_naive_time_is_refused():
    with pytest.raises(ValueError):
        release_time("approved", datetime(2020, 7, 3, 14, 30), POLICY)


def test_configurable_window_and_off():
    policy = QuietHoursPolicy.from_config({"NOTIFY_QUIET_HOURS": "21:00-07:30"})
    assert policy.start == time(21) and policy.end == time(7, 30)
    assert release_time("approved", utc("2020-07-03T13:10"), policy) == utc("2020-07-03T23:30")
    off = QuietHoursPolicy.from_config({"NOTIFY_QUIET_HOURS": "off"})
    assert release_time("approved", utc("2020-07-03T14:30"), off) == utc("2020-07-03T14:30")
    assert QuietHoursPolicy.from_config({}) == POLICY
    with pytest.raises(ValueError, match="HH:MM"):
        QuietHoursPolicy.from_config({"NOTIFY_QUIET_HOURS": "late"})


def test_daytime_window_that_does_not_span_midnight():
    lunch = QuietHoursPolicy(start=time(12), end=time(14))
    assert release_time("approved", utc("2020-07-03T04:30"), lunch) == utc("2020-07-03T06:00")
    assert release_time("approved", utc("2020-07-03T06:00"), lunch) == utc("2020-07-03T06:00")


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(timezone.utc)))
def test_release_is_never_early_never_in_the_window_and_at_most_ten_hours_late(now):
    released = release_time("rejected", now, POLICY)
    assert now <= released <= now + timedelta(hours=10)
    assert not POLICY.contains(released.astimezone(BEIJING).time())
    if released != now:
        assert released.astimezone(BEIJING).time() == time(8)
