"""principal changes: accounts whose sessions answer differently, for the gateways' session watch

Revision ID: 5b0c3e7d91a2
Revises: 15eab09e190f
Create Date: 2026-11-30 02:10:00
"""
from alembic import op
import sqlalchemy as sa
import services.common.types


revision = '5b0c3e7d91a2'
down_revision = '15eab09e190f'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('principal_changes',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('account_id', sa.String(length=36), nullable=False),
    sa.Column('changed_at', services.common.types.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('principal_changes', schema=None) as batch_op:
        batch_op.create_index('ix_principal_changes_time', ['changed_at'], unique=False)


def downgrade():
    with op.batch_alter_table('principal_changes', schema=None) as batch_op:
        batch_op.drop_index('ix_principal_changes_time')
    op.drop_table('principal_changes')
