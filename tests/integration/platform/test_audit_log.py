"""One audit-log shape (services.common.audit) in every service that keeps one: the database itself
refuses UPDATE and DELETE (and TRUNCATE on PostgreSQL), however the schema was made; the
migrations move the older logs into the shape without losing a row (SQLite, and PostgreSQL with
TEST_DATABASE=postgresql)."""
from datetime import datetime, timezone

import pytest
from sqlalchemy import MetaData, Table, insert, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from services.common import audit, migrations
from services.common.db import create_schema, make_engine

pytestmark = pytest.mark.integration
SERVICES = ["registration", "review"]
AT = datetime(2020, 7, 3, 2, 0, tzinfo=timezone.utc)
# The revision before each service's log took the platform's shape, and rows of that older shape.
BEFORE = {
    "registration": ("142c7a1dd9c4", [
        {"actor": "admin-1", "roles": ["admin"], "action": "view_application", "subject": "app-1",
         "detail": {}, "at": AT},
        {"actor": "admin-1", "roles": ["admin"], "action": "export_approved", "subject": "c2020",
         "detail": {"format": "csv", "rows": 2}, "at": AT},
        {"actor": "system", "roles": [], "action": "import_roster", "subject": None, "detail": {"refused": 0},
         "at": AT}]),
    "review": ("5c1f0e7a9b21", [
        {"actor": "reviewer-1", "action": "material.viewed", "subject": "material:m-1", "at": AT,
         "details": {"application_id": "app-1", "kind": "photo", "roles": ["reviewer"]}},
        {"actor": "reviewer-1", "action": "material.checks_viewed", "subject": "application:app-2", "at": AT,
         "details": {"count": 3}},
        {"actor": "system", "action": "task.superseded", "subject": "task:t-1", "at": AT,
         "details": {"application_id": "app-1", "by_attempt": 2}}]),
}
AFTER = {
    "registration": [("admin-1", ["admin"], "view_application", "app-1", "app-1", {}),
                     ("admin-1", ["admin"], "export_approved", "c2020", None, {"format": "csv", "rows": 2}),
                     ("system", [], "import_roster", None, None, {"refused": 0})],
    "review": [("reviewer-1", ["reviewer"], "material.viewed", "material:m-1", "app-1",
                {"application_id": "app-1", "kind": "photo"}),
               ("reviewer-1", [], "material.checks_viewed", "application:app-2", "app-2", {"count": 3}),
               ("system", [], "task.superseded", "task:t-1", "app-1", {"application_id": "app-1", "by_attempt": 2})],
}


def _refused(engine, statement):
    with pytest.raises(DBAPIError) as refused:
        with engine.begin() as conn:
            conn.execute(text(statement))
    assert audit.APPEND_ONLY_MESSAGE in str(refused.value)


def _entries(engine):
    with engine.connect() as conn:
        rows = conn.execute(select(audit.AUDIT_LOG).order_by(audit.AUDIT_LOG.c.id)).mappings().all()
    return [(r["actor"], r["roles"], r["action"], r["subject"], r["application_id"], r["details"]) for r in rows]


@pytest.mark.parametrize("how", ["create_all", "migrations"])
@pytest.mark.parametrize("service", [*SERVICES, "identity"])  # identity: security actions on accounts
def test_the_database_refuses_changes_to_the_audit_log(service, how, database_url):
    engine = make_engine(database_url(service))
    metadata = migrations.service_metadata(service)
    if how == "create_all":
        create_schema(engine, metadata)
    else:
        migrations.upgrade(engine, metadata, service)
    with Session(engine) as session, session.begin():
        audit.record(session, "admin-1", "note", AT, roles=["admin"], subject="s-1", application_id="app-1")
    _refused(engine, "UPDATE audit_log SET actor = 'someone-else'")
    _refused(engine, "DELETE FROM audit_log WHERE subject = 's-1'")
    _refused(engine, "DELETE FROM audit_log")
    if engine.dialect.name == "postgresql":
        _refused(engine, "TRUNCATE audit_log")
    with Session(engine) as session, session.begin():  # appending is what it is for
        audit.record(session, None, "note", AT)
    assert [(e[0], e[2]) for e in _entries(engine)] == [("admin-1", "note"), ("system", "note")]
    engine.dispose()


@pytest.mark.parametrize("service", SERVICES)
def test_the_migration_moves_every_older_entry_into_the_shape(service, database_url):
    engine = make_engine(database_url(service))
    metadata = migrations.service_metadata(service)
    revision, rows = BEFORE[service]
    migrations.upgrade(engine, metadata, service, revision)
    with engine.begin() as conn:
        old = Table("audit_log", MetaData(), autoload_with=conn)
        conn.execute(insert(old), [{**row, "at": row["at"].replace(tzinfo=None)}
                                   if engine.dialect.name == "sqlite" else row for row in rows])
    migrations.upgrade(engine, metadata, service)
    assert _entries(engine) == AFTER[service]
    with Session(engine) as session, session.begin():  # new ids follow the moved ones
        audit.record(session, "admin-1", "note", AT)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT id FROM audit_log ORDER BY id")).scalars().all() == [1, 2, 3, 4]
    _refused(engine, "DELETE FROM audit_log")

    migrations.downgrade(engine, metadata, service, revision)  # and back, without loss
    migrations.upgrade(engine, metadata, service)
    assert _entries(engine)[:3] == AFTER[service]
    engine.dispose()
