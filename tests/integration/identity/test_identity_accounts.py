"""Accounts, SMS codes, login and sessions over RPC on the real broker and database."""
from datetime import datetime, timedelta, timezone

import eventlet
import pytest
from sqlalchemy import select

from services.contracts.errors import Conflict, NotFound, TooManyRequests, Unauthenticated, ValidationFailed
from services.identity.models import LoginFailure, LoginSession
from tests.support.infra import dependency

from .conftest import PASSWORD, PHONE, NotifyStandIn, register

T0 = datetime(2020, 7, 1, 2, 0, tzinfo=timezone.utc)  # 10:00 Beijing


# Over nameko RPC every non-string error argument arrives as a string (http_status "429", retry_after
# "60"): nameko.exceptions.safe_for_serialization. Hence the int() below.


def refused(exc_type, expected, call, *args, **kwargs):
    with pytest.raises(exc_type) as caught:
        call(*args, **kwargs)
    assert caught.value.code == expected, (caught.value.code, caught.value.message)
    return caught.value


def test_register_login_authenticate_logout(identity, api):
    sent = api.send_code(PHONE, "register", "10.0.0.1")
    assert sent == {"cooldown_seconds": 60, "expires_in_seconds": 300}
    [sms] = NotifyStandIn.inbox
    assert (sms["phone"], sms["purpose"]) == (PHONE, "register") and len(sms["code"]) == 6
    assert sms["expires_at"].endswith("+08:00")

    answer = api.register(PHONE, sms["code"], PASSWORD, "10.0.0.1")
    principal = {"account_id": answer["account_id"], "roles": ["applicant"], "verified": False,
                 "verification_level": None, "name_masked": None, "id_number_masked": None,
                 "phone_masked": "138****5678"}
    assert answer["principal"] == principal
    assert api.authenticate(answer["token"]) == principal

    by_password = api.login(PHONE, password=PASSWORD, client_ip="10.0.0.1")
    assert by_password["account_id"] == answer["account_id"] and by_password["principal"] == principal
    api.send_code(PHONE, "login", "10.0.0.1")
    by_code = api.login(PHONE, code=identity.code_for(PHONE, "login"))
    assert by_code["account_id"] == answer["account_id"]
    assert len({answer["token"], by_password["token"], by_code["token"]}) == 3

    assert api.logout(by_password["token"]) == {"ok": True}
    refused(Unauthenticated, "unauthenticated", api.authenticate, by_password["token"])
    assert api.authenticate(answer["token"]) == principal  # the other sessions live on
    assert api.logout(by_password["token"]) == {"ok": True}  # twice: still fine
    refused(Unauthenticated, "unauthenticated", api.authenticate, "not-a-token")
    refused(Unauthenticated, "unauthenticated", api.authenticate, "")


def test_send_code_answers_alike_for_registered_and_unknown_phones(identity, api):
    register(identity, api)
    for number, purpose in enumerate(("login", "reset_password", "admin_login"), start=2):
        client = f"10.0.0.{number}"  # one client per purpose: this is not about the limits
        assert api.send_code(PHONE, purpose, client) == api.send_code("13900000000", purpose, client)
    assert {m["phone"] for m in NotifyStandIn.inbox} == {PHONE, "13900000000"}


def test_send_code_refuses_bad_input_and_keeps_a_cooldown_per_client(identity, frozen_clock):
    frozen_clock(T0)
    with identity.rpc() as api:
        error = refused(ValidationFailed, "invalid_phone", api.send_code, "12345", "register", None)
        assert "11位" in error.details["phone"][0]
        refused(ValidationFailed, "invalid_sms_purpose", api.send_code, PHONE, "anything", None)
        api.send_code("+86 138 1234 5678", "register", "10.0.0.9")  # typed with prefix and spaces
        assert NotifyStandIn.inbox[-1]["phone"] == PHONE
        error = refused(TooManyRequests, "sms_code_cooldown", api.send_code, PHONE, "register", "10.0.0.9")
        assert int(error.details["retry_after"]) == 60 and int(error.http_status) == 429
        api.send_code(PHONE, "register", "10.0.0.10")  # someone else's client is not held back
        frozen_clock(T0 + timedelta(seconds=61))
        api.send_code(PHONE, "register", "10.0.0.9")
    assert len(NotifyStandIn.inbox) == 3


def test_notify_failure_is_a_clear_503(identity, api):
    NotifyStandIn.failing = True
    error = refused(Exception, "sms_unavailable", api.send_code, PHONE, "register", None)
    assert int(error.http_status) == 503 and "秒后重新获取" in error.message


def test_wrong_code_past_the_limit(identity, api):
    api.send_code(PHONE, "register", None)
    right = identity.code_for(PHONE, "register")
    wrong = f"{(int(right) + 1) % 1000000:06d}"
    for left in (4, 3, 2, 1):
        error = refused(ValidationFailed, "sms_code_wrong", api.register, PHONE, wrong, PASSWORD, None)
        assert f"还可以再试{left}次" in error.message
    refused(ValidationFailed, "sms_code_too_many_tries", api.register, PHONE, wrong, PASSWORD, None)
    refused(ValidationFailed, "sms_code_too_many_tries", api.register, PHONE, right, PASSWORD, None)
    refused(Unauthenticated, "invalid_credentials", api.login, PHONE, password=PASSWORD)  # no account


def test_replayed_code_is_refused(identity, api):
    register(identity, api)
    api.send_code(PHONE, "login", None)
    code = identity.code_for(PHONE, "login")
    api.login(PHONE, code=code)
    refused(ValidationFailed, "sms_code_used", api.login, PHONE, code=code)


def test_code_for_another_purpose_is_refused(identity, api):
    api.send_code(PHONE, "login", None)
    error = refused(ValidationFailed, "sms_code_wrong_purpose", api.register, PHONE,
                    identity.code_for(PHONE, "login"), PASSWORD, None)
    assert "不能用于当前操作" in error.message
    refused(ValidationFailed, "sms_code_missing", api.reset_password, "13900000000", "123456", "N3w-passw0rd")


def test_two_simultaneous_registrations_one_wins(identity, api):
    api.send_code(PHONE, "register", None)
    code = identity.code_for(PHONE, "register")

    def attempt(password):
        with identity.rpc() as other:
            try:
                return other.register(PHONE, code, password, None)
            except Conflict as exc:
                return exc

    results = [thread.wait() for thread in [eventlet.spawn(attempt, p) for p in ("Passw0rd!a", "Passw0rd!b")]]
    wins = [r for r in results if isinstance(r, dict)]
    losses = [r for r in results if isinstance(r, Conflict)]
    assert len(wins) == 1 and len(losses) == 1, results
    assert int(losses[0].http_status) == 409 and losses[0].code == "phone_registered"
    assert "该手机号已注册" in losses[0].message
    assert api.authenticate(wins[0]["token"])["account_id"] == wins[0]["account_id"]


def test_registering_a_registered_phone_is_a_clear_409(identity, api, frozen_clock):
    frozen_clock(T0)
    register(identity, api)
    frozen_clock(T0 + timedelta(minutes=2))
    api.send_code(PHONE, "register", None)
    code = identity.code_for(PHONE, "register")
    refused(ValidationFailed, "sms_code_wrong", api.register, PHONE, "000000" if code != "000000" else "111111",
            PASSWORD, None)  # without the code nothing is told about the phone
    error = refused(Conflict, "phone_registered", api.register, PHONE, code, PASSWORD, None)
    assert "请直接登录" in error.message


def test_weak_password_says_what_is_missing(identity, api):
    api.send_code(PHONE, "register", None)
    error = refused(ValidationFailed, "weak_password", api.register, PHONE, identity.code_for(PHONE, "register"),
                    "abc", None)
    assert "长度至少8位" in error.message and error.details["password"]


def test_lockout_after_five_failures_says_until_when(identity, api, frozen_clock):
    frozen_clock(T0)
    register(identity, api)
    for _ in range(4):
        refused(Unauthenticated, "invalid_credentials", api.login, PHONE, password="Wrong-pass1")
    error = refused(TooManyRequests, "account_locked", api.login, PHONE, password="Wrong-pass1")
    assert "北京时间10:15" in error.message and int(error.details["retry_after"]) == 900
    frozen_clock(T0 + timedelta(minutes=14))
    error = refused(TooManyRequests, "account_locked", api.login, PHONE, password=PASSWORD)  # even the right one
    assert "北京时间10:15" in error.message
    api.send_code(PHONE, "login", None)
    refused(TooManyRequests, "account_locked", api.login, PHONE, code=identity.code_for(PHONE, "login"))
    frozen_clock(T0 + timedelta(minutes=15))
    assert api.login(PHONE, password=PASSWORD)["principal"]["phone_masked"] == "138****5678"
    for _ in range(4):  # a success starts the count afresh
        refused(Unauthenticated, "invalid_credentials", api.login, PHONE, password="Wrong-pass1")
    api.login(PHONE, password=PASSWORD)


def test_unknown_phone_and_wrong_password_answer_alike(identity, api):
    register(identity, api)
    a = refused(Unauthenticated, "invalid_credentials", api.login, PHONE, password="Wrong-pass1")
    b = refused(Unauthenticated, "invalid_credentials", api.login, "13900000000", password="Wrong-pass1")
    assert (a.message, a.details) == (b.message, b.details)
    refused(ValidationFailed, "credentials_required", api.login, PHONE)
    api.send_code("13900000000", "login", None)
    refused(NotFound, "account_not_found", api.login, "13900000000", code=identity.code_for("13900000000", "login"))


def _last_seen(harness, token_answer):
    db = dependency(harness.container, "db")
    with db.engine.connect() as conn:
        return conn.execute(select(LoginSession.last_seen_at).where(
            LoginSession.account_id == token_answer["account_id"])).scalar_one()


def test_idle_timeout_and_touch_at_most_once_a_minute(identity, api, frozen_clock):
    frozen_clock(T0)
    answer = register(identity, api)
    token = answer["token"]
    frozen_clock(T0 + timedelta(seconds=30))
    api.authenticate(token)
    assert _last_seen(identity, answer) == T0  # no write for a request within the minute
    frozen_clock(T0 + timedelta(minutes=20))
    api.authenticate(token)
    assert _last_seen(identity, answer) == T0 + timedelta(minutes=20)
    frozen_clock(T0 + timedelta(minutes=49))  # 29 idle minutes
    api.authenticate(token)
    frozen_clock(T0 + timedelta(minutes=79))  # 30 idle minutes
    refused(Unauthenticated, "unauthenticated", api.authenticate, token)


def test_absolute_session_limit_of_twelve_hours(identity, api, frozen_clock):
    frozen_clock(T0)
    token = register(identity, api)["token"]
    at = T0
    while at + timedelta(minutes=25) < T0 + timedelta(hours=12):
        at += timedelta(minutes=25)
        frozen_clock(at)
        api.authenticate(token)
    frozen_clock(T0 + timedelta(hours=12))
    refused(Unauthenticated, "unauthenticated", api.authenticate, token)


def test_password_change_revokes_all_sessions(identity, api):
    first = register(identity, api)
    second = api.login(PHONE, password=PASSWORD)
    refused(ValidationFailed, "weak_password", api.change_password, first["token"], PASSWORD, "short")
    error = refused(ValidationFailed, "wrong_password", api.change_password, first["token"], "Wrong-pass1",
                    "N3w-passw0rd")
    assert error.details == {"old_password": ["原密码不正确"]}
    api.authenticate(second["token"])  # refusals change nothing
    assert api.change_password(first["token"], PASSWORD, "N3w-passw0rd") == {"ok": True}
    for answer in (first, second):
        refused(Unauthenticated, "unauthenticated", api.authenticate, answer["token"])
    refused(Unauthenticated, "unauthenticated", api.change_password, first["token"], "N3w-passw0rd", "Other-passw0rd")
    refused(Unauthenticated, "invalid_credentials", api.login, PHONE, password=PASSWORD)
    api.login(PHONE, password="N3w-passw0rd")


def test_reset_password_by_code_revokes_sessions_and_lifts_the_lock(identity, api, frozen_clock):
    frozen_clock(T0)
    first = register(identity, api)
    for _ in range(5):
        with pytest.raises((Unauthenticated, TooManyRequests)):
            api.login(PHONE, password="Wrong-pass1")
    refused(TooManyRequests, "account_locked", api.login, PHONE, password=PASSWORD)
    api.send_code(PHONE, "reset_password", None)
    code = identity.code_for(PHONE, "reset_password")
    refused(ValidationFailed, "weak_password", api.reset_password, PHONE, code, f"Abc{PHONE}!")
    assert api.reset_password(PHONE, code, "N3w-passw0rd") == {"ok": True}
    refused(Unauthenticated, "unauthenticated", api.authenticate, first["token"])
    refused(ValidationFailed, "sms_code_used", api.reset_password, PHONE, code, "0ther-passw0rd")
    api.login(PHONE, password="N3w-passw0rd")


def test_create_staff_refusals(identity, api):
    account_id = api.create_staff("13700000001", "admin", "Adm1n-passw0rd")["account_id"]
    reviewer = api.create_staff("13700000002", "reviewer", "Rev1ewer-pass")
    assert reviewer["account_id"] != account_id
    refused(Conflict, "phone_registered", api.create_staff, "13700000001", "reviewer", "Other-passw0rd1")
    refused(ValidationFailed, "invalid_role", api.create_staff, "13700000003", "applicant", "Other-passw0rd1")
    refused(ValidationFailed, "weak_password", api.create_staff, "13700000003", "reviewer", "password")


def test_contact_of_gives_the_phone_to_services(identity, api):
    answer = register(identity, api)
    assert api.contact_of(answer["account_id"]) == {"phone": PHONE}
    refused(NotFound, "account_not_found", api.contact_of, "no-such-account")


def test_concurrent_guesses_cannot_outrun_the_lockout(identity, api):
    register(identity, api)

    def guess(i):
        with identity.rpc() as other:
            try:
                other.login(PHONE, password=f"Wrong-pass{i}")
            except (Unauthenticated, TooManyRequests) as exc:
                return exc.code

    answers = [t.wait() for t in [eventlet.spawn(guess, i) for i in range(12)]]
    assert set(answers) <= {"invalid_credentials", "account_locked"}
    db = dependency(identity.container, "db")
    with db.engine.connect() as conn:
        failures = conn.execute(select(LoginFailure.id)).all()
    assert len(failures) == 5  # each try is counted before its password is checked
    refused(TooManyRequests, "account_locked", api.login, PHONE, password=PASSWORD)
