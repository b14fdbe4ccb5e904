from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.registration.domain.numbers import (
    DEFAULT_FORMAT,
    format_registration_number,
    registration_validity,
)


def test_default_format():
    assert format_registration_number(DEFAULT_FORMAT, 2020, 1) == "京社登2020000001"
    assert format_registration_number(DEFAULT_FORMAT, 2020, 123456) == "京社登2020123456"


def test_custom_format():
    assert format_registration_number("BJ-{year}-{seq:05d}", 2021, 42) == "BJ-2021-00042"


@pytest.mark.parametrize("fmt", ["京社登{year}", "{seq}{name}", "{seq", "{0}{seq}"])
def test_bad_formats_are_refused(fmt):
    with pytest.raises(ValueError):
        format_registration_number(fmt, 2020, 1)


@pytest.mark.parametrize("seq", [0, -1, True, "1", 1.0])
def test_bad_sequences_are_refused(seq):
    with pytest.raises(ValueError):
        format_registration_number(DEFAULT_FORMAT, 2020, seq)


def test_sequences_sort_in_issue_order():
    numbers = [format_registration_number(DEFAULT_FORMAT, 2020, s) for s in (1, 2, 10, 999999)]
    assert numbers == sorted(numbers)


def test_validity_is_three_years_less_a_day():
    assert registration_validity(date(2020, 7, 15)) == (date(2020, 7, 15), date(2023, 7, 14))


def test_validity_starts_on_the_beijing_day_of_approval():
    # 2020-07-31T17:00Z is 1 August 01:00 in Beijing.
    approved = datetime(2020, 7, 31, 17, 0, tzinfo=timezone.utc)
    assert registration_validity(approved) == (date(2020, 8, 1), date(2023, 7, 31))


def test_leap_day_approval_ends_on_28_february():
    assert registration_validity(date(2020, 2, 29)) == (date(2020, 2, 29), date(2023, 2, 28))


def test_naive_datetime_is_a_programming_error():
    with pytest.raises(ValueError):
        registration_validity(datetime(2020, 7, 1, 12))


@given(st.dates(min_value=date(2008, 1, 1), max_value=date(2090, 12, 31)))
def test_validity_ends_the_day_before_the_third_anniversary(day):
    valid_from, valid_until = registration_validity(day)
    assert valid_from == day
    anniversary = valid_until + timedelta(days=1)
    assert anniversary.year == day.year + 3
    assert (anniversary.month, anniversary.day) == ((day.month, day.day) if (day.month, day.day) != (2, 29)
                                                    else (3, 1))
