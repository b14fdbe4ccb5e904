"""TOTP replay, recovery codes and the pending token of the staff second step (domain/second_factor.py)."""
from datetime import datetime, timedelta, timezone

import pyotp
import pytest

from services.contracts.errors import Unauthenticated, ValidationFailed
from services.identity.domain import second_factor as sf
from services.identity.domain.staff_roles import may_use_sms, needs_second_factor

KEY = b"test-key"
NOW = datetime(2020, 7, 1, 2, 0, 10, tzinfo=timezone.utc)


def code_at(secret, when):
    return pyotp.TOTP(secret).at(when)


def refused(code, fn):
    with pytest.raises(ValidationFailed) as caught:
        fn()
    assert caught.value.code == code
    return caught.value


def test_a_totp_code_works_once_and_only_forwards():
    secret = sf.new_secret()
    step = sf.accept_totp(secret, code_at(secret, NOW), NOW, None)
    assert step == sf.step_of(NOW)
    error = refused("second_factor_replayed", lambda: sf.accept_totp(secret, code_at(secret, NOW), NOW, step))
    assert "已使用过" in error.message
    # The previous step's code is older than the last one used: refused too.
    refused("second_factor_replayed", lambda: sf.accept_totp(secret, code_at(secret, NOW - timedelta(seconds=30)),
                                                              NOW, step))
    # The next one is fine (a second login within the same 30 seconds).
    assert sf.accept_totp(secret, code_at(secret, NOW + timedelta(seconds=30)), NOW, step) == step + 1


def test_drift_of_one_step_each_side_and_no_more():
    secret = sf.new_secret()
    sf.accept_totp(secret, code_at(secret, NOW - timedelta(seconds=30)), NOW, None)
    refused("second_factor_wrong", lambda: sf.accept_totp(secret, code_at(secret, NOW + timedelta(seconds=90)),
                                                           NOW, None))
    refused("second_factor_wrong", lambda: sf.accept_totp(secret, "12ab56", NOW, None))


def test_recovery_codes_are_ten_distinct_and_hashed_per_account():
    codes = sf.new_recovery_codes()
    assert len(codes) == 10 == len(set(codes)) and all(sf.looks_like_recovery_code(c) for c in codes)
    assert not sf.looks_like_recovery_code("123456")
    first = codes[0]
    assert sf.hash_recovery_code(KEY, "a", first) == sf.hash_recovery_code(KEY, "a", " " + first.upper())
    assert sf.hash_recovery_code(KEY, "a", first) != sf.hash_recovery_code(KEY, "b", first)
    assert first not in sf.hash_recovery_code(KEY, "a", first)


def test_the_pending_token_expires_and_dies_with_a_password_change():
    changed = NOW - timedelta(days=3)
    token = sf.new_pending_token(KEY, "acc-1", changed, NOW)
    assert sf.pending_account(KEY, token, NOW + timedelta(minutes=9))[0] == "acc-1"
    sf.check_pending(KEY, token, changed)
    with pytest.raises(Unauthenticated):
        sf.pending_account(KEY, token, NOW + sf.PENDING_TTL)
    with pytest.raises(Unauthenticated):
        sf.check_pending(KEY, token, NOW)  # the password changed since
    with pytest.raises(Unauthenticated):
        sf.check_pending(KEY, token.replace("acc-1", "acc-2"), changed)
    with pytest.raises(Unauthenticated):
        sf.pending_account(KEY, "garbage", NOW)


def test_every_staff_role_needs_the_second_factor_and_sms_only_by_policy():
    assert needs_second_factor(["reviewer"]) and needs_second_factor(["admin"]) and not needs_second_factor(["applicant"])
    assert not may_use_sms(["admin"], frozenset())
    assert may_use_sms(["admin"], frozenset({"admin"}))
    assert not may_use_sms(["admin", "security_admin"], frozenset({"admin"}))
