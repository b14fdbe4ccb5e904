"""Submit → decision → resubmit → registration number, through the real broker and database."""
from datetime import datetime

import pytest

from services.contracts.errors import Conflict, Forbidden, ValidationFailed
from services.contracts.events import parse_event
from services.registration import models

from .conftest import PEOPLE, REVIEWER, UTC

pytestmark = pytest.mark.integration


def test_double_submit_submits_once(world):
    campaign = world.campaign()["id"]
    app = world.ready("u-zhang", campaign)
    first = world.rpc.submit("u-zhang", app["id"], "first-click-0001")
    again = world.rpc.submit("u-zhang", app["id"], "first-click-0001")  # a retried request
    assert again == first and first["state"] == "SUBMITTED" and first["attempt"] == 1
    assert world.count(models.Submission) == 1
    assert len(world.outbox("ApplicationSubmitted")) == 1
    with pytest.raises(Conflict) as caught:  # a second click without a key
        world.rpc.submit("u-zhang", app["id"], None)
    assert caught.value.code == "invalid_transition" and "请勿重复提交" in caught.value.message
    with pytest.raises(Conflict) as caught:  # another click with a fresh key: still once
        world.rpc.submit("u-zhang", app["id"], "second-click-002")
    assert caught.value.code == "invalid_transition"
    other = world.ready("u-zhang", world.campaign(name="另一批次")["id"])
    with pytest.raises(Conflict) as caught:  # a key belongs to one application
        world.rpc.submit("u-zhang", other["id"], "first-click-0001")
    assert caught.value.code == "idempotency_key_reused"
    [event] = world.events.wait("ApplicationSubmitted")
    assert event["data"]["attempt"] == 1 and event["subject"] == app["id"]
    assert world.outbox("ApplicationSubmitted") == [event]
    with pytest.raises(Conflict):  # submitted: the form is read-only until a decision
        world.rpc.save_draft("u-zhang", app["id"], {"major": "社会学"})


def test_submitted_event_carries_what_review_needs(world):
    campaign = world.campaign()["id"]
    app = world.ready("u-zhang", campaign)
    world.rpc.submit("u-zhang", app["id"], "key-00000001")
    [event] = world.events.wait("ApplicationSubmitted")
    assert parse_event(event)  # valid against the contract
    view = world.view("u-zhang", app["id"])
    assert event["data"] == {
        "application_id": app["id"], "campaign_id": campaign, "account_id": "u-zhang", "kind": "FIRST",
        "attempt": 1, "cert_level": "INTERMEDIATE", "exam_year": 2019, "district_code": "110105",
        "material_ids": {kind: m["material_id"] for kind, m in view["materials"].items()},
        "submitted_at": "2020-07-03T10:15:00.000+08:00"}
    assert event["time"] == "2020-07-03T10:15:00.000+08:00"
    assert "11010519491231002X" not in str(event)  # no ID number outside RegistrationCompleted


def test_rejection_makes_it_editable_and_resubmission_is_attempt_2(world):
    campaign = world.campaign()["id"]
    app = world.ready("u-zhang", campaign)
    world.rpc.submit("u-zhang", app["id"], "key-00000001")
    world.decide(app["id"], 1, "rejected", "两寸照片不清晰，请重新上传", [{"kind": "photo", "reason": "照片不清晰"}])
    rejected = world.wait_state("u-zhang", app["id"], "REJECTED")
    assert rejected["editable"] is True and rejected["attempt"] == 1
    assert rejected["decision"] == {"attempt": 1, "decision": "rejected", "opinion": "两寸照片不清晰，请重新上传",
                                    "material_issues": [{"kind": "photo", "reason": "照片不清晰"}],
                                    "decided_at": "2020-07-05T09:30:00.000+08:00"}
    assert rejected["materials"]["photo"]["ok"] is False  # the refused photo must be uploaded again
    assert rejected["resubmit_until"] == "2020-08-01T00:00:00.000+08:00"
    contact = world.rpc.contact_of(app["id"])
    assert contact == {"account_id": "u-zhang", "name": "张三", "mobile": "13800138000",
                       "email": "applicant@example.com", "mailing": rejected["form"]["delivery"],
                       "resubmit_until": "2020-08-01T00:00:00.000+08:00"}

    with pytest.raises(ValidationFailed) as caught:  # the photo is still refused
        world.rpc.submit("u-zhang", app["id"], "key-00000002")
    assert set(caught.value.details) == {"materials.photo"}
    world.rpc.save_draft("u-zhang", app["id"], {"major": "社会学"})
    world.rpc.attach_material("u-zhang", app["id"], "photo", world.material("u-zhang", app["id"], "photo"))
    second = world.rpc.submit("u-zhang", app["id"], "key-00000003")
    assert (second["state"], second["attempt"], second["decision"]) == ("SUBMITTED", 2, None)
    first_event, second_event = world.events.wait("ApplicationSubmitted", 2)
    assert (first_event["data"]["attempt"], second_event["data"]["attempt"]) == (1, 2)
    assert second_event["data"]["material_ids"]["photo"] != first_event["data"]["material_ids"]["photo"]

    history = world.rpc.history({"account_id": "u-zhang", "roles": ["applicant"]}, app["id"])
    assert [h["attempt"] for h in history] == [1, 2]
    assert history[0]["decision"] == "rejected" and history[0]["opinion"] == "两寸照片不清晰，请重新上传"
    assert history[0]["snapshot"]["form"]["major"] == "社会工作"  # the snapshot did not move
    assert history[1]["snapshot"]["form"]["major"] == "社会学" and history[1]["decision"] is None


def test_late_decision_for_an_older_attempt_is_ignored(world):
    campaign = world.campaign()["id"]
    app = world.ready("u-zhang", campaign)
    world.rpc.submit("u-zhang", app["id"], "key-00000001")
    world.decide(app["id"], 1, "rejected", "请补充工作单位")
    world.wait_state("u-zhang", app["id"], "REJECTED")
    second = world.rpc.submit("u-zhang", app["id"], "key-00000002")
    assert second["attempt"] == 2
    before = world.handled()
    world.decide(app["id"], 1, "approved")  # a second reviewer's late word on attempt 1
    world.wait_handled(before)
    view = world.view("u-zhang", app["id"])
    assert (view["state"], view["attempt"], view["registration_number"]) == ("SUBMITTED", 2, None)
    assert world.outbox("RegistrationCompleted") == []
    assert world.count(models.Decision) == 1


def test_approval_numbers_registrations_in_order_and_publishes_them(world):
    campaign = world.campaign()["id"]
    apps = {}
    for account in ("u-zhang", "u-li"):
        apps[account] = world.ready(account, campaign)["id"]
        world.rpc.submit(account, apps[account], f"key-{account}-01")
    world.decide(apps["u-zhang"], 1, "approved")
    first = world.wait_state("u-zhang", apps["u-zhang"], "APPROVED")
    world.decide(apps["u-li"], 1, "approved")
    second = world.wait_state("u-li", apps["u-li"], "APPROVED")
    assert (first["registration_number"], second["registration_number"]) == ("京社登2020000001", "京社登2020000002")
    # valid from the approval date (2020-07-05, Beijing) for 3 years
    assert (first["valid_from"], first["valid_until"]) == ("2020-07-05", "2023-07-04")
    assert first["decision"]["decision"] == "approved" and first["editable"] is False

    completed = world.events.wait("RegistrationCompleted", 2)
    data = next(e["data"] for e in completed if e["subject"] == apps["u-zhang"])
    assert data == {
        "application_id": apps["u-zhang"], "registration_number": "京社登2020000001", "name": "张三",
        "id_type": "RESIDENT_ID", "id_number": PEOPLE["u-zhang"][1], "cert_level": "INTERMEDIATE",
        "management_number": first["form"]["management_number"], "valid_from": "2020-07-05",
        "valid_until": "2023-07-04",
        "delivery": {"method": "MAIL", "recipient": "张三", "phone": "13800138000",
                     "address": "北京市朝阳区建国路88号院3号楼2单元501", "postcode": "100022"}}
    history = world.rpc.history(REVIEWER, apps["u-zhang"])
    assert [(h["attempt"], h["decision"]) for h in history] == [(1, "approved")]


def test_the_same_decision_delivered_twice_has_one_effect(world):
    campaign = world.campaign()["id"]
    app = world.ready("u-zhang", campaign)
    world.rpc.submit("u-zhang", app["id"], "key-00000001")
    before = world.handled()
    event = world.decide(app["id"], 1, "approved")
    world.decide(app["id"], 1, "approved", event=event)  # at-least-once: the same event again
    world.wait_handled(before, 2)
    view = world.view("u-zhang", app["id"])
    assert view["registration_number"] == "京社登2020000001"
    assert world.count(models.Decision) == 1 and len(world.outbox("RegistrationCompleted")) == 1
    assert world.count(models.NumberSequence, models.NumberSequence.last_seq == 1) == 1


def test_registration_number_format_is_configuration(start_world):
    world = start_world(REGISTRATION_NUMBER_FORMAT="BJSW-{year}-{seq:05d}")
    campaign = world.campaign()["id"]
    app = world.ready("u-zhang", campaign)
    world.rpc.submit("u-zhang", app["id"], "key-00000001")
    world.decide(app["id"], 1, "approved")
    assert world.wait_state("u-zhang", app["id"], "APPROVED")["registration_number"] == "BJSW-2020-00001"


def test_concurrent_approvals_take_distinct_consecutive_numbers(world):
    campaign = world.campaign()["id"]
    accounts = list(PEOPLE)
    apps = {}
    for account in accounts:
        apps[account] = world.ready(account, campaign)["id"]
        world.rpc.submit(account, apps[account], f"key-{account}-01")
    for account in accounts:  # published at once: the service handles them concurrently
        world.decide(apps[account], 1, "approved")
    numbers = sorted(world.wait_state(a, apps[a], "APPROVED")["registration_number"] for a in accounts)
    assert numbers == [f"京社登2020{n:06d}" for n in range(1, len(accounts) + 1)]


@pytest.mark.parametrize("allowed", [True, False], ids=["resubmit-after-close", "window-only"])
def test_resubmission_after_the_window_follows_the_campaign(start_world, allowed):
    world = start_world()
    campaign = world.campaign(allow_resubmit_after_close=allowed)["id"]
    app = world.ready("u-zhang", campaign)
    world.rpc.submit("u-zhang", app["id"], "key-00000001")
    world.decide(app["id"], 1, "rejected", "请补充工作单位")
    world.wait_state("u-zhang", app["id"], "REJECTED")
    world.set_now(datetime(2020, 8, 3, 2, 0, tzinfo=UTC))  # after 07-31 24:00 Beijing
    if allowed:
        assert world.rpc.submit("u-zhang", app["id"], "key-00000002")["attempt"] == 2
        assert world.rpc.contact_of(app["id"])["resubmit_until"] is None  # no end set
    else:
        with pytest.raises(Conflict) as caught:
            world.rpc.submit("u-zhang", app["id"], "key-00000002")
        assert caught.value.code == "campaign_closed" and "登记已结束" in caught.value.message


def test_window_edges_from_a_utc_clock(world):
    """07-01 00:00 and 07-31 24:00 Beijing are 06-30 16:00 and 07-31 16:00 UTC."""
    campaign = world.campaign()["id"]
    world.set_now(datetime(2020, 6, 30, 15, 59, 59, 999999, tzinfo=UTC))
    world.verified("u-zhang")
    world.roster(["张三", "居民身份证", PEOPLE["u-zhang"][1], "中级", "2019", "20191100000000001",
                  "2019-12-20", "否"])
    with pytest.raises(Forbidden) as caught:
        world.rpc.open_application("u-zhang", campaign)
    assert caught.value.code == "campaign_closed"
    world.set_now(datetime(2020, 6, 30, 16, 0, tzinfo=UTC))  # 07-01 00:00 Beijing: open
    first = world.ready("u-zhang", campaign)
    second = world.ready("u-li", campaign)
    world.set_now(datetime(2020, 7, 31, 15, 59, 59, 999999, tzinfo=UTC))  # 07-31 23:59:59.999999
    assert world.rpc.submit("u-zhang", first["id"], "key-00000001")["state"] == "SUBMITTED"
    world.set_now(datetime(2020, 7, 31, 16, 0, tzinfo=UTC))  # 07-31 24:00 Beijing: closed
    with pytest.raises(Conflict) as caught:
        world.rpc.submit("u-li", second["id"], "key-00000002")
    assert caught.value.code == "campaign_closed"
    assert "2020年7月1日00:00至2020年7月31日24:00" in caught.value.message
    world.verified("u-wang")
    world.roster(["王五", "居民身份证", PEOPLE["u-wang"][1], "中级", "2019", "20191100000000003",
                  "2019-12-20", "否"])
    with pytest.raises(Forbidden) as caught:
        world.rpc.open_application("u-wang", campaign)
    assert caught.value.code == "campaign_closed"
    assert world.rpc.list_campaigns()[0]["open"] is False
