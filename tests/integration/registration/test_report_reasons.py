"""The report's rejection reasons and submissions per day come from counters kept with each
decision and submission (services/registration/repository.py, models.ReportDay/ReportReason; the
migration fills them from the rows already there), and come out exactly as the decisions say,
counted one by one in Python the way the console always spelled them: a blank or missing reason is
"未说明原因", surrounding spaces do not make another reason, approvals and other campaigns do not
count, a rejection without issues counts as a rejection only."""
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import insert
from sqlalchemy.orm import Session

from services.common import migrations
from services.common.db import UnitOfWork, create_schema, make_engine
from services.registration import console
from services.registration.domain.records import Decision as DecisionRecord
from services.registration.models import Application, Base, Campaign, Decision, Submission
from services.registration.repository import repositories

pytestmark = pytest.mark.integration
NOW = datetime(2020, 7, 3, 2, 0, tzinfo=timezone.utc)
ADMIN = {"account_id": "admin-1", "roles": ["admin"], "verified": True}
DECISIONS = [  # (campaign, decision, material issues as ReviewCompleted carried them)
    ("c1", "rejected", [{"kind": "photo", "reason": "照片尺寸不符"}, {"kind": "id_card_back", "reason": "模糊"}]),
    ("c1", "rejected", [{"kind": "photo", "reason": " 照片尺寸不符 "}]),
    ("c1", "rejected", [{"kind": "photo", "reason": ""}, {"kind": "photo"}, {"kind": "certificate", "reason": "  "}]),
    ("c1", "rejected", []),
    ("c1", "rejected", [{"reason": "其他问题"}]),
    ("c1", "approved", []),
    ("c2", "rejected", [{"kind": "photo", "reason": "照片尺寸不符"}]),
    ("c2", "approved", []),
]


def campaigns_and_applications(conn):
    for campaign in ("c1", "c2"):
        conn.execute(insert(Campaign).values(
            id=campaign, name=campaign, kind="FIRST", region="110000", eligible_exam_years=[2019],
            eligible_levels=["ASSISTANT"], opens_at=NOW, closes_at=NOW, delivery_methods=["MAIL"],
            exclude_local_only=True, allow_resubmit_after_close=False, created_at=NOW))
    for n, (campaign, decision, issues) in enumerate(DECISIONS):
        conn.execute(insert(Application).values(
            id=f"app-{n}", account_id=f"u-{n}", campaign_id=campaign, kind="FIRST", state=decision.upper(),
            attempt=1, decided_attempt=1, form={}, personal_enc="-", materials={}, material_issues=issues,
            created_at=NOW, updated_at=NOW, version=1))


def decision(n):
    _, verdict, issues = DECISIONS[n]
    return DecisionRecord(application_id=f"app-{n}", attempt=1, decision=verdict, opinion=None,
                          material_issues=issues, review_id=f"r-{n}", reviewer_id="reviewer-1", event_id=f"e-{n}",
                          decided_at=NOW)


@pytest.fixture
def engine(database_url):
    """Decisions recorded as the ReviewCompleted handler records them: one transaction each."""
    engine = make_engine(database_url("registration"))
    create_schema(engine, Base.metadata)
    with engine.begin() as conn:
        campaigns_and_applications(conn)
    for n in range(len(DECISIONS)):
        with UnitOfWork(engine, Base.metadata, repositories=repositories) as uow:
            uow.decisions.add(decision(n))
    yield engine
    engine.dispose()


def counted_one_by_one(campaign_id):
    """What the console counted before the database did: every rejected decision read into Python."""
    rejected = [issues for campaign, decision, issues in DECISIONS
                if decision == "rejected" and campaign_id in (None, campaign)]
    reasons = Counter((issue.get("kind") or "", (issue.get("reason") or "").strip() or "未说明原因")
                      for issues in rejected for issue in issues)
    return len(rejected), [{"kind": kind, "reason": reason, "count": n}
                           for (kind, reason), n in sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))]


@pytest.mark.parametrize("campaign_id", [None, "c1", "c2", "c3"])
def test_rejection_reasons_are_counted_by_the_database_as_the_decisions_say(engine, campaign_id):
    with UnitOfWork(engine, Base.metadata, repositories=repositories) as uow:
        report = console.report(uow, ADMIN, campaign_id)
    assert (report["rejections"], report["rejection_reasons"]) == counted_one_by_one(campaign_id)
    if campaign_id is None:
        assert report["rejection_reasons"][0] == {"kind": "photo", "reason": "照片尺寸不符", "count": 3}
        assert {"kind": "photo", "reason": "未说明原因", "count": 2} in report["rejection_reasons"]


def test_one_round_trip_answers_the_rejections(engine):
    with Session(engine) as s:
        rejections, groups = repositories(s, None)["decisions"].rejection_reasons("c1")
    assert rejections == 5 and sum(n for _, _, n in groups) == 7


def test_the_migration_fills_the_counters_from_the_rows_already_there(database_url):
    engine = make_engine(database_url("registration"))
    try:
        migrations.upgrade(engine, Base.metadata, "registration", target="3a9f5d0c61e2")  # 0003: no counters
        with engine.begin() as conn:
            campaigns_and_applications(conn)
            for n in range(len(DECISIONS)):
                conn.execute(insert(Decision).values(**decision(n).__dict__))
            for attempt, at in ((1, NOW), (2, NOW + timedelta(hours=16))):  # 10:00 and 02:00 the next Beijing day
                conn.execute(insert(Submission).values(
                    application_id="app-0", account_id="u-0", attempt=attempt, form={}, personal_enc="-",
                    materials={}, answer_enc="-", event_id=f"s-{attempt}", submitted_at=at))
        migrations.upgrade(engine, Base.metadata, "registration")
        for campaign_id in (None, "c1", "c2"):
            with UnitOfWork(engine, Base.metadata, repositories=repositories) as uow:
                report = console.report(uow, ADMIN, campaign_id)
            assert (report["rejections"], report["rejection_reasons"]) == counted_one_by_one(campaign_id)
            assert report["submissions_per_day"] == ([] if campaign_id == "c2" else [
                {"day": "2020-07-03", "count": 1, "first": 1, "resubmissions": 0},
                {"day": "2020-07-04", "count": 1, "first": 0, "resubmissions": 1}])
    finally:
        engine.dispose()
