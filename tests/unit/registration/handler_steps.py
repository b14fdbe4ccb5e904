"""Steps the handler unit tests combine: the 2020 campaign, 张三 on the roster and verified, and
an application taken from draft to submitted — all on a fake unit of work (fakes.py)."""
from datetime import date, timedelta

from services.common.clock import iso
from services.contracts.events import new_event
from services.contracts.materials import KINDS
from services.registration import handlers
from services.registration.domain import campaigns, codes
from services.registration.domain.records import RosterRecord

from .builders import INSIDE, MALE_ID, editable_fields
from .fakes import fake_uow

ACCOUNT = "u-zhang"
ADMIN = {"account_id": "admin-1", "roles": ["admin"]}
REVIEWER = {"account_id": "reviewer-1", "roles": ["reviewer"]}
IDENTITY = {"verified": True, "name": "张三", "id_type": "RESIDENT_ID", "id_number": MALE_ID}
ROSTER = RosterRecord(name="张三", id_type="RESIDENT_ID", id_number=MALE_ID, level=codes.ASSISTANT, exam_year=2019,
                      management_number="0019110000012345", approval_date=date(2019, 12, 20))


def world():
    """A fake unit of work holding the 2020 Beijing campaign and 张三's roster record."""
    uow = fake_uow()
    campaign = campaigns.beijing_2020_first_registration()
    uow.campaigns.add(campaign, INSIDE)
    uow.sequences.ensure(2020)
    uow.roster.put(ROSTER)
    return uow


def open_draft(uow, account_id=ACCOUNT, identity=IDENTITY):
    with uow:
        return handlers.open_application(uow, identity, account_id, "bj-2020-first", INSIDE)


def material(app_id, kind, account_id=ACCOUNT, ok=True):
    return {"material_id": f"m-{kind}", "account_id": account_id, "application_id": app_id, "kind": kind,
            "ok": ok, "issues": []}


def complete(uow, app_id):
    """Fill in the form and attach all four materials."""
    with uow:
        handlers.save_draft(uow, ACCOUNT, app_id, editable_fields(), INSIDE)
    for kind in KINDS:
        with uow:
            handlers.attach_material(uow, ACCOUNT, app_id, kind, material(app_id, kind), INSIDE)


def submitted(uow, key=None):
    """A complete application, submitted once; returns its id."""
    app_id = open_draft(uow)["id"]
    complete(uow, app_id)
    with uow:
        handlers.submit(uow, ACCOUNT, app_id, key, INSIDE)
    return app_id


def review_completed(app_id, decision="approved", attempt=1, issues=()):
    return new_event("ReviewCompleted", app_id, {
        "review_id": f"r-{attempt}", "application_id": app_id, "attempt": attempt, "decision": decision,
        "opinion": "身份证照片不清晰" if decision == "rejected" else None,
        "material_issues": [{"kind": kind, "reason": "不清晰"} for kind in issues],
        "reviewer_id": "reviewer-1", "completed_at": iso(INSIDE + timedelta(days=1))}, time=INSIDE)
