"""The reviewer's workbench in Debian's chromium (drivers: drive_review.py).

- At 1366×900 (make test): a reviewer logs in at /staff/login, reads the queue, opens the oldest task,
  claims it, zooms and rotates the photos, rejects it with per-material reasons, approves the next
  by keyboard, and "next" claims the third.
- At 390×844 (make test-slow): "next" from the queue opens the task the reviewer holds; reject it
  (the same form posted twice decides once); approve a resubmission, whose page shows the earlier
  opinion; then the pages without JavaScript.
Every page with JavaScript: axe (0 serious/critical), no sideways scrolling; a screenshot of each
page at both sizes when SCREENSHOT_DIR is set (make screenshots).
"""
import uuid

import pytest
import requests

from tests.support import journey, staff_signin
from tests.support.infra import wait_for
from tests.support.journey import ADMIN_PHONE, REVIEWER_PHONE, STAFF_PASSWORD

from .conftest import drive

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]

PEOPLE = [("13800138001", "张三", "11010519491231002X", "20191100000012345"),
          ("13800138002", "李四", "440524188001010014", "20191100000012346"),
          ("13800138003", "王五", "360426199101010071", "20191100000012347")]
FIRST_OPINION = "请按材料问题重新上传身份证国徽面和证书照片"
FIRST_ISSUES = [{"kind": "id_card_back", "reason": "上传了身份证错误的一面"},
                {"kind": "certificate", "reason": "证书编号处反光，请重新拍摄"}]


def setting_up(system, people):
    """An admin, an open campaign, the roster, a reviewer, one submitted application per person."""
    admin = journey.staff(system, ADMIN_PHONE, "admin")
    campaign = journey.open_campaign(system, admin)
    journey.import_roster(admin, [journey.roster_row(name, id_number, number) for _, name, id_number, number in PEOPLE])
    reviewer = journey.staff(system, REVIEWER_PHONE, "reviewer")
    applications = []
    for phone, name, id_number, _ in people:
        client = journey.applicant(system, phone, name, id_number)
        app = client.call("POST", "/api/v1/applications", {"campaign_id": campaign["id"]}, expect=201).json()
        journey.fill_and_upload(client, app["id"])
        assert journey.submit(client, app["id"]).status_code == 200
        applications.append((client, app["id"]))
    wait_for(lambda: len(tasks(reviewer, "pending")) == len(people), message="the review tasks")
    return admin, reviewer, applications


def tasks(reviewer, state):
    return reviewer.call("GET", f"/api/v1/review/tasks?state={state}", expect=200).json()


def state_of(client, application_id):
    return client.call("GET", f"/api/v1/applications/{application_id}", expect=200).json()["state"]


def resubmit(client, application_id, kinds):
    for kind in kinds:
        journey.upload(client, application_id, kind, journey.MATERIALS[kind]())
    assert journey.submit(client, application_id, uuid.uuid4().hex).status_code == 200


def test_reviewer_rejects_and_approves_at_desktop_size(system, chromium):
    admin, reviewer, [(first, first_id), (_, second_id), (_, third_id)] = setting_up(system, PEOPLE)

    drive("drive_review.py", "desktop", system.base_url, REVIEWER_PHONE, STAFF_PASSWORD)

    wait_for(lambda: state_of(first, first_id) == "REJECTED", message="the first application rejected")
    decision = first.call("GET", f"/api/v1/applications/{first_id}").json()["decision"]
    assert decision["opinion"] == FIRST_OPINION and decision["material_issues"] == FIRST_ISSUES
    wait_for(lambda: state_of(admin, second_id) == "APPROVED", message="the second application approved")
    assert tasks(reviewer, "claimed") == []  # "next" after the approval claimed it; then released
    assert [t["application_id"] for t in tasks(reviewer, "pending")] == [third_id]
    # Every look at the applicant's data went to the audit logs (the RPCs behind the pages write them).
    auditor = {"account_id": "auditor-1", "roles": ["auditor"]}
    with system.rpc() as cluster:
        review_log = cluster.review.audit_entries(auditor, {"application_id": first_id, "limit": 200})["entries"]
        registration_log = cluster.registration.audit_entries(auditor, {"application_id": first_id,
                                                                        "limit": 200})["entries"]
    actions = {(e["action"], e["detail"].get("kind")) for e in review_log}
    assert {("task.viewed", None), ("task.claimed", None), ("task.decided", None)} <= actions, actions
    assert {("material.viewed", kind) for kind in journey.MATERIALS} <= actions, actions
    assert "view_history" in {e["action"] for e in registration_log}
    assert "task.released" in {e["action"] for e in review_log_of(system, auditor, third_id)}

    # The pages' doors: staff only, CSRF on every POST, the login page for a stranger.
    stranger = requests.get(system.base_url + "/review/", allow_redirects=False, timeout=30)
    assert stranger.status_code == 303 and stranger.headers["Location"] == "/staff/login?next=/review/"
    reviewer_again = system.client()
    staff_signin.via_api(reviewer_again, REVIEWER_PHONE, STAFF_PASSWORD)
    browser_of_reviewer = reviewer_again.http  # the session cookie, no bearer token
    forged = browser_of_reviewer.post(system.base_url + "/review/next", data={"campaign": ""},
                                      allow_redirects=False, timeout=30)
    assert forged.status_code == 403 and "页面已过期" in forged.text
    applicant_browser = requests.Session()
    applicant_browser.post(system.base_url + "/api/v1/sessions", json={"phone": PEOPLE[0][0],
                                                                       "password": journey.APPLICANT_PASSWORD}, timeout=30)
    assert applicant_browser.get(system.base_url + "/review/", allow_redirects=False, timeout=30).status_code == 403


def review_log_of(system, auditor, application_id):
    with system.rpc() as cluster:
        return cluster.review.audit_entries(auditor, {"application_id": application_id, "limit": 200})["entries"]


@pytest.mark.slow  # the phone size and the no-JavaScript run: make test-slow
def test_reviewer_on_a_phone_rejects_and_approves_a_resubmission(system, chromium):
    admin, reviewer, [(first, first_id), (_, third_id)] = setting_up(system, [PEOPLE[0], PEOPLE[2]])
    # Before: the first was rejected, the reviewer holds the other, the first applicant resubmitted.
    by_app = {t["application_id"]: t["id"] for t in tasks(reviewer, "pending")}
    reviewer.call("POST", f"/api/v1/review/tasks/{by_app[first_id]}/claim", expect=200)
    reviewer.call("POST", f"/api/v1/review/tasks/{by_app[first_id]}/decision",
                  {"decision": "rejected", "opinion": FIRST_OPINION, "material_issues": FIRST_ISSUES}, expect=200)
    reviewer.call("POST", f"/api/v1/review/tasks/{by_app[third_id]}/claim", expect=200)
    wait_for(lambda: state_of(first, first_id) == "REJECTED", message="the first application rejected")
    resubmit(first, first_id, ("id_card_back", "certificate"))
    wait_for(lambda: any(t["application_id"] == first_id and t["attempt"] == 2 for t in tasks(reviewer, "pending")),
             message="the resubmission's task")

    drive("drive_review.py", "phone", system.base_url, REVIEWER_PHONE, STAFF_PASSWORD)

    wait_for(lambda: state_of(admin, first_id) == "APPROVED", message="the resubmission approved")
    wait_for(lambda: state_of(admin, third_id) == "REJECTED", message="the other application rejected")
    decided = [t for t in tasks(reviewer, "decided") if t["application_id"] == third_id]
    assert len(decided) == 1 and decided[0]["material_issues"] == [{"kind": "photo", "reason": "照片尺寸不符"}]
    history = admin.call("GET", f"/api/v1/applications/{first_id}/history", expect=200).json()
    assert [(h["attempt"], h["decision"]) for h in history] == [(1, "rejected"), (2, "approved")]
    assert tasks(reviewer, "open") == []
