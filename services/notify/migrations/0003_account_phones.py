"""account_phones: the phone of each account, so later events skip identity's contact_of

Revision ID: 5c0d3a7e9f21
Revises: b26300011739
Create Date: 2026-11-29 22:45:00
"""
import sqlalchemy as sa
from alembic import op

import services.common.types

revision = '5c0d3a7e9f21'
down_revision = 'b26300011739'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('account_phones',
    sa.Column('account_id', sa.String(length=64), nullable=False),
    sa.Column('phone_enc', sa.Text(), nullable=False),
    sa.Column('updated_at', services.common.types.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('account_id')
    )


def downgrade():
    op.drop_table('account_phones')
