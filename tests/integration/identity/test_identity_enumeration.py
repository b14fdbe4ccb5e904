"""Nobody learns whether a phone is registered from the answers to wrong codes or wrong passwords."""
from datetime import datetime, timedelta, timezone

import pytest

from services.contracts.errors import DomainError

from .conftest import PASSWORD, PHONE, register

T0 = datetime(2020, 7, 1, 2, 0, tzinfo=timezone.utc)  # 10:00 Beijing
UNKNOWN = "13900000000"


def answer(call, *args, **kwargs):
    with pytest.raises(DomainError) as caught:
        call(*args, **kwargs)
    error = caught.value
    return int(error.http_status), error.code, error.message, error.details


def test_registering_with_a_wrong_code_answers_alike(identity, api):
    register(identity, api)  # PHONE now has an account and a used register code
    registered = answer(api.register, PHONE, "123456", PASSWORD, None)
    unknown = answer(api.register, UNKNOWN, "123456", PASSWORD, None)
    assert registered == unknown
    assert registered[1] == "sms_code_missing"


def test_a_replayed_code_is_still_called_used_by_its_holder(identity, api):
    register(identity, api)
    api.send_code(PHONE, "login", None)
    code = identity.code_for(PHONE, "login")
    api.login(PHONE, code=code)
    assert answer(api.login, PHONE, code=code)[1] == "sms_code_used"
    assert answer(api.login, PHONE, code="654321") == answer(api.login, UNKNOWN, code="654321")


def test_login_lockout_answers_alike(identity, api, frozen_clock):
    frozen_clock(T0)
    register(identity, api)
    for attempt in range(1, 7):
        registered = answer(api.login, PHONE, password="Wrong-pass1")
        unknown = answer(api.login, UNKNOWN, password="Wrong-pass1")
        assert registered == unknown, attempt
    assert registered[1] == "account_locked" and "北京时间10:15" in registered[2]
    frozen_clock(T0 + timedelta(minutes=15))  # the lock ends for both alike
    assert answer(api.login, UNKNOWN, password="Wrong-pass1")[1] == "invalid_credentials"
    assert api.login(PHONE, password=PASSWORD)["principal"]["phone_masked"] == "138****5678"


def test_the_code_holder_of_an_unknown_phone_is_told_to_register(identity, api, frozen_clock):
    frozen_clock(T0)
    for _ in range(4):
        answer(api.login, UNKNOWN, password="Wrong-pass1")
    api.send_code(UNKNOWN, "login", None)
    assert answer(api.login, UNKNOWN, code=identity.code_for(UNKNOWN, "login"))[1] == "account_not_found"
    for _ in range(4):  # the holder's try cleared the guesses: four more before a lock
        assert answer(api.login, UNKNOWN, password="Wrong-pass1")[1] == "invalid_credentials"

