"""Steps the review handler unit tests combine: a submission turned into a task, the people who
act on it — all on a fake unit of work (fakes.py)."""
from datetime import datetime, timezone

from services.contracts.events import new_event
from services.review import handlers

from .fakes import fake_uow

NOW = datetime(2020, 7, 3, 2, 0, tzinfo=timezone.utc)
LEASE = 600
REVIEWER = {"account_id": "reviewer-1", "roles": ["reviewer"]}
REVIEWER_2 = {"account_id": "reviewer-2", "roles": ["reviewer"]}
ADMIN = {"account_id": "admin-1", "roles": ["admin"]}
AUDITOR = {"account_id": "auditor-1", "roles": ["auditor"]}
APPLICANT = {"account_id": "applicant-1", "roles": ["applicant"]}


def application_submitted(application_id="app-1", attempt=1, account_id="applicant-1", material_ids=None,
                          submitted_at="2020-07-03T10:00:00.000+08:00"):
    return new_event("ApplicationSubmitted", application_id, {
        "application_id": application_id, "campaign_id": "c2020", "account_id": account_id, "kind": "FIRST",
        "attempt": attempt, "cert_level": "INTERMEDIATE", "exam_year": 2019, "district_code": "110105",
        "material_ids": material_ids or {"photo": "m-none"}, "submitted_at": submitted_at})


def submitted(uow, application_id="app-1", attempt=1, at=NOW, **data):
    with uow:
        return handlers.on_application_submitted(uow, application_submitted(application_id, attempt, **data), at)


def world():
    """A fake unit of work holding one pending task; returns (uow, task id)."""
    uow = fake_uow()
    return uow, submitted(uow)
