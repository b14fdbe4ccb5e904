"""Quiet hours: non-urgent messages wait for the morning, Beijing time.

Nobody should be woken at 23:00 by "your application was received"; an SMS code, on the
other hand, is asked for by the person holding the phone, so it goes at once.
"""
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

BEIJING = ZoneInfo("Asia/Shanghai")
URGENT_KINDS = frozenset({"verification_code"})


@dataclass(frozen=True)
class QuietHoursPolicy:
    start: time = time(22, 0)  # local time the window opens (inclusive)
    end: time = time(8, 0)  # local time messages are released (exclusive end of the window)
    zone: ZoneInfo = BEIJING
    urgent_kinds: frozenset = field(default=URGENT_KINDS)

    @classmethod
    def from_config(cls, config):
        """NOTIFY_QUIET_HOURS = "22:00-08:00" (default) or "off"."""
        value = str(config.get("NOTIFY_QUIET_HOURS") or "22:00-08:00").strip()
        if value.lower() in ("off", "none", "0"):
            return cls(start=time(0, 0), end=time(0, 0))
        try:
            start, end = (time.fromisoformat(part.strip()) for part in value.split("-"))
        except ValueError:
            raise ValueError(f"NOTIFY_QUIET_HOURS 格式应为 HH:MM-HH:MM 或 off，收到 {value!r}") from None
        return cls(start=start, end=end)

    @property
    def enabled(self):
        return self.start != self.end

    def contains(self, local_time):
        if self.start < self.end:
            return self.start <= local_time < self.end
        return local_time >= self.start or local_time < self.end  # the window spans midnight


def release_time(kind, now_utc, policy=QuietHoursPolicy()):
    """The earliest moment (UTC) a message of `kind` created at `now_utc` may be sent."""
    if now_utc.tzinfo is None:
        raise ValueError("now_utc must be an aware datetime")
    now_utc = now_utc.astimezone(timezone.utc)
    if kind in policy.urgent_kinds or not policy.enabled:
        return now_utc
    local = now_utc.astimezone(policy.zone)
    if not policy.contains(local.time().replace(tzinfo=None)):
        return now_utc
    day = local.date() if local.time() < policy.end else local.date() + timedelta(days=1)
    return datetime.combine(day, policy.end, tzinfo=policy.zone).astimezone(timezone.utc)
