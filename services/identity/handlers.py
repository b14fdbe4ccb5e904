"""The identity service layer: one function per command, over units of work and adapters.

No nameko, no SQLAlchemy here: data only through the repositories on the unit of work
(repository.py). A use case that takes more than one unit of work (network or CPU-heavy work
between them) takes the factory, `uow_factory`; the others take one `uow`. Settings arrive as the
service's `IdentitySettings` (hasher, verifier, policies, keys), the blind indexes of a request's
phone and client as `BlindIndexes` (clients.py), CPU-heavy work goes through `offload`
(`eventlet.tpool.execute` in the service, inline elsewhere).

Rules kept here, beside the pure ones in `domain/`:
- no network I/O inside a unit of work: the code goes to notify after the commit, the external
  verifier is asked between two units of work;
- a refused SMS code still counts its try: the refusal is returned from inside the unit of work,
  which commits, and raised after it;
- a login reserves its try (a failure) before the password is checked, so concurrent guesses
  cannot outrun the lockout; a success clears the failures;
- a time that must follow a lock (a concurrent try is not "in the future") is read once the lock is held;
- nothing personal is logged or published in full: masks only.
"""
import logging
import math
import secrets
import string
from datetime import timedelta
from uuid import uuid4

from services.common import clock
from services.common.idnumbers import ID_TYPE_LABELS, RESIDENT_ID, parse_id
from services.common.masking import mask_id_number, mask_name, mask_phone
from services.common.offload import inline
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
from .domain.records import AccountRecord, IdentityRecord
from .repository import Taken

log = logging.getLogger("services.identity")

# A lock replays the failures since the last success; older ones cannot change today's answer.
FAILURE_HORIZON = timedelta(hours=24)
MAX_TOKEN_LENGTH = 200


class SmsUnavailable(DomainError):
    http_status = 503
    code = "sms_unavailable"


# --- SMS codes -------------------------------------------------------------------------------

def send_code(uow_factory, settings, indexes, send_sms, phone, purpose, client_ip=None, device=None, captcha=None,
              offload=inline):
    """Issue a code and hand it to notify; the answer never depends on whether the phone has an account.

    send_sms(phone, code, purpose, expires_at_iso): notify.send_code. client_ip, device: who asks
    (clients.py; limits in domain/sms_limits.py). captcha: {captcha_id, captcha_answer} when a human
    check was asked for (captchas.py).
    """
    phone = check_phone(phone)
    sms_codes.check_purpose(purpose)
    policy = settings.sms_policy
    now = clock.now()
    index = indexes.phone(phone)
    client = indexes.client(client_ip, device)
    day_start = sms_codes.beijing_day_start(now)
    refusal = None
    with uow_factory() as uow:
        recent = uow.sms_codes.since(index, min(day_start, now - policy.resend_cooldown))
        mine = [c for c in recent if c.client_index == client.index]
        today = [c for c in recent if c.created_at >= day_start]
        counts = sms_limits.Counts(
            client=sum(c.client_index == client.index for c in today),
            phone_address=sum(c.address_index == client.address_index for c in today)
            if client.address_index else sum(c.client_index == client.index for c in today),
            phone=len(today),
            device=uow.sms_codes.count_from_device(client.device_index, day_start),
            address=uow.sms_codes.count_from_address(client.address_index, day_start))
        issued, code = sms_codes.issue(policy, index, purpose, mine, now, settings.code_key)
        until_tomorrow = _seconds(day_start + timedelta(days=1) - now)
        verdict = sms_limits.decide(settings.sms_limits, counts, until_tomorrow, sms_codes.wait_text(until_tomorrow))
        if verdict == sms_limits.CHECK:
            refusal = captchas.check(uow, settings, captcha, index, client.index, now)
        if refusal is None:
            issued.client_index, issued.address_index = client.index, client.address_index
            issued.device_index = client.device_index
            uow.sms_codes.add(issued)
    if refusal is not None:  # committed: a refused human check stays spent
        raise captchas.with_new_challenge(uow_factory, settings, refusal, phone, index, client.index, now, log,
                                          offload)
    # Committed: now the network. The stored code counts towards cooldown and caps even if
    # notify fails (it may have sent the SMS before failing to answer).
    try:
        send_sms(phone, code, purpose, clock.iso(issued.expires_at))
    except DomainError:
        raise
    except Exception as exc:  # noqa: BLE001 — notify away or slow: say so, keep the code
        log.warning("SMS code (%s) for %s not handed to notify: %s", purpose, mask_phone(phone),
                    type(exc).__name__)
        wait = _seconds(policy.resend_cooldown)
        raise SmsUnavailable(f"短信发送暂时失败，请{wait}秒后重新获取验证码", details={"retry_after": wait}) from None
    log.info("SMS code (%s) sent to %s", purpose, mask_phone(phone))
    return {"cooldown_seconds": _seconds(policy.resend_cooldown), "expires_in_seconds": _seconds(policy.ttl)}


# --- accounts and sessions -------------------------------------------------------------------

def register(uow_factory, settings, indexes, phone, code, password, client_ip=None, offload=inline):
    """Create an applicant account from phone + register code + password; logged in at once."""
    phone = check_phone(phone)
    passwords.check_strength(password, phone=phone)
    password_hash = offload(settings.hasher.hash, password)
    now = clock.now()
    index = indexes.phone(phone)
    try:
        with uow_factory() as uow:
            sms_code = _sms_code_for(uow, index, sms_codes.REGISTER, now, settings.sms_policy)
            existing = uow.accounts.by_phone(phone)
            if existing is not None and sms_code is not None and sms_codes.matches(
                    sms_code, code, settings.code_key, settings.sms_policy):
                # The code's holder (a second click, a second device) learns what they may know.
                raise _phone_taken()
            refusal = _check_code(uow, settings, sms_code, code, sms_codes.REGISTER, now)
            if refusal is None:
                if existing is not None:
                    raise _phone_taken()
                account = AccountRecord(id=str(uuid4()), phone=phone, roles=[APPLICANT], created_at=now,
                                        password_changed_at=now, password_hash=password_hash)
                uow.accounts.add(account)  # Taken: a concurrent twin got the phone first
                token = _open_session(uow, account.id, now)
                uow.publish(new_event("AccountRegistered", account.id, {
                    "account_id": account.id, "phone_masked": mask_phone(phone),
                    "registered_at": clock.iso(now)}, time=now))
    except Taken:
        raise _phone_taken() from None
    if refusal is not None:
        raise refusal
    log.info("account %s registered for %s", account.id, mask_phone(phone))
    return {"account_id": account.id, "token": token, "principal": _principal(account, None)}


def login(uow_factory, settings, indexes, phone, password=None, code=None, client_ip=None, offload=inline):
    """Applicants: password or SMS code (purpose login). Staff: the password, then the second factor
    (second_factor.py): the answer is then a pending token, not a session. Staff whose roles are all
    in STAFF_SMS_FALLBACK_ROLES and who have no TOTP yet may use password + admin_login code instead."""
    phone = check_phone(phone)
    if not password and not code:
        message = "请输入密码或短信验证码"
        raise ValidationFailed(message, code="credentials_required", details={"password": [message]})
    index = indexes.phone(phone)
    with uow_factory() as uow:
        account = uow.accounts.by_phone(phone, lock=True)
        now = clock.now()  # read once the lock is held: a concurrent try's failure is not "in the future"
        staff = account is not None and staff_roles.needs_second_factor(account.roles)
        enrolled = staff and uow.second_factors.enrolled(account.id)
        by_sms = staff and not enrolled and staff_roles.may_use_sms(account.roles, settings.sms_fallback_roles)
        if by_sms and not (password and code):
            message = "管理员登录需要同时输入密码和短信验证码（获取验证码时选择“管理员登录”）"
            raise Unauthenticated(message, code="second_factor_required", details={"sms_code": [message]})
        if staff and not password:
            message = "工作人员请输入密码，再输入身份验证器中的动态验证码"
            raise Unauthenticated(message, code="password_required", details={"password": [message]})
        if account is not None:
            reserve_try(uow, settings, account.id, now)
        else:  # counted and locked alike, so the answers do not tell registered phones apart
            _reserve_phone_try(uow, settings, index, now)
    refusal = None
    if by_sms or (not staff and not password):  # the code first: without it, the password is not even tried
        refusal = _use_code(uow_factory, settings, index, code, sms_codes.ADMIN_LOGIN if by_sms else sms_codes.LOGIN,
                            now)
    if refusal is None and password:
        if not _password_ok(settings, offload, account, password):
            refusal = Unauthenticated("手机号或密码不正确", code="invalid_credentials",
                                      details={"password": ["手机号或密码不正确"]})
    if account is None:
        if refusal is not None:
            _refuse_phone_login(uow_factory, settings, index, now, refusal)
        with uow_factory() as uow:  # the code holder owns the phone: their try was no guess
            uow.login_failures.clear_phone(index, now)
        raise NotFound("该手机号尚未注册，请先注册账号", code="account_not_found")
    if refusal is not None:
        refuse_login(uow_factory, settings, account.id, now, refusal)
    new_hash = None
    if password and settings.hasher.needs_rehash(account.password_hash):
        new_hash = offload(settings.hasher.hash, password)
    if staff and not by_sms:
        # The reserved try stays a failure until the second factor is passed: a stolen password
        # cannot reset the lockout between guesses at the TOTP code.
        if new_hash:
            with uow_factory() as uow:
                uow.accounts.set_password_hash(account.id, new_hash)
        log.info("account %s: password accepted, second factor (%s) next", account.id,
                 "totp" if enrolled else "enrolment")
        return {"account_id": account.id, "second_factor": "totp" if enrolled else "enrol",
                "pending_token": second_factor.new_pending_token(settings.code_key, account.id,
                                                                 account.password_changed_at, now),
                "expires_in_seconds": _seconds(second_factor.PENDING_TTL)}
    with uow_factory() as uow:
        uow.login_failures.clear_account(account.id, now)
        if new_hash:
            uow.accounts.set_password_hash(account.id, new_hash)
        answer = open_session(uow, account, now)
    log.info("account %s logged in by %s", account.id, "password and code" if by_sms else
             ("password" if password else "code"))
    return answer


def open_session(uow, account, now):
    """The answer of a successful login: a new session and the principal."""
    token = _open_session(uow, account.id, now)
    return {"account_id": account.id, "token": token, "principal": _principal(account, uow.identities.get(account.id))}


def authenticate(uow, token, session_policy, touch_interval, now):
    """The principal of a live session: one indexed query, last_seen written at most once a minute
    (`touch_interval`). The unit-of-work form (docs/architecture.md)."""
    return authenticate_session(uow, token, session_policy, touch_interval, now)[0]


def authenticate_session(uow, token, session_policy, touch_interval, now):
    """(principal, seconds the session lives if nothing else happens) of a live session."""
    found = _live_session(uow, token, now, session_policy)
    last_seen = found.last_seen_at
    if now - last_seen >= touch_interval:
        uow.sessions.touch(found.id, now)
        last_seen = now
    lives = sessions.expires_at(found.created_at, last_seen, session_policy) - now
    principal = principal_view(found.account_id, found.roles, found.phone, found.level, found.name, found.id_number)
    return principal, lives.total_seconds()


def logout(uow, token, now):
    if token and isinstance(token, str) and len(token) <= MAX_TOKEN_LENGTH:
        uow.sessions.revoke(sessions.hash_token(token), now)
    return {"ok": True}


def change_password(uow_factory, settings, token, old_password, new_password, offload=inline):
    """Needs a live session and the old password; every session of the account ends."""
    now = clock.now()
    with uow_factory() as uow:
        found = _live_session(uow, token, now, settings.session_policy)
    passwords.check_strength(new_password, phone=found.phone, id_number=found.id_number)
    with uow_factory() as uow:
        account = _account(uow, found.account_id, lock=True)
        now = clock.now()  # read once the lock is held, as in login
        reserve_try(uow, settings, account.id, now)
    if not _password_ok(settings, offload, account, old_password):
        message = "原密码不正确"
        refuse_login(uow_factory, settings, account.id, now,
                     ValidationFailed(message, code="wrong_password", details={"old_password": [message]}))
    new_hash = offload(settings.hasher.hash, new_password)
    with uow_factory() as uow:
        _set_password(uow, account.id, new_hash, now)
        uow.login_failures.clear_account(account.id, now)  # the reserved try succeeded
    log.info("account %s changed its password; all sessions ended", account.id)
    return {"ok": True}


def reset_password(uow_factory, settings, indexes, phone, code, new_password, offload=inline):
    """By SMS code (purpose reset_password); ends every session and any login lock."""
    phone = check_phone(phone)
    passwords.check_strength(new_password, phone=phone)
    new_hash = offload(settings.hasher.hash, new_password)
    now = clock.now()
    index = indexes.phone(phone)
    with uow_factory() as uow:
        sms_code = _sms_code_for(uow, index, sms_codes.RESET_PASSWORD, now, settings.sms_policy)
        refusal = _check_code(uow, settings, sms_code, code, sms_codes.RESET_PASSWORD, now)
        if refusal is None:
            account = uow.accounts.by_phone(phone, lock=True)
            if account is None:  # only the code's holder gets here
                raise NotFound("该手机号尚未注册，请先注册账号", code="account_not_found")
            identity = uow.identities.get(account.id)
            if identity is not None:
                # Raised inside: rolls back, so the code stays usable for a stronger password.
                passwords.check_strength(new_password, phone=phone, id_number=identity.id_number)
            _set_password(uow, account.id, new_hash, now)
            uow.login_failures.clear_account(account.id, now)
    if refusal is not None:
        raise refusal
    log.info("account %s reset its password by SMS code; all sessions ended", account.id)
    return {"ok": True}


def create_staff(uow_factory, settings, phone, role, password, offload=inline):
    staff_roles.check_role(role)
    phone = check_phone(phone)
    passwords.check_strength(password, phone=phone)
    password_hash = offload(settings.hasher.hash, password)
    now = clock.now()
    conflict = Conflict("该手机号已有账号，工作人员账号请使用另一个手机号", code="phone_registered",
                        details={"phone": ["该手机号已有账号"]})
    try:
        with uow_factory() as uow:
            if uow.accounts.by_phone(phone) is not None:
                raise conflict
            account = AccountRecord(id=str(uuid4()), phone=phone, roles=[role], created_at=now,
                                    password_changed_at=now, password_hash=password_hash)
            uow.accounts.add(account)
    except Taken:
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

def verify_identity(uow_factory, settings, account_id, name, id_type, id_number):
    """Local rules, one account per ID, ≤ 5 attempts per 6 h, then the verifier; the level stored as reached."""
    now = clock.now()
    id_type = str(id_type or RESIDENT_ID).strip().upper()
    with uow_factory() as uow:
        _account(uow, account_id)
        existing = uow.identities.get(account_id)
    if existing is not None:
        if _same_identity(existing, name, id_type, id_number, now):
            return _identity_answer(existing.level, existing.name, existing.id_number)  # a second click
        raise _already_verified()
    if id_type not in settings.id_types:
        accepted = "、".join(ID_TYPE_LABELS[t] for t in sorted(settings.id_types) if t in ID_TYPE_LABELS)
        message = f"目前仅支持使用{accepted}进行实名认证"
        raise ValidationFailed(message, code="id_type_not_accepted", details={"id_type": [message]})
    document = parse_id(id_type, id_number, now)
    name = check_name(name, id_type)
    with uow_factory() as uow:
        _account(uow, account_id, lock=True)  # one attempt of this account at a time
        now = clock.now()  # read once the lock is held: a concurrent attempt is not "in the future"
        counted = uow.verification_attempts.counted_since(account_id, now - settings.attempt_policy.window)
        verification.ensure_attempt_allowed(counted, now, settings.attempt_policy)
        owner = uow.identities.owner(document.number)
        taken = owner is not None and owner != account_id
        attempt_id = uow.verification_attempts.add(account_id, now, "id_taken" if taken else "pending")
    if taken:
        log.info("account %s: identity %s already verified on another account", account_id,
                 mask_id(document.number))
        raise _id_taken()
    try:
        result = settings.verifier.verify(name, id_type, document.number)
    except VerifierUnavailable as exc:
        log.warning("identity verifier unavailable for account %s: %s", account_id, exc.cause)
        _attempt_outcome(uow_factory, attempt_id, "unavailable")
        raise
    if not result.ok:
        _attempt_outcome(uow_factory, attempt_id, "mismatch")
        log.info("account %s: verifier says name and %s do not match", account_id, mask_id(document.number))
        raise ValidationFailed(result.reason, code="identity_mismatch", details={"name": [result.reason]})
    try:
        with uow_factory() as uow:
            uow.identities.add(IdentityRecord(account_id=account_id, id_type=id_type, name=name,
                                              id_number=document.number, level=result.level, verified_at=now))
            uow.verification_attempts.set_outcome(attempt_id, "verified")
            uow.publish(new_event("IdentityVerified", account_id, {
                "account_id": account_id, "id_type": id_type, "id_number_masked": mask_id(document.number),
                "name_masked": mask_name(name), "level": result.level, "verified_at": clock.iso(now)}, time=now))
    except Taken:  # a concurrent twin: this account's own second click, or another account
        with uow_factory() as uow:
            mine = uow.identities.get(account_id)
        if mine is not None and mine.id_number == document.number:  # this account's own second click won
            _attempt_outcome(uow_factory, attempt_id, "verified")
            return _identity_answer(mine.level, mine.name, document.number)
        _attempt_outcome(uow_factory, attempt_id, "id_taken")
        raise (_id_taken() if mine is None else _already_verified()) from None
    log.info("account %s verified as %s (%s)", account_id, mask_id(document.number), result.level)
    return _identity_answer(result.level, name, document.number)


def _same_identity(existing, name, id_type, id_number, now):
    try:
        document = parse_id(id_type, id_number, now)
        name = check_name(name, id_type)
    except ValidationFailed:
        return False
    return existing.id_type == id_type and existing.id_number == document.number and existing.name == name


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

def _sms_code_for(uow, phone_index, purpose, now, policy):
    """The newest code of this purpose (locked); else the newest live one of another purpose, so a
    code asked for another operation is refused as such; None when there is none."""
    found = uow.sms_codes.newest(phone_index, purpose=purpose, lock=True)
    if found is None:
        found = uow.sms_codes.newest(phone_index, issued_after=now - policy.ttl)
    return found


def _check_code(uow, settings, sms_code, code, purpose, now):
    """None when the code is accepted (and now used); else the refusal. The code keeps the try.

    A used code is "used" only to whoever types it; to anyone else it is as if there were none,
    since a registered phone always has a used register code and an unknown one has none.
    """
    if sms_code is None or (sms_code.used_at is not None and not sms_codes.matches(
            sms_code, code, settings.code_key, settings.sms_policy)):
        message = "请先获取短信验证码"
        return ValidationFailed(message, code="sms_code_missing", details={"sms_code": [message]})
    before = (sms_code.attempts, sms_code.used_at)
    try:
        sms_codes.verify(sms_code, code, purpose, now, settings.code_key, settings.sms_policy)
        refusal = None
    except ValidationFailed as exc:
        refusal = exc
    if (sms_code.attempts, sms_code.used_at) != before:  # only a changed code is written back
        uow.sms_codes.save(sms_code)
    return refusal


def _use_code(uow_factory, settings, phone_index, code, purpose, now):
    with uow_factory() as uow:
        sms_code = _sms_code_for(uow, phone_index, purpose, now, settings.sms_policy)
        return _check_code(uow, settings, sms_code, code, purpose, now)


def _account(uow, account_id, lock=False):
    account = uow.accounts.get(account_id, lock=lock)
    if account is None:
        raise NotFound("账号不存在", code="account_not_found")
    return account


def reserve_try(uow, settings, account_id, now):
    """Refuse while locked; else count this try as a failure until it succeeds (account row locked)."""
    failures = uow.login_failures.of_account(account_id, now - FAILURE_HORIZON)
    lockout.ensure_not_locked(failures, now, settings.lockout_policy)
    uow.login_failures.add_for_account(account_id, now)


def refuse_login(uow_factory, settings, account_id, now, refusal):
    """The reserved try stays a failure: say until when when it just locked the account."""
    with uow_factory() as uow:
        failures = uow.login_failures.of_account(account_id, now - FAILURE_HORIZON)
    log.info("account %s: login refused (%s)", account_id, refusal.code)
    lockout.ensure_not_locked(failures, now, settings.lockout_policy)
    raise refusal


def _reserve_phone_try(uow, settings, phone_index, now):
    """reserve_try for a phone without an account; forgets what is older than FAILURE_HORIZON."""
    uow.login_failures.forget_phones_before(now - FAILURE_HORIZON)
    failures = uow.login_failures.of_phone(phone_index, now - FAILURE_HORIZON)
    lockout.ensure_not_locked(failures, now, settings.lockout_policy)
    uow.login_failures.add_for_phone(phone_index, now)


def _refuse_phone_login(uow_factory, settings, phone_index, now, refusal):
    with uow_factory() as uow:
        failures = uow.login_failures.of_phone(phone_index, now - FAILURE_HORIZON)
    lockout.ensure_not_locked(failures, now, settings.lockout_policy)
    raise refusal


def _password_ok(settings, offload, account, password):
    hasher = settings.hasher
    if account is None or not account.password_hash:
        return offload(hasher.dummy_verify, password or "")  # the time of a real check
    return offload(hasher.verify, account.password_hash, password or "")


def _set_password(uow, account_id, password_hash, now):
    uow.accounts.set_password_hash(account_id, password_hash, changed_at=now)
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


def _principal(account, identity):
    """principal_view of an account record and its identity record (None: not verified)."""
    if identity is None:
        return principal_view(account.id, account.roles, account.phone)
    return principal_view(account.id, account.roles, account.phone, identity.level, identity.name, identity.id_number)


def _identity_answer(level, name, number):
    return {"level": level, "name_masked": mask_name(name), "id_number_masked": mask_id(number)}


def _attempt_outcome(uow_factory, attempt_id, outcome):
    with uow_factory() as uow:
        uow.verification_attempts.set_outcome(attempt_id, outcome)


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

