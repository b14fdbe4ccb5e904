"""Login lockout: 5 failures within 30 minutes lock the account for 15 minutes.

Pure over the account's failure timestamps. The caller passes the failures since the last
successful login (a success clears the count) and should not record attempts refused while locked.
After a lock ends the count starts afresh, so the person gets 5 new tries, not one.
"""
import math
from dataclasses import dataclass
from datetime import timedelta

from services.common.clock import BEIJING
from services.contracts.errors import TooManyRequests


@dataclass(frozen=True)
class LockoutPolicy:
    max_failures: int = 5
    window: timedelta = timedelta(minutes=30)
    lock_for: timedelta = timedelta(minutes=15)


class AccountLocked(TooManyRequests):
    code = "account_locked"


def locked_until(failures, now, policy=LockoutPolicy()):
    """The aware instant the lock ends, or None when the account may try now."""
    lock_end, _ = _replay(failures, now, policy)
    return lock_end if lock_end is not None and lock_end > now else None


def attempts_left(failures, now, policy=LockoutPolicy()):
    """How many more failures the account can take before it locks (0 while locked)."""
    lock_end, streak = _replay(failures, now, policy)
    if lock_end is not None and lock_end > now:
        return 0
    return policy.max_failures - len([t for t in streak if now - t < policy.window])


def ensure_not_locked(failures, now, policy=LockoutPolicy()):
    """Raise AccountLocked (429, Chinese message with the Beijing time it ends) when locked."""
    until = locked_until(failures, now, policy)
    if until is None:
        return
    message = (f"登录失败次数过多，账号已临时锁定，请于北京时间{_minute_shown(until)}后再试；"
               "如忘记密码，可通过短信验证码重置密码")
    raise AccountLocked(message, details={"retry_after": math.ceil((until - now).total_seconds()),
                                          "locked_until": until.isoformat()})


def _replay(failures, now, policy):
    """Walk the failures in order: (end of the last lock or None, failures counting since)."""
    lock_end = None
    streak = []
    for failed_at in sorted(f for f in failures if f <= now):
        if lock_end is not None and failed_at < lock_end:
            continue  # refused while locked: neither counts nor extends the lock
        streak = [t for t in streak if failed_at - t < policy.window] + [failed_at]
        if len(streak) >= policy.max_failures:
            lock_end = failed_at + policy.lock_for
            streak = []
    return lock_end, streak


def _minute_shown(instant):
    # Rounded up, so trying at the minute shown always works.
    local = instant.astimezone(BEIJING)
    if local.second or local.microsecond:
        local = local.replace(second=0, microsecond=0) + timedelta(minutes=1)
    return local.strftime("%H:%M")
