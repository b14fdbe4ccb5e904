"""When to try a temporarily failed message again.

Exponential backoff spreads retries out while a provider recovers; jitter stops every queued
message from retrying in the same second. Permanent failures are never retried (the caller does
not ask), and an SMS code is not sent after it expires: it would only confuse.
"""
import random
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Callable


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 6  # attempts in total, the first one included
    base_delay: timedelta = timedelta(seconds=30)
    factor: float = 2.0
    max_delay: timedelta = timedelta(hours=1)
    jitter: float = 0.2  # ± this fraction of the delay
    random: Callable[[], float] = field(default=random.random, compare=False, repr=False)

    @classmethod
    def from_config(cls, config):
        return cls(
            max_attempts=int(config.get("NOTIFY_MAX_ATTEMPTS") or cls.max_attempts),
            base_delay=timedelta(seconds=float(config.get("NOTIFY_RETRY_BASE_SECONDS") or 30)),
            max_delay=timedelta(seconds=float(config.get("NOTIFY_RETRY_MAX_SECONDS") or 3600)),
        )

    def delay(self, attempts):
        """Backoff after `attempts` failed attempts, before jitter, capped."""
        exponent = min(max(attempts - 1, 0), 64)  # a float stays finite; cap before timedelta
        seconds = self.base_delay.total_seconds() * self.factor ** exponent
        return timedelta(seconds=min(seconds, self.max_delay.total_seconds()))


def next_attempt_at(attempts, now, policy=RetryPolicy(), expires_at=None):
    """After `attempts` attempts (≥ 1) failed temporarily: when to try again, or None to give up."""
    if attempts < 1:
        raise ValueError("attempts counts the attempts made so far and starts at 1")
    if attempts >= policy.max_attempts:
        return None
    spread = 1 - policy.jitter + 2 * policy.jitter * policy.random()
    at = now + min(policy.delay(attempts) * spread, policy.max_delay)
    if expires_at is not None and at >= expires_at:
        return None
    return at
