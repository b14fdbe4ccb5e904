"""The identity service layer: one function per command, over units of work and adapters.

No nameko here. Each function takes a `Context`: how to open a unit of work, the cipher, the
settings (hasher, verifier, policies), how to hand a code to the notify service and how to run
CPU-heavy work off the event loop (`eventlet.tpool.execute` in the service, inline elsewhere).

Rules kept here, beside the pure ones in `domain/`:
- no network I/O inside a unit of work: the code goes to notify after the commit, the external
  verifier is asked between two units of work;
- a refused SMS code still counts its try: the refusal is returned from inside the unit of work,
  which commits, and raised after it;
- a login reserves its try (a failure row) before the password is checked, so concurrent guesses
  cannot outrun the lockout; a success clears the failures;
- nothing personal is logged or published in full: masks only.
"""
import logging
import math
import secrets
import string
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Callable
from uuid import uuid4

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError

from services.common import clock
from services.common.idnumbers import ID_TYPE_LABELS, RESIDENT_ID, parse_id
from services.common.masking import mask_id_number, mask_name, mask_phone
from services.contracts.errors import (
    Conflict,
    DomainError,
    NotFound,
    Unauthenticated,
    ValidationFailed,
)
from services.contracts.events import new_event
from services.contracts.roles import APPLICANT

from . import captchas
from .adapters.verifier import VerifierUnavailable
from .clients import client_of
from .domain import (
    lockout,
    passwords,
    second_factor,
    sessions,
    sms_codes,
    sms_limits,
    staff_roles,
    verification,
)
from .domain.names import check_name
from .domain.phones import check_phone
from .models import (
    ID_NUMBER,
    NAME,
    PHONE,
    Account,
    Identity,
    LoginFailure,
    PhoneLoginFailure,
    SmsChallenge,
    StaffTotp,
    VerificationAttempt,
)
from .settings import IdentitySettings

log = logging.getLogger("services.identity")

# A lock replays the failures since the last success; older ones cannot change today's answer.
FAILURE_HORIZON = timedelta(hours=24)
MAX_TOKEN_LENGTH = 200


class SmsUnavailable(DomainError):
    http_status = 503
    code = "sms_unavailable"


def _inline(fn, *args, **kwargs):
    return fn(*args, **kwargs)


@dataclass
class Context:
    uow: Callable[[], Any]  # opens a services.common.db.UnitOfWork
    cipher: Any  # services.common.crypto.DataCipher
    settings: IdentitySettings
    send_sms: Callable | None = None  # (phone, code, purpose, expires_at_iso); notify.send_code
    offload: Callable = _inline  # eventlet.tpool.execute in the service

    def phone_index(self, phone):
        return self.cipher.blind_index(phone, PHONE)


# --- SMS codes -------------------------------------------------------------------------------

def send_code(ctx, phone, purpose, client_ip=None, device=None, captcha=None):
    """Issue a code and hand it to notify; the answer never depends on whether the phone has an account.

    client_ip, device: who asks (clients.py; limits in domain/sms_limits.py). captcha: {captcha_id,
    captcha_answer} when a human check was asked for (captchas.py).
    """
    phone = check_phone(phone)
    sms_codes.check_purpose(purpose)
    policy = ctx.settings.sms_policy
    now = clock.now()
    index = ctx.phone_index(phone)
    client = client_of(ctx.cipher, client_ip, device)
    day_start = sms_codes.beijing_day_start(now)
    refusal = None
    with ctx.uow() as uow:
        since = min(day_start, now - policy.resend_cooldown)
        rows = uow.session.scalars(select(SmsChallenge).where(SmsChallenge.phone_index == index,
                                                               SmsChallenge.created_at >= since)).all()
        mine = [_challenge(row) for row in rows if row.client_index == client.index]
        today = [row for row in rows if row.created_at >= day_start]
        counts = sms_limits.Counts(
            client=sum(row.client_index == client.index for row in today),
            phone_address=sum(row.client_ip_index == client.address_index for row in today)
            if client.address_index else sum(row.client_index == client.index for row in today),
            phone=len(today),
            device=_count_today(uow, SmsChallenge.device_index, client.device_index, day_start),
            address=_count_today(uow, SmsChallenge.client_ip_index, client.address_index, day_start))
        challenge, code = sms_codes.issue(policy, index, purpose, mine, now, ctx.settings.code_key)
        until_tomorrow = _seconds(day_start + timedelta(days=1) - now)
        verdict = sms_limits.decide(ctx.settings.sms_limits, counts, until_tomorrow,
                                    sms_codes.wait_text(until_tomorrow))
        if verdict == sms_limits.CHECK:
            refusal = captchas.check(ctx, uow, captcha, index, client.index, now)
        if refusal is None:
            uow.session.add(SmsChallenge(
                phone_index=index, purpose=purpose, code_hash=challenge.code_hash, client_ip_index=client.address_index,
                device_index=client.device_index, client_index=client.index,
                created_at=challenge.created_at, expires_at=challenge.expires_at, attempts=0))
    if refusal is not None:  # committed: a refused challenge stays spent
        raise captchas.with_new_challenge(ctx, refusal, phone, index, client.index, now, log)
    # Committed: now the network. The stored challenge counts towards cooldown and caps even if
    # notify fails (it may have sent the SMS before failing to answer).
    try:
        ctx.send_sms(phone, code, purpose, clock.iso(challenge.expires_at))
    except DomainError:
        raise
    except Exception as exc:  # noqa: BLE001 — notify away or slow: say so, keep the challenge
        log.warning("verification code (%s) for %s not handed to notify: %s", purpose, mask_phone(phone),
                    type(exc).__name__)
        wait = _seconds(policy.resend_cooldown)
        raise SmsUnavailable(f"短信发送暂时失败，请{wait}秒后重新获取验证码", details={"retry_after": wait}) from None
    log.info("verification code (%s) sent to %s", purpose, mask_phone(phone))
    return {"cooldown_seconds": _seconds(policy.resend_cooldown), "expires_in_seconds": _seconds(policy.ttl)}


def _count_today(uow, column, value, day_start):
    if value is None:
        return 0
    return uow.session.scalar(select(func.count()).select_from(SmsChallenge).where(
        column == value, SmsChallenge.created_at >= day_start))


# --- accounts and sessions -------------------------------------------------------------------

def register(ctx, phone, code, password, client_ip=None):
    """Create an applicant account from phone + register code + password; logged in at once."""
    phone = check_phone(phone)
    passwords.check_strength(password, phone=phone)
    password_hash = ctx.offload(ctx.settings.hasher.hash, password)
    now = clock.now()
    index = ctx.phone_index(phone)
    try:
        with ctx.uow() as uow:
            row = _challenge_row(uow, index, sms_codes.REGISTER, now, ctx.settings.sms_policy)
            existing = _account_by_index(uow, index)
            if existing is not None and row is not None and sms_codes.matches(
                    _challenge(row), code, ctx.settings.code_key, ctx.settings.sms_policy):
                # The code's holder (a second click, a second device) learns what they may know.
                raise _phone_taken()
            refusal = _check_code(ctx, row, code, sms_codes.REGISTER, now)
            if refusal is None:
                if existing is not None:
                    raise _phone_taken()
                account = Account(id=str(uuid4()), phone_enc=ctx.cipher.encrypt(phone, PHONE), phone_index=index,
                                  password_hash=password_hash, roles=APPLICANT, created_at=now,
                                  password_changed_at=now)
                uow.session.add(account)
                uow.session.flush()  # the unique phone index refuses a concurrent twin here
                token = _open_session(uow, account.id, now)
                uow.publish(new_event("AccountRegistered", account.id, {
                    "account_id": account.id, "phone_masked": mask_phone(phone),
                    "registered_at": clock.iso(now)}, time=now))
    except IntegrityError:
        raise _phone_taken() from None
    if refusal is not None:
        raise refusal
    log.info("account %s registered for %s", account.id, mask_phone(phone))
    return {"account_id": account.id, "token": token,
            "principal": _principal(ctx, account.id, account.role_list, account.phone_enc, None)}


def login(ctx, phone, password=None, code=None, client_ip=None):
    """Applicants: password or SMS code (purpose login). Staff: the password, then the second factor
    (second_factor.py): the answer is then a pending token, not a session. Staff whose roles are all
    in STAFF_SMS_FALLBACK_ROLES and who have no TOTP yet may use password + admin_login code instead."""
    phone = check_phone(phone)
    if not password and not code:
        message = "请输入密码或短信验证码"
        raise ValidationFailed(message, code="credentials_required", details={"password": [message]})
    index = ctx.phone_index(phone)
    with ctx.uow() as uow:
        account = _account_by_index(uow, index, lock=True)
        now = clock.now()  # read once the lock is held: a concurrent try's failure is not "in the future"
        staff = account is not None and staff_roles.needs_second_factor(account.role_list)
        enrolled = staff and _totp_enrolled(uow, account.id)
        by_sms = staff and not enrolled and staff_roles.may_use_sms(account.role_list,
                                                                    ctx.settings.sms_fallback_roles)
        if by_sms and not (password and code):
            message = "管理员登录需要同时输入密码和短信验证码（获取验证码时选择“管理员登录”）"
            raise Unauthenticated(message, code="second_factor_required", details={"sms_code": [message]})
        if staff and not password:
            message = "工作人员请输入密码，再输入身份验证器中的动态验证码"
            raise Unauthenticated(message, code="password_required", details={"password": [message]})
        if account is not None:
            _reserve_try(ctx, uow, account.id, now)
        else:  # counted and locked alike, so the answers do not tell registered phones apart
            _reserve_phone_try(ctx, uow, index, now)
    refusal = None
    if by_sms or (not staff and not password):  # the code first: without it, the password is not even tried
        refusal = _use_code(ctx, index, code, sms_codes.ADMIN_LOGIN if by_sms else sms_codes.LOGIN, now)
    if refusal is None and password:
        if not _password_ok(ctx, account, password):
            refusal = Unauthenticated("手机号或密码不正确", code="invalid_credentials",
                                      details={"password": ["手机号或密码不正确"]})
    if account is None:
        if refusal is not None:
            _refuse_phone_login(ctx, index, now, refusal)
        with ctx.uow() as uow:  # the code holder owns the phone: their try was no guess
            _clear_phone_failures(uow, index, now)
        raise NotFound("该手机号尚未注册，请先注册账号", code="account_not_found")
    if refusal is not None:
        _refuse_login(ctx, account.id, now, refusal)
    new_hash = None
    if password and ctx.settings.hasher.needs_rehash(account.password_hash):
        new_hash = ctx.offload(ctx.settings.hasher.hash, password)
    if staff and not by_sms:
        # The reserved try stays a failure until the second factor is passed: a stolen password
        # cannot reset the lockout between guesses at the TOTP code.
        if new_hash:
            with ctx.uow() as uow:
                uow.session.execute(update(Account).where(Account.id == account.id).values(password_hash=new_hash))
        log.info("account %s: password accepted, second factor (%s) next", account.id,
                 "totp" if enrolled else "enrolment")
        return {"account_id": account.id, "second_factor": "totp" if enrolled else "enrol",
                "pending_token": second_factor.new_pending_token(ctx.settings.code_key, account.id,
                                                                 account.password_changed_at, now),
                "expires_in_seconds": _seconds(second_factor.PENDING_TTL)}
    with ctx.uow() as uow:
        _clear_failures(uow, account.id, now)
        if new_hash:
            uow.session.execute(update(Account).where(Account.id == account.id).values(password_hash=new_hash))
        answer = open_session(ctx, uow, account, now)
    log.info("account %s logged in by %s", account.id, "password and code" if by_sms else
             ("password" if password else "code"))
    return answer


def open_session(ctx, uow, account, now):
    """The answer of a successful login: a new session and the principal."""
    token = _open_session(uow, account.id, now)
    identity = uow.session.get(Identity, account.id)
    return {"account_id": account.id, "token": token,
            "principal": _principal(ctx, account.id, account.role_list, account.phone_enc, identity)}


def _totp_enrolled(uow, account_id):
    return uow.session.scalar(select(StaffTotp.confirmed_at).where(StaffTotp.account_id == account_id)) is not None


def authenticate(uow, token, session_policy, touch_interval, now):
    """The principal of a live session: one indexed query, last_seen written at most once a minute
    (`touch_interval`). The unit-of-work form (docs/architecture.md)."""
    found = _live_session(uow, token, now, session_policy)
    if now - found.last_seen_at >= touch_interval:
        uow.sessions.touch(found.id, now)
    return principal_view(found.account_id, found.roles, found.phone, found.level, found.name, found.id_number)


def logout(uow, token, now):
    if token and isinstance(token, str) and len(token) <= MAX_TOKEN_LENGTH:
        uow.sessions.revoke(sessions.hash_token(token), now)
    return {"ok": True}


def change_password(ctx, token, old_password, new_password):
    """Needs a live session and the old password; every session of the account ends."""
    now = clock.now()
    with ctx.uow() as uow:
        row = _live_session(uow, token, now, ctx.settings.session_policy)
    passwords.check_strength(new_password, phone=row.phone, id_number=row.id_number)
    with ctx.uow() as uow:
        account = _account_by_id(uow, row.account_id, lock=True)
        now = clock.now()  # read once the lock is held, as in login
        _reserve_try(ctx, uow, account.id, now)
    if not _password_ok(ctx, account, old_password):
        message = "原密码不正确"
        _refuse_login(ctx, account.id, now, ValidationFailed(message, code="wrong_password",
                                                             details={"old_password": [message]}))
    new_hash = ctx.offload(ctx.settings.hasher.hash, new_password)
    with ctx.uow() as uow:
        _set_password(uow, account.id, new_hash, now)
        _clear_failures(uow, account.id, now)  # the reserved try succeeded
    log.info("account %s changed its password; all sessions ended", account.id)
    return {"ok": True}


def reset_password(ctx, phone, code, new_password):
    """By SMS code (purpose reset_password); ends every session and any login lock."""
    phone = check_phone(phone)
    passwords.check_strength(new_password, phone=phone)
    new_hash = ctx.offload(ctx.settings.hasher.hash, new_password)
    now = clock.now()
    index = ctx.phone_index(phone)
    with ctx.uow() as uow:
        row = _challenge_row(uow, index, sms_codes.RESET_PASSWORD, now, ctx.settings.sms_policy)
        refusal = _check_code(ctx, row, code, sms_codes.RESET_PASSWORD, now)
        if refusal is None:
            account = _account_by_index(uow, index, lock=True)
            if account is None:  # only the code's holder gets here
                raise NotFound("该手机号尚未注册，请先注册账号", code="account_not_found")
            identity = uow.session.get(Identity, account.id)
            if identity is not None:
                # Raised inside: rolls back, so the code stays usable for a stronger password.
                passwords.check_strength(new_password, phone=phone,
                                         id_number=ctx.cipher.decrypt(identity.id_number_enc, ID_NUMBER))
            _set_password(uow, account.id, new_hash, now)
            _clear_failures(uow, account.id, now)
    if refusal is not None:
        raise refusal
    log.info("account %s reset its password by SMS code; all sessions ended", account.id)
    return {"ok": True}


def create_staff(ctx, phone, role, password):
    staff_roles.check_role(role)
    phone = check_phone(phone)
    passwords.check_strength(password, phone=phone)
    password_hash = ctx.offload(ctx.settings.hasher.hash, password)
    now = clock.now()
    index = ctx.phone_index(phone)
    conflict = Conflict("该手机号已有账号，工作人员账号请使用另一个手机号", code="phone_registered",
                        details={"phone": ["该手机号已有账号"]})
    try:
        with ctx.uow() as uow:
            if _account_by_index(uow, index) is not None:
                raise conflict
            account = Account(id=str(uuid4()), phone_enc=ctx.cipher.encrypt(phone, PHONE), phone_index=index,
                              password_hash=password_hash, roles=role, created_at=now, password_changed_at=now)
            uow.session.add(account)
    except IntegrityError:
        raise conflict from None
    # No AccountRegistered: its SMS invites an applicant to verify and apply, not staff.
    log.info("staff account %s created as %s for %s", account.id, role, mask_phone(phone))
    return {"account_id": account.id}


def generate_password(length=16):
    """A random password that passes check_strength (for create-staff without --password)."""
    alphabet = string.ascii_letters + string.digits + "!@#%^&*-_=+?"
    while True:
        candidate = "".join(secrets.choice(alphabet) for _ in range(length))
        try:
            passwords.check_strength(candidate)
        except ValidationFailed:
            continue
        return candidate


# --- real-name verification -----------------------------------------------------------------

def verify_identity(ctx, account_id, name, id_type, id_number):
    """Local rules, one account per ID, ≤ 5 attempts per 6 h, then the verifier; the level stored as reached."""
    now = clock.now()
    id_type = str(id_type or RESIDENT_ID).strip().upper()
    with ctx.uow() as uow:
        _account_by_id(uow, account_id)
        existing = uow.session.get(Identity, account_id)
    if existing is not None:
        if _same_identity(ctx, existing, name, id_type, id_number, now):
            return _identity_answer(existing.level, ctx.cipher.decrypt(existing.name_enc, NAME),
                                    ctx.cipher.decrypt(existing.id_number_enc, ID_NUMBER))  # a second click
        raise _already_verified()
    if id_type not in ctx.settings.id_types:
        accepted = "、".join(ID_TYPE_LABELS[t] for t in sorted(ctx.settings.id_types) if t in ID_TYPE_LABELS)
        message = f"目前仅支持使用{accepted}进行实名认证"
        raise ValidationFailed(message, code="id_type_not_accepted", details={"id_type": [message]})
    document = parse_id(id_type, id_number, now)
    name = check_name(name, id_type)
    id_index = ctx.cipher.blind_index(document.number, ID_NUMBER)
    with ctx.uow() as uow:
        _account_by_id(uow, account_id, lock=True)  # one attempt of this account at a time
        now = clock.now()  # read once the lock is held: a concurrent attempt is not "in the future"
        counted = uow.session.scalars(select(VerificationAttempt.attempted_at).where(
            VerificationAttempt.account_id == account_id,
            VerificationAttempt.attempted_at > now - ctx.settings.attempt_policy.window,
            VerificationAttempt.outcome != "unavailable")).all()
        verification.ensure_attempt_allowed(counted, now, ctx.settings.attempt_policy)
        attempt = VerificationAttempt(account_id=account_id, attempted_at=now, outcome="pending")
        uow.session.add(attempt)
        owner = uow.session.scalar(select(Identity.account_id).where(Identity.id_index == id_index))
        refusal = None
        if owner is not None and owner != account_id:
            attempt.outcome = "id_taken"
            refusal = _id_taken()
    if refusal is not None:
        log.info("account %s: identity %s already verified on another account", account_id,
                 mask_id(document.number))
        raise refusal
    try:
        result = ctx.settings.verifier.verify(name, id_type, document.number)
    except VerifierUnavailable as exc:
        log.warning("identity verifier unavailable for account %s: %s", account_id, exc.cause)
        _attempt_outcome(ctx, attempt.id, "unavailable")
        raise
    if not result.ok:
        _attempt_outcome(ctx, attempt.id, "mismatch")
        log.info("account %s: verifier says name and %s do not match", account_id, mask_id(document.number))
        raise ValidationFailed(result.reason, code="identity_mismatch", details={"name": [result.reason]})
    try:
        with ctx.uow() as uow:
            uow.session.add(Identity(account_id=account_id, id_type=id_type, id_index=id_index,
                                     id_number_enc=ctx.cipher.encrypt(document.number, ID_NUMBER),
                                     name_enc=ctx.cipher.encrypt(name, NAME), level=result.level, verified_at=now))
            uow.session.flush()  # the unique ID index refuses a concurrent twin here
            uow.session.execute(update(VerificationAttempt).where(VerificationAttempt.id == attempt.id)
                                .values(outcome="verified"))
            uow.publish(new_event("IdentityVerified", account_id, {
                "account_id": account_id, "id_type": id_type, "id_number_masked": mask_id(document.number),
                "name_masked": mask_name(name), "level": result.level, "verified_at": clock.iso(now)}, time=now))
    except IntegrityError:
        with ctx.uow() as uow:
            mine = uow.session.get(Identity, account_id)
        if mine is not None and mine.id_index == id_index:  # this account's own second click won
            _attempt_outcome(ctx, attempt.id, "verified")
            return _identity_answer(mine.level, ctx.cipher.decrypt(mine.name_enc, NAME), document.number)
        _attempt_outcome(ctx, attempt.id, "id_taken")
        raise (_id_taken() if mine is None else _already_verified()) from None
    log.info("account %s verified as %s (%s)", account_id, mask_id(document.number), result.level)
    return _identity_answer(result.level, name, document.number)


def _same_identity(ctx, existing, name, id_type, id_number, now):
    try:
        document = parse_id(id_type, id_number, now)
        name = check_name(name, id_type)
    except ValidationFailed:
        return False
    return (existing.id_type == id_type and existing.id_index == ctx.cipher.blind_index(document.number, ID_NUMBER)
            and ctx.cipher.decrypt(existing.name_enc, NAME) == name)


def identity_of(uow, account_id):
    """The verified identity in full, for services only (registration pre-fills the form with it)."""
    identity = uow.identities.get(account_id)
    if identity is None:
        raise NotFound("该账号尚未完成实名认证", code="identity_not_verified")
    number = identity.id_number
    try:
        document = parse_id(identity.id_type, number, identity.verified_at)
        birth_date, gender = document.birth_date, document.gender
    except ValidationFailed:  # a rule tightened since: the stored number stands, the derived fields do not
        birth_date = gender = None
    return {"name": identity.name, "id_type": identity.id_type, "id_number": number,
            "gender": gender, "birth_date": birth_date.isoformat() if birth_date else None,
            "level": identity.level, "verified_at": clock.iso(identity.verified_at)}


def contact_of(uow, account_id):
    account = uow.accounts.get(account_id)
    if account is None:
        raise NotFound("账号不存在", code="account_not_found")
    return {"phone": account.phone}


# --- helpers ------------------------------------------------------------------------------------

def _challenge(row):
    return sms_codes.CodeChallenge(phone_index=row.phone_index, purpose=row.purpose, code_hash=row.code_hash,
                                   created_at=row.created_at, expires_at=row.expires_at,
                                   attempts=row.attempts, used_at=row.used_at)


def _challenge_row(uow, phone_index, purpose, now, policy):
    """The newest challenge of this purpose (locked); else the newest live one of another purpose,
    so a code asked for another operation is refused as such; None when there is none."""
    newest = (select(SmsChallenge).where(SmsChallenge.phone_index == phone_index)
              .order_by(SmsChallenge.created_at.desc(), SmsChallenge.id.desc()).limit(1))
    row = uow.session.scalar(newest.where(SmsChallenge.purpose == purpose).with_for_update())
    if row is None:
        row = uow.session.scalar(newest.where(SmsChallenge.created_at > now - policy.ttl))
    return row


def _check_code(ctx, row, code, purpose, now):
    """None when the code is accepted (and now used); else the refusal. The row keeps the try.

    A used code is "used" only to whoever types it; to anyone else it is as if there were none,
    since a registered phone always has a used register code and an unknown one has none.
    """
    if row is None or (row.used_at is not None and not sms_codes.matches(
            _challenge(row), code, ctx.settings.code_key, ctx.settings.sms_policy)):
        message = "请先获取短信验证码"
        return ValidationFailed(message, code="sms_code_missing", details={"sms_code": [message]})
    challenge = _challenge(row)
    try:
        sms_codes.verify(challenge, code, purpose, now, ctx.settings.code_key, ctx.settings.sms_policy)
        refusal = None
    except ValidationFailed as exc:
        refusal = exc
    row.attempts, row.used_at = challenge.attempts, challenge.used_at
    return refusal


def _use_code(ctx, phone_index, code, purpose, now):
    with ctx.uow() as uow:
        row = _challenge_row(uow, phone_index, purpose, now, ctx.settings.sms_policy)
        return _check_code(ctx, row, code, purpose, now)


def _account_by_index(uow, phone_index, lock=False):
    query = select(Account).where(Account.phone_index == phone_index)
    return uow.session.scalar(query.with_for_update() if lock else query)


def _account_by_id(uow, account_id, lock=False):
    query = select(Account).where(Account.id == str(account_id))
    account = uow.session.scalar(query.with_for_update() if lock else query)
    if account is None:
        raise NotFound("账号不存在", code="account_not_found")
    return account


def _failures(uow, account_id, now):
    return uow.session.scalars(select(LoginFailure.failed_at).where(
        LoginFailure.account_id == account_id, LoginFailure.failed_at > now - FAILURE_HORIZON)).all()


def _reserve_try(ctx, uow, account_id, now):
    """Refuse while locked; else count this try as a failure until it succeeds (account row locked)."""
    lockout.ensure_not_locked(_failures(uow, account_id, now), now, ctx.settings.lockout_policy)
    uow.session.add(LoginFailure(account_id=account_id, failed_at=now))


def _refuse_login(ctx, account_id, now, refusal):
    """The reserved try stays a failure: say until when when it just locked the account."""
    with ctx.uow() as uow:
        failures = _failures(uow, account_id, now)
    log.info("account %s: login refused (%s)", account_id, refusal.code)
    lockout.ensure_not_locked(failures, now, ctx.settings.lockout_policy)
    raise refusal


def _phone_failures(uow, phone_index, now):
    return uow.session.scalars(select(PhoneLoginFailure.failed_at).where(
        PhoneLoginFailure.phone_index == phone_index, PhoneLoginFailure.failed_at > now - FAILURE_HORIZON)).all()


def _reserve_phone_try(ctx, uow, phone_index, now):
    """_reserve_try for a phone without an account; forgets what is older than FAILURE_HORIZON."""
    uow.session.execute(delete(PhoneLoginFailure).where(PhoneLoginFailure.failed_at <= now - FAILURE_HORIZON))
    lockout.ensure_not_locked(_phone_failures(uow, phone_index, now), now, ctx.settings.lockout_policy)
    uow.session.add(PhoneLoginFailure(phone_index=phone_index, failed_at=now))


def _refuse_phone_login(ctx, phone_index, now, refusal):
    with ctx.uow() as uow:
        failures = _phone_failures(uow, phone_index, now)
    lockout.ensure_not_locked(failures, now, ctx.settings.lockout_policy)
    raise refusal


def _clear_phone_failures(uow, phone_index, now):
    uow.session.execute(delete(PhoneLoginFailure).where(PhoneLoginFailure.phone_index == phone_index,
                                                        PhoneLoginFailure.failed_at <= now))


def _clear_failures(uow, account_id, now):
    uow.session.execute(delete(LoginFailure).where(LoginFailure.account_id == account_id,
                                                   LoginFailure.failed_at <= now))


def _password_ok(ctx, account, password):
    hasher = ctx.settings.hasher
    if account is None or not account.password_hash:
        return ctx.offload(hasher.dummy_verify, password or "")  # the time of a real check
    return ctx.offload(hasher.verify, account.password_hash, password or "")


def _set_password(uow, account_id, password_hash, now):
    uow.session.execute(update(Account).where(Account.id == account_id)
                        .values(password_hash=password_hash, password_changed_at=now))
    uow.sessions.revoke_all(account_id, now)


def _open_session(uow, account_id, now):
    plain, token_hash = sessions.new_token()
    uow.sessions.open(account_id, token_hash, now)
    return plain


def _live_session(uow, token, now, session_policy):
    """The session record of a live token, else Unauthenticated."""
    if not token or not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH:
        raise _session_dead()
    found = uow.sessions.by_token(sessions.hash_token(token))
    if found is None or not sessions.is_alive(found.created_at, found.last_seen_at, found.revoked_at, now,
                                              session_policy):
        raise _session_dead()
    return found


def principal_view(account_id, roles, phone, level=None, name=None, id_number=None):
    """Who is asking, as every service receives it: masks only; `level` None when not verified."""
    verified = level is not None
    return {
        "account_id": account_id,
        "roles": list(roles),
        "verified": verified,
        "verification_level": level,
        "name_masked": mask_name(name) if verified else None,
        "id_number_masked": mask_id(id_number) if verified else None,
        "phone_masked": mask_phone(phone),
    }


def _principal(ctx, account_id, roles, phone_enc, identity):
    """principal_view of stored (encrypted) values; identity: an Identity row or None."""
    if identity is None:
        return principal_view(account_id, roles, ctx.cipher.decrypt(phone_enc, PHONE))
    return principal_view(account_id, roles, ctx.cipher.decrypt(phone_enc, PHONE), identity.level,
                          ctx.cipher.decrypt(identity.name_enc, NAME),
                          ctx.cipher.decrypt(identity.id_number_enc, ID_NUMBER))


def _identity_answer(level, name, number):
    return {"level": level, "name_masked": mask_name(name), "id_number_masked": mask_id(number)}


def _attempt_outcome(ctx, attempt_id, outcome):
    with ctx.uow() as uow:
        uow.session.execute(update(VerificationAttempt).where(VerificationAttempt.id == attempt_id)
                            .values(outcome=outcome))


def _session_dead():
    return Unauthenticated("登录状态已失效，请重新登录", code="unauthenticated")


def _phone_taken():
    return Conflict("该手机号已注册，请直接登录；如忘记密码，可通过短信验证码重置密码", code="phone_registered",
                    details={"phone": ["该手机号已注册"]})


def _already_verified():
    return Conflict("您已完成实名认证，姓名和证件号码不能再修改；如确需更正，请联系工作人员", code="already_verified")


def _id_taken():
    message = "该证件号码已在其他账号完成实名认证。每个证件只能认证一个账号；如非本人操作，请联系工作人员"
    return Conflict(message, code="id_number_taken", details={"id_number": [message]})


def mask_id(number):
    """services.common.masking.mask_id_number, except for 9-10 characters (passports, HK/MO/TW
    permits), where it shows the number in full (6 + 4 characters kept, no star): one kept each side."""
    if number and 8 < len(str(number)) <= 10:
        number = str(number)
        return number[0] + "*" * (len(number) - 2) + number[-1]
    return mask_id_number(number)


def _seconds(delta):
    return math.ceil(delta.total_seconds())

