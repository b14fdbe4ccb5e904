"""the admin report's counters: report_days and report_reasons, filled from the rows; a narrow index for its counts

From now on the repository keeps both in the transaction of each submission and decision; the
report reads them instead of every submission and every rejected decision.

Revision ID: 8e3d6a2f4c17
Revises: 7d2e4b9a0c13
Create Date: 2026-11-29 23:20:00
"""
from collections import Counter

import sqlalchemy as sa
from alembic import op

revision = '8e3d6a2f4c17'
down_revision = '7d2e4b9a0c13'  # 0004_feedback_table
branch_labels = None
depends_on = None

BEIJING_DAY = {"postgresql": "CAST(timezone('Asia/Shanghai', {}) AS DATE)", "sqlite": "date({}, '+8 hours')"}


def reason_key(issue):
    """As services/registration/repository.reason_key spelled it when this migration was written."""
    return str(issue.get("kind") or ""), (str(issue.get("reason") or "")).strip() or "未说明原因"


def upgrade():
    op.create_index('ix_applications_report', 'applications', ['campaign_id', 'state', 'district_code', 'cert_level'],
                    unique=False)
    op.create_table(
        'report_days',
        sa.Column('campaign_id', sa.String(length=40), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('submissions', sa.Integer(), nullable=False),
        sa.Column('resubmissions', sa.Integer(), nullable=False),
        sa.Column('rejections', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('campaign_id', 'day'))
    reasons = op.create_table(
        'report_reasons',
        sa.Column('campaign_id', sa.String(length=40), nullable=False),
        sa.Column('kind', sa.String(length=40), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('campaign_id', 'kind', 'reason'))
    bind = op.get_bind()
    day = BEIJING_DAY[bind.dialect.name]
    op.execute(f"""
        INSERT INTO report_days (campaign_id, day, submissions, resubmissions, rejections)
        SELECT campaign_id, day, sum(submissions), sum(resubmissions), sum(rejections) FROM (
            SELECT a.campaign_id AS campaign_id, {day.format('s.submitted_at')} AS day, 1 AS submissions,
                   CASE WHEN s.attempt > 1 THEN 1 ELSE 0 END AS resubmissions, 0 AS rejections
            FROM submissions s JOIN applications a ON a.id = s.application_id
            UNION ALL
            SELECT a.campaign_id, {day.format('d.decided_at')}, 0, 0, 1
            FROM decisions d JOIN applications a ON a.id = d.application_id WHERE d.decision = 'rejected'
        ) AS counted GROUP BY campaign_id, day""")
    counted = Counter()
    decisions, applications = sa.table("decisions", sa.column("application_id"), sa.column("decision"),
                                       sa.column("material_issues", sa.JSON)), sa.table(
        "applications", sa.column("id"), sa.column("campaign_id"))
    for campaign_id, issues in bind.execute(
            sa.select(applications.c.campaign_id, decisions.c.material_issues)
            .join(applications, applications.c.id == decisions.c.application_id)
            .where(decisions.c.decision == "rejected")).yield_per(1000):
        for issue in issues or ():
            if isinstance(issue, dict):
                counted[(campaign_id, *reason_key(issue))] += 1
    rows = [{"campaign_id": c, "kind": k, "reason": r, "n": n} for (c, k, r), n in sorted(counted.items())]
    for start in range(0, len(rows), 1000):
        op.bulk_insert(reasons, rows[start:start + 1000])


def downgrade():
    op.drop_table('report_reasons')
    op.drop_table('report_days')
    op.drop_index('ix_applications_report', table_name='applications')
