"""The admin console's RPCs: edit a campaign's window, the report's chart series, applications
waiting for mailing, and the auditor's query over this service's audit log."""
from datetime import timedelta

import pytest

from services.contracts.errors import Forbidden, NotFound, ValidationFailed

from .conftest import ADMIN, INSIDE, REVIEWER, roster_row

pytestmark = pytest.mark.integration

AUDITOR = {"account_id": "auditor-1", "roles": ["auditor"]}


def approved(world, account, campaign):
    app = world.ready(account, campaign)
    world.rpc.submit(account, app["id"], f"key-{account}-01")
    world.decide(app["id"], 1, "approved")
    return world.wait_state(account, app["id"], "APPROVED")


def test_update_campaign_moves_the_window_and_deadlines(world):
    campaign = world.campaign()
    changed = world.rpc.update_campaign(ADMIN, campaign["id"], {
        "closes_at": "2020-08-15T24:00", "allow_resubmit_after_close": True, "resubmit_closes_at": "2020-08-31T24:00"})
    assert changed["window_text"] == "2020年7月1日00:00至2020年8月15日24:00"
    assert changed["resubmit_closes_at"].startswith("2020-09-01T00:00")
    assert [c for c in world.rpc.list_campaigns() if c["id"] == campaign["id"]][0] == changed

    with pytest.raises(ValidationFailed) as caught:  # the domain checks the result as a whole
        world.rpc.update_campaign(ADMIN, campaign["id"], {"opens_at": "2020-09-01T00:00"})
    assert "closes_at" in caught.value.details
    with pytest.raises(ValidationFailed) as caught:  # eligibility stays as created
        world.rpc.update_campaign(ADMIN, campaign["id"], {"eligible_exam_years": [2018]})
    assert "eligible_exam_years" in caught.value.details
    with pytest.raises(ValidationFailed):
        world.rpc.update_campaign(ADMIN, campaign["id"], {"closes_at": "下个月"})
    with pytest.raises(Forbidden):
        world.rpc.update_campaign(REVIEWER, campaign["id"], {"name": "x"})
    with pytest.raises(NotFound):
        world.rpc.update_campaign(ADMIN, "no-such-campaign", {"name": "x"})

    [entry] = world.rpc.audit_entries(AUDITOR, {"action": "update_campaign"})["entries"]
    assert entry["actor"] == "admin-1" and entry["subject"] == campaign["id"]
    assert set(entry["detail"]["changed"]) == {"closes_at", "allow_resubmit_after_close", "resubmit_closes_at"}


def test_report_has_submissions_per_day_and_rejection_reasons(world):
    campaign = world.campaign()["id"]
    approved(world, "u-zhang", campaign)
    li = world.ready("u-li", campaign, roster_row("u-li", level="初级"))
    world.rpc.submit("u-li", li["id"], "key-u-li-0001")
    issues = [{"kind": "photo", "reason": "照片尺寸不符"}, {"kind": "id_card_back", "reason": "上传了身份证错误的一面"}]
    world.decide(li["id"], 1, "rejected", "请重新上传", issues)
    world.wait_state("u-li", li["id"], "REJECTED")
    world.set_now(INSIDE + timedelta(days=1))  # the next Beijing day
    for kind in ("photo", "id_card_back"):  # the refused materials, uploaded again
        world.rpc.attach_material("u-li", li["id"], kind, world.material("u-li", li["id"], kind))
    world.rpc.submit("u-li", li["id"], "key-u-li-0002")
    wang = world.ready("u-wang", campaign)
    world.rpc.submit("u-wang", wang["id"], "key-u-wang-01")
    world.decide(wang["id"], 1, "rejected", "照片不合格", [{"kind": "photo", "reason": "照片尺寸不符"}])
    world.wait_state("u-wang", wang["id"], "REJECTED")

    report = world.rpc.report(ADMIN)
    assert report["submissions_per_day"] == [
        {"day": "2020-07-03", "count": 2, "first": 2, "resubmissions": 0},
        {"day": "2020-07-04", "count": 2, "first": 1, "resubmissions": 1}]
    assert report["rejections"] == 2
    assert report["rejection_reasons"] == [
        {"kind": "photo", "reason": "照片尺寸不符", "count": 2},
        {"kind": "id_card_back", "reason": "上传了身份证错误的一面", "count": 1}]
    assert report["by_state"] == {"APPROVED": 1, "SUBMITTED": 1, "REJECTED": 1}
    assert world.rpc.report(ADMIN, "other-campaign")["submissions_per_day"] == []


def test_awaiting_dispatch_lists_approved_not_mailed(world):
    campaign = world.campaign()["id"]
    first = approved(world, "u-zhang", campaign)
    second = approved(world, "u-li", campaign)
    world.ready("u-wang", campaign)
    world.rpc.record_dispatch(ADMIN, first["id"], "中国邮政EMS", "1190001234567")
    answer = world.rpc.awaiting_dispatch(ADMIN)
    assert answer["total"] == 1
    [item] = answer["applications"]
    assert (item["application_id"], item["name_masked"]) == (second["id"], "李*")
    assert item["registration_number"] == second["registration_number"]
    with pytest.raises(Forbidden):
        world.rpc.awaiting_dispatch(REVIEWER)


def test_auditor_reads_who_looked_at_which_application(world):
    campaign = world.campaign()["id"]
    app = world.ready("u-zhang", campaign)
    other = world.ready("u-li", campaign)
    looker = {"account_id": "reviewer-7", "roles": ["reviewer"]}
    world.rpc.get_application(looker, app["id"])
    world.set_now(INSIDE + timedelta(days=2))
    world.rpc.history(looker, app["id"])
    world.rpc.get_application(REVIEWER, other["id"])

    mine = world.rpc.audit_entries(AUDITOR, {"application_id": app["id"]})
    assert [(e["action"], e["actor"]) for e in mine["entries"]] == [("view_history", "reviewer-7"),
                                                                    ("view_application", "reviewer-7")]
    assert mine["entries"][0]["action_label"] == "查看登记历史" and mine["actions"]["view_application"] == "查看申请"
    assert [e["application_id"] for e in world.rpc.audit_entries(AUDITOR, {"actor": "reviewer-1"})["entries"]] == [
        other["id"]]
    by_day = world.rpc.audit_entries(AUDITOR, {"date_from": "2020-07-05", "date_to": "2020-07-05"})["entries"]
    assert {e["action"] for e in by_day} == {"view_history", "view_application"} and len(by_day) == 2

    everything = world.rpc.audit_entries(AUDITOR, {})["entries"]  # create_campaign, 2 imports, 3 views
    page = world.rpc.audit_entries(AUDITOR, {"limit": 2})["entries"]
    rest = world.rpc.audit_entries(AUDITOR, {"limit": 50, "before_at": page[-1]["at"],
                                             "before_id": page[-1]["id"]})["entries"]
    assert page + rest == everything and len(everything) == 6

    for who in (ADMIN, REVIEWER):
        with pytest.raises(Forbidden):
            world.rpc.audit_entries(who, {})
    with pytest.raises(ValidationFailed) as caught:
        world.rpc.audit_entries(AUDITOR, {"date_from": "2020-07-05", "date_to": "2020-07-01"})
    assert "date_to" in caught.value.details
