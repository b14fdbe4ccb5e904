"""material fingerprints: perceptual hashes of accepted materials (duplicates, shared photos)

Revision ID: 5c1f0e7a9b21
Revises: ad87b4ba05ef
Create Date: 2026-11-29 16:00:00
"""
import sqlalchemy as sa
from alembic import op

import services.common.types

revision = '5c1f0e7a9b21'
down_revision = 'ad87b4ba05ef'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('material_fingerprints',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('material_id', sa.String(length=36), nullable=False),
    sa.Column('account_id', sa.String(length=64), nullable=False),
    sa.Column('application_id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('region', sa.String(length=12), nullable=False),
    sa.Column('hash', sa.String(length=16), nullable=False),
    sa.Column('band0', sa.Integer(), nullable=False),
    sa.Column('band1', sa.Integer(), nullable=False),
    sa.Column('band2', sa.Integer(), nullable=False),
    sa.Column('band3', sa.Integer(), nullable=False),
    sa.Column('created_at', services.common.types.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('material_fingerprints', schema=None) as batch_op:
        batch_op.create_index('ix_material_fingerprints_material', ['material_id'], unique=False)
        batch_op.create_index('ix_material_fingerprints_application', ['application_id', 'region'], unique=False)
        for i in range(4):
            batch_op.create_index(f'ix_material_fingerprints_band{i}', ['region', f'band{i}'], unique=False)


def downgrade():
    op.drop_table('material_fingerprints')
