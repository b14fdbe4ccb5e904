"""ReviewCompleted and mailing in handlers.py on a fake unit of work."""
from datetime import timedelta

import pytest

from services.contracts.errors import Conflict, Forbidden, NotFound
from services.registration import handlers
from services.registration.domain import numbers

from .builders import INSIDE
from .handler_steps import ACCOUNT, ADMIN, REVIEWER, review_completed, submitted, world

FORMAT = numbers.DEFAULT_FORMAT


def decide(uow, event):
    with uow:
        return handlers.on_review_completed(uow, event, FORMAT, INSIDE + timedelta(days=1))


def test_approval_assigns_the_registration_number_and_publishes_registration_completed():
    uow = world()
    app_id = submitted(uow)
    assert decide(uow, review_completed(app_id)) == "approved"
    app = uow.applications.get(app_id)
    assert app.state == "APPROVED" and app.registration_number
    assert uow.sequences.last[2020] == 1
    assert uow.published_types() == ["ApplicationSubmitted", "RegistrationCompleted"]
    [decision] = uow.decisions.of_application(app_id)
    assert decision.decision == "approved" and decision.attempt == 1


def test_a_repeated_decision_changes_nothing():
    uow = world()
    app_id = submitted(uow)
    event = review_completed(app_id)
    decide(uow, event)
    assert decide(uow, event) == "ignored"
    assert uow.sequences.last[2020] == 1 and len(uow.decisions.stored) == 1
    assert uow.published_types() == ["ApplicationSubmitted", "RegistrationCompleted"]


def test_rejection_keeps_the_opinion_and_flags_the_refused_material():
    uow = world()
    app_id = submitted(uow)
    assert decide(uow, review_completed(app_id, "rejected", issues=["photo"])) == "rejected"
    app = uow.applications.get(app_id)
    assert app.state == "REJECTED" and app.review_opinion == "身份证照片不清晰"
    assert app.materials["photo"]["ok"] is False
    assert uow.published_types() == ["ApplicationSubmitted"]  # subscribers learn it from review


def test_a_decision_on_an_older_attempt_is_ignored():
    uow = world()
    app_id = submitted(uow)
    decide(uow, review_completed(app_id, "rejected", issues=["photo"]))
    with uow:
        handlers.attach_material(uow, ACCOUNT, app_id, "photo", {
            "material_id": "m-photo-2", "account_id": ACCOUNT, "application_id": app_id, "kind": "photo",
            "ok": True, "issues": []}, INSIDE)
        handlers.submit(uow, ACCOUNT, app_id, None, INSIDE)
    assert decide(uow, review_completed(app_id, "approved", attempt=1)) == "ignored"
    assert uow.applications.get(app_id).state == "SUBMITTED"


def test_a_decision_for_an_unknown_application_is_refused_for_a_retry():
    uow = world()
    with pytest.raises(NotFound):
        decide(uow, review_completed("no-such-application"))


def test_dispatch_of_an_approved_application_publishes_certificate_dispatched_once():
    uow = world()
    app_id = submitted(uow)
    decide(uow, review_completed(app_id))
    with uow:
        view = handlers.record_dispatch(uow, ADMIN, app_id, "EMS", "1234567890", INSIDE)
    assert view["state"] == "DISPATCHED" and view["dispatch"]["tracking_number"] == "1234567890"
    assert uow.published_types()[-1] == "CertificateDispatched"
    assert "record_dispatch" in uow.audit.actions()
    with pytest.raises(Conflict), uow:
        handlers.record_dispatch(uow, ADMIN, app_id, "EMS", "999", INSIDE)
    assert uow.dispatches.of_application(app_id).tracking_number == "1234567890"


def test_dispatch_is_for_admins_and_for_approved_applications_only():
    uow = world()
    app_id = submitted(uow)
    with pytest.raises(Forbidden), uow:
        handlers.record_dispatch(uow, REVIEWER, app_id, "EMS", "1", INSIDE)
    with pytest.raises(Conflict) as refused, uow:
        handlers.record_dispatch(uow, ADMIN, app_id, "EMS", "1", INSIDE)
    assert refused.value.code == "invalid_transition"
    assert uow.dispatches.stored == {} and uow.audit.actions() == []


def test_a_mailing_file_records_each_row_in_its_own_unit_of_work():
    uow = world()
    app_id = submitted(uow)
    decide(uow, review_completed(app_id))
    number = uow.applications.get(app_id).registration_number
    content = f"登记证书编号,快递公司,运单号\r\n{number},EMS,11111111\r\nNOPE-1,EMS,22222222\r\n".encode()
    answer = handlers.import_dispatches(uow, ADMIN, "mail.csv", content, INSIDE)
    assert answer["dispatched"] == 1 and [r["row"] for r in answer["refused"]] == [3]
    assert uow.applications.get(app_id).state == "DISPATCHED"
