"""review_task_counts and review_decision_counts, filled from the tasks; every task in queue order

The queue's counts and the reviewer figures read these counters (kept by the task repository in the
transaction of each transition) instead of counting every task on each page view.

Revision ID: 5c2f8e1b7d06
Revises: 4b7e2c9d1a05
Create Date: 2026-12-01 22:45:00
"""
import sqlalchemy as sa
from alembic import op

revision = '5c2f8e1b7d06'
down_revision = '4b7e2c9d1a05'  # 0005_open_tasks_index
branch_labels = None
depends_on = None

# The UTC day of a submission and the Beijing day of a decision, as the repository computes them.
DAYS = {"postgresql": ("CAST(timezone('UTC', submitted_at) AS DATE)",
                       "CAST(timezone('Asia/Shanghai', decided_at) AS DATE)"),
        "sqlite": ("date(submitted_at)", "date(decided_at, '+8 hours')")}


def upgrade():
    op.create_table(
        'review_task_counts',
        sa.Column('bucket', sa.String(length=12), nullable=False),
        sa.Column('campaign_id', sa.String(length=64), nullable=False),
        sa.Column('district_code', sa.String(length=12), nullable=False),
        sa.Column('cert_level', sa.String(length=20), nullable=False),
        sa.Column('submitted_day', sa.Date(), nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('bucket', 'campaign_id', 'district_code', 'cert_level', 'submitted_day'))
    op.create_table(
        'review_decision_counts',
        sa.Column('reviewer_id', sa.String(length=64), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('reviewer_id', 'day'))
    op.create_index('ix_review_tasks_order', 'review_tasks', ['submitted_at', 'attempt', 'id', 'state', 'campaign_id',
                                                              'district_code', 'cert_level'], unique=False)
    submitted_day, decided_day = DAYS[op.get_bind().dialect.name]
    op.execute(f"""
        INSERT INTO review_task_counts (bucket, campaign_id, district_code, cert_level, submitted_day, n)
        SELECT CASE WHEN state IN ('pending', 'claimed') THEN 'open' ELSE state END, campaign_id, district_code,
               cert_level, {submitted_day}, count(*)
        FROM review_tasks GROUP BY 1, 2, 3, 4, 5""")
    op.execute(f"""
        INSERT INTO review_decision_counts (reviewer_id, day, n)
        SELECT decided_by, {decided_day}, count(*) FROM review_tasks WHERE state = 'decided' GROUP BY 1, 2""")


def downgrade():
    op.drop_index('ix_review_tasks_order', table_name='review_tasks')
    op.drop_table('review_decision_counts')
    op.drop_table('review_task_counts')
