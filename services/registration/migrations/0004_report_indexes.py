"""narrow indexes for the admin report: counts per state/district/level, submissions per day, rejections

Revision ID: 8e3d6a2f4c17
Revises: 3a9f5d0c61e2
Create Date: 2026-12-01 22:50:00
"""
from alembic import op

revision = '8e3d6a2f4c17'
down_revision = '3a9f5d0c61e2'  # 0003_audit_log_platform_shape
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_applications_report', 'applications',
                    ['campaign_id', 'state', 'district_code', 'cert_level', 'id'], unique=False)
    op.create_index('ix_submissions_report', 'submissions', ['application_id', 'submitted_at', 'attempt'],
                    unique=False)
    op.create_index('ix_decisions_decision', 'decisions', ['decision'], unique=False)


def downgrade():
    op.drop_index('ix_decisions_decision', table_name='decisions')
    op.drop_index('ix_submissions_report', table_name='submissions')
    op.drop_index('ix_applications_report', table_name='applications')
