"""Real-name verification attempts: at most 5 in any 6 hours per account.

Counted: attempts that passed the local rules (ID format, checksum, birth date, name form) and so
reached the one-account-per-ID check or the external verifier. A typo refused by the local rules
costs nothing; guessing which ID goes with a name, or which IDs are already verified, does.
"""
import math
from dataclasses import dataclass
from datetime import timedelta

from services.common.clock import BEIJING
from services.contracts.errors import TooManyRequests


@dataclass(frozen=True)
class AttemptPolicy:
    max_attempts: int = 5
    window: timedelta = timedelta(hours=6)


def next_attempt_at(attempt_times, now, policy=AttemptPolicy()):
    """None when another attempt is allowed now, else the aware instant a slot frees up."""
    recent = sorted(t for t in attempt_times if now - policy.window < t <= now)
    if len(recent) < policy.max_attempts:
        return None
    return recent[-policy.max_attempts] + policy.window


def ensure_attempt_allowed(attempt_times, now, policy=AttemptPolicy()):
    """Raise TooManyRequests (429) whose Chinese message says when to try again (Beijing time)."""
    until = next_attempt_at(attempt_times, now, policy)
    if until is None:
        return
    hours = policy.window.total_seconds() / 3600
    hours_text = f"{hours:g}"
    message = (f"实名认证尝试次数过多（{hours_text}小时内最多{policy.max_attempts}次），"
               f"请于北京时间{_shown(until)}后再试；如确认信息无误仍无法认证，请联系客服")
    raise TooManyRequests(message, code="verification_attempts_exceeded",
                          details={"retry_after": math.ceil((until - now).total_seconds()),
                                   "retry_at": until.isoformat()})


def _shown(instant):
    # Rounded up to the minute, so trying at the time shown always works.
    local = instant.astimezone(BEIJING)
    if local.second or local.microsecond:
        local = local.replace(second=0, microsecond=0) + timedelta(minutes=1)
    return f"{local.month}月{local.day}日{local:%H:%M}"
