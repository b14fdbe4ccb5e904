"""Registration numbers (登记证书编号) and the validity period of a registration.

Format: a `str.format` template over `year` (the campaign year, int) and `seq` (int ≥ 1, the
sequence within that year, allocated by the database). The default `京社登{year}{seq:06d}` gives
`京社登2020000001`: the issuing region, the year, and a zero-padded counter, so numbers sort by
issue order and never collide across years. No official numbering rule was found, so the
template is configuration, not a constant in code paths.

Validity: the national rule says a registration is valid for 3 years. It starts on the approval
date (the Beijing calendar day the registration was approved) and ends the day before the same
calendar date 3 years later, the way Chinese certificates print "有效期至": approved 2020-07-15
→ valid 2020-07-15 to 2023-07-14. For 29 February the anniversary falls on 1 March, so the
registration ends on 28 February.
"""
import string
from datetime import date, datetime, timedelta

from services.common.clock import BEIJING

DEFAULT_FORMAT = "京社登{year}{seq:06d}"
VALIDITY_YEARS = 3
_FIELDS = {"year", "seq"}


def check_format(fmt):
    """Refuse a template that names anything but {year} and {seq}, or lacks {seq} (numbers would repeat)."""
    try:
        names = {name for _, name, _, _ in string.Formatter().parse(fmt) if name is not None}
    except ValueError as exc:
        raise ValueError(f"bad registration number format {fmt!r}: {exc}") from None
    if not names <= _FIELDS or "seq" not in names:
        raise ValueError(f"registration number format {fmt!r} must use {{seq}} and may use {{year}} only")
    return fmt


def format_registration_number(fmt, year, seq):
    check_format(fmt)
    if isinstance(seq, bool) or not isinstance(seq, int) or seq < 1:
        raise ValueError("seq must be an int ≥ 1")
    if isinstance(year, bool) or not isinstance(year, int):
        raise ValueError("year must be an int")
    return fmt.format(year=year, seq=seq)


def registration_validity(approved_on):
    """(valid_from, valid_until) as dates; `approved_on` is a date or an aware datetime (read in Beijing)."""
    if isinstance(approved_on, datetime):
        if approved_on.tzinfo is None:
            raise ValueError("registration_validity needs a date or an aware datetime")
        approved_on = approved_on.astimezone(BEIJING).date()
    return approved_on, _add_years(approved_on, VALIDITY_YEARS) - timedelta(days=1)


def _add_years(day, years):
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a common year
        return date(day.year + years, 3, 1)
