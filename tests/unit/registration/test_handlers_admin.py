"""The admin's commands in handlers.py and console.py on a fake unit of work: roster imports,
feedback, the campaign window, the report and the watchdog."""
import base64
from datetime import timedelta

import pytest

from services.contracts.errors import Conflict, Forbidden, TooManyRequests
from services.registration import console, handlers
from services.registration.domain import numbers

from .builders import INSIDE
from .handler_steps import ACCOUNT, ADMIN, IDENTITY, REVIEWER, review_completed, submitted, world

HEADER = "姓名,证件类型,证件号码,级别,考试年度,职业水平证书管理号,批准日期,本地有效\r\n"
LI = "440524188001010014"
WANG = "360426199101010071"


def roster_file(*lines):
    return (HEADER + "".join(line + "\r\n" for line in lines)).encode()


def import_roster(uow, content, principal=ADMIN):
    with uow:
        return handlers.import_roster(uow, principal, "roster.csv", content, INSIDE)


def test_roster_import_adds_updates_and_recognises_what_it_has():
    uow = world()
    answer = import_roster(uow, roster_file(f"李四,居民身份证,{LI},中级,2019,20191100000012346,2019-12-20,否"))
    assert (answer["accepted"], answer["updated"], answer["unchanged"]) == (1, 0, 0)
    again = import_roster(uow, roster_file(f"李四,居民身份证,{LI},中级,2019,20191100000012346,2019-12-20,否",
                                           f"王五,居民身份证,{WANG},中级,2019,20191100000012347,2019-12-20,否"))
    assert (again["accepted"], again["updated"], again["unchanged"]) == (1, 0, 1)
    renamed = import_roster(uow, roster_file(f"李肆,居民身份证,{LI},中级,2019,20191100000012346,2019-12-20,否"))
    assert renamed["updated"] == 1
    assert [r.name for r in uow.roster.records_of("RESIDENT_ID", LI)] == ["李肆"]
    assert uow.audit.actions() == ["import_roster"] * 3


def test_roster_import_refuses_a_management_number_that_belongs_to_someone_else():
    uow = world()
    answer = import_roster(uow, roster_file(f"李四,居民身份证,{LI},中级,2019,0019110000012345,2019-12-20,否"))
    assert answer["accepted"] == 0 and answer["refused"][0]["field"] == "management_number"
    assert uow.roster.records_of("RESIDENT_ID", LI) == []


def test_roster_import_is_for_admins():
    uow = world()
    with pytest.raises(Forbidden):
        import_roster(uow, roster_file(), principal=REVIEWER)


def test_feedback_is_capped_per_person_and_resolved_by_an_admin_with_a_note():
    uow = world()
    ids = []
    for n in range(handlers.MAX_OPEN_FEEDBACK):
        with uow:
            ids.append(handlers.file_feedback(uow, ACCOUNT, f"名单缺少我的记录 {n}", IDENTITY, INSIDE)["id"])
    with pytest.raises(TooManyRequests), uow:
        handlers.file_feedback(uow, ACCOUNT, "再一条", IDENTITY, INSIDE)
    with uow:
        resolved = handlers.resolve_feedback(uow, ADMIN, ids[0], "已补录", INSIDE)
    assert resolved["state"] == "RESOLVED" and resolved["name"] == "张三"
    with pytest.raises(Conflict), uow:
        handlers.resolve_feedback(uow, ADMIN, ids[0], "再处理", INSIDE)
    with uow:
        assert [a["id"] for a in handlers.list_feedback(uow, ADMIN, "OPEN")] == ids[1:]


def test_the_window_moves_and_the_change_is_audited():
    uow = world()
    with uow:
        view = console.update_campaign(uow, ADMIN, "bj-2020-first", {"closes_at": "2020-08-15T24:00"}, INSIDE)
    assert view["closes_at"].startswith("2020-08-16T00:00")
    [entry] = uow.audit.stored
    assert entry["action"] == "update_campaign" and "closes_at" in entry["details"]["changed"]


def test_the_report_counts_submissions_per_beijing_day_and_the_watchdog_finds_the_waiting():
    uow = world()
    app_id = submitted(uow)
    with uow:
        report = console.report(uow, ADMIN)
    assert report["total"] == 1 and report["by_state"] == {"SUBMITTED": 1}
    assert report["submissions_per_day"] == [{"day": "2020-07-03", "count": 1, "first": 1, "resubmissions": 0}]
    with uow:
        stuck = handlers.stuck_applications(uow, 10, INSIDE + timedelta(days=11))
    assert [a["application_id"] for a in stuck["applications"]] == [app_id]


def test_the_export_pages_through_approved_registrations_with_their_mailing():
    uow = world()
    app_id = submitted(uow)
    with uow:
        handlers.on_review_completed(uow, review_completed(app_id), numbers.DEFAULT_FORMAT, INSIDE)
        handlers.record_dispatch(uow, ADMIN, app_id, "EMS", "12345678", INSIDE)
    with uow:
        page = handlers.export_page(uow, ADMIN, limit=1)
        whole = handlers.export_approved(uow, ADMIN, "csv", INSIDE)
    assert len(page["rows"]) == 1 and page["next"] == uow.applications.get(app_id).registration_number
    assert whole["rows"] == 1 and "12345678" in base64.b64decode(whole["content_b64"]).decode("utf-8-sig")
    assert uow.audit.actions()[-1] == "export_approved"
