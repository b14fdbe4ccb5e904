"""The reviewer's workbench in Debian's chromium: a reviewer logs in at /staff/login, works the queue,
rejects one application with per-material reasons and approves another at 1366×900, then at 390×844
rejects a third and approves the first one's resubmission — keyboard shortcuts, zoom and rotate, axe
on every page, no sideways scrolling, a screenshot of each page at both sizes (SCREENSHOT_DIR)."""
import uuid

import pytest

from tests.support import journey
from tests.support.infra import wait_for
from tests.support.journey import ADMIN_PHONE, REVIEWER_PHONE, STAFF_PASSWORD

from .conftest import drive

pytestmark = pytest.mark.browser

PEOPLE = [("13800138001", "张三", "11010519491231002X", "20191100000012345"),
          ("13800138002", "李四", "440524188001010014", "20191100000012346"),
          ("13800138003", "王五", "360426199101010071", "20191100000012347")]


def submit_applications(system, campaign):
    """Three applicants, each with a submitted application; (client, application id) in order of submission."""
    out = []
    for phone, name, id_number, _ in PEOPLE:
        client = journey.applicant(system, phone, name, id_number)
        app = client.call("POST", "/api/v1/applications", {"campaign_id": campaign["id"]}, expect=201).json()
        journey.fill_and_upload(client, app["id"])
        assert journey.submit(client, app["id"]).status_code == 200
        out.append((client, app["id"]))
    return out


def tasks(reviewer, state):
    return reviewer.call("GET", f"/api/v1/review/tasks?state={state}", expect=200).json()


@pytest.mark.timeout(600)  # two browser runs and four services on a 2-core machine
def test_reviewer_rejects_and_approves_at_desktop_and_phone_sizes(system, chromium):
    admin = journey.staff(system, ADMIN_PHONE, "admin")
    campaign = journey.open_campaign(system, admin)
    journey.import_roster(admin, [journey.roster_row(name, id_number, number) for _, name, id_number, number in PEOPLE])
    reviewer = journey.staff(system, REVIEWER_PHONE, "reviewer")
    (first, first_id), (_, second_id), (_, third_id) = submit_applications(system, campaign)
    wait_for(lambda: len(tasks(reviewer, "pending")) == 3, message="three review tasks")

    # Desktop: reject the oldest with reasons, approve the next by keyboard (then the third is claimed).
    drive("drive_review.py", "desktop", system.base_url, REVIEWER_PHONE, STAFF_PASSWORD)
    wait_for(lambda: first.call("GET", f"/api/v1/applications/{first_id}").json()["state"] == "REJECTED",
             message="the first application rejected")
    rejected = first.call("GET", f"/api/v1/applications/{first_id}").json()
    issues = rejected["decision"]["material_issues"]
    assert {"kind": "id_card_back", "reason": "上传了身份证错误的一面"} in issues
    assert {"kind": "certificate", "reason": "证书编号处反光，请重新拍摄"} in issues
    assert rejected["decision"]["opinion"] == "请按材料问题重新上传身份证国徽面和证书照片"
    wait_for(lambda: admin.call("GET", f"/api/v1/applications/{second_id}").json()["state"] == "APPROVED",
             message="the second application approved")
    [held] = tasks(reviewer, "claimed")
    assert held["application_id"] == third_id  # "next" after the approval claimed it

    # The first applicant uploads the two materials again and resubmits.
    for kind in ("id_card_back", "certificate"):
        journey.upload(first, first_id, kind, journey.MATERIALS[kind]())
    assert journey.submit(first, first_id, uuid.uuid4().hex).status_code == 200
    wait_for(lambda: any(t["application_id"] == first_id and t["attempt"] == 2 for t in tasks(reviewer, "pending")),
             message="the resubmission's task")

    # Phone: "next" from the queue opens the held task; reject it (a double submission decides once);
    # then approve the resubmission, whose page shows the earlier opinion.
    drive("drive_review.py", "phone", system.base_url, REVIEWER_PHONE, STAFF_PASSWORD)
    wait_for(lambda: admin.call("GET", f"/api/v1/applications/{first_id}").json()["state"] == "APPROVED",
             message="the resubmission approved")
    wait_for(lambda: admin.call("GET", f"/api/v1/applications/{third_id}").json()["state"] == "REJECTED",
             message="the third application rejected")
    decided = [t for t in tasks(reviewer, "decided") if t["application_id"] == third_id]
    assert len(decided) == 1 and decided[0]["material_issues"] == [{"kind": "photo", "reason": "照片尺寸不符"}]
    history = admin.call("GET", f"/api/v1/applications/{first_id}/history", expect=200).json()
    assert [(h["attempt"], h["decision"]) for h in history] == [(1, "rejected"), (2, "approved")]
    assert tasks(reviewer, "open") == []
