"""Formatting helpers the templates use as Jinja filters (pure, Chinese output)."""
from datetime import datetime
from zoneinfo import ZoneInfo

BEIJING = ZoneInfo("Asia/Shanghai")

# The district (…区/县/旗) or, failing that, the city prefix says where a parcel goes without the
# door; a few more characters let people recognise their own street.
_REGION_WINDOW = 12
_VISIBLE_AFTER_REGION = 4


def _region_end(address):
    head = address[:_REGION_WINDOW]
    for marks in ("区县旗", "市"):
        positions = [i for i, ch in enumerate(head) if ch in marks]
        if positions:
            return (positions[0] if marks != "市" else positions[-1]) + 1
    return 0


def beijing_time(value):
    """Aware datetime or ISO 8601 string → '2020年7月31日 23:59' in Beijing time."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise ValueError(f"需要带时区的时间，收到 {value!r}")
    local = value.astimezone(BEIJING)
    return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"


def mask_address(address):
    """Keep the region and the next few characters, hide the rest (number, building, room)."""
    address = (address or "").strip()
    if not address:
        return address
    region = _region_end(address)
    keep = region + _VISIBLE_AFTER_REGION if region else 6
    # Always hide at least a third, however short the address.
    keep = min(keep, len(address) - max(1, len(address) // 3))
    return address[:keep] + "****"


# Chinese carriers bill UCS-2 texts at 70 characters for a single message and 67 per part once a
# text is split (the other 3 carry the concatenation header).
SMS_SINGLE = 70
SMS_PART = 67


def sms_segments(text):
    length = len(text)
    if length == 0:
        return 0
    if length <= SMS_SINGLE:
        return 1
    return -(-length // SMS_PART)
