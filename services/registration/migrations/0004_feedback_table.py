"""feedback: the table `appeals` is called `feedback` (反馈 is feedback on the roster data, not an
appeal against a decision). Every row is kept as it is; the sealed columns keep their contexts
(services/registration/models.py FEEDBACK_NAME).

Revision ID: 7d2e4b9a0c13
Revises: 3a9f5d0c61e2
Create Date: 2026-12-01 10:00:00
"""
from alembic import op

revision = '7d2e4b9a0c13'
down_revision = '3a9f5d0c61e2'  # 0003_audit_log_platform_shape
branch_labels = None
depends_on = None

INDEXED = ("account_id", "state")


def _rename(old, new):
    for column in INDEXED:
        op.drop_index(f"ix_{old}_{column}", table_name=old)
    op.rename_table(old, new)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f'ALTER INDEX "{old}_pkey" RENAME TO "{new}_pkey"')
    for column in INDEXED:
        op.create_index(f"ix_{new}_{column}", new, [column], unique=False)


def upgrade():
    _rename("appeals", "feedback")


def downgrade():
    _rename("feedback", "appeals")
