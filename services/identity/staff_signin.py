"""Staff sign-in after the password: the TOTP code (or a recovery code), enrolment, and the security
admin's reset. The rules are domain/second_factor.py's; no nameko, no SQLAlchemy here, as in handlers:
data through `uow.accounts`, `uow.second_factors`, `uow.sessions`, `uow.login_failures`, `uow.audit`;
the sign-in steps take the unit-of-work factory (the lockout's try is reserved in a unit of work of
its own), the reset and the audit views one unit of work (docs/architecture.md).

Decided (docs/signin.md): a staff member without TOTP enrols right after their first correct
password — the initial password is handed over in person by the security admin, and the same holds
after a reset. Every try at the second step counts towards the login lockout like a wrong password,
and the try reserved by the password step stays counted until the second factor is passed.
"""
import logging

from services.common import clock
from services.common.masking import mask_phone
from services.contracts.errors import Conflict, Forbidden, NotFound, ValidationFailed

from . import handlers
from .domain import second_factor, staff_roles
from .domain.records import TotpFactor

log = logging.getLogger("services.identity")


def complete_login(uow_factory, settings, pending_token, code):
    """The second step: a TOTP code, or one of the recovery codes; a session when it is right."""
    account, now = _reserve(uow_factory, settings, pending_token)
    refusal = None
    with uow_factory() as uow:
        factor = uow.second_factors.get(account.id, lock=True)
        if factor is None or factor.confirmed_at is None:
            raise Conflict("尚未设置身份验证器，请先完成设置", code="second_factor_not_enrolled")
        try:
            if second_factor.looks_like_recovery_code(code):
                _use_recovery_code(uow, settings, account.id, code, now)
                how = "recovery code"
            else:
                factor.last_step = second_factor.accept_totp(factor.secret, code, now, factor.last_step)
                uow.second_factors.save(factor)
                how = "totp"
        except ValidationFailed as exc:
            refusal = exc
        if refusal is None:
            uow.login_failures.clear_account(account.id, now)
            answer = handlers.open_session(uow, account, now)
    if refusal is not None:
        handlers.refuse_login(uow_factory, settings, account.id, now, refusal)
    log.info("account %s logged in by password and %s", account.id, how)
    return answer


def begin_enrolment(uow_factory, settings, pending_token):
    """{secret, otpauth_uri}: the same unconfirmed secret until it is confirmed (a reload shows the same QR)."""
    account, now = _pending(uow_factory, settings, pending_token)
    with uow_factory() as uow:
        factor = uow.second_factors.get(account.id)
        if factor is not None and factor.confirmed_at is not None:
            raise Conflict("已设置身份验证器，请直接输入动态验证码登录；如手机丢失，请联系安全管理员重置",
                           code="second_factor_enrolled")
        if factor is None:
            factor = TotpFactor(account_id=account.id, secret=second_factor.new_secret(), created_at=now)
            uow.second_factors.add(factor)
        secret = factor.secret
    label = mask_phone(account.phone)
    return {"secret": secret, "otpauth_uri": second_factor.provisioning_uri(secret, label)}


def confirm_enrolment(uow_factory, settings, pending_token, code):
    """The first code confirms the secret: a session and ten recovery codes, shown this once."""
    account, now = _reserve(uow_factory, settings, pending_token)
    refusal = None
    with uow_factory() as uow:
        factor = uow.second_factors.get(account.id, lock=True)
        if factor is None or factor.confirmed_at is not None:
            raise Conflict("请重新打开设置页面", code="second_factor_enrolment_stale")
        try:
            factor.last_step = second_factor.accept_totp(factor.secret, code, now, factor.last_step)
        except ValidationFailed as exc:
            refusal = exc
        if refusal is None:
            factor.confirmed_at = now
            uow.second_factors.save(factor)
            codes = second_factor.new_recovery_codes()
            uow.second_factors.replace_recovery_codes(account.id, [
                second_factor.hash_recovery_code(settings.code_key, account.id, c) for c in codes])
            uow.audit.record(account.id, "second_factor_enrolled", now, roles=account.roles, subject=account.id)
            uow.login_failures.clear_account(account.id, now)
            answer = handlers.open_session(uow, account, now)
    if refusal is not None:
        handlers.refuse_login(uow_factory, settings, account.id, now, refusal)
    log.info("account %s enrolled a TOTP second factor", account.id)
    return {**answer, "recovery_codes": codes}


def reset_second_factor(uow, principal, account_id, now):
    """The security admin clears someone's TOTP and recovery codes (lost phone); their sessions end
    and they enrol again at their next login. Recorded in the audit log (who, whom, when)."""
    staff_roles.require_may_reset_second_factor((principal or {}).get("roles"))
    if str(account_id) == str(principal.get("account_id")):  # with one's own stolen session and password,
        # a reset would let the thief enrol a device of theirs: another security admin does it
        raise Forbidden("不能重置自己的二次验证，请联系另一位安全管理员办理", code="own_second_factor")
    account = uow.accounts.get(account_id)
    if account is None or not staff_roles.needs_second_factor(account.roles):
        raise NotFound("工作人员账号不存在", code="account_not_found")
    uow.second_factors.remove(account.id)
    uow.sessions.revoke_all(account.id, now)
    uow.audit.record(principal.get("account_id"), "second_factor_reset", now,
                     roles=principal.get("roles") or (), subject=account.id)
    log.info("second factor of account %s reset by %s", account.id, principal.get("account_id"))
    return {"ok": True}


def security_events(uow, subject_id):
    """The audit log's entries about one account, oldest first (for the staff page and tests)."""
    return [{"at": clock.iso(r["at"]), "action": r["action"], "actor_id": r["actor"], "subject_id": r["subject"]}
            for r in uow.audit.about(subject_id)]


# What each audited action means, as the auditor reads it.
AUDIT_LABELS = {"second_factor_enrolled": "启用二次验证", "second_factor_reset": "重置工作人员二次验证"}


def audit_entries(uow, principal, filters):
    """This service's audit entries for the auditor (services.common.audit), newest first."""
    return uow.audit.entries(principal, filters, "identity", AUDIT_LABELS)


def _pending(uow_factory, settings, pending_token):
    now = clock.now()
    account_id, _ = second_factor.pending_account(settings.code_key, pending_token, now)
    with uow_factory() as uow:
        account = uow.accounts.get(account_id)
    if account is None:
        raise second_factor.expired()
    second_factor.check_pending(settings.code_key, pending_token, account.password_changed_at)
    return account, now


def _reserve(uow_factory, settings, pending_token):
    """_pending, and this try counted towards the lockout before the code is looked at."""
    account, _ = _pending(uow_factory, settings, pending_token)
    with uow_factory() as uow:
        if uow.accounts.get(account.id, lock=True) is None:
            raise NotFound("账号不存在", code="account_not_found")
        now = clock.now()  # read once the lock is held, as in login
        handlers.reserve_try(uow, settings, account.id, now)
    return account, now


def _use_recovery_code(uow, settings, account_id, code, now):
    wanted = second_factor.hash_recovery_code(settings.code_key, account_id, code)
    if not uow.second_factors.use_recovery_code(account_id, wanted, now):
        message = "恢复码不正确或已使用过；每个恢复码只能使用一次"
        raise ValidationFailed(message, code="recovery_code_wrong", details={"code": [message]})
