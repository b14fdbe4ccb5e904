"""Filters of the auditor's query and the merge of two logs' pages (services.common.audit_query)."""
from datetime import datetime, timezone

import pytest

from services.common import audit_query
from services.contracts.errors import ValidationFailed


def entry(source, n, at):
    return {"source": source, "id": n, "at": at}


def test_days_are_beijing_days():
    q = audit_query.parse({"date_from": "2020-07-03", "date_to": "2020-07-03", "actor": " r-1 "})
    assert q.since == datetime(2020, 7, 2, 16, tzinfo=timezone.utc)
    assert q.until == datetime(2020, 7, 3, 16, tzinfo=timezone.utc)
    assert (q.actor, q.application_id, q.limit) == ("r-1", None, 50)


@pytest.mark.parametrize("filters, field", [
    ({"date_from": "7月3日"}, "date_from"), ({"date_from": "2020-07-03", "date_to": "2020-07-01"}, "date_to"),
    ({"limit": 1000}, "limit"), ({"before_at": "2020-07-03T10:00:00+08:00"}, "before"),
    ({"actor": "x" * 200}, "actor")])
def test_wrong_filters_name_their_field(filters, field):
    with pytest.raises(ValidationFailed) as caught:
        audit_query.parse(filters)
    assert field in caught.value.details


def test_merge_pages_two_logs_newest_first_and_remembers_each_position():
    a = [entry("a", 3, "2020-07-03T10:05:00+08:00"), entry("a", 2, "2020-07-03T10:03:00+08:00"),
         entry("a", 1, "2020-07-03T10:01:00+08:00")]
    b = [entry("b", 9, "2020-07-03T10:04:00+08:00"), entry("b", 8, "2020-07-03T10:00:00+08:00")]
    shown, cursor = audit_query.merge({"a": a, "b": b}, 2)
    assert [(e["source"], e["id"]) for e in shown] == [("a", 3), ("b", 9)]
    assert cursor == {"a": ("2020-07-03T10:05:00+08:00", 3), "b": ("2020-07-03T10:04:00+08:00", 9)}
    shown, cursor2 = audit_query.merge({"a": a[1:], "b": b[1:]}, 2, previous=cursor)
    assert [(e["source"], e["id"]) for e in shown] == [("a", 2), ("a", 1)]
    assert cursor2 == {"a": ("2020-07-03T10:01:00+08:00", 1), "b": cursor["b"]}  # b kept its place
    shown, last = audit_query.merge({"a": [], "b": b[1:]}, 2, previous=cursor2)
    assert [(e["source"], e["id"]) for e in shown] == [("b", 8)] and last is None
