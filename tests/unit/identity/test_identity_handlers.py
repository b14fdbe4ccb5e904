"""The service layer without a broker: handlers over a SQLite unit of work and fake adapters."""
from dataclasses import replace
from datetime import datetime, timezone

import pytest
from sqlalchemy import create_engine, select, text

from services.common import clock
from services.common.config import ConfigError, service_config
from services.common.crypto import DataCipher
from services.common.db import UnitOfWork, create_schema, make_engine
from services.contracts.errors import Conflict, DomainError, TooManyRequests, ValidationFailed
from services.identity import handlers
from services.identity.adapters.verifier import FormatOnlyVerifier, HttpIdentityVerifier, VerifierUnavailable
from services.identity.domain.lockout import AccountLocked
from services.identity.domain.sms_codes import CodeChallenge, hash_code, matches
from services.identity.models import Base, LoginFailure, SmsChallenge
from services.identity.repository import repositories
from services.identity.service import portable_error
from services.identity.settings import IdentitySettings

NOW = datetime(2020, 7, 1, 2, 0, tzinfo=timezone.utc)
PHONE = "13812345678"


@pytest.fixture
def ctx(tmp_path):
    url = f"sqlite:///{tmp_path}/identity.db"
    engine = make_engine(url)
    create_schema(engine, Base.metadata)
    config = service_config("identity", environ={"VAR_DIR": str(tmp_path), "ARGON2_MEMORY_KIB": "1024",
                                                 "ARGON2_TIME_COST": "1"})
    sent = []
    cipher = DataCipher.from_config(config)
    context = handlers.Context(uow=lambda: UnitOfWork(engine, Base.metadata, cipher=cipher, repositories=repositories),
                               cipher=cipher,
                               settings=IdentitySettings.from_config(config),
                               send_sms=lambda *args: sent.append(args))
    context.sent, context.url = sent, url
    clock.set_now(NOW)
    yield context
    clock.set_now(None)
    engine.dispose()


def test_notify_is_called_after_the_commit_with_the_only_plain_copy_of_the_code(ctx):
    seen = []

    def send_sms(phone, code, purpose, expires_at):
        other = create_engine(ctx.url)  # another connection sees only committed rows
        with other.connect() as conn:
            seen.append(conn.execute(text("SELECT code_hash FROM sms_challenges")).scalars().all())
        other.dispose()
        ctx.sent.append((phone, code, purpose, expires_at))

    ctx.send_sms = send_sms
    assert handlers.send_code(ctx, PHONE, "register", "10.0.0.1") == {"cooldown_seconds": 60,
                                                                       "expires_in_seconds": 300}
    [(phone, code, purpose, expires_at)] = ctx.sent
    assert (phone, purpose, expires_at) == (PHONE, "register", "2020-07-01T10:05:00.000+08:00")
    [[stored]] = seen
    assert code not in stored and len(stored) == 64


def test_notify_failure_keeps_the_challenge_and_says_so(ctx):
    def broken(*args):
        raise TimeoutError("notify did not answer")

    ctx.send_sms = broken
    with pytest.raises(handlers.SmsUnavailable) as caught:
        handlers.send_code(ctx, PHONE, "login", None)
    assert caught.value.http_status == 503 and caught.value.details == {"retry_after": 60}
    with ctx.uow() as uow:
        assert len(uow.session.scalars(select(SmsChallenge)).all()) == 1
    with pytest.raises(TooManyRequests):
        handlers.send_code(ctx, PHONE, "login", None)


def test_handlers_run_cpu_work_through_offload(ctx):
    calls = []

    def offload(fn, *args):
        calls.append(fn.__name__)
        return fn(*args)

    ctx.offload = offload
    handlers.send_code(ctx, PHONE, "register", None)
    handlers.register(ctx, PHONE, ctx.sent[-1][1], "Passw0rd!x")
    handlers.login(ctx, PHONE, password="Passw0rd!x")
    assert calls == ["hash", "verify"]


def test_register_then_duplicate_is_conflict_for_the_code_holder(ctx):
    handlers.send_code(ctx, PHONE, "register", None)
    code = ctx.sent[-1][1]
    handlers.register(ctx, PHONE, code, "Passw0rd!x")
    with pytest.raises(Conflict) as caught:
        handlers.register(ctx, PHONE, code, "Passw0rd!y")
    assert caught.value.code == "phone_registered" and caught.value.http_status == 409


def test_code_matches_without_changing_the_challenge():
    challenge = CodeChallenge("idx", "login", hash_code(b"k", "idx", "login", "123456"), NOW, NOW)
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


def test_lockout_reply_says_until_when(ctx):
    handlers.send_code(ctx, PHONE, "register", None)
    handlers.register(ctx, PHONE, ctx.sent[-1][1], "Passw0rd!x")
    for _ in range(4):
        with pytest.raises(DomainError) as caught:
            handlers.login(ctx, PHONE, password="wrong-Passw0rd")
        assert caught.value.code == "invalid_credentials"
    with pytest.raises(AccountLocked) as caught:
        handlers.login(ctx, PHONE, password="wrong-Passw0rd")
    assert "北京时间10:15" in caught.value.message


def _failure_count(ctx):
    with ctx.uow() as uow:
        return len(uow.session.scalars(select(LoginFailure.id)).all())


def test_successful_tries_leave_no_failure_behind(ctx):
    handlers.send_code(ctx, PHONE, "register", None)
    token = handlers.register(ctx, PHONE, ctx.sent[-1][1], "Passw0rd!x")["token"]
    with pytest.raises(ValidationFailed):
        handlers.change_password(ctx, token, "wrong-Passw0rd", "N3w-passw0rd")
    assert _failure_count(ctx) == 1
    handlers.change_password(ctx, token, "Passw0rd!x", "N3w-passw0rd")
    assert _failure_count(ctx) == 0
    with pytest.raises(DomainError):
        handlers.login(ctx, PHONE, password="Passw0rd!x")
    assert _failure_count(ctx) == 1
    handlers.login(ctx, PHONE, password="N3w-passw0rd")
    assert _failure_count(ctx) == 0
