"""The admin console and the auditor's log in Debian's chromium, at 1366×900 and 390×844.

The test process prepares what an admin works on through the API (a campaign, an applicant whose
application a reviewer approved, one rejected with reasons); the driver (drive_admin.py, its own
process) then logs in on /staff/login with password + SMS code, creates a campaign, imports a
roster and reads the refused rows, dispatches the approved applications (one by the form, one by
spreadsheet), reads the report's charts; an auditor reads the audit log and is refused the admin
pages. The numbers the charts draw must equal the report API's."""
import json
import uuid

import pytest
from nameko.standalone.rpc import ClusterRpcProxy

from tests.support.infra import wait_for
from tests.support.journey import (
    ADMIN_PHONE,
    REVIEWER_PHONE,
    STAFF_PASSWORD,
    applicant,
    fill_and_upload,
    import_roster,
    open_campaign,
    roster_row,
    staff,
    submit,
)

from .conftest import drive

pytestmark = [pytest.mark.browser, pytest.mark.timeout(900)]

CONSOLE_ADMIN, AUDITOR_PHONE = "13900000011", "13900000012"
PEOPLE = [("13800138001", "张三", "11010519491231002X", "20191100000012345"),
          ("13800138002", "李四", "440524188001010014", "20191100000012346"),
          ("13800138003", "王五", "360426199101010071", "20191100000012347")]
REJECTED_REASONS = [{"kind": "photo", "reason": "照片尺寸不符"}, {"kind": "id_card_back", "reason": "上传了身份证错误的一面"}]


def decide(system, reviewer, application_id, decision, **extra):
    task = wait_for(lambda: next((t for t in reviewer.call("GET", "/api/v1/review/tasks", expect=200).json()
                                  if t["application_id"] == application_id), None), message="review task")
    reviewer.call("POST", f"/api/v1/review/tasks/{task['id']}/claim", expect=200)
    reviewer.call("GET", f"/api/v1/review/tasks/{task['id']}", expect=200)  # a look: audited
    body = {"decision": decision, "opinion": extra.get("opinion", ""), "material_issues": extra.get("issues", [])}
    reviewer.call("POST", f"/api/v1/review/tasks/{task['id']}/decision", body,
                  headers={"Idempotency-Key": uuid.uuid4().hex}, expect=200)


def prepare(system):
    admin = staff(system, ADMIN_PHONE, "admin")
    reviewer = staff(system, REVIEWER_PHONE, "reviewer")
    with ClusterRpcProxy({"AMQP_URI": system.amqp_uri}) as cluster:
        cluster.identity.create_staff(CONSOLE_ADMIN, "admin", STAFF_PASSWORD)
        cluster.identity.create_staff(AUDITOR_PHONE, "auditor", STAFF_PASSWORD)
    campaign = open_campaign(system, admin)
    import_roster(admin, [roster_row(name, number, mgmt) for _, name, number, mgmt in PEOPLE])
    apps = []
    for phone, name, number, _ in PEOPLE:
        person = applicant(system, phone, name, number)
        app = person.call("POST", "/api/v1/applications", {"campaign_id": campaign["id"]}, expect=201).json()
        fill_and_upload(person, app["id"])
        assert submit(person, app["id"]).status_code == 200
        apps.append((person, app["id"]))
    apps[2][0].call("POST", "/api/v1/feedback", {"message": "名单中我的考试年度有误，应为2019年"}, expect=201)
    decide(system, reviewer, apps[0][1], "approved")
    decide(system, reviewer, apps[1][1], "approved")
    decide(system, reviewer, apps[2][1], "rejected", opinion="请按意见重新上传", issues=REJECTED_REASONS)
    numbers = []
    for person, app_id in apps[:2]:
        def approved(person=person, app_id=app_id):
            view = person.call("GET", f"/api/v1/applications/{app_id}", expect=200).json()
            return view if view["state"] == "APPROVED" else None
        view = wait_for(approved, message="approved")
        numbers.append(view["registration_number"])
    wait_for(lambda: apps[2][0].call("GET", f"/api/v1/applications/{apps[2][1]}").json()["state"] == "REJECTED",
             message="rejected")
    return admin, [a for _, a in apps], numbers


def test_admin_console_and_audit_log(system, chromium, tmp_path):
    admin, app_ids, numbers = prepare(system)
    roster = tmp_path / "roster.csv"
    roster.write_text("姓名,证件类型,证件号码,级别,考试年度,职业水平证书管理号,批准日期,本地有效\n"
                      "赵六,居民身份证,110101199003071233,中级,2019,20191100000012348,2019-12-20,否\n"
                      "钱七,居民身份证,440524188001010015,中级,2019,20191100000012349,2019-12-20,否\n"  # check digit
                      "孙八,居民身份证,110108198506150048,特级,2019,20191100000012350,2019-12-20,否\n",  # level
                      encoding="utf-8")
    mailing = tmp_path / "mailing.csv"
    mailing.write_text(f"登记证书编号,快递公司,运单号\n{numbers[1]},中国邮政EMS,1190001234568\n"
                       "京社登2020999999,中国邮政EMS,1190001234569\n", encoding="utf-8")
    output = drive("drive_admin.py", system.base_url, system.var_dir / "outbox" / "sms.jsonl", CONSOLE_ADMIN,
                   AUDITOR_PHONE, STAFF_PASSWORD, roster, mailing, numbers[0], app_ids[0])
    drawn = json.loads(output.strip().splitlines()[-1])

    # What the charts drew is what the report API answers.
    report = admin.call("GET", "/api/v1/admin/reports", expect=200).json()
    figures = admin.call("GET", "/api/v1/review/figures", expect=200).json()
    assert {k: v for k, v in drawn["chart-states"].items() if v} == report["by_state"]
    assert sum(drawn["chart-states"].values()) == report["total"] == 3
    assert drawn["chart-per-day"] == {d["day"]: d["count"] for d in report["submissions_per_day"]}
    assert drawn["chart-reasons"] == {f"{r['kind']}:{r['reason']}": r["count"] for r in report["rejection_reasons"]}
    assert len(drawn["chart-reasons"]) == 2
    per_reviewer = {}
    for row in figures["decided_per_reviewer_per_day"]:
        per_reviewer[row["reviewer_id"]] = per_reviewer.get(row["reviewer_id"], 0) + row["decided"]
    assert drawn["chart-throughput"] == per_reviewer and sum(per_reviewer.values()) == 3

    # Both approved applications were mailed through the pages (one by the form, one by spreadsheet).
    after = admin.call("GET", "/api/v1/admin/reports", expect=200).json()
    assert after["by_state"].get("DISPATCHED") == 2
