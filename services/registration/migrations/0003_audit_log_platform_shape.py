"""audit log in the platform's shape (services.common.audit): append-only, application_id, details

Every row is kept with its id: `detail` becomes `details`; `application_id` is the subject of the
actions whose subject is an application. From now on the database refuses UPDATE and DELETE.

Revision ID: 3a9f5d0c61e2
Revises: 6844ee059257
Create Date: 2026-11-29 20:00:00
"""
import sqlalchemy as sa
from alembic import op

import services.common.types
from services.common import audit

revision = '3a9f5d0c61e2'
down_revision = '6844ee059257'  # 0002_processed_events_by_time
branch_labels = None
depends_on = None

APPLICATION_ACTIONS = ("view_application", "view_history", "record_dispatch")  # subject: an application id


def _to_platform(row):
    application_id = row["subject"] if row["action"] in APPLICATION_ACTIONS and row["subject"] else None
    return {"id": row["id"], "at": row["at"], "actor": row["actor"], "roles": list(row["roles"] or []),
            "action": row["action"], "subject": row["subject"],
            "application_id": application_id[:64] if application_id else None,
            "details": dict(row["detail"] or {})}


def upgrade():
    audit.replace_table(op, _to_platform)


def _create_before(op):
    """The shape of 0001_registration_tables (it had no guard)."""
    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('roles', sa.JSON(), nullable=False),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=True),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.Column('at', services.common.types.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_audit_log_action', 'audit_log', ['action'])
    op.create_index('ix_audit_log_at', 'audit_log', ['at'])


def _to_before(row):
    return {"id": row["id"], "actor": row["actor"], "roles": list(row["roles"] or []), "action": row["action"],
            "subject": row["subject"], "detail": dict(row["details"] or {}), "at": row["at"]}


def downgrade():
    audit.replace_table(op, _to_before, create=_create_before)
