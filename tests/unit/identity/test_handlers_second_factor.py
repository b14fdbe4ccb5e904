"""The security admin's second-factor reset and the security events (services/identity/staff_signin.py)
on a fake unit of work: the reset clears the TOTP and recovery codes, ends the sessions and is
audited; a refused reset changes nothing (nobody resets their own: another security admin does)."""
from datetime import datetime, timezone

import pytest

from services.contracts.errors import Forbidden, NotFound
from services.identity import staff_signin
from services.identity.domain.records import TotpFactor

from .fakes import fake_uow

NOW = datetime(2020, 7, 1, 2, 0, tzinfo=timezone.utc)
SECURITY_ADMIN = {"account_id": "sec-1", "roles": ["security_admin"]}
AUDITOR = {"account_id": "aud-1", "roles": ["auditor"]}


def world():
    uow = fake_uow()
    uow.accounts.put("rev-1", "13700000002", ["reviewer"], NOW)
    uow.accounts.put("app-1", "13800000001", ["applicant"], NOW)
    uow.second_factors.add(TotpFactor(account_id="rev-1", secret="S" * 32, created_at=NOW, confirmed_at=NOW))
    uow.second_factors.replace_recovery_codes("rev-1", ["h1", "h2"])
    uow.sessions.open("rev-1", "token-hash-1", NOW)
    return uow


def reset(uow, principal, account_id):
    with uow:
        return staff_signin.reset_second_factor(uow, principal, account_id, NOW)


def test_the_reset_clears_the_factor_ends_the_sessions_and_is_audited():
    uow = world()
    assert reset(uow, SECURITY_ADMIN, "rev-1") == {"ok": True}
    assert uow.second_factors.get("rev-1") is None and "rev-1" not in uow.second_factors.recovery_codes
    assert uow.sessions.live("rev-1") == []
    [entry] = uow.audit.stored
    assert (entry["actor"], entry["action"], entry["subject"], entry["roles"]) == (
        "sec-1", "second_factor_reset", "rev-1", ["security_admin"])
    assert staff_signin.security_events(uow, "rev-1") == [
        {"at": "2020-07-01T10:00:00.000+08:00", "action": "second_factor_reset", "actor_id": "sec-1",
         "subject_id": "rev-1"}]
    [listed] = staff_signin.audit_entries(uow, AUDITOR, {})["entries"]
    assert listed["action_label"] == "重置工作人员二次验证"


@pytest.mark.parametrize(("principal", "account_id", "error"), [
    ({"account_id": "admin-1", "roles": ["admin"]}, "rev-1", Forbidden),  # only the security admin
    (SECURITY_ADMIN, "app-1", NotFound),  # an applicant has no second factor
    (SECURITY_ADMIN, "nobody", NotFound),
    ({"account_id": "rev-1", "roles": ["security_admin", "reviewer"]}, "rev-1", Forbidden),  # not one's own
])
def test_a_refused_reset_changes_nothing(principal, account_id, error):
    uow = world()
    with pytest.raises(error):
        reset(uow, principal, account_id)
    assert uow.second_factors.get("rev-1") is not None and len(uow.sessions.live("rev-1")) == 1
    assert uow.audit.stored == []
    with pytest.raises(Forbidden):
        staff_signin.audit_entries(uow, SECURITY_ADMIN, {})
