"""send_code (services/identity/handlers.py) on a fake unit of work: the resend cooldown per client,
the daily caps, the human check before a code and its non-visual alternative (the wait); a refusal
sends nothing and stores no code."""
from dataclasses import replace
from datetime import datetime, timezone

import pytest

from services.common import clock
from services.contracts.errors import TooManyRequests, ValidationFailed
from services.identity.domain.sms_limits import SmsLimits

from .fakes import later

PHONE, ADDRESS = "13812345678", "10.0.0.1"
NO_CHECKS = SmsLimits(check_per_phone_address=99, check_per_phone=99, check_per_device=99, check_per_address=99)


def refused(code, fn):
    with pytest.raises(TooManyRequests) as caught:
        fn()
    assert caught.value.code == code
    return caught.value


def test_the_cooldown_holds_this_client_back_but_not_another(w):
    w.send_code(PHONE, "login", ADDRESS)
    later(30)
    error = refused("sms_code_cooldown", lambda: w.send_code(PHONE, "login", ADDRESS))
    assert error.details == {"retry_after": 30} and len(w.sent) == len(w.uow.sms_codes.stored) == 1
    w.send_code(PHONE, "login", "10.0.0.2")  # a stranger's request does not delay the owner, nor theirs
    w.send_code(PHONE, "register", ADDRESS)  # another purpose has its own cooldown
    later(30)
    w.send_code(PHONE, "login", ADDRESS)
    assert len(w.sent) == len(w.uow.sms_codes.stored) == 4


def test_a_client_gets_five_codes_a_day_then_waits_for_beijing_midnight(w):
    w.settings = replace(w.settings, sms_limits=NO_CHECKS)
    for _ in range(5):
        w.send_code(PHONE, "login", ADDRESS)
        later(60)
    error = refused("sms_code_daily_cap_client", lambda: w.send_code(PHONE, "login", ADDRESS))
    assert error.details["retry_after"] == 14 * 3600 - 5 * 60 and "明天0点" in error.message
    assert len(w.uow.sms_codes.stored) == 5
    clock.set_now(datetime(2020, 7, 1, 16, 0, tzinfo=timezone.utc))  # 00:00 the next day in Beijing
    w.send_code(PHONE, "login", ADDRESS)
    assert len(w.sent) == 6


def test_the_fourth_code_from_one_address_waits_for_a_human_check(w):
    for _ in range(3):
        w.send_code(PHONE, "login", ADDRESS)
        later(60)
    error = refused("captcha_required", lambda: w.send_code(PHONE, "login", ADDRESS))
    challenge = error.details["captcha"]
    assert challenge["image"].startswith("data:image/png;base64,") and challenge["wait_seconds"] == 300
    assert list(w.uow.captchas.stored) == [challenge["captcha_id"]]
    assert len(w.sent) == len(w.uow.sms_codes.stored) == 3


def test_a_wrong_answer_spends_the_challenge_and_brings_a_new_one(w):
    for _ in range(3):
        w.send_code(PHONE, "login", ADDRESS)
        later(60)
    first = refused("captcha_required", lambda: w.send_code(PHONE, "login", ADDRESS)).details["captcha"]
    with pytest.raises(ValidationFailed) as caught:
        w.send_code(PHONE, "login", ADDRESS, captcha={"captcha_id": first["captcha_id"], "captcha_answer": "ZZZZZ"})
    assert caught.value.code == "captcha_wrong" and caught.value.details["captcha"]["captcha_id"] != first["captcha_id"]
    assert w.uow.captchas.stored[first["captcha_id"]].used_at == clock.now()
    assert len(w.uow.sms_codes.stored) == 3


def test_waiting_instead_of_reading_the_image_lets_the_code_through(w):
    for _ in range(3):
        w.send_code(PHONE, "login", ADDRESS)
        later(60)
    challenge = refused("captcha_required", lambda: w.send_code(PHONE, "login", ADDRESS)).details["captcha"]
    later(challenge["wait_seconds"])
    w.send_code(PHONE, "login", ADDRESS, captcha={"captcha_id": challenge["captcha_id"], "captcha_answer": ""})
    assert len(w.sent) == len(w.uow.sms_codes.stored) == 4
    assert w.uow.captchas.stored[challenge["captcha_id"]].used_at is not None


def test_a_bad_phone_or_purpose_stores_nothing(w):
    for phone, purpose in (("12345", "login"), (PHONE, "everything")):
        with pytest.raises(ValidationFailed):
            w.send_code(phone, purpose, ADDRESS)
    assert w.sent == [] and w.uow.sms_codes.stored == []


def test_the_stored_code_knows_who_asked_only_as_blind_indexes(w):
    w.send_code(PHONE, "login", ADDRESS, device="d" * 32)
    [stored] = w.uow.sms_codes.stored
    client = w.indexes.client(ADDRESS, "d" * 32)
    assert (stored.phone_index, stored.client_index, stored.address_index) == (
        w.indexes.phone(PHONE), client.index, client.address_index)
    assert PHONE not in str(stored) and ADDRESS not in str(stored)
