"""processed_events by time: the retention purge finds old records without reading them all

Revision ID: 6844ee059257
Revises: 142c7a1dd9c4
Create Date: 2026-11-29 19:30:00
"""
from alembic import op

revision = '6844ee059257'
down_revision = '142c7a1dd9c4'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_processed_events_processed_at', 'processed_events', ['processed_at'], unique=False)


def downgrade():
    op.drop_index('ix_processed_events_processed_at', table_name='processed_events')
