"""Admin work: the exam roster, feedback, mailing, reports, exports, the watchdog, seeds."""
import base64
import csv
import io
from datetime import datetime, timedelta

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import select

from services.common import metrics
from services.contracts.errors import Conflict, Forbidden, NotFound, TooManyRequests, ValidationFailed
from services.registration import models
from tests.support.infra import dependency

from .conftest import ADMIN, INSIDE, PEOPLE, REVIEWER, ROSTER_HEADER, UTC, csv_bytes, roster_row

pytestmark = pytest.mark.integration

APPLICANT = {"account_id": "u-zhang", "roles": ["applicant"]}


# --- the exam roster --------------------------------------------------------------------------------

def test_roster_rows_are_checked_one_by_one(world):
    rows = [
        roster_row("u-zhang"),
        ["李四", "居民身份证", "440524188001010015", "中级", "2019", "20191100000000002", "2019-12-20", "否"],  # check digit
        ["王五", "居民身份证", PEOPLE["u-wang"][1], "特级", "2019", "20191100000000003", "2019-12-20", "否"],  # level
        ["赵六", "居民身份证", PEOPLE["u-zhao"][1], "初级", "2019", "1.91100000000004E+16", "2019-12-20", "否"],
        roster_row("u-zhang"),  # the same line twice: dropped, reported
        ["孙七", "居民身份证", PEOPLE["u-sun"][1], "初级", "2031", "20191100000000005", "2019-13-40", "也许"],
    ]
    report = world.import_roster(csv_bytes(rows))
    assert (report["accepted"], report["updated"], report["unchanged"]) == (1, 0, 0)
    refused = {(r["row"], r["field"]) for r in report["refused"]}
    assert refused == {(3, "id_number"), (4, "level"), (5, "management_number"), (7, "exam_year"),
                       (7, "approval_date"), (7, "local_only")}
    assert all(r["reason"] for r in report["refused"])
    assert report["duplicates_in_file"] == [{"row": 6, "duplicate_of": 2, "reason": "与第2行完全相同，已忽略"}]
    assert world.count(models.RosterRecord) == 1


@pytest.mark.parametrize("encoding", ["gbk", "utf-8-sig", "utf-8"])
def test_roster_csv_in_the_encodings_excel_writes(world, encoding):
    report = world.import_roster(csv_bytes([roster_row("u-zhang"), roster_row("u-li", level="初级")],
                                           encoding=encoding))
    assert (report["accepted"], report["refused"]) == (2, [])
    app = world.opened("u-zhang", world.campaign()["id"])
    assert app["form"]["name"] == "张三"  # the Chinese name survived the encoding


def test_roster_xlsx_keeps_long_numbers_as_given(world):
    book = Workbook()
    sheet = book.active
    sheet.append(ROSTER_HEADER)
    sheet.append(["张三", "居民身份证", PEOPLE["u-zhang"][1], "中级", 2019, "0019110000012345", datetime(2019, 12, 20),
                  "否"])
    sheet.append(["李四", None, PEOPLE["u-li"][1], "初级", 2019, 1.91100000000004e16, "2019-12-20", None])
    out = io.BytesIO()
    book.save(out)
    report = world.import_roster(out.getvalue(), filename="名单.xlsx")
    assert report["accepted"] == 1
    assert [(r["row"], r["field"]) for r in report["refused"]] == [(3, "management_number")]
    world.verified("u-zhang")
    app = world.rpc.open_application("u-zhang", world.campaign()["id"])
    assert app["form"]["management_number"] == "0019110000012345"  # leading zeros kept


def test_reimport_is_idempotent_and_reports_updates(world):
    rows = [roster_row("u-zhang"), roster_row("u-li")]
    assert world.import_roster(csv_bytes(rows))["accepted"] == 2
    again = world.import_roster(csv_bytes(rows))
    assert (again["accepted"], again["updated"], again["unchanged"], again["refused"]) == (0, 0, 2, [])
    corrected = [roster_row("u-zhang", approval="2019-12-21"),
                 roster_row("u-wang", number=rows[1][5])]  # 王五 claims 李四's management number
    report = world.import_roster(csv_bytes(corrected, encoding="gbk"))
    assert (report["accepted"], report["updated"], report["unchanged"]) == (0, 1, 0)
    [refused] = report["refused"]
    assert (refused["row"], refused["field"]) == (3, "management_number") and "另一条记录" in refused["reason"]
    assert world.count(models.RosterRecord) == 2
    world.verified("u-zhang")
    app = world.rpc.open_application("u-zhang", world.campaign()["id"])
    assert app["form"]["approval_date"] == "2019-12-21"


def test_roster_file_problems_and_permissions(world):
    with pytest.raises(Forbidden):
        world.import_roster(csv_bytes([roster_row("u-zhang")]), principal=REVIEWER)
    with pytest.raises(ValidationFailed) as caught:
        world.rpc.import_roster(ADMIN, "roster.csv", "not base64!")
    assert caught.value.code == "bad_upload"
    with pytest.raises(ValidationFailed) as caught:
        world.import_roster(b"\xd0\xcf\x11\xe0old excel", filename="roster.xls")
    assert caught.value.code == "roster_file_invalid" and ".xlsx" in caught.value.message
    with pytest.raises(ValidationFailed) as caught:
        world.import_roster("姓名,证件号码\n张三,11010519491231002X\n".encode())
    assert "缺少必需的列" in caught.value.message


def test_the_roster_is_encrypted_at_rest(world):
    world.roster(roster_row("u-zhang"))
    with dependency(world.container, "db").engine.connect() as conn:
        row = conn.execute(select(models.RosterRecord.__table__)).one()
    assert PEOPLE["u-zhang"][1] not in str(tuple(row)) and "张三" not in str(tuple(row))


# --- feedback ----------------------------------------------------------------------------------------

def test_feedback_is_filed_listed_and_resolved(world):
    world.verified("u-zhang")
    filed = world.rpc.file_feedback("u-zhang", "我通过了2019年中级考试，但系统查不到我的记录")
    assert filed["state"] == "OPEN"
    unverified = world.rpc.file_feedback("u-nobody", "无法实名认证")
    [first, second] = world.rpc.list_feedback(ADMIN)
    assert (first["id"], first["name"], first["id_number_masked"]) == (filed["id"], "张三", "110105********002X")
    assert second["id"] == unverified["id"] and second["name"] is None
    with pytest.raises(Forbidden):
        world.rpc.list_feedback(APPLICANT)
    with pytest.raises(ValidationFailed):
        world.rpc.resolve_feedback(ADMIN, filed["id"], " ")
    resolved = world.rpc.resolve_feedback(ADMIN, filed["id"], "已补录考试合格记录，请重新登记")
    assert resolved["state"] == "RESOLVED" and resolved["resolved_by"] == "admin-1"
    with pytest.raises(Conflict):
        world.rpc.resolve_feedback(ADMIN, filed["id"], "again")
    with pytest.raises(NotFound):
        world.rpc.resolve_feedback(ADMIN, "no-such-feedback", "x")
    assert [a["id"] for a in world.rpc.list_feedback(ADMIN, "OPEN")] == [unverified["id"]]
    with pytest.raises(ValidationFailed):
        world.rpc.file_feedback("u-zhang", "")
    for n in range(3):
        world.rpc.file_feedback("u-li", f"第{n + 1}次反馈")
    with pytest.raises(TooManyRequests):
        world.rpc.file_feedback("u-li", "第4次反馈")


# --- mailing ----------------------------------------------------------------------------------------

def approved(world, account, campaign):
    app = world.ready(account, campaign)
    world.rpc.submit(account, app["id"], f"key-{account}-01")
    world.decide(app["id"], 1, "approved")
    return world.wait_state(account, app["id"], "APPROVED")


def test_dispatch_is_recorded_once_and_published(world):
    campaign = world.campaign()["id"]
    app = approved(world, "u-zhang", campaign)
    with pytest.raises(Forbidden):
        world.rpc.record_dispatch(REVIEWER, app["id"], "中国邮政EMS", "1190001234567")
    view = world.rpc.record_dispatch(ADMIN, app["id"], "中国邮政EMS", "1190001234567")
    assert view["state"] == "DISPATCHED"
    assert view["dispatch"] == {"carrier": "中国邮政EMS", "tracking_number": "1190001234567",
                                "dispatched_at": "2020-07-03T10:15:00.000+08:00"}
    [event] = world.events.wait("CertificateDispatched")
    assert event["data"] == {"application_id": app["id"], "registration_number": "京社登2020000001",
                             "carrier": "中国邮政EMS", "tracking_number": "1190001234567",
                             "dispatched_at": "2020-07-03T10:15:00.000+08:00"}
    with pytest.raises(Conflict):
        world.rpc.record_dispatch(ADMIN, app["id"], "中国邮政EMS", "1190001234567")
    waiting = world.ready("u-li", campaign)
    with pytest.raises(Conflict) as caught:
        world.rpc.record_dispatch(ADMIN, waiting["id"], "中国邮政EMS", "1190001234568")
    assert "尚未审核通过" in caught.value.message


def test_dispatch_from_a_mailing_list_file(world):
    campaign = world.campaign()["id"]
    first = approved(world, "u-zhang", campaign)
    second = approved(world, "u-li", campaign)
    text = ("登记证书编号,快递公司,运单号\n"
            f"{first['registration_number']},中国邮政EMS,1190001234567\n"
            "京社登2020999999,中国邮政EMS,1190001234568\n"
            f"{second['registration_number']},顺丰速运,\n")
    report = world.rpc.import_dispatches(ADMIN, "mail.csv", base64.b64encode(text.encode("gbk")).decode())
    assert report["dispatched"] == 1
    assert [(r["row"], r["field"]) for r in report["refused"]] == [(3, "registration_number"),
                                                                   (4, "tracking_number")]
    assert world.view("u-zhang", first["id"])["state"] == "DISPATCHED"
    assert world.view("u-li", second["id"])["state"] == "APPROVED"
    world.events.wait("CertificateDispatched")


# --- reports, exports, watchdog -------------------------------------------------------------------

def test_report_counts_by_state_district_and_level(world):
    campaign = world.campaign()["id"]
    approved(world, "u-zhang", campaign)
    submitted = world.ready("u-li", campaign, roster_row("u-li", level="初级"))
    world.rpc.submit("u-li", submitted["id"], "key-u-li-0001")
    world.opened("u-wang", campaign)
    report = world.rpc.report(ADMIN)
    assert report["total"] == 3
    assert report["by_state"] == {"APPROVED": 1, "SUBMITTED": 1, "DRAFT": 1}
    assert report["by_district"] == {"110105": 2, "UNSPECIFIED": 1}
    assert report["by_level"] == {"INTERMEDIATE": 2, "ASSISTANT": 1}
    assert world.rpc.report(ADMIN, "other-campaign")["total"] == 0
    with pytest.raises(Forbidden):
        world.rpc.report(REVIEWER)


def test_exports_for_printing_are_masked_by_role_and_audited(world):
    campaign = world.campaign()["id"]
    app = approved(world, "u-zhang", campaign)
    world.rpc.record_dispatch(ADMIN, app["id"], "中国邮政EMS", "1190001234567")
    world.ready("u-li", campaign)  # not approved: not exported

    full = world.rpc.export_approved(ADMIN, "csv")
    assert (full["rows"], full["view"], full["content_type"]) == (1, "full", "text/csv; charset=utf-8")
    raw = base64.b64decode(full["content_b64"])
    assert raw.startswith("\ufeff".encode())  # Excel reads UTF-8 with a BOM
    header, line = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    record = dict(zip(header, line, strict=True))
    assert record["登记证书编号"] == "京社登2020000001" and record["证件号码"] == PEOPLE["u-zhang"][1]
    assert record["姓名"] == "张三" and record["收件电话"] == "13800138000" and record["运单号"] == "1190001234567"
    assert record["有效期至"] == "2023-07-04" and record["服务地域"] == "朝阳区"

    masked = world.rpc.export_approved(REVIEWER, "xlsx")
    sheet = load_workbook(io.BytesIO(base64.b64decode(masked["content_b64"]))).active
    header, line = [[c.value for c in row] for row in sheet.iter_rows()]
    record = dict(zip(header, line, strict=True))
    assert record["证件号码"] == "110105********002X" and record["姓名"] == "张*"
    assert record["收件电话"] == "138****8000" and "建国路" not in record["邮寄地址"]

    with pytest.raises(Forbidden):
        world.rpc.export_approved(APPLICANT, "csv")
    with pytest.raises(ValidationFailed):
        world.rpc.export_approved(ADMIN, "pdf")
    assert world.count(models.AuditEntry, models.AuditEntry.action == "export_approved") == 2


def test_an_export_is_read_in_pages_each_row_once_in_number_order(world):
    """What the gateway streams: a page at a time after the last registration number (keyset), so an
    export of a national year never sits in one process's memory; the export is audited once, at start."""
    campaign = world.campaign()["id"]
    accounts = list(PEOPLE)[:3]
    for account in accounts:
        approved(world, account, campaign)
    started = world.rpc.start_export(REVIEWER, "csv", campaign)
    assert (started["rows"], started["view"], started["format"]) == (3, "masked", "csv")
    number = started["header"].index("登记证书编号")
    seen, after = [], None
    while True:
        page = world.rpc.export_page(REVIEWER, campaign, after, 1)
        seen += [row[number] for row in page["rows"]]
        if (after := page["next"]) is None:
            break
        assert len(page["rows"]) == 1
    assert seen == sorted(seen) and len(set(seen)) == 3
    assert world.rpc.export_page(REVIEWER, "other-campaign") == {"rows": [], "next": None}
    for bad in ({"after": 5}, {"limit": 0}, {"limit": 501}, {"limit": "10"}):
        with pytest.raises(ValidationFailed):
            world.rpc.export_page(REVIEWER, campaign, bad.get("after"), bad.get("limit", 1))
    with pytest.raises(Forbidden):
        world.rpc.export_page({"account_id": "u-zhang", "roles": ["applicant"]}, campaign)
    assert world.count(models.AuditEntry, models.AuditEntry.action == "export_approved") == 1


def test_watchdog_lists_and_counts_applications_waiting_too_long(world):
    campaign = world.campaign()["id"]
    old = world.ready("u-zhang", campaign)
    world.rpc.submit("u-zhang", old["id"], "key-00000001")
    world.set_now(INSIDE + timedelta(days=9))
    recent = world.ready("u-li", campaign)
    world.rpc.submit("u-li", recent["id"], "key-00000002")
    world.set_now(INSIDE + timedelta(days=10, hours=1))
    stuck = world.rpc.stuck_applications(10)
    assert stuck["count"] == 1 and [a["application_id"] for a in stuck["applications"]] == [old["id"]]
    assert stuck["applications"][0]["days_waiting"] == 10.0
    assert world.rpc.stuck_applications(0)["count"] == 2
    text = world.rpc.metrics()  # default bound (WATCHDOG_STUCK_DAYS=10) refreshed on scrape
    assert 'registration_applications_stuck{service="registration"} 1.0' in text
    assert metrics.REGISTRY.get_sample_value("registration_applications_stuck", {"service": "registration"}) == 1


def test_seed_demo_is_idempotent_and_opens_now(world):
    world.set_now(datetime(2024, 5, 6, 3, 0, tzinfo=UTC))
    first = world.rpc.seed_demo()
    again = world.rpc.seed_demo()
    assert (first["campaign_created"], first["roster_added"]) == (True, 3)
    assert (again["campaign_created"], again["roster_added"]) == (False, 0)
    [campaign] = world.rpc.list_campaigns()
    assert campaign["open"] is True
    world.verified("u-zhang")
    assert world.rpc.open_application("u-zhang", campaign["id"])["form"]["name"] == "张三"
    world.set_now(datetime(2025, 1, 1, tzinfo=UTC))  # long after: seeding again reopens it
    world.rpc.seed_demo()
    assert world.rpc.list_campaigns()[0]["open"] is True
