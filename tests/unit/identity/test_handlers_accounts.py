"""Register, login with its lockout, password change and reset (services/identity/handlers.py) on a
fake unit of work: what each stores, publishes and refuses; a refused SMS code keeps its try; a
phone without an account is counted and locked like one with."""

import pytest

from services.contracts.errors import Conflict, NotFound, Unauthenticated, ValidationFailed
from services.identity import handlers
from services.identity.domain.lockout import AccountLocked

from .fakes import NOW, later

PHONE, OTHER, PASSWORD = "13812345678", "13987654321", "Passw0rd!x"


def register(w, code, phone=PHONE, password=PASSWORD):
    return handlers.register(w.uow, w.settings, w.indexes, phone, code, password)


def reset(w, code, new_password, phone=PHONE):
    return handlers.reset_password(w.uow, w.settings, w.indexes, phone, code, new_password)


def failing(error_class, code, fn):
    with pytest.raises(error_class) as caught:
        fn()
    assert caught.value.code == code
    return caught.value


def test_register_stores_the_account_opens_a_session_and_publishes_masks_only(w):
    answer = w.register(PHONE)
    [account] = w.uow.accounts.stored.values()
    assert (account.id, account.phone, account.roles) == (answer["account_id"], PHONE, ["applicant"])
    assert account.password_hash and PASSWORD not in account.password_hash
    assert answer["principal"]["phone_masked"] == "138****5678" and not answer["principal"]["verified"]
    assert len(w.uow.sessions.live(account.id)) == 1
    [event] = w.uow.published
    assert event["type"] == "AccountRegistered" and PHONE not in str(event)
    assert w.uow.sms_codes.stored[0].used_at == NOW


def test_register_without_a_code_or_with_a_wrong_one_creates_nothing_but_counts_the_try(w):
    failing(ValidationFailed, "sms_code_missing", lambda: register(w, "123456"))
    w.send_code(PHONE, "register")
    wrong = "000000" if w.last_code() != "000000" else "111111"
    failing(ValidationFailed, "sms_code_wrong", lambda: register(w, wrong))
    assert w.uow.sms_codes.stored[0].attempts == 1  # committed with the refusal
    assert w.uow.accounts.stored == {} and w.uow.published == []


def test_a_registered_phone_is_told_only_to_whoever_holds_a_code(w):
    w.register(PHONE)
    failing(ValidationFailed, "sms_code_missing", lambda: register(w, "123456"))  # a stranger without a code
    later(60)
    w.send_code(PHONE, "register")
    failing(Conflict, "phone_registered", lambda: register(w, w.last_code(), password="Passw0rd!y"))
    assert len(w.uow.accounts.stored) == 1 and len(w.uow.published) == 1


def test_a_concurrent_twin_that_took_the_phone_first_is_a_conflict(w, monkeypatch):
    w.register(PHONE)
    later(60)
    w.send_code(PHONE, "register")
    monkeypatch.setattr(type(w.uow.accounts), "by_phone", lambda self, phone, lock=False: None)  # not yet seen
    failing(Conflict, "phone_registered", lambda: register(w, w.last_code()))
    assert len(w.uow.accounts.stored) == 1 and w.uow.sms_codes.stored[-1].used_at is None  # rolled back


def test_five_wrong_passwords_lock_even_the_right_one_until_the_time_said(w):
    w.register(PHONE)
    for _ in range(4):
        failing(Unauthenticated, "invalid_credentials", lambda: w.login(PHONE, password="wrong-Passw0rd"))
    locked = failing(AccountLocked, "account_locked", lambda: w.login(PHONE, password="wrong-Passw0rd"))
    assert locked.details["retry_after"] == 15 * 60
    failing(AccountLocked, "account_locked", lambda: w.login(PHONE, password=PASSWORD))
    later(15 * 60)
    assert w.login(PHONE, password=PASSWORD)["token"]
    assert w.uow.login_failures.accounts == []


def test_a_phone_without_an_account_is_refused_and_locked_alike(w):
    for _ in range(4):
        failing(Unauthenticated, "invalid_credentials", lambda: w.login(OTHER, password="wrong-Passw0rd"))
    failing(AccountLocked, "account_locked", lambda: w.login(OTHER, password="wrong-Passw0rd"))
    assert len(w.uow.login_failures.phones) == 5 and w.uow.login_failures.accounts == []


def test_the_holder_of_a_login_code_learns_the_phone_has_no_account(w):
    w.send_code(OTHER, "login")
    failing(NotFound, "account_not_found", lambda: w.login(OTHER, code=w.last_code()))
    assert w.uow.login_failures.phones == []  # their try was no guess


def test_login_by_code_spends_it(w):
    w.register(PHONE)
    later(60)
    w.send_code(PHONE, "login")
    code = w.last_code()
    assert w.login(PHONE, code=code)["principal"]["phone_masked"] == "138****5678"
    failing(ValidationFailed, "sms_code_used", lambda: w.login(PHONE, code=code))


def test_staff_get_a_pending_token_not_a_session(w):
    w.uow.accounts.put("rev-1", PHONE, ["reviewer"], NOW, password_hash=w.settings.hasher.hash(PASSWORD))
    answer = w.login(PHONE, password=PASSWORD)
    assert answer["second_factor"] == "enrol" and "token" not in answer and answer["pending_token"]
    assert w.uow.sessions.stored == {} and len(w.uow.login_failures.accounts) == 1  # until the second factor
    failing(Unauthenticated, "password_required", lambda: w.login(PHONE, code="123456"))


def test_a_password_change_ends_every_session(w):
    token = w.register(PHONE)["token"]
    account_id = next(iter(w.uow.accounts.stored))
    failing(ValidationFailed, "wrong_password",
            lambda: handlers.change_password(w.uow, w.settings, token, "wrong-Passw0rd", "N3w-passw0rd"))
    assert handlers.change_password(w.uow, w.settings, token, PASSWORD, "N3w-passw0rd") == {"ok": True}
    assert w.uow.sessions.live(account_id) == [] and w.uow.accounts.stored[account_id].password_changed_at == NOW
    failing(Unauthenticated, "unauthenticated",
            lambda: handlers.change_password(w.uow, w.settings, token, "N3w-passw0rd", "Th1rd-passw0rd"))
    assert w.login(PHONE, password="N3w-passw0rd")["token"]


def test_a_reset_by_code_lifts_the_lock_and_ends_the_sessions(w):
    w.register(PHONE)
    for _ in range(4):
        failing(Unauthenticated, "invalid_credentials", lambda: w.login(PHONE, password="wrong-Passw0rd"))
    failing(AccountLocked, "account_locked", lambda: w.login(PHONE, password="wrong-Passw0rd"))
    w.send_code(PHONE, "reset_password")
    assert reset(w, w.last_code(), "N3w-passw0rd") == {"ok": True}
    account_id = next(iter(w.uow.accounts.stored))
    assert w.uow.sessions.live(account_id) == [] and w.uow.login_failures.accounts == []
    assert w.login(PHONE, password="N3w-passw0rd")["token"]


def test_a_refused_reset_keeps_the_code_for_the_next_try(w):
    w.register(PHONE)
    account_id = next(iter(w.uow.accounts.stored))
    w.uow.identities.put(account_id, "RESIDENT_ID", "张三", "11010519491231002X", "format_checked", NOW)
    w.send_code(PHONE, "reset_password")
    code = w.last_code()
    with pytest.raises(ValidationFailed):  # the new password holds the ID number
        reset(w, code, "Id11010519491231002X!")
    assert w.uow.sms_codes.stored[-1].used_at is None
    assert reset(w, code, "N3w-passw0rd") == {"ok": True}
    w.send_code(OTHER, "reset_password")
    failing(NotFound, "account_not_found", lambda: reset(w, w.last_code(), "N3w-passw0rd", phone=OTHER))
    assert w.uow.sms_codes.stored[-1].used_at is None  # rolled back with the refusal
