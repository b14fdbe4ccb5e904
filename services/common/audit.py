"""One audit log for every service that keeps one: its table, its guard, the writer, the auditor's query.

The table `audit_log` (one per service database, the same shape everywhere):
    id, at               the keyset the auditor pages by (newest first)
    actor, roles         who (an account id, or "system") and their roles at the time
    action               what, as a code the service labels for people ("task.claimed", "view_application")
    subject              what was touched ("task:<id>", "material:<id>", an application or campaign id)
    application_id       the application concerned, when there is one: the auditor's filter
    details              what else the auditor needs (JSON) — never the personal data itself

Append-only by database rule, not by habit: triggers refuse UPDATE and DELETE on SQLite and
PostgreSQL (and TRUNCATE on PostgreSQL), whoever connects. The same statements run from
`create_all` (tests, DB_SCHEMA=create) and from migrations (`create_table`).

A service adopts it in three lines:
    models.py     class AuditEntry(Base): __table__ = audit.add_table(Base.metadata)
    a migration   audit.create_table(op)        (or audit.replace_table(op, convert) over an older log)
    handlers      audit.record(session, actor, action, at, roles=..., subject=..., application_id=...)
                  (or `uow.audit.record(actor, …)` through an AuditLog among the service's repositories)
and answers the auditor with `audit.entries(session, principal, filters, source, labels)`.

This shape is what the migrations written against it mean: change it only together with a new
migration of every service that keeps the log (replace_table moves the rows).
"""
import json
from datetime import timezone

from sqlalchemy import (
    DDL,
    JSON,
    Column,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    event,
    insert,
    or_,
    select,
    text,
)
from sqlalchemy import inspect as inspect_db

from services.contracts.errors import Forbidden
from services.contracts.roles import AUDITOR

from . import audit_query, clock
from .types import UtcDateTime

TABLE = "audit_log"
APPEND_ONLY_MESSAGE = "audit_log is append-only"
SYSTEM = "system"
# name → columns; "at, id" pages the whole log, the others serve the auditor's filters and ops' trail.
INDEXES = {
    "ix_audit_log_at": ("at", "id"),
    "ix_audit_log_actor": ("actor", "at"),
    "ix_audit_log_action": ("action", "at"),
    "ix_audit_log_subject": ("subject", "at"),
    "ix_audit_log_application": ("application_id", "at"),
}


def _columns():
    return [
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("at", UtcDateTime(), nullable=False),
        Column("actor", String(64), nullable=False),
        Column("roles", JSON, nullable=False, server_default=text("'[]'")),
        Column("action", String(40), nullable=False),
        Column("subject", String(200), nullable=True),
        Column("application_id", String(64), nullable=True),
        Column("details", JSON, nullable=False, server_default=text("'{}'")),
    ]


# The platform's own copy, for the statements below (the table has one name and shape everywhere).
AUDIT_LOG = Table(TABLE, MetaData(), *_columns(), *(Index(name, *cols) for name, cols in INDEXES.items()))

_GUARD = {
    "sqlite": [
        f"CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON {TABLE} "
        f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}'); END",
        f"CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON {TABLE} "
        f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}'); END",
    ],
    "postgresql": [
        "CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN RAISE EXCEPTION '{APPEND_ONLY_MESSAGE}' USING ERRCODE = 'insufficient_privilege'; END $$",
        f"DROP TRIGGER IF EXISTS audit_log_no_change ON {TABLE}",
        f"CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON {TABLE} "
        "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()",
        f"DROP TRIGGER IF EXISTS audit_log_no_truncate ON {TABLE}",
        f"CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON {TABLE} "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()",
    ],
}
_UNGUARD = {
    "sqlite": ["DROP TRIGGER IF EXISTS audit_log_no_update", "DROP TRIGGER IF EXISTS audit_log_no_delete"],
    "postgresql": [f"DROP TRIGGER IF EXISTS audit_log_no_change ON {TABLE}",
                   f"DROP TRIGGER IF EXISTS audit_log_no_truncate ON {TABLE}"],
}


def guard_ddl(dialect_name):
    """The statements that make audit_log append-only on this dialect (one statement each)."""
    if dialect_name not in _GUARD:
        raise RuntimeError(f"no append-only guard for {dialect_name}: the audit log would be editable")
    return list(_GUARD[dialect_name])


# -- the table in a service's models and migrations ------------------------------------------------

def add_table(metadata):
    """Add audit_log, guard included (create_all runs it), to a service's metadata; returns the Table."""
    table = Table(TABLE, metadata, *_columns(), *(Index(name, *cols) for name, cols in INDEXES.items()))
    for dialect, statements in _GUARD.items():
        for statement in statements:
            event.listen(table, "after_create", DDL(statement).execute_if(dialect=dialect))
    return table


def create_table(op):
    """Alembic: create audit_log with its indexes and its append-only guard."""
    op.create_table(TABLE, *_columns())
    for name, cols in INDEXES.items():
        op.create_index(name, TABLE, list(cols))
    for statement in guard_ddl(op.get_bind().dialect.name):
        op.execute(statement)


def drop_table(op):
    op.drop_table(TABLE)  # its indexes and triggers go with it
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")


def replace_table(op, convert, create=create_table, batch=500):
    """Alembic: move an existing audit_log into another shape without losing a row.

    The old table loses its guard and indexes and is renamed; `create(op)` makes the new one;
    every old row, oldest first, becomes `convert(row) → {column: value}` (ids kept); the old table
    goes. `create` defaults to this shape; a downgrade passes the shape it goes back to."""
    bind = op.get_bind()
    dialect = bind.dialect.name
    for statement in _UNGUARD[dialect]:
        op.execute(statement)
    for index in inspect_db(bind).get_indexes(TABLE):
        op.drop_index(index["name"], table_name=TABLE)
    old_name = f"{TABLE}_old"
    op.rename_table(TABLE, old_name)
    if dialect == "postgresql":  # free the names the new table's key and sequence take
        op.execute(f"ALTER INDEX IF EXISTS {TABLE}_pkey RENAME TO {old_name}_pkey")
        op.execute(f"ALTER SEQUENCE IF EXISTS {TABLE}_id_seq RENAME TO {old_name}_id_seq")
    create(op)
    old, new = (Table(name, MetaData(), autoload_with=bind) for name in (old_name, TABLE))
    last = None
    while True:
        query = select(old).order_by(old.c.id).limit(batch)
        rows = bind.execute(query if last is None else query.where(old.c.id > last)).mappings().all()
        if not rows:
            break
        bind.execute(insert(new), [_stored(convert(_read(row)), dialect) for row in rows])
        last = rows[-1]["id"]
    if dialect == "postgresql":  # the next id follows the copied ones
        op.execute(f"SELECT setval(pg_get_serial_sequence('{TABLE}', 'id'), "
                   f"COALESCE((SELECT MAX(id) FROM {TABLE}), 0) + 1, false)")
    op.drop_table(old_name)


def _read(row):
    """A reflected row as the converters expect it: JSON decoded, times aware UTC."""
    out = {}
    for key, value in row.items():
        if isinstance(value, str) and key in ("roles", "details", "detail") and value[:1] in "[{":
            value = json.loads(value)
        if hasattr(value, "tzinfo") and hasattr(value, "hour"):
            value = value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)
        out[key] = value
    return out


def _stored(values, dialect):
    if dialect != "sqlite":
        return values
    return {k: (v.replace(tzinfo=None) if hasattr(v, "tzinfo") and hasattr(v, "hour") else v)
            for k, v in values.items()}


# -- writing ---------------------------------------------------------------------------------------

def record(session, actor, action, at=None, *, roles=(), subject=None, application_id=None, details=None):
    """Append one entry in the caller's transaction (it commits or rolls back with the change)."""
    with session.no_autoflush:  # the change's own rows flush where its code says (and its errors surface there)
        session.execute(insert(AUDIT_LOG).values(
            at=at or clock.now(), actor=actor or SYSTEM, roles=sorted(set(roles)), action=action, subject=subject,
            application_id=application_id, details=details or {}))


# -- the auditor's query ---------------------------------------------------------------------------

def require_auditor(principal):
    roles = (principal or {}).get("roles") if isinstance(principal, dict) else None
    if AUDITOR not in (roles or ()):
        raise Forbidden("只有审计员可以查看审计日志", code="auditor_only")


def entries(session, principal, filters, source, labels):
    """The auditor's page of this service's log (services.common.audit_query: filters, keyset paging),
    newest first: {"source", "actions": labels, "entries": [...]}, the shape GET /api/v1/audit merges."""
    require_auditor(principal)
    q = audit_query.parse(filters)
    log = AUDIT_LOG.c
    query = select(AUDIT_LOG)
    for column, value in ((log.application_id, q.application_id), (log.actor, q.actor), (log.action, q.action)):
        if value:
            query = query.where(column == value)
    if q.since:
        query = query.where(log.at >= q.since)
    if q.until:
        query = query.where(log.at < q.until)
    if q.before:
        at, last_id = q.before
        query = query.where(or_(log.at < at, and_(log.at == at, log.id < last_id)))
    rows = session.execute(query.order_by(log.at.desc(), log.id.desc()).limit(q.limit)).mappings().all()
    return {"source": source, "actions": labels, "entries": [{
        "source": source, "id": row["id"], "at": clock.iso(row["at"]), "actor": row["actor"],
        "roles": list(row["roles"] or []), "action": row["action"],
        "action_label": labels.get(row["action"], row["action"]), "subject": row["subject"],
        "application_id": row["application_id"], "detail": dict(row["details"] or {})} for row in rows]}


class AuditLog:
    """A service's audit log as a repository on its unit of work (`uow.audit`): the same writer and
    query as above, without the session in the service layer's hands. The in-memory twin for
    unit tests is tests/support/fakes.FakeAuditLog."""

    def __init__(self, session):
        self.session = session

    def record(self, actor, action, at=None, *, roles=(), subject=None, application_id=None, details=None):
        record(self.session, actor, action, at, roles=roles, subject=subject, application_id=application_id,
               details=details)

    def entries(self, principal, filters, source, labels):
        return entries(self.session, principal, filters, source, labels)

    def about(self, subject):
        """Every entry whose subject is this, oldest first (rows as mappings)."""
        log = AUDIT_LOG.c
        return [dict(row) for row in self.session.execute(
            select(AUDIT_LOG).where(log.subject == str(subject)).order_by(log.id)).mappings()]
