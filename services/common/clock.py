"""The one place services read the time, so tests can move it."""
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

BEIJING = ZoneInfo("Asia/Shanghai")

_frozen = None


def now():
    return _frozen if _frozen is not None else datetime.now(timezone.utc)


def set_now(value):
    """Tests only: freeze the clock (None to release it)."""
    global _frozen
    _frozen = value


def iso(dt):
    """ISO 8601 with the Beijing offset, as events and people expect."""
    return dt.astimezone(BEIJING).isoformat(timespec="milliseconds")
