"""Staff sign-in on the real broker and database: password, then TOTP (enrolment at the first login),
recovery codes, no replay, the lockout, the security admin's reset and its record, the SMS fallback."""
from datetime import datetime, timedelta, timezone

import pytest

from services.contracts.errors import Conflict, Forbidden, TooManyRequests, Unauthenticated, ValidationFailed
from tests.support import staff_signin

T0 = datetime(2020, 7, 1, 2, 0, 5, tzinfo=timezone.utc)
PASSWORD = "Staff-passw0rd!"
PHONE = "13700000041"


def refused(exc_type, expected, call, *args, **kwargs):
    with pytest.raises(exc_type) as caught:
        call(*args, **kwargs)
    assert caught.value.code == expected
    return caught.value


def test_enrol_at_first_login_then_totp_without_replay(identity, api, frozen_clock):
    frozen_clock(T0)
    account_id = api.create_staff(PHONE, "admin", PASSWORD)["account_id"]
    refused(Unauthenticated, "invalid_credentials", api.login, PHONE, password="Wrong-passw0rd")
    refused(Unauthenticated, "password_required", api.login, PHONE, code="123456")
    first = api.login(PHONE, password=PASSWORD)
    assert first["second_factor"] == "enrol" and "token" not in first
    shown = api.begin_enrolment(first["pending_token"])
    assert api.begin_enrolment(first["pending_token"]) == shown  # a reload shows the same QR code
    assert shown["otpauth_uri"].startswith("otpauth://totp/") and shown["secret"] in shown["otpauth_uri"]
    refused(ValidationFailed, "second_factor_wrong", api.confirm_enrolment, first["pending_token"], "000000")
    staff_signin.remember(PHONE, shown["secret"])
    used = staff_signin.code(shown["secret"])
    enrolled = api.confirm_enrolment(first["pending_token"], used)
    assert enrolled["principal"]["roles"] == ["admin"] and api.authenticate(enrolled["token"])["account_id"] == account_id
    recovery = enrolled["recovery_codes"]
    assert len(set(recovery)) == 10

    frozen_clock(T0 + timedelta(seconds=10))  # the same 30-second step
    again = api.login(PHONE, password=PASSWORD)
    assert again["second_factor"] == "totp"
    refused(Conflict, "second_factor_enrolled", api.begin_enrolment, again["pending_token"])
    error = refused(ValidationFailed, "second_factor_replayed", api.complete_login, again["pending_token"], used)
    assert "已使用过" in error.message
    assert api.complete_login(again["pending_token"], staff_signin.code(shown["secret"]))["token"]

    # A recovery code works once.
    third = api.login(PHONE, password=PASSWORD)
    assert api.complete_login(third["pending_token"], recovery[0].upper())["token"]
    refused(ValidationFailed, "recovery_code_wrong", api.complete_login, third["pending_token"], recovery[0])


def test_guessing_the_code_runs_into_the_lockout(identity, api, frozen_clock):
    frozen_clock(T0)
    api.create_staff(PHONE, "reviewer", PASSWORD)
    staff_signin.via_rpc(api, PHONE, PASSWORD)
    pending = api.login(PHONE, password=PASSWORD)["pending_token"]
    codes = []
    for _ in range(8):
        try:
            api.complete_login(pending, "000000")
        except (ValidationFailed, TooManyRequests) as exc:
            codes.append(exc.code)
    assert codes[0] == "second_factor_wrong" and codes[-1] == "account_locked"
    refused(TooManyRequests, "account_locked", api.login, PHONE, password=PASSWORD)


def test_the_security_admin_resets_a_lost_factor_and_it_is_recorded(identity, api, frozen_clock):
    frozen_clock(T0)
    security = api.create_staff("13700000042", "security_admin", PASSWORD)
    admin = api.create_staff("13700000043", "admin", PASSWORD)
    reviewer = api.create_staff(PHONE, "reviewer", PASSWORD)
    session = staff_signin.via_rpc(api, PHONE, PASSWORD)
    who = {"account_id": admin["account_id"], "roles": ["admin"]}
    refused(Forbidden, "forbidden", api.reset_second_factor, who, reviewer["account_id"])
    frozen_clock(T0 + timedelta(minutes=5))
    boss = {"account_id": security["account_id"], "roles": ["security_admin"]}
    assert api.reset_second_factor(boss, reviewer["account_id"]) == {"ok": True}
    refused(Unauthenticated, "unauthenticated", api.authenticate, session["token"])  # sessions ended
    assert api.login(PHONE, password=PASSWORD)["second_factor"] == "enrol"
    events = api.security_events(reviewer["account_id"])
    assert [(e["action"], e["actor_id"]) for e in events] == [
        ("second_factor_enrolled", reviewer["account_id"]), ("second_factor_reset", security["account_id"])]
    assert events[-1]["at"].startswith("2020-07-01T10:05")
    # The auditor reads them in the platform's audit log, beside registration's and review's.
    log = api.audit_entries({"account_id": "auditor-1", "roles": ["auditor"]}, {"action": "second_factor_reset"})
    assert [(e["source"], e["actor"], e["subject"], e["action_label"]) for e in log["entries"]] == [
        ("identity", security["account_id"], reviewer["account_id"], "重置工作人员二次验证")]
    refused(Forbidden, "auditor_only", api.audit_entries, boss, {})


def test_sms_stays_only_where_policy_allows(start_identity, frozen_clock):
    frozen_clock(T0)
    harness = start_identity(STAFF_SMS_FALLBACK_ROLES="admin")
    with harness.rpc() as api:
        api.create_staff(PHONE, "admin", PASSWORD)
        refused(Unauthenticated, "second_factor_required", api.login, PHONE, password=PASSWORD)
        api.send_code(PHONE, "admin_login", None)
        answer = api.login(PHONE, password=PASSWORD, code=harness.code_for(PHONE, "admin_login"))
        assert answer["principal"]["roles"] == ["admin"]
        api.create_staff("13700000044", "auditor", PASSWORD)  # not listed: TOTP
        assert api.login("13700000044", password=PASSWORD)["second_factor"] == "enrol"
