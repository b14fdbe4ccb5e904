"""processed_events by time: the retention purge finds old records without reading them all

Revision ID: b26300011739
Revises: d7af5633847b
Create Date: 2026-11-29 19:30:00
"""
from alembic import op

revision = 'b26300011739'
down_revision = 'd7af5633847b'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_processed_events_processed_at', 'processed_events', ['processed_at'], unique=False)


def downgrade():
    op.drop_index('ix_processed_events_processed_at', table_name='processed_events')
