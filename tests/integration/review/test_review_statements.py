"""What an ApplicationSubmitted costs review's database, in statements (counted by a SQLAlchemy
listener, never timed): the figures docs/performance.md gives for review's CPU a submit. A change
that adds a statement to the path every submission takes shows here."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import event

from services.common.db import UnitOfWork
from services.contracts.events import new_event
from services.review import handlers
from services.review.models import Base
from services.review.repository import repositories

from .conftest import submitted_data

pytestmark = pytest.mark.integration
NOW = datetime(2020, 7, 3, 2, 15, tzinfo=timezone.utc)


def _kind(statement):
    """("INSERT", table), ("SELECT", table), ("UPDATE", table); the advisory lock is ("LOCK", None)."""
    words = statement.split()
    verb = words[0].upper()
    if "pg_advisory_xact_lock" in statement:
        return "LOCK", None
    if verb == "UPDATE":
        return verb, words[1]
    marker = "INTO" if verb == "INSERT" else "FROM"
    return verb, words[[w.upper() for w in words].index(marker) + 1]


def handled(engine, event_, now=NOW):
    """[(verb, table)] of the statements one delivery of `event_` ran (BEGIN aside), as the service runs it."""
    seen = []

    def count(conn, cursor, statement, parameters, context, executemany):
        if statement.split()[0].upper() != "BEGIN":
            seen.append(_kind(statement))

    event.listen(engine, "before_cursor_execute", count)
    try:
        with UnitOfWork(engine, Base.metadata, repositories=repositories) as uow:
            if uow.first_time(event_, "review"):
                handlers.on_application_submitted(uow, event_, now)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return seen


def test_a_submission_costs_four_statements_and_a_replay_one(engine):
    submitted = new_event("ApplicationSubmitted", "app-1", submitted_data("app-1"))
    lock = [("LOCK", None)] if engine.dialect.name == "postgresql" else []
    assert handled(engine, submitted) == [("INSERT", "processed_events"), *lock, ("SELECT", "review_tasks"),
                                          ("INSERT", "review_tasks"), ("INSERT", "review_task_counts")]
    assert handled(engine, submitted) == [("INSERT", "processed_events")]  # the redelivery: nothing more


def test_a_resubmission_writes_its_counter_rows_in_one_statement(engine):
    handled(engine, new_event("ApplicationSubmitted", "app-1", submitted_data("app-1")))
    later = NOW + timedelta(days=1)
    again = new_event("ApplicationSubmitted", "app-1", submitted_data("app-1", attempt=2,
                                                                      submitted_at=later.isoformat()))
    seen = handled(engine, again, later)
    # three counter rows move (the new task open; the old one from open to superseded): one upsert
    assert seen.count(("INSERT", "review_task_counts")) == 1
    assert ("UPDATE", "review_tasks") in seen and ("INSERT", "audit_log") in seen
