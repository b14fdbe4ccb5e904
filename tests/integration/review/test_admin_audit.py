"""The auditor's query over review's append-only audit log: by application, staff member, action
and day, newest first, in keyset pages; nobody but the auditor may read it."""
import pytest

from services.contracts.errors import Forbidden, ValidationFailed
from tests.support import images
from tests.support.infra import wait_for

from .conftest import ADMIN, APPLICANT, REVIEWER, REVIEWER_2, submitted_data

pytestmark = pytest.mark.integration

AUDITOR = {"account_id": "auditor-1", "roles": ["auditor"]}


def test_auditor_reads_who_looked_at_which_application(review):
    # The journeys' photo (the labelled set's portrait): this test is about the audit log.
    answer = review.upload(images.jpeg(images.photo(seed=4)), application_id="app-1")
    material = answer["material_id"]
    assert material, answer["verdict"]
    review.submit(submitted_data("app-1", material_ids={"photo": material}))
    review.submit(submitted_data("app-2", account_id="applicant-2"))
    task_1 = wait_for(lambda: review.task_for("app-1"))
    task_2 = wait_for(lambda: review.task_for("app-2"))
    with review.rpc() as rpc:
        rpc.claim(REVIEWER, task_1)
        rpc.get_task(REVIEWER, task_1)
        rpc.fetch_material(material, REVIEWER)
        rpc.fetch_material(material, APPLICANT)  # the owner's own look is not audited
        rpc.decide(REVIEWER, task_1, "approved", None, [], "decision-key-1")
        rpc.get_task(REVIEWER_2, task_2)

        app_1 = rpc.audit_entries(AUDITOR, {"application_id": "app-1"})
        assert [e["action"] for e in app_1["entries"]] == ["task.decided", "material.viewed", "task.viewed",
                                                           "task.claimed"]
        assert {e["application_id"] for e in app_1["entries"]} == {"app-1"}
        assert app_1["entries"][1]["action_label"] == "查看材料图片" and app_1["entries"][1]["roles"] == ["reviewer"]
        assert app_1["actions"]["task.decided"] == "作出审核决定"

        by_staff = rpc.audit_entries(AUDITOR, {"actor": "reviewer-2"})["entries"]
        assert [(e["action"], e["application_id"]) for e in by_staff] == [("task.viewed", "app-2")]
        assert [e["subject"] for e in rpc.audit_entries(AUDITOR, {"action": "task.decided"})["entries"]] == [
            f"task:{task_1}"]
        today = app_1["entries"][0]["at"][:10]
        assert len(rpc.audit_entries(AUDITOR, {"date_from": today, "date_to": today})["entries"]) == 5
        assert rpc.audit_entries(AUDITOR, {"date_from": "2001-01-01", "date_to": "2001-01-02"})["entries"] == []

        everything = rpc.audit_entries(AUDITOR, {})["entries"]
        first = rpc.audit_entries(AUDITOR, {"limit": 3})["entries"]
        rest = rpc.audit_entries(AUDITOR, {"before_at": first[-1]["at"], "before_id": first[-1]["id"]})["entries"]
        assert first + rest == everything and len(everything) == 5

        for who in (ADMIN, REVIEWER, APPLICANT):
            with pytest.raises(Forbidden):
                rpc.audit_entries(who, {})
        with pytest.raises(ValidationFailed) as caught:
            rpc.audit_entries(AUDITOR, {"before_at": "yesterday", "before_id": "x"})
        assert "before" in caught.value.details
