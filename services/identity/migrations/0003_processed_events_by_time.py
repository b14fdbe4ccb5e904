"""processed_events by time: the retention purge finds old records without reading them all

Revision ID: 298d0adfd773
Revises: 86fa2cc0b4eb
Create Date: 2026-11-29 19:30:00
"""
from alembic import op

revision = '298d0adfd773'
down_revision = '86fa2cc0b4eb'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_processed_events_processed_at', 'processed_events', ['processed_at'], unique=False)


def downgrade():
    op.drop_index('ix_processed_events_processed_at', table_name='processed_events')
