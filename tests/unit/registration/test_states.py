from datetime import date, timedelta

import pytest

from services.contracts import events as contract
from services.contracts.errors import Conflict, ValidationFailed
from services.registration.domain import events, states
from services.registration.domain.campaigns import Campaign, beijing_time
from services.registration.domain.states import (
    APPROVED,
    DISPATCHED,
    DRAFT,
    REJECTED,
    SUBMITTED,
    Application,
)

from .builders import AFTER, INSIDE, accepted_materials, complete_form, editable_fields, locked_fields


def new_application(**changes):
    app = Application(id="a1", campaign_id="bj-2020-first", account_id="u1", form=locked_fields())
    for key, value in changes.items():
        setattr(app, key, value)
    return app


def ready(campaign):
    app = new_application()
    app.apply("save_draft", data=editable_fields(), campaign=campaign, now=INSIDE)
    for kind, material in accepted_materials().items():
        app.apply("attach_material", kind=kind, material_id=material["material_id"], ok=True, now=INSIDE)
    return app


def submitted(campaign):
    app = ready(campaign)
    app.apply("submit", campaign=campaign, now=INSIDE)
    return app


def rejected(campaign):
    app = submitted(campaign)
    app.apply("review_rejected", attempt=1, opinion="两寸照片不符合要求",
              material_issues=[{"kind": "photo", "reason": "照片为一寸照"}], now=INSIDE)
    return app


def test_the_table_covers_only_known_states_and_commands():
    for (state, command), target in states.TRANSITIONS.items():
        assert state in states.STATES and target in states.STATES and command in states.COMMANDS


def test_save_draft_merges_and_keeps_locked_fields(campaign):
    app = new_application()
    assert app.apply("save_draft", data={"major": "社会工作"}, campaign=campaign, now=INSIDE) == []
    assert app.form == {**locked_fields(), "major": "社会工作"}
    with pytest.raises(ValidationFailed) as caught:
        app.apply("save_draft", data={"id_number": "110108198506150048"}, campaign=campaign, now=INSIDE)
    assert caught.value.code == "locked_field"
    assert app.form["id_number"] == locked_fields()["id_number"]


def test_submit_publishes_application_submitted(campaign):
    app = ready(campaign)
    [event] = app.apply("submit", campaign=campaign, now=INSIDE)
    assert app.state == SUBMITTED and app.attempt == 1
    assert app.first_submitted_at == app.submitted_at == INSIDE
    assert isinstance(event, events.ApplicationSubmitted) and event.public
    assert (event.attempt, event.kind, event.cert_level, event.exam_year, event.district_code) == (
        1, "FIRST", "ASSISTANT", 2019, "110101")
    assert event.material_ids == {k: m["material_id"] for k, m in accepted_materials().items()}
    envelope = contract.new_event(event.type, event.subject, event.data(), time=event.occurred_at)
    assert envelope["data"]["submitted_at"] == "2020-07-03T10:15:00.000+08:00"


def test_incomplete_application_cannot_be_submitted(campaign):
    app = new_application()
    with pytest.raises(ValidationFailed) as caught:
        app.apply("submit", campaign=campaign, now=INSIDE)
    assert caught.value.code == "incomplete_application"
    assert "materials.photo" in caught.value.details and "attestation" in caught.value.details
    assert (app.state, app.attempt) == (DRAFT, 0)


def test_submit_outside_the_window(campaign):
    app = ready(campaign)
    with pytest.raises(Conflict) as caught:
        app.apply("submit", campaign=campaign, now=AFTER)
    assert caught.value.code == "campaign_closed"
    assert "2020年7月31日24:00" in caught.value.message
    assert (app.state, app.attempt) == (DRAFT, 0)


@pytest.mark.parametrize("command, kwargs", [
    ("save_draft", {"data": {"major": "社会学"}}),
    ("attach_material", {"kind": "photo", "material_id": "m2", "ok": True}),
    ("submit", {}),
    ("dispatch", {"carrier": "EMS", "tracking_number": "1"}),
])
def test_submitted_application_is_locked(campaign, command, kwargs):
    app = submitted(campaign)
    kwargs = {"campaign": campaign, **kwargs} if command in ("save_draft", "submit") else kwargs
    with pytest.raises(Conflict) as caught:
        app.apply(command, now=INSIDE, **kwargs)
    assert caught.value.code == "invalid_transition"
    assert caught.value.message in ("申请已提交，等待审核期间不可修改", "申请已提交，请勿重复提交，请耐心等待审核结果",
                                    "申请尚未审核通过，不能登记证书寄送")
    assert app.state == SUBMITTED


def test_approval_completes_the_registration(campaign):
    app = submitted(campaign)
    [event] = app.apply("review_approved", attempt=1, registration_number="京社登2020000001", now=INSIDE)
    assert app.state == APPROVED
    assert (app.valid_from, app.valid_until) == (date(2020, 7, 3), date(2023, 7, 2))
    assert isinstance(event, events.RegistrationCompleted)
    data = event.data()
    assert data["id_number"] == locked_fields()["id_number"]
    assert data["delivery"] == {"method": "MAIL", "recipient": "张三", "phone": "13812345678",
                                "address": "北京市东城区某街道1号", "postcode": "100010"}
    assert data["valid_until"] == "2023-07-02"
    contract.new_event(event.type, event.subject, data, time=event.occurred_at)


def test_rejection_reopens_for_editing_and_refuses_the_named_material(campaign):
    app = rejected(campaign)
    assert app.state == REJECTED and app.editable
    assert app.review_opinion == "两寸照片不符合要求"
    assert app.materials["photo"] == {"material_id": "m-photo", "ok": False, "issues": [
        {"code": "review_rejected", "message": "审核意见：照片为一寸照"}]}
    with pytest.raises(ValidationFailed) as caught:
        app.apply("submit", campaign=campaign, now=INSIDE)
    assert list(caught.value.details) == ["materials.photo"]
    app.apply("save_draft", data={"major": "社会学"}, campaign=campaign, now=INSIDE)
    app.apply("attach_material", kind="photo", material_id="m-new", ok=True, now=INSIDE)
    assert app.state == REJECTED
    [event] = app.apply("submit", campaign=campaign, now=INSIDE + timedelta(hours=1))
    assert (app.state, app.attempt, event.attempt) == (SUBMITTED, 2, 2)
    assert app.first_submitted_at == INSIDE
    assert event.material_ids["photo"] == "m-new"


def test_rejection_needs_a_reason(campaign):
    app = submitted(campaign)
    with pytest.raises(ValidationFailed) as caught:
        app.apply("review_rejected", attempt=1, opinion=" ", now=INSIDE)
    assert caught.value.code == "opinion_required"
    assert app.state == SUBMITTED


def test_resubmission_after_close_follows_the_campaign(campaign):
    app = rejected(campaign)
    app.apply("attach_material", kind="photo", material_id="m-new", ok=True, now=INSIDE)
    with pytest.raises(Conflict) as caught:
        app.apply("submit", campaign=campaign, now=AFTER)
    assert caught.value.code == "campaign_closed"
    lenient = Campaign(**{**campaign.__dict__, "allow_resubmit_after_close": True})
    assert app.apply("submit", campaign=lenient, now=AFTER)[0].attempt == 2


def test_stale_and_repeated_decisions_are_ignored(campaign):
    app = rejected(campaign)
    app.apply("attach_material", kind="photo", material_id="m-new", ok=True, now=INSIDE)
    app.apply("submit", campaign=campaign, now=INSIDE)
    # attempt 1's decision arrives again (at-least-once) or late: nothing happens
    assert app.apply("review_approved", attempt=1, registration_number="X1", now=INSIDE) == []
    assert app.apply("review_rejected", attempt=1, opinion="重复", now=INSIDE) == []
    assert (app.state, app.registration_number) == (SUBMITTED, None)
    assert app.apply("review_approved", attempt=2, registration_number="X2", now=INSIDE)
    assert app.apply("review_rejected", attempt=2, opinion="晚到", now=INSIDE) == []
    assert app.state == APPROVED and app.registration_number == "X2"


def test_a_decision_for_an_attempt_not_yet_submitted_is_a_conflict(campaign):
    app = ready(campaign)
    with pytest.raises(Conflict):
        app.apply("review_approved", attempt=1, registration_number="X", now=INSIDE)


def test_approved_is_terminal_except_dispatch(campaign):
    app = submitted(campaign)
    app.apply("review_approved", attempt=1, registration_number="京社登2020000001", now=INSIDE)
    for command, kwargs in [("save_draft", {"data": {}, "campaign": campaign}), ("submit", {"campaign": campaign}),
                            ("attach_material", {"kind": "photo", "material_id": "m", "ok": True})]:
        with pytest.raises(Conflict, match="审核通过"):
            app.apply(command, now=INSIDE, **kwargs)
    with pytest.raises(ValidationFailed):
        app.apply("dispatch", carrier="EMS", tracking_number=" ", now=INSIDE)
    [event] = app.apply("dispatch", carrier="EMS", tracking_number="1180000000000", now=INSIDE)
    assert app.state == DISPATCHED
    contract.new_event(event.type, event.subject, event.data(), time=event.occurred_at)
    with pytest.raises(Conflict, match="请勿重复登记"):
        app.apply("dispatch", carrier="EMS", tracking_number="2", now=INSIDE)


def test_dispatch_before_approval(campaign):
    with pytest.raises(Conflict, match="尚未审核通过"):
        new_application().apply("dispatch", carrier="EMS", tracking_number="1", now=INSIDE)


def test_unknown_command_is_a_programming_error():
    with pytest.raises(ValueError):
        new_application().apply("withdraw", now=INSIDE)


def test_unknown_material_kind(campaign):
    with pytest.raises(ValidationFailed):
        new_application().apply("attach_material", kind="passport", material_id="m", ok=True, now=INSIDE)


def test_window_opening_in_the_future_blocks_first_submit():
    future = Campaign(id="bj-2020-first", name="x", kind="FIRST", eligible_exam_years={2019},
                      eligible_levels={"ASSISTANT"}, opens_at=beijing_time(2020, 8, 1),
                      closes_at=beijing_time(2020, 8, 31, 24), delivery_methods=["MAIL"])
    app = ready(future)
    assert app.form == complete_form()
    with pytest.raises(Conflict, match="不在登记时间内"):
        app.apply("submit", campaign=future, now=INSIDE)
