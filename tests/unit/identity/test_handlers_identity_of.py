"""What identity tells other services (services/identity/handlers.py) on a fake unit of work: the
verified identity in full with the fields derived from the number, the contact phone."""
import pytest

from services.contracts.errors import NotFound
from services.identity import handlers

from .fakes import fake_uow
from .test_handlers_second_factor import NOW


def test_identity_of_answers_the_verified_identity_with_birth_date_and_gender():
    uow = fake_uow()
    uow.identities.put("u-1", "RESIDENT_ID", "张三", "11010519491231002X", "format_checked", NOW)
    answer = handlers.identity_of(uow, "u-1")
    assert (answer["name"], answer["id_number"], answer["birth_date"], answer["gender"]) == (
        "张三", "11010519491231002X", "1949-12-31", "F")
    assert answer["verified_at"] == "2020-07-01T10:00:00.000+08:00"


def test_an_unverified_or_unknown_account_is_not_found():
    uow = fake_uow()
    with pytest.raises(NotFound) as missing:
        handlers.identity_of(uow, "u-1")
    assert missing.value.code == "identity_not_verified"
    with pytest.raises(NotFound):
        handlers.contact_of(uow, "u-1")
    uow.accounts.put("u-1", "13812345678", ["applicant"], NOW)
    assert handlers.contact_of(uow, "u-1") == {"phone": "13812345678"}
