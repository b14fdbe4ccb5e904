"""review_tasks: a partial index of the open tasks in queue order (the reviewer's first page at scale)

Revision ID: 4b7e2c9d1a05
Revises: 7d41c2e9b8f3
Create Date: 2026-11-29 20:15:00
"""
import sqlalchemy as sa
from alembic import op

revision = '4b7e2c9d1a05'
down_revision = '7d41c2e9b8f3'  # 0004_audit_log_platform_shape
branch_labels = None
depends_on = None

OPEN_TASKS = sa.text("state IN ('pending', 'claimed')")


def upgrade():
    op.create_index('ix_review_tasks_open', 'review_tasks', ['submitted_at', 'attempt', 'id'], unique=False,
                    postgresql_where=OPEN_TASKS, sqlite_where=OPEN_TASKS)


def downgrade():
    op.drop_index('ix_review_tasks_open', table_name='review_tasks')
