"""One application walks through every service over RabbitMQ, driven only through the HTTP API:
SMS code → account → session → real-name check → application pre-filled from the roster → four
photos checked → submit → review task → rejection with reasons → fix → resubmit → approval →
registration number → mailing → every SMS the notice implies."""
import pytest

from tests.support.infra import wait_for
from tests.support.journey import (
    ADMIN_PHONE,
    REVIEWER_PHONE,
    applicant,
    fill_and_upload,
    import_roster,
    open_campaign,
    roster_row,
    staff,
    submit,
    upload,
)

pytestmark = pytest.mark.e2e

NAME, ID_NUMBER, MGMT = "张三", "11010519491231002X", "20191100000012345"
PHONE = "13800138000"


def test_applicant_path_of_the_notice(system):
    admin = staff(system, ADMIN_PHONE, "admin")
    reviewer = staff(system, REVIEWER_PHONE, "reviewer")
    campaign = open_campaign(system, admin)
    report = import_roster(admin, [roster_row(NAME, ID_NUMBER, MGMT)])
    assert report["accepted"] == 1 and report["refused"] == []

    me = applicant(system, PHONE, NAME, ID_NUMBER)
    app = me.call("POST", "/api/v1/applications", {"campaign_id": campaign["id"]}, expect=201).json()
    # 系统会关联出部分信息（身份证号、职业水平证书管理号等不可修改）
    assert app["form"]["id_number"] == ID_NUMBER and app["form"]["management_number"] == MGMT
    assert {"id_number", "management_number", "name"} <= set(app["locked_fields"])
    locked = me.call("PATCH", f"/api/v1/applications/{app['id']}", {"management_number": "1"})
    assert locked.status_code == 422 and locked.json()["error"]["code"] == "locked_field"

    fill_and_upload(me, app["id"])
    first = submit(me, app["id"], key="first-click-0001")
    assert first.status_code == 200, first.text
    again = submit(me, app["id"], key="first-click-0001")  # a retried click
    assert again.status_code == 200 and again.json()["attempt"] == 1
    assert first.json()["state"] == "SUBMITTED"
    system.wait_sms(PHONE, "您的登记申请表已提交，请耐心等待审核结果")
    edit = me.call("PATCH", f"/api/v1/applications/{app['id']}", {"major": "社会学"})
    assert edit.status_code == 409

    tasks = wait_for(lambda: reviewer.call("GET", "/api/v1/review/tasks", expect=200).json() or None,
                     message="a review task")
    [task] = [t for t in tasks if t["application_id"] == app["id"]]
    assert me.call("GET", "/api/v1/review/tasks").status_code == 403  # applicants never see the queue
    reviewer.call("POST", f"/api/v1/review/tasks/{task['id']}/claim", expect=200)
    reviewer.call("POST", f"/api/v1/review/tasks/{task['id']}/decision", {
        "decision": "rejected", "opinion": "两寸照片不清晰，请重新上传",
        "material_issues": [{"kind": "photo", "reason": "照片不清晰"}]},
        headers={"Idempotency-Key": "decision-0001"}, expect=200)

    rejected = wait_for(lambda: (lambda v: v if v["state"] == "REJECTED" else None)(
        me.call("GET", f"/api/v1/applications/{app['id']}", expect=200).json()), message="rejected")
    assert rejected["decision"]["opinion"] == "两寸照片不清晰，请重新上传"
    system.wait_sms(PHONE, "两寸照片不清晰")

    from tests.support import images
    upload(me, app["id"], "photo", images.jpeg(images.photo(seed=9)))
    second = submit(me, app["id"])
    assert second.status_code == 200 and second.json()["attempt"] == 2

    def task_for_attempt_2():
        return [t for t in reviewer.call("GET", "/api/v1/review/tasks", expect=200).json()
                if t["application_id"] == app["id"] and t["attempt"] == 2]
    [task2] = wait_for(task_for_attempt_2, message="task for attempt 2")
    # Each task shows the photo of its own attempt: the rejected one keeps the old photo.
    def photo_of(task_id):
        return reviewer.call("GET", f"/api/v1/review/tasks/{task_id}/materials/photo", expect=200).content
    newest = me.call("GET", f"/api/v1/applications/{app['id']}/materials/photo", expect=200).content
    assert photo_of(task2["id"]) == newest and photo_of(task["id"]) != newest
    assert me.call("GET", f"/api/v1/review/tasks/{task['id']}/materials/photo").status_code == 403
    assert reviewer.call("GET", f"/api/v1/review/tasks/{task['id']}/materials/selfie").status_code == 404
    reviewer.call("POST", f"/api/v1/review/tasks/{task2['id']}/claim", expect=200)
    reviewer.call("POST", f"/api/v1/review/tasks/{task2['id']}/decision", {"decision": "approved"},
                  headers={"Idempotency-Key": "decision-0002"}, expect=200)

    approved = wait_for(lambda: (lambda v: v if v["state"] == "APPROVED" else None)(
        me.call("GET", f"/api/v1/applications/{app['id']}", expect=200).json()), message="approved")
    number = approved["registration_number"]
    assert number and approved["valid_from"] and approved["valid_until"]
    system.wait_sms(PHONE, number)

    history = me.call("GET", f"/api/v1/applications/{app['id']}/history", expect=200).json()
    assert [h["attempt"] for h in history] == [1, 2]
    assert history[0]["decision"] == "rejected" and history[0]["opinion"] == "两寸照片不清晰，请重新上传"
    assert history[1]["decision"] == "approved"

    admin.call("POST", f"/api/v1/admin/applications/{app['id']}/dispatch",
               {"carrier": "中国邮政EMS", "tracking_number": "1190001234567"}, expect=200)
    system.wait_sms(PHONE, "1190001234567")

    figures = reviewer.call("GET", "/api/v1/review/figures", expect=200).json()
    assert figures
    system.containers["gateway"].config["EXPORT_PAGE_SIZE"] = 1  # stream page after page, as at scale
    export = admin.call("GET", "/api/v1/admin/exports/approved?format=csv", expect=200)
    assert number in export.content.decode("utf-8-sig") and export.headers["Cache-Control"] == "no-store"
    assert export.content.decode("utf-8-sig").count("\r\n") == 2  # the header and the one registration
    assert export.headers["Content-Disposition"].startswith("attachment; filename=registrations-")
    workbook = admin.call("GET", "/api/v1/admin/exports/approved?format=xlsx", expect=200)
    assert workbook.content.startswith(b"PK") and "spreadsheetml" in workbook.headers["Content-Type"]
    assert me.call("GET", "/api/v1/admin/exports/approved").status_code == 403
    feedback = stranger_feedback(system)
    listed = admin.call("GET", "/api/v1/admin/feedback", expect=200)
    assert feedback["id"] in str(listed.json()) and "Deprecation" not in listed.headers
    old_path = admin.call("GET", "/api/v1/admin/appeals?state=OPEN", expect=200)  # the path before 1.1 still answers
    assert old_path.json() == listed.json() and old_path.headers["Deprecation"] == "true"
    assert old_path.headers["Link"] == '</api/v1/admin/feedback>; rel="successor-version"'
    admin.call("POST", f"/api/v1/admin/feedback/{feedback['id']}/resolve", {"note": "已补录考试合格信息"}, expect=200)
    again = admin.call("POST", f"/api/v1/admin/appeals/{feedback['id']}/resolve", {"note": "再处理"}, expect=409)
    assert again.json()["error"]["code"] == "appeal_resolved"  # a public code: kept as it was

    photo = me.call("GET", f"/api/v1/applications/{app['id']}/materials/photo", expect=200)
    assert photo.headers["Content-Type"] == "image/jpeg" and photo.headers["Cache-Control"] == "no-store"
    stranger = applicant(system, "13700137000", "李四", "440524188001010014")
    assert stranger.call("GET", f"/api/v1/applications/{app['id']}").status_code in (403, 404)
    assert stranger.call("GET", f"/api/v1/applications/{app['id']}/materials/photo").status_code in (403, 404)

    # Logging out ends the session at once, though the gateway remembers principals for a second.
    me.call("GET", "/api/v1/me", expect=200)
    me.call("DELETE", "/api/v1/sessions/current", expect=204)
    assert me.call("GET", "/api/v1/me").status_code == 401


def stranger_feedback(system):
    other = applicant(system, "13600136000", "王五", "360426199101010071")
    filed = other.call("POST", "/api/v1/appeals", {"message": "考试合格信息查询不到，请核实"}, expect=201)  # old path
    assert filed.headers["Deprecation"] == "true"
    return other.call("POST", "/api/v1/feedback", {"message": "名单中的考试年份有误"}, expect=201).json()
