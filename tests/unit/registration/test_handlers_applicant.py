"""The applicant's commands in handlers.py on a fake unit of work: open, save, attach, submit."""
import dataclasses

import pytest

from services.contracts.errors import Conflict, Forbidden, NotFound, ValidationFailed
from services.registration import handlers

from .builders import INSIDE
from .handler_steps import ACCOUNT, IDENTITY, complete, material, open_draft, submitted, world


def test_open_application_prefills_the_form_from_the_roster_and_the_verified_identity():
    uow = world()
    view = open_draft(uow)
    assert view["state"] == "DRAFT" and view["attempt"] == 0
    assert view["form"]["name"] == "张三" and view["form"]["management_number"] == "0019110000012345"
    assert uow.applications.get(view["id"]).account_id == ACCOUNT
    assert uow.published == []


def test_open_application_refuses_an_unverified_person_and_a_second_application():
    uow = world()
    with pytest.raises(Forbidden) as refused:
        open_draft(uow, identity={**IDENTITY, "verified": False})
    assert refused.value.code == "identity_not_verified"
    first = open_draft(uow)
    with pytest.raises(Conflict) as again:
        open_draft(uow)
    assert again.value.code == "already_applied" and again.value.details["application_id"] == first["id"]
    assert len(uow.applications.stored) == 1


def test_open_application_in_an_unknown_campaign_is_not_found():
    uow = world()
    with pytest.raises(NotFound) as missing, uow:
        handlers.open_application(uow, IDENTITY, ACCOUNT, "no-such-campaign", INSIDE)
    assert missing.value.code == "campaign_not_found"


def test_save_draft_keeps_the_changes_and_another_account_cannot_see_the_application():
    uow = world()
    app_id = open_draft(uow)["id"]
    with uow:
        view = handlers.save_draft(uow, ACCOUNT, app_id, {"major": "社会工作"}, INSIDE)
    assert view["form"]["major"] == "社会工作" and view["updated_at"]
    with pytest.raises(NotFound), uow:
        handlers.save_draft(uow, "u-other", app_id, {"major": "法学"}, INSIDE)
    assert uow.applications.get(app_id).form["major"] == "社会工作"


def test_attach_material_records_it_and_refuses_someone_elses_material():
    uow = world()
    app_id = open_draft(uow)["id"]
    with uow:
        view = handlers.attach_material(uow, ACCOUNT, app_id, "photo", material(app_id, "photo"), INSIDE)
    assert view["materials"]["photo"] == {"material_id": "m-photo", "ok": True, "issues": []}
    with pytest.raises(Forbidden) as refused, uow:
        handlers.attach_material(uow, ACCOUNT, app_id, "certificate",
                                 material(app_id, "certificate", account_id="u-other"), INSIDE)
    assert refused.value.code == "material_mismatch"
    with pytest.raises(ValidationFailed) as unknown, uow:
        handlers.attach_material(uow, ACCOUNT, app_id, "passport", material(app_id, "passport"), INSIDE)
    assert unknown.value.code == "unknown_material_kind"
    assert set(uow.applications.get(app_id).materials) == {"photo"}


def test_submit_an_incomplete_form_is_refused_and_changes_nothing():
    uow = world()
    app_id = open_draft(uow)["id"]
    with pytest.raises(ValidationFailed), uow:
        handlers.submit(uow, ACCOUNT, app_id, "key-1", INSIDE)
    assert uow.applications.get(app_id).state == "DRAFT"
    assert uow.published == [] and uow.submissions.stored == []


def test_submit_publishes_application_submitted_and_keeps_the_snapshot():
    uow = world()
    app_id = open_draft(uow)["id"]
    complete(uow, app_id)
    with uow:
        answer = handlers.submit(uow, ACCOUNT, app_id, "key-1", INSIDE)
    assert answer["state"] == "SUBMITTED" and answer["attempt"] == 1
    assert uow.published_types() == ["ApplicationSubmitted"]
    event = uow.published[0]
    assert event["data"]["application_id"] == app_id and event["data"]["attempt"] == 1
    [snapshot] = uow.submissions.stored
    assert snapshot.event_id == event["id"] and snapshot.form["name"] == "张三"


def test_submit_with_the_same_key_answers_the_same_and_publishes_once():
    uow = world()
    app_id = open_draft(uow)["id"]
    complete(uow, app_id)
    with uow:
        first = handlers.submit(uow, ACCOUNT, app_id, "key-1", INSIDE)
    with uow:
        again = handlers.submit(uow, ACCOUNT, app_id, "key-1", INSIDE)
    assert again == first
    assert uow.published_types() == ["ApplicationSubmitted"]


def test_submit_again_without_a_key_is_a_conflict():
    uow = world()
    app_id = submitted(uow)
    with pytest.raises(Conflict) as refused, uow:
        handlers.submit(uow, ACCOUNT, app_id, None, INSIDE)
    assert refused.value.code == "invalid_transition"
    assert uow.published_types() == ["ApplicationSubmitted"]


def test_a_key_used_for_another_application_is_refused():
    uow = world()
    submitted(uow, key="key-1")
    uow.campaigns.add(dataclasses.replace(uow.campaigns.get("bj-2020-first"), id="bj-2020-more"), INSIDE)
    with uow:
        other = handlers.open_application(uow, IDENTITY, ACCOUNT, "bj-2020-more", INSIDE)["id"]
    complete(uow, other)
    with pytest.raises(Conflict) as refused, uow:
        handlers.submit(uow, ACCOUNT, other, "key-1", INSIDE)
    assert refused.value.code == "idempotency_key_reused"
    assert uow.applications.get(other).state == "DRAFT"
