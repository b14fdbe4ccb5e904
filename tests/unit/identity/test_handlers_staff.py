"""Staff accounts and their sign-in (services/identity/staff.py, staff_signin.py) on a fake unit of
work: who may create and list them; after the password, TOTP enrolment (the same secret until
confirmed, ten recovery codes once) and the second step (a code once, a recovery code once), every
try counted towards the lockout."""
from datetime import timedelta

import pyotp
import pytest

from services.common import clock
from services.contracts.errors import Conflict, Forbidden, ValidationFailed
from services.identity import staff, staff_signin
from services.identity.domain.lockout import AccountLocked
from services.identity.domain.second_factor import STEP

from .fakes import NOW

PHONE, PASSWORD = "13700000002", "Staff-Passw0rd!"
SECURITY_ADMIN = {"account_id": "sec-1", "roles": ["security_admin"]}
ADMIN = {"account_id": "adm-1", "roles": ["admin"]}


def create(w, role="reviewer", principal=SECURITY_ADMIN, phone=PHONE):
    return staff.create_staff(w.uow, w.settings, phone, role, PASSWORD, principal)


def code_at(secret, moment):
    return pyotp.TOTP(secret).at(moment)


def enrolled(w):
    """A reviewer who enrolled at their first login: (account id, secret, recovery codes)."""
    account_id = create(w)["account_id"]
    pending = w.login(PHONE, password=PASSWORD)["pending_token"]
    secret = staff_signin.begin_enrolment(w.uow, w.settings, pending)["secret"]
    answer = staff_signin.confirm_enrolment(w.uow, w.settings, pending, code_at(secret, clock.now()))
    return account_id, secret, answer["recovery_codes"]


def test_the_security_admin_creates_any_staff_role_the_admin_only_reviewers(w):
    account_id = create(w, "auditor")["account_id"]
    stored = w.uow.accounts.get(account_id)
    assert stored.roles == ["auditor"] and stored.phone == PHONE and w.uow.published == []  # no AccountRegistered
    with pytest.raises(Forbidden):
        create(w, "auditor", ADMIN, phone="13700000003")
    assert create(w, "reviewer", ADMIN, phone="13700000003")["account_id"]
    with pytest.raises(Conflict) as caught:
        create(w, "reviewer", phone=PHONE)
    assert caught.value.code == "phone_registered" and len(w.uow.accounts.stored) == 2


def test_the_staff_list_shows_staff_in_masks_with_their_second_factor(w):
    w.uow.accounts.put("app-1", "13800000001", ["applicant"], NOW)
    account_id, _, _ = enrolled(w)
    answer = staff.list_staff(w.uow, SECURITY_ADMIN, frozenset())
    [member] = answer["staff"]
    assert (member["account_id"], member["roles"], member["phone_masked"]) == (account_id, ["reviewer"], "137****0002")
    assert member["totp_enrolled"] and member["second_factor"] and not member["sms_fallback"]
    assert member["last_seen_at"] == "2020-07-01T10:00:00.000+08:00"
    assert answer["may_reset_second_factor"] and "auditor" in answer["creatable_roles"]
    with pytest.raises(Forbidden):
        staff.list_staff(w.uow, {"account_id": "rev-9", "roles": ["reviewer"]}, frozenset())


def test_enrolment_shows_one_secret_until_confirmed_then_gives_a_session_and_ten_recovery_codes(w):
    account_id = create(w)["account_id"]
    pending = w.login(PHONE, password=PASSWORD)["pending_token"]
    first = staff_signin.begin_enrolment(w.uow, w.settings, pending)
    assert staff_signin.begin_enrolment(w.uow, w.settings, pending) == first  # a reload shows the same QR
    assert "137****0002" in first["otpauth_uri"].replace("%2A", "*")
    with pytest.raises(ValidationFailed):
        staff_signin.confirm_enrolment(w.uow, w.settings, pending, "000000" if code_at(first["secret"], NOW) != "000000"
                                       else "111111")
    answer = staff_signin.confirm_enrolment(w.uow, w.settings, pending, code_at(first["secret"], NOW))
    assert answer["token"] and len(answer["recovery_codes"]) == 10
    assert w.uow.second_factors.enrolled(account_id) and len(w.uow.second_factors.recovery_codes[account_id]) == 10
    assert w.uow.audit.actions() == ["second_factor_enrolled"] and w.uow.login_failures.accounts == []
    with pytest.raises(Conflict) as caught:
        staff_signin.confirm_enrolment(w.uow, w.settings, pending, code_at(first["secret"], NOW))
    assert caught.value.code == "second_factor_enrolment_stale"


def test_the_second_step_takes_a_code_once_and_a_recovery_code_once(w):
    account_id, secret, recovery = enrolled(w)
    clock.set_now(NOW + timedelta(seconds=STEP))
    answer = w.login(PHONE, password=PASSWORD)
    assert answer["second_factor"] == "totp"
    pending = answer["pending_token"]
    assert staff_signin.complete_login(w.uow, w.settings, pending, code_at(secret, clock.now()))["token"]
    with pytest.raises(ValidationFailed) as caught:  # the same step again: a code seen over a shoulder
        staff_signin.complete_login(w.uow, w.settings, pending, code_at(secret, clock.now()))
    assert caught.value.code == "second_factor_replayed"
    assert staff_signin.complete_login(w.uow, w.settings, pending, recovery[0])["token"]
    with pytest.raises(ValidationFailed) as caught:
        staff_signin.complete_login(w.uow, w.settings, pending, recovery[0])
    assert caught.value.code == "recovery_code_wrong"
    assert len(w.uow.sessions.live(account_id)) == 3  # enrolment, the code, the recovery code


def test_wrong_second_factor_codes_lock_the_account(w):
    _, secret, _ = enrolled(w)
    pending = w.login(PHONE, password=PASSWORD)["pending_token"]  # this try stays counted until the code
    wrong = "000000" if code_at(secret, NOW) != "000000" else "111111"
    for _ in range(3):
        with pytest.raises(ValidationFailed):
            staff_signin.complete_login(w.uow, w.settings, pending, wrong)
    with pytest.raises(AccountLocked):
        staff_signin.complete_login(w.uow, w.settings, pending, wrong)
    with pytest.raises(AccountLocked):
        staff_signin.complete_login(w.uow, w.settings, pending, code_at(secret, NOW + timedelta(seconds=STEP)))
