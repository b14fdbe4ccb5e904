"""The auditor's query over an audit log (every service's, one shape), pure: filters in, a checked
query out; pages of several logs merged newest first. No SQL here — services.common.audit applies
the query to a service's own table.

Paging is by keyset, per log: a page ends at an entry (at, id); the next page asks each log for the
entries strictly older than the last one it contributed, so a growing log never shifts the pages.
"""
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from services.common.clock import BEIJING
from services.contracts.errors import ValidationFailed

DEFAULT_LIMIT, MAX_LIMIT = 50, 200
TEXT_MAX = 120


@dataclass(frozen=True)
class AuditQuery:
    application_id: str | None = None
    actor: str | None = None
    action: str | None = None
    since: datetime | None = None  # inclusive, aware UTC
    until: datetime | None = None  # exclusive, aware UTC
    before: tuple | None = None  # (at aware UTC, id): only entries older than this one
    limit: int = DEFAULT_LIMIT


def _refuse(field, message):
    raise ValidationFailed(message, code="invalid_filter", details={field: [message]})


def _text(filters, field):
    value = filters.get(field)
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value.strip()) > TEXT_MAX:
        _refuse(field, f"筛选条件过长（不超过{TEXT_MAX}个字符）")
    return value.strip() or None


def _day(filters, field):
    value = filters.get(field)
    if not value:
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        _refuse(field, "日期格式应为2020-07-03")


def beijing_day_start(day):
    return datetime.combine(day, time(0), tzinfo=BEIJING).astimezone(timezone.utc)


def parse(filters):
    """{application_id, actor, action, date_from, date_to (Beijing days, inclusive), before_at,
    before_id, limit} → AuditQuery; ValidationFailed with the field when one is wrong."""
    filters = filters or {}
    if not isinstance(filters, dict):
        _refuse("filters", "筛选条件应为对象")
    first, last = _day(filters, "date_from"), _day(filters, "date_to")
    if first and last and last < first:
        _refuse("date_to", "结束日期不能早于开始日期")
    before = None
    if filters.get("before_at") or filters.get("before_id") is not None:
        try:
            at = datetime.fromisoformat(str(filters["before_at"]))
            before = (at.astimezone(timezone.utc) if at.tzinfo else at.replace(tzinfo=timezone.utc),
                      int(filters["before_id"]))
        except (KeyError, TypeError, ValueError):
            _refuse("before", "翻页位置无效，请回到第一页")
    try:
        limit = int(filters.get("limit") or DEFAULT_LIMIT)
    except (TypeError, ValueError):
        limit = 0
    if not 1 <= limit <= MAX_LIMIT:
        _refuse("limit", f"每页条数应为1到{MAX_LIMIT}")
    return AuditQuery(application_id=_text(filters, "application_id"), actor=_text(filters, "actor"),
                      action=_text(filters, "action"), since=beijing_day_start(first) if first else None,
                      until=beijing_day_start(last + timedelta(days=1)) if last else None,
                      before=before, limit=limit)


def merge(pages, limit, previous=None):
    """pages: {source: [entry, ...] newest first, each with "at" (ISO) and "id"}, each fetched with
    limit + 1 so that "more" is known → (the newest `limit` entries, the next page's cursor or None).

    The cursor holds, per source, the (at, id) of its oldest entry shown — or its `previous`
    position when none of its entries was shown on this page (absent: from the newest).
    """
    tagged = [(datetime.fromisoformat(e["at"]), source, e) for source, entries in pages.items() for e in entries]
    tagged.sort(key=lambda t: (t[0], t[1], t[2]["id"]), reverse=True)
    shown = tagged[:limit]
    if len(tagged) <= limit:
        return [e for _, _, e in shown], None
    cursor = dict(previous or {})
    for _, source, entry in shown:
        cursor[source] = (entry["at"], entry["id"])
    return [e for _, _, e in shown], cursor
