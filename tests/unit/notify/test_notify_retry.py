from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.notify.domain.retry import RetryPolicy, next_attempt_at

NOW = datetime(2020, 7, 3, 2, 0, tzinfo=timezone.utc)


def policy(rand=0.5, **kwargs):
    return RetryPolicy(random=lambda: rand, **kwargs)


def test_backoff_doubles_without_jitter_at_the_midpoint():
    delays = [next_attempt_at(n, NOW, policy()) - NOW for n in range(1, 6)]
    assert delays == [timedelta(seconds=s) for s in (30, 60, 120, 240, 480)]


def test_jitter_stays_within_its_fraction():
    assert next_attempt_at(2, NOW, policy(rand=0.0)) - NOW == timedelta(seconds=48)
    assert next_attempt_at(2, NOW, policy(rand=1.0)) - NOW == timedelta(seconds=72)


def test_delay_is_capped():
    capped = policy(rand=1.0, max_attempts=100_000, max_delay=timedelta(minutes=10))
    assert next_attempt_at(50, NOW, capped) - NOW == timedelta(minutes=10)
    assert next_attempt_at(10_000, NOW, capped) - NOW == timedelta(minutes=10)


def test_gives_up_after_max_attempts():
    assert next_attempt_at(5, NOW, policy(max_attempts=6)) is not None
    assert next_attempt_at(6, NOW, policy(max_attempts=6)) is None


def test_codes_are_not_retried_past_their_expiry():
    expires = NOW + timedelta(minutes=5)
    assert next_attempt_at(1, NOW, policy(), expires_at=expires) == NOW + timedelta(seconds=30)
    assert next_attempt_at(5, NOW, policy(), expires_at=expires) is None  # 480 s > 5 min
    assert next_attempt_at(1, expires, policy(), expires_at=expires) is None


def test_attempts_start_at_one():
    with pytest.raises(ValueError):
        next_attempt_at(0, NOW, policy())


def test_from_config():
    configured = RetryPolicy.from_config({"NOTIFY_MAX_ATTEMPTS": "3", "NOTIFY_RETRY_BASE_SECONDS": "10"})
    assert configured.max_attempts == 3 and configured.base_delay == timedelta(seconds=10)
    assert RetryPolicy.from_config({}).max_attempts == RetryPolicy().max_attempts


@given(st.integers(min_value=1, max_value=5), st.floats(min_value=0, max_value=0.999999))
def test_next_attempt_is_always_later_and_bounded(attempts, rand):
    at = next_attempt_at(attempts, NOW, policy(rand=rand))
    assert NOW < at <= NOW + RetryPolicy().max_delay
