"""Opening an application (refusals in DOMAIN.md's order), the pre-filled form, locked fields, drafts."""
from datetime import datetime

import pytest

from services.contracts.errors import Conflict, Forbidden, NotFound, ValidationFailed
from services.registration.domain.form import LOCKED_FIELDS

from .conftest import ADMIN, INSIDE, PEOPLE, REVIEWER, UTC, campaign_2020, roster_row

pytestmark = pytest.mark.integration

BEFORE_WINDOW = datetime(2020, 6, 30, 15, 59, 59, tzinfo=UTC)


def refusal(world, account_id, campaign_id):
    with pytest.raises((Forbidden, Conflict)) as caught:
        world.rpc.open_application(account_id, campaign_id)
    return caught.value


def test_every_refusal_reason_in_order(world):
    campaign = world.campaign()["id"]
    name, id_number = PEOPLE["u-zhang"]
    # Each person fails several checks; the answer is always the first one in DOMAIN.md's order.
    world.roster(roster_row("张大", id_number, year="2018", local="是"))  # wrong name, year, local-only
    assert refusal(world, "u-zhang", campaign).code == "identity_not_verified"  # not verified yet

    world.verified("u-li")  # verified, no roster record at all
    assert refusal(world, "u-li", campaign).code == "roster_not_found"

    world.verified("u-zhang")
    refused = refusal(world, "u-zhang", campaign)
    assert refused.code == "roster_name_mismatch" and "反馈" in refused.message

    world.roster(roster_row("王五", PEOPLE["u-wang"][1], year="2018", level="高级", local="是"))
    world.verified("u-wang")
    refused = refusal(world, "u-wang", campaign)
    assert refused.code == "not_eligible_year" and "2019年" in refused.message and "2018年" in refused.message

    world.roster(roster_row("赵六", PEOPLE["u-zhao"][1], level="高级", local="是"))
    world.verified("u-zhao")
    refused = refusal(world, "u-zhao", campaign)
    assert refused.code == "not_eligible_level" and "高级" in refused.message

    world.roster(roster_row("孙七", PEOPLE["u-sun"][1], local="是"))
    world.verified("u-sun")
    assert refusal(world, "u-sun", campaign).code == "local_only_excluded"


def test_closed_window_then_already_applied(world):
    campaign = world.campaign()["id"]
    world.verified("u-zhang")
    world.roster(roster_row("u-zhang"))
    world.set_now(BEFORE_WINDOW)
    refused = refusal(world, "u-zhang", campaign)
    assert refused.code == "campaign_closed" and "2020年7月1日00:00至2020年7月31日24:00" in refused.message
    world.set_now(INSIDE)
    world.rpc.open_application("u-zhang", campaign)
    refused = refusal(world, "u-zhang", campaign)
    # (over RPC, nameko stringifies exception args: the class says 409, not http_status)
    assert isinstance(refused, Conflict) and refused.code == "already_applied"


def test_unknown_campaign_is_not_found(world):
    world.verified("u-zhang")
    with pytest.raises(NotFound) as caught:
        world.rpc.open_application("u-zhang", "no-such-campaign")
    assert caught.value.code == "campaign_not_found"


def test_form_is_prefilled_from_identity_and_roster(world):
    campaign = world.campaign()["id"]
    # Two passes of the same person: the eligible one (2019, 中级) decides.
    world.roster(roster_row("u-zhang", level="初级", year="2018", number="20181100000000001"))
    app = world.opened("u-zhang", campaign, roster_row("u-zhang", number="20191100000012345"))
    form = app["form"]
    assert form == {"name": "张三", "id_type": "RESIDENT_ID", "id_number": "11010519491231002X",
                    "management_number": "20191100000012345", "cert_level": "INTERMEDIATE", "exam_year": 2019,
                    "approval_date": "2019-12-20", "gender": "F", "birth_date": "1949-12-31"}
    assert set(app["locked_fields"]) == set(LOCKED_FIELDS)
    assert (app["state"], app["attempt"], app["decision"], app["registration_number"]) == ("DRAFT", 0, None, None)
    assert app["materials"] == {} and app["editable"] is True


def test_locked_fields_are_refused_on_every_route(world):
    campaign = world.campaign()["id"]
    app = world.ready("u-zhang", campaign)
    original = app["form"]
    for field in LOCKED_FIELDS:  # the form route, one locked field at a time
        with pytest.raises(ValidationFailed) as caught:
            world.rpc.save_draft("u-zhang", app["id"], {field: "1"})
        assert caught.value.code == "locked_field" and field in caught.value.details
    with pytest.raises(ValidationFailed) as caught:  # smuggled beside a real change: nothing is saved
        world.rpc.save_draft("u-zhang", app["id"], {"major": "社会学", "id_number": "110101199003071233"})
    assert caught.value.code == "locked_field"
    with pytest.raises(ValidationFailed) as caught:  # the material route takes material kinds only
        world.rpc.attach_material("u-zhang", app["id"], "id_number", "m-1")
    assert caught.value.code == "unknown_material_kind"
    assert world.view("u-zhang", app["id"])["form"] == original

    submitted = world.rpc.submit("u-zhang", app["id"], "key-00000001")
    assert submitted["form"] == original
    world.decide(app["id"], 1, "rejected", "请重新上传照片", [{"kind": "photo", "reason": "模糊"}])
    world.wait_state("u-zhang", app["id"], "REJECTED")
    with pytest.raises(ValidationFailed) as caught:  # editable again, the locked fields are not
        world.rpc.save_draft("u-zhang", app["id"], {"management_number": "1"})
    assert caught.value.code == "locked_field"
    assert world.view("u-zhang", app["id"])["form"] == original


def test_save_draft_accepts_partial_data_and_checks_each_field_given(world):
    campaign = world.campaign()["id"]
    app = world.opened("u-zhang", campaign)
    saved = world.rpc.save_draft("u-zhang", app["id"], {"major": "社会工作", "delivery": {"postcode": "100022"}})
    assert saved["form"]["major"] == "社会工作" and saved["form"]["delivery"] == {"postcode": "100022"}
    saved = world.rpc.save_draft("u-zhang", app["id"], {"delivery": {"recipient": "张三"}})
    assert saved["form"]["delivery"] == {"postcode": "100022", "recipient": "张三"}  # merged
    with pytest.raises(ValidationFailed) as caught:
        world.rpc.save_draft("u-zhang", app["id"], {"mobile": "12345", "ethnicity": "99", "position": "社工"})
    assert set(caught.value.details) == {"mobile", "ethnicity"}
    assert "position" not in world.view("u-zhang", app["id"])["form"]  # a refused save saves nothing
    cleared = world.rpc.save_draft("u-zhang", app["id"], {"major": ""})
    assert "major" not in cleared["form"]
    with pytest.raises(ValidationFailed) as caught:
        world.rpc.save_draft("u-zhang", app["id"], {"nickname": "x"})
    assert "nickname" in caught.value.details


def test_submit_lists_every_missing_item(world):
    campaign = world.campaign()["id"]
    app = world.opened("u-zhang", campaign)
    world.rpc.save_draft("u-zhang", app["id"], {"major": "社会工作", "mobile": "13800138000"})
    world.rpc.attach_material("u-zhang", app["id"], "photo", world.material("u-zhang", app["id"], "photo"))
    world.rpc.attach_material("u-zhang", app["id"], "certificate",
                              world.material("u-zhang", app["id"], "certificate", ok=False))
    with pytest.raises(ValidationFailed) as caught:
        world.rpc.submit("u-zhang", app["id"], "key-00000001")
    error = caught.value
    assert error.code == "incomplete_application"
    expected = {"ethnicity", "political_status", "education", "graduated_from", "graduated_on", "employer",
                "employer_category", "position", "years_in_social_work", "service_district", "service_fields",
                "email", "delivery.method", "delivery.recipient", "delivery.phone", "delivery.province",
                "delivery.city", "delivery.district", "delivery.address", "delivery.postcode", "attestation",
                "consent_sensitive", "materials.id_card_front", "materials.id_card_back",
                "materials.certificate"}
    assert set(error.details) == expected
    assert f"{len(expected)}项" in error.message
    assert world.view("u-zhang", app["id"])["state"] == "DRAFT"
    assert world.outbox("ApplicationSubmitted") == []


def test_materials_must_belong_to_this_application_and_kind(world):
    campaign = world.campaign()["id"]
    app = world.opened("u-zhang", campaign)
    other = world.opened("u-li", campaign)
    for material in (world.material("u-li", other["id"], "photo"),  # someone else's
                     world.material("u-zhang", app["id"], "certificate")):  # another slot's
        with pytest.raises(Forbidden) as caught:
            world.rpc.attach_material("u-zhang", app["id"], "photo", material)
        assert caught.value.code == "material_mismatch"
    with pytest.raises(NotFound):
        world.rpc.attach_material("u-zhang", app["id"], "photo", "m-unknown")
    first = world.rpc.attach_material("u-zhang", app["id"], "photo", world.material("u-zhang", app["id"], "photo"))
    replaced = world.material("u-zhang", app["id"], "photo")
    view = world.rpc.attach_material("u-zhang", app["id"], "photo", replaced)  # replaced until submit
    assert view["materials"]["photo"] == {"material_id": replaced, "ok": True, "issues": []}
    assert first["materials"]["photo"]["material_id"] != replaced


def test_applicants_see_only_their_own_staff_see_any(world):
    campaign = world.campaign()["id"]
    app = world.opened("u-zhang", campaign)
    world.verified("u-li")
    for call in (lambda: world.view("u-li", app["id"]), lambda: world.view("u-li", "no-such-id"),
                 lambda: world.rpc.history({"account_id": "u-li", "roles": ["applicant"]}, app["id"]),
                 lambda: world.rpc.save_draft("u-li", app["id"], {"major": "x"}),
                 lambda: world.rpc.submit("u-li", app["id"], None)):
        with pytest.raises(NotFound) as caught:  # the same answer whether it exists or not
            call()
        assert caught.value.code == "application_not_found"
    assert world.rpc.get_application(REVIEWER, app["id"])["form"]["id_number"] == PEOPLE["u-zhang"][1]
    assert world.rpc.get_application(ADMIN, app["id"])["id"] == app["id"]


def test_code_tables_and_campaigns(world):
    tables = world.rpc.code_tables()
    assert {"ethnicity", "political_status", "education", "employer_category", "service_district",
            "service_field"} <= set(tables)
    assert {"code": "110105", "label": "朝阳区"} in tables["service_district"]
    created = world.campaign()
    assert created["opens_at"] == "2020-07-01T00:00:00.000+08:00"
    assert created["closes_at"] == "2020-08-01T00:00:00.000+08:00"
    assert created["window_text"] == "2020年7月1日00:00至2020年7月31日24:00" and created["open"] is True
    assert [c["id"] for c in world.rpc.list_campaigns()] == [created["id"]]
    with pytest.raises(Forbidden):
        world.rpc.create_campaign({"account_id": "u-zhang", "roles": ["applicant"]}, {})
    with pytest.raises(ValidationFailed) as caught:
        world.rpc.create_campaign(ADMIN, {"name": "x", "kind": "FIRST", "eligible_exam_years": ["2019"],
                                          "eligible_levels": ["ASSISTANT"], "opens_at": "2020-07-31T00:00",
                                          "closes_at": "2020-07-01T00:00", "delivery_methods": ["MAIL"]})
    assert "eligible_exam_years" in caught.value.details
    with pytest.raises(ValidationFailed) as caught:
        world.rpc.create_campaign(ADMIN, {"name": "x", "kind": "FIRST", "eligible_exam_years": [2019],
                                          "eligible_levels": ["ASSISTANT"], "opens_at": "2020-07-31T00:00",
                                          "closes_at": "2020-07-01T00:00", "delivery_methods": ["MAIL"]})
    assert "closes_at" in caught.value.details
    with pytest.raises(Conflict):
        world.rpc.create_campaign(ADMIN, {**campaign_2020(), "id": created["id"]})
