"""The service layer without a broker or a database: handlers over a fake unit of work
(tests/unit/identity/fakes.py) and fake adapters."""
from dataclasses import replace

import pytest

from services.common.config import ConfigError, service_config
from services.common.offload import inline
from services.contracts.errors import Conflict, DomainError, TooManyRequests, ValidationFailed
from services.identity import handlers
from services.identity.adapters.verifier import FormatOnlyVerifier, HttpIdentityVerifier, VerifierUnavailable
from services.identity.domain.lockout import AccountLocked
from services.identity.domain.sms_codes import SmsCode, hash_code, matches
from services.identity.service import portable_error
from services.identity.settings import IdentitySettings

from .fakes import NOW

PHONE = "13812345678"


def send_code(w, phone, purpose, client_ip=None, send_sms=None):
    return handlers.send_code(w.uow, w.settings, w.indexes, send_sms or w.send_sms, phone, purpose, client_ip)


def register(w, phone, code, password, offload=inline):
    return handlers.register(w.uow, w.settings, w.indexes, phone, code, password, offload=offload)


def login(w, phone, password=None, code=None, offload=inline):
    return handlers.login(w.uow, w.settings, w.indexes, phone, password=password, code=code, offload=offload)


def change_password(w, token, old, new):
    return handlers.change_password(w.uow, w.settings, token, old, new)


def test_notify_is_called_after_the_commit_with_the_only_plain_copy_of_the_code(w):
    seen = []

    def send_sms(phone, code, purpose, expires_at):
        assert w.uow.commits == 1  # the unit of work that stored the code has committed
        seen.append([c.code_hash for c in w.uow.sms_codes.stored])
        w.sent.append((phone, code, purpose, expires_at))

    assert send_code(w, PHONE, "register", "10.0.0.1", send_sms) == {"cooldown_seconds": 60,
                                                                      "expires_in_seconds": 300}
    [(phone, code, purpose, expires_at)] = w.sent
    assert (phone, purpose, expires_at) == (PHONE, "register", "2020-07-01T10:05:00.000+08:00")
    [[stored]] = seen
    assert code not in stored and len(stored) == 64


def test_notify_failure_keeps_the_challenge_and_says_so(w):
    def broken(*args):
        raise TimeoutError("notify did not answer")

    with pytest.raises(handlers.SmsUnavailable) as caught:
        send_code(w, PHONE, "login", None, broken)
    assert caught.value.http_status == 503 and caught.value.details == {"retry_after": 60}
    assert len(w.uow.sms_codes.stored) == 1
    with pytest.raises(TooManyRequests):
        send_code(w, PHONE, "login", None, broken)


def test_handlers_run_cpu_work_through_offload(w):
    calls = []

    def offload(fn, *args):
        calls.append(fn.__name__)
        return fn(*args)

    send_code(w, PHONE, "register", None)
    register(w, PHONE, w.last_code(), "Passw0rd!x", offload=offload)
    login(w, PHONE, password="Passw0rd!x", offload=offload)
    assert calls == ["hash", "verify"]


def test_register_then_duplicate_is_conflict_for_the_code_holder(w):
    send_code(w, PHONE, "register", None)
    code = w.last_code()
    register(w, PHONE, code, "Passw0rd!x")
    with pytest.raises(Conflict) as caught:
        register(w, PHONE, code, "Passw0rd!y")
    assert caught.value.code == "phone_registered" and caught.value.http_status == 409


def test_code_matches_without_changing_the_challenge():
    challenge = SmsCode("idx", "login", hash_code(b"k", "idx", "login", "123456"), NOW, NOW)
    assert matches(challenge, "１２３ ４５６", b"k") and not matches(challenge, "123457", b"k")
    assert not matches(challenge, "12345", b"k") and challenge.attempts == 0 and challenge.used_at is None


def test_service_specific_errors_travel_as_common_classes():
    locked = AccountLocked("锁定", details={"retry_after": 60})
    wire = portable_error(locked)
    assert type(wire) is TooManyRequests
    assert (wire.code, wire.message, wire.details, wire.http_status) == ("account_locked", "锁定",
                                                                         {"retry_after": 60}, 429)
    assert wire.args == ("锁定", "account_locked", {"retry_after": 60}, 429)
    unavailable = portable_error(VerifierUnavailable("稍后再试", "HTTP 500"))
    assert type(unavailable) is DomainError and unavailable.http_status == 503
    plain = ValidationFailed("x")
    assert portable_error(plain) is plain


def test_short_document_numbers_are_masked():
    assert handlers.mask_id("E12345678") == "E*******8"
    assert handlers.mask_id("1234567890") == "1********0"
    assert handlers.mask_id("11010519491231002X") == "110105********002X"


def test_settings_choose_the_verifier_and_id_types():
    base = service_config("identity", environ={})
    settings = IdentitySettings.from_config(base)
    assert isinstance(settings.verifier, FormatOnlyVerifier) and settings.id_types == {"RESIDENT_ID"}
    http = IdentitySettings.from_config({**base, "IDENTITY_VERIFIER": "http", "IDENTITY_ID_TYPES": "resident_id,PASSPORT",
                                         "IDENTITY_VERIFIER_URL": "https://verifier.example/check",
                                         "IDENTITY_VERIFIER_TOKEN": "t"})
    assert isinstance(http.verifier, HttpIdentityVerifier) and http.id_types == {"RESIDENT_ID", "PASSPORT"}
    for bad in ({"IDENTITY_VERIFIER": "http"}, {"IDENTITY_VERIFIER": "magic"}, {"IDENTITY_ID_TYPES": "ALIEN"},
                {"IDENTITY_VERIFIER": "http", "IDENTITY_VERIFIER_URL": "http://verifier.example/", "IDENTITY_VERIFIER_TOKEN": "t"}):
        with pytest.raises(ConfigError):
            IdentitySettings.from_config({**base, **bad})
    assert replace(settings, notify_timeout=1).notify_timeout == 1


def test_generated_staff_passwords_are_strong_and_distinct():
    passwords = {handlers.generate_password() for _ in range(20)}
    assert len(passwords) == 20 and all(len(p) == 16 for p in passwords)


def test_lockout_reply_says_until_when(w):
    send_code(w, PHONE, "register", None)
    register(w, PHONE, w.last_code(), "Passw0rd!x")
    for _ in range(4):
        with pytest.raises(DomainError) as caught:
            login(w, PHONE, password="wrong-Passw0rd")
        assert caught.value.code == "invalid_credentials"
    with pytest.raises(AccountLocked) as caught:
        login(w, PHONE, password="wrong-Passw0rd")
    assert "北京时间10:15" in caught.value.message


def _failure_count(w):
    return len(w.uow.login_failures.accounts)


def test_successful_tries_leave_no_failure_behind(w):
    send_code(w, PHONE, "register", None)
    token = register(w, PHONE, w.last_code(), "Passw0rd!x")["token"]
    with pytest.raises(ValidationFailed):
        change_password(w, token, "wrong-Passw0rd", "N3w-passw0rd")
    assert _failure_count(w) == 1
    change_password(w, token, "Passw0rd!x", "N3w-passw0rd")
    assert _failure_count(w) == 0
    with pytest.raises(DomainError):
        login(w, PHONE, password="Passw0rd!x")
    assert _failure_count(w) == 1
    login(w, PHONE, password="N3w-passw0rd")
    assert _failure_count(w) == 0
