"""contacts_of: notify's one question for the events that arrived together answers what
contact_of answers for each application, and leaves out an unknown one instead of refusing all."""
import pytest

from services.contracts.errors import NotFound
from services.registration import handlers

from .handler_steps import submitted, world


def test_contacts_of_answers_as_contact_of_for_each_application_and_leaves_out_unknown_ones():
    uow = world()
    app_id = submitted(uow)
    with uow:
        one = handlers.contact_of(uow, app_id)
        many = handlers.contacts_of(uow, [app_id, "no-such-application", app_id])
    assert many == {app_id: one}
    assert one["account_id"] == "u-zhang" and one["mobile"]


def test_contact_of_still_refuses_an_unknown_application():
    uow = world()
    with uow, pytest.raises(NotFound):
        handlers.contact_of(uow, "no-such-application")
