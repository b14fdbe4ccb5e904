"""audit log in the platform's shape (services.common.audit): roles and application_id columns

Every row is kept with its id: the roles that material looks recorded in their details move to
the `roles` column; `application_id` is the application the subject names ("application:<id>")
or the one the details name. The append-only guard is dropped only while the rows move.

Revision ID: 7d41c2e9b8f3
Revises: aac315d696f6
Create Date: 2026-11-29 20:00:00
"""
import sqlalchemy as sa
from alembic import op

import services.common.types
from services.common import audit

revision = '7d41c2e9b8f3'
down_revision = 'aac315d696f6'  # 0003_processed_events_by_time
branch_labels = None
depends_on = None


def _application_of(subject, details):
    if subject.startswith("application:"):
        return subject.split(":", 1)[1][:64]
    named = details.get("application_id")
    return str(named)[:64] if named else None


def _to_platform(row):
    details = dict(row["details"] or {})
    roles = details.pop("roles", None) or []
    return {"id": row["id"], "at": row["at"], "actor": row["actor"], "roles": list(roles), "action": row["action"],
            "subject": row["subject"], "application_id": _application_of(row["subject"], details),
            "details": details}


def upgrade():
    audit.replace_table(op, _to_platform)


def _create_before(op):
    """The shape of 0001_review_tables, with its guard."""
    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('subject', sa.String(length=120), nullable=False),
    sa.Column('at', services.common.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_audit_log_actor', 'audit_log', ['actor', 'at'])
    op.create_index('ix_audit_log_subject', 'audit_log', ['subject', 'at'])
    for statement in audit.guard_ddl(op.get_bind().dialect.name):
        op.execute(statement)


def _to_before(row):
    details = dict(row["details"] or {})
    if row["roles"]:
        details["roles"] = list(row["roles"])
    return {"id": row["id"], "actor": row["actor"], "action": row["action"], "subject": (row["subject"] or "")[:120],
            "at": row["at"], "details": details}


def downgrade():
    audit.replace_table(op, _to_before, create=_create_before)
