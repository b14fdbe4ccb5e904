"""Rules added with the service: which roster record decides, decisions per attempt, the mailing
list file, the export for printing."""
from datetime import date
from types import SimpleNamespace

import pytest

from services.contracts.errors import Conflict, Forbidden, ValidationFailed
from services.registration.domain import dispatch_import, exports
from services.registration.domain.eligibility import pick_roster_record
from services.registration.domain.states import Application

from .builders import INSIDE, accepted_materials, complete_form


def rec(year, level, local_only=False):
    return SimpleNamespace(exam_year=year, level=level, local_only=local_only)


def test_the_eligible_record_decides(campaign):
    eligible = rec(2019, "ASSISTANT")
    assert pick_roster_record([rec(2018, "INTERMEDIATE"), eligible, rec(2019, "SENIOR")], campaign) is eligible
    higher = rec(2019, "INTERMEDIATE")
    assert pick_roster_record([eligible, higher], campaign) is higher
    assert pick_roster_record([rec(2019, "INTERMEDIATE", local_only=True), eligible], campaign) is eligible


def test_without_an_eligible_record_the_closest_one_names_the_reason(campaign):
    right_year = rec(2019, "SENIOR")
    assert pick_roster_record([rec(2018, "INTERMEDIATE"), right_year], campaign) is right_year
    latest = rec(2018, "ASSISTANT")
    assert pick_roster_record([rec(2016, "ASSISTANT"), latest], campaign) is latest
    assert pick_roster_record([], campaign) is None


def submitted(campaign, attempts=1):
    app = Application(id="a1", campaign_id=campaign.id, account_id="u1", form=complete_form(),
                      materials=accepted_materials())
    for attempt in range(1, attempts + 1):
        app.apply("submit", campaign=campaign, now=INSIDE)
        if attempt < attempts:
            app.apply("review_rejected", attempt=attempt, opinion="请修改", now=INSIDE)
    return app


def test_accepts_decision_only_for_the_current_undecided_attempt(campaign):
    app = submitted(campaign, attempts=2)
    assert app.accepts_decision(2) is True
    assert app.accepts_decision(1) is False  # an older attempt
    with pytest.raises(Conflict):
        app.accepts_decision(3)  # not submitted yet
    app.apply("review_approved", attempt=2, registration_number="京社登2020000001", now=INSIDE)
    assert app.accepts_decision(2) is False  # the same decision again


def test_mailing_list_rows_and_refusals():
    text = ("序号,登记证书编号,快递公司,运单号\n"
            "1,京社登2020000001,中国邮政EMS,1190001234567\n"
            "2,,中国邮政EMS,1190001234568\n"
            "3,京社登2020000002,,12\n"
            "4,京社登2020000001,顺丰速运,SF1234567890\n"
            ",,,\n")
    parsed = dispatch_import.parse_dispatches(text.encode("gbk"), "mail.csv")
    assert [(r.row, r.registration_number, r.carrier, r.tracking_number) for r in parsed.rows] == [
        (2, "京社登2020000001", "中国邮政EMS", "1190001234567")]
    assert [(r["row"], r["field"]) for r in parsed.refused] == [
        (3, "registration_number"), (4, "carrier"), (4, "tracking_number"), (5, "registration_number")]


def test_mailing_list_needs_its_columns():
    with pytest.raises(ValidationFailed) as caught:
        dispatch_import.parse_dispatches("快递公司,运单号\n中国邮政EMS,1190001234567\n".encode(), "m.csv")
    assert caught.value.code == "dispatch_file_invalid"
    by_id = dispatch_import.parse_dispatches(
        "申请编号,承运商,邮件号\nabc,EMS,1190001234567\n".encode("utf-8-sig"), "m.csv")
    assert by_id.rows[0].application_id == "abc" and by_id.rows[0].registration_number is None


def export_record():
    return {"form": complete_form(), "registration_number": "京社登2020000001", "valid_from": date(2020, 7, 5),
            "valid_until": date(2023, 7, 4), "state": "DISPATCHED", "carrier": "EMS", "tracking_number": "1190"}


def test_export_shows_admins_everything_and_reviewers_a_masked_copy():
    full = dict(zip(exports.HEADER, exports.export_row(export_record(), exports.FULL), strict=True))
    assert full["证件号码"] == "110101199003071233" and full["姓名"] == "张三"
    assert full["邮寄地址"] == "北京市东城区某街道1号" and full["有效期至"] == "2023-07-04"
    assert full["证书级别"] == "助理社会工作师（初级）" and full["状态"] == "证书已寄出"
    masked = dict(zip(exports.HEADER, exports.export_row(export_record(), exports.MASKED), strict=True))
    assert masked["证件号码"] == "110101********1233" and masked["姓名"] == "张*"
    assert masked["收件电话"] == "138****5678" and masked["邮寄地址"] == "北京市东城区"
    assert exports.view_for(["admin", "reviewer"]) == exports.FULL
    assert exports.view_for(["reviewer"]) == exports.MASKED
    with pytest.raises(Forbidden):
        exports.view_for(["applicant"])


def test_export_cells_never_become_formulas():
    assert exports.safe_cell("=HYPERLINK(\"http://x\")") == "'=HYPERLINK(\"http://x\")"
    assert exports.safe_cell("+86 138") == "'+86 138" and exports.safe_cell(None) == ""
    assert exports.safe_cell(date(2020, 7, 5)) == "2020-07-05" and exports.safe_cell(2019) == "2019"
