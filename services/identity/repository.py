"""All SQL of the identity service, reached on the unit of work (`Database(...,
repositories=repositories)`, db.UnitOfWork): accounts (`uow.accounts`, the phone encrypted at rest
and found by its blind index), sessions (`uow.sessions`), verified identities (`uow.identities`)
and the attempts at verifying (`uow.verification_attempts`), SMS codes (`uow.sms_codes`) and the
human checks before them (`uow.captchas`), failed logins (`uow.login_failures`), the staff second
factor (`uow.second_factors`: the TOTP seed sealed at rest, the recovery codes as HMACs) and
identity's part of the platform's append-only audit log (`uow.audit`). Rows go in and out as
records; the service layer never sees a ciphertext. A unique phone or ID number already taken is
raised as `Taken`, a Conflict the service layer words for its caller. The in-memory twins are
tests/unit/identity/fakes.py."""

from datetime import timedelta

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from services.common.audit import AuditLog
from services.contracts.errors import Conflict
from services.contracts.roles import APPLICANT

from .domain.captcha import CaptchaChallenge
from .domain.records import AccountRecord, IdentityRecord, SessionRecord, StaffMember, TotpFactor
from .domain.sms_codes import SmsCode
from .models import (
    ID_NUMBER,
    NAME,
    PHONE,
    TOTP_SECRET,
    Account,
    CaptchaChallengeRow,
    Identity,
    LoginFailure,
    LoginSession,
    PhoneLoginFailure,
    PrincipalChange,
    RecoveryCode,
    StaffTotp,
    VerificationAttempt,
)
from .models import SmsCode as SmsCodeRow


def repositories(session, cipher):
    """The unit of work's hook: this service's repositories for one session."""
    changes = PrincipalChangeRepository(session)
    return {"accounts": AccountRepository(session, cipher), "sessions": SessionRepository(session, cipher, changes),
            "identities": IdentityRepository(session, cipher, changes), "principal_changes": changes,
            "verification_attempts": VerificationAttemptRepository(session),
            "sms_codes": SmsCodeRepository(session), "captchas": CaptchaRepository(session),
            "login_failures": LoginFailureRepository(session),
            "second_factors": SecondFactorRepository(session, cipher), "audit": AuditLog(session)}


class Taken(Conflict):
    """A unique key (a phone, an ID number) already belongs to another row; nothing was written."""


class AccountRepository:
    def __init__(self, session, cipher):
        self.session, self.cipher = session, cipher

    def get(self, account_id, lock=False):
        """The account (its row locked when `lock`), or None."""
        return self._one(select(Account).where(Account.id == str(account_id)), lock)

    def by_phone(self, phone, lock=False):
        """The account of this phone (found by its blind index; locked when `lock`), or None."""
        return self._one(select(Account).where(Account.phone_index == self.cipher.blind_index(phone, PHONE)), lock)

    def add(self, account):
        """Store a new account; Taken when the phone already has one (a concurrent twin included)."""
        self.session.add(Account(id=account.id, phone_enc=self.cipher.encrypt(account.phone, PHONE),
                                 phone_index=self.cipher.blind_index(account.phone, PHONE),
                                 password_hash=account.password_hash, roles=",".join(account.roles),
                                 created_at=account.created_at, password_changed_at=account.password_changed_at))
        try:
            self.session.flush()  # the unique phone index refuses a twin here, not at commit
        except IntegrityError:
            raise Taken("该手机号已注册", code="phone_registered") from None

    def set_password_hash(self, account_id, password_hash, changed_at=None):
        """A new hash; `changed_at` when the password itself changed (not for a mere re-hash)."""
        values = {"password_hash": password_hash}
        if changed_at is not None:
            values["password_changed_at"] = changed_at
        self.session.execute(update(Account).where(Account.id == account_id).values(**values))

    def staff(self):
        """Every account with a staff role, oldest first."""
        last_seen = (select(LoginSession.account_id, func.max(LoginSession.last_seen_at).label("last_seen_at"))
                     .group_by(LoginSession.account_id).subquery())
        rows = self.session.execute(
            select(Account.id, Account.roles, Account.phone_enc, Account.created_at, last_seen.c.last_seen_at,
                   StaffTotp.confirmed_at.label("totp_at"))
            .outerjoin(last_seen, last_seen.c.account_id == Account.id)
            .outerjoin(StaffTotp, StaffTotp.account_id == Account.id)
            .where(Account.roles != APPLICANT).order_by(Account.created_at, Account.id)).all()
        found = []
        for row in rows:
            roles = [r for r in row.roles.split(",") if r and r != APPLICANT]
            if roles:
                found.append(StaffMember(account_id=row.id, roles=roles, phone=self.cipher.decrypt(row.phone_enc, PHONE),
                                         created_at=row.created_at, last_seen_at=row.last_seen_at,
                                         totp_enrolled=row.totp_at is not None))
        return found

    def _one(self, query, lock):
        row = self.session.scalar(query.with_for_update() if lock else query)
        if row is None:
            return None
        return AccountRecord(id=row.id, phone=self.cipher.decrypt(row.phone_enc, PHONE), roles=row.role_list,
                             created_at=row.created_at, password_changed_at=row.password_changed_at,
                             password_hash=row.password_hash)


class PrincipalChangeRepository:
    """Accounts whose sessions answer differently since a moment (`uow.principal_changes`).

    The session and identity repositories note a change in the transaction that makes it, so no
    use case can end a session or verify an identity without the gateways hearing of it."""

    KEEP = timedelta(hours=1)  # far longer than any gateway's look-back (PrincipalCache.MARGIN)

    def __init__(self, session):
        self.session = session

    def note(self, account_id, now):
        self.session.execute(delete(PrincipalChange).where(PrincipalChange.changed_at < now - self.KEEP))
        self.session.execute(insert(PrincipalChange), [{"account_id": str(account_id), "changed_at": now}])

    def since(self, moment):
        """[(change id, account id)] of the changes at or after `moment`, oldest first."""
        rows = self.session.execute(select(PrincipalChange.id, PrincipalChange.account_id)
                                    .where(PrincipalChange.changed_at >= moment).order_by(PrincipalChange.id))
        return [(row.id, row.account_id) for row in rows]


class IdentityRepository:
    def __init__(self, session, cipher, changes):
        self.session, self.cipher, self.changes = session, cipher, changes

    def get(self, account_id):
        """The account's verified identity, or None."""
        row = self.session.get(Identity, str(account_id))
        if row is None:
            return None
        return IdentityRecord(account_id=row.account_id, id_type=row.id_type, level=row.level,
                              name=self.cipher.decrypt(row.name_enc, NAME),
                              id_number=self.cipher.decrypt(row.id_number_enc, ID_NUMBER),
                              verified_at=row.verified_at)

    def owner(self, id_number):
        """The account verified with this ID number (found by its blind index), or None."""
        return self.session.scalar(select(Identity.account_id).where(
            Identity.id_index == self.cipher.blind_index(id_number, ID_NUMBER)))

    def add(self, identity):
        """Store a verified identity; Taken when its ID number or its account already has one."""
        self.session.add(Identity(account_id=identity.account_id, id_type=identity.id_type,
                                  id_index=self.cipher.blind_index(identity.id_number, ID_NUMBER),
                                  id_number_enc=self.cipher.encrypt(identity.id_number, ID_NUMBER),
                                  name_enc=self.cipher.encrypt(identity.name, NAME), level=identity.level,
                                  verified_at=identity.verified_at))
        try:
            self.session.flush()  # the unique ID index refuses a concurrent twin here
        except IntegrityError:
            raise Taken("该证件号码已完成实名认证", code="id_number_taken") from None
        self.changes.note(identity.account_id, identity.verified_at)  # the principal is now verified


class VerificationAttemptRepository:
    """Tries at real-name verification: pending → verified | mismatch | id_taken | unavailable."""

    def __init__(self, session):
        self.session = session

    def counted_since(self, account_id, since):
        """When this account tried after `since`, the verifier's outages left out (they do not count)."""
        return self.session.scalars(select(VerificationAttempt.attempted_at).where(
            VerificationAttempt.account_id == account_id, VerificationAttempt.attempted_at > since,
            VerificationAttempt.outcome != "unavailable")).all()

    def add(self, account_id, at, outcome):
        """Store a try; its id."""
        attempt = VerificationAttempt(account_id=account_id, attempted_at=at, outcome=outcome)
        self.session.add(attempt)
        self.session.flush()
        return attempt.id

    def set_outcome(self, attempt_id, outcome):
        self.session.execute(update(VerificationAttempt).where(VerificationAttempt.id == attempt_id)
                             .values(outcome=outcome))


class SmsCodeRepository:
    """Issued SMS codes (domain/sms_codes.py), by the blind index of the phone and of who asked."""

    def __init__(self, session):
        self.session = session

    def since(self, phone_index, since):
        """This phone's codes issued at or after `since`."""
        rows = self.session.scalars(select(SmsCodeRow).where(SmsCodeRow.phone_index == phone_index,
                                                             SmsCodeRow.created_at >= since)).all()
        return [_sms_code(row) for row in rows]

    def count_from_device(self, device_index, since):
        """Codes to any phone asked from this device at or after `since` (0 without a device)."""
        return self._count(SmsCodeRow.device_index, device_index, since)

    def count_from_address(self, address_index, since):
        """Codes to any phone asked from this address at or after `since` (0 without an address)."""
        return self._count(SmsCodeRow.client_ip_index, address_index, since)

    def newest(self, phone_index, purpose=None, issued_after=None, lock=False):
        """This phone's newest code (of `purpose`, issued after `issued_after`, when given), or None."""
        query = (select(SmsCodeRow).where(SmsCodeRow.phone_index == phone_index)
                 .order_by(SmsCodeRow.created_at.desc(), SmsCodeRow.id.desc()).limit(1))
        if purpose is not None:
            query = query.where(SmsCodeRow.purpose == purpose)
        if issued_after is not None:
            query = query.where(SmsCodeRow.created_at > issued_after)
        row = self.session.scalar(query.with_for_update() if lock else query)
        return None if row is None else _sms_code(row)

    def add(self, sms_code):
        self.session.add(SmsCodeRow(
            phone_index=sms_code.phone_index, purpose=sms_code.purpose, code_hash=sms_code.code_hash,
            client_ip_index=sms_code.address_index, device_index=sms_code.device_index,
            client_index=sms_code.client_index, created_at=sms_code.created_at, expires_at=sms_code.expires_at,
            attempts=sms_code.attempts, used_at=sms_code.used_at))

    def save(self, sms_code):
        """Store the tries and the use (domain sms_codes.verify changed them, accepted or not)."""
        self.session.execute(update(SmsCodeRow).where(SmsCodeRow.id == sms_code.id)
                             .values(attempts=sms_code.attempts, used_at=sms_code.used_at))

    def _count(self, column, value, since):
        if value is None:
            return 0
        return self.session.scalar(select(func.count()).select_from(SmsCodeRow).where(
            column == value, SmsCodeRow.created_at >= since))


def _sms_code(row):
    return SmsCode(id=row.id, phone_index=row.phone_index, purpose=row.purpose, code_hash=row.code_hash,
                   created_at=row.created_at, expires_at=row.expires_at, attempts=row.attempts, used_at=row.used_at,
                   client_index=row.client_index, address_index=row.client_ip_index, device_index=row.device_index)


class CaptchaRepository:
    """图形验证码 challenges (domain/captcha.py), the answer as an HMAC."""

    def __init__(self, session):
        self.session = session

    def get(self, challenge_id):
        row = self.session.get(CaptchaChallengeRow, challenge_id)
        if row is None:
            return None
        return CaptchaChallenge(id=row.id, phone_index=row.phone_index, client_index=row.client_index,
                                answer_hash=row.answer_hash, created_at=row.created_at, used_at=row.used_at)

    def add(self, challenge):
        self.session.add(CaptchaChallengeRow(id=challenge.id, phone_index=challenge.phone_index,
                                             client_index=challenge.client_index, answer_hash=challenge.answer_hash,
                                             created_at=challenge.created_at, used_at=challenge.used_at))

    def save(self, challenge):
        """Store its use (domain captcha.check spends it, passed or not)."""
        self.session.execute(update(CaptchaChallengeRow).where(CaptchaChallengeRow.id == challenge.id)
                             .values(used_at=challenge.used_at))

    def forget_before(self, moment):
        self.session.execute(delete(CaptchaChallengeRow).where(CaptchaChallengeRow.created_at < moment))


class LoginFailureRepository:
    """Failed logins (and tries reserved before the password is checked): per account, and per phone
    blind index for phones without an account, counted alike (domain/lockout.py)."""

    def __init__(self, session):
        self.session = session

    def of_account(self, account_id, after):
        return self.session.scalars(select(LoginFailure.failed_at).where(
            LoginFailure.account_id == account_id, LoginFailure.failed_at > after)).all()

    def add_for_account(self, account_id, at):
        self.session.add(LoginFailure(account_id=account_id, failed_at=at))

    def clear_account(self, account_id, until):
        """Forget the account's failures up to `until` (a success; a concurrent later try stays)."""
        self.session.execute(delete(LoginFailure).where(LoginFailure.account_id == account_id,
                                                        LoginFailure.failed_at <= until))

    def of_phone(self, phone_index, after):
        return self.session.scalars(select(PhoneLoginFailure.failed_at).where(
            PhoneLoginFailure.phone_index == phone_index, PhoneLoginFailure.failed_at > after)).all()

    def add_for_phone(self, phone_index, at):
        self.session.add(PhoneLoginFailure(phone_index=phone_index, failed_at=at))

    def clear_phone(self, phone_index, until):
        self.session.execute(delete(PhoneLoginFailure).where(PhoneLoginFailure.phone_index == phone_index,
                                                             PhoneLoginFailure.failed_at <= until))

    def forget_phones_before(self, moment):
        """Every phone's failures at or before `moment` (they can no longer lock anything)."""
        self.session.execute(delete(PhoneLoginFailure).where(PhoneLoginFailure.failed_at <= moment))


_SESSION_QUERY = (
    select(LoginSession.id, LoginSession.created_at, LoginSession.last_seen_at, LoginSession.revoked_at,
           Account.id.label("account_id"), Account.roles, Account.phone_enc, Identity.level, Identity.name_enc,
           Identity.id_number_enc)
    .join(Account, Account.id == LoginSession.account_id)
    .outerjoin(Identity, Identity.account_id == Account.id))


class SessionRepository:
    def __init__(self, session, cipher, changes):
        self.session, self.cipher, self.changes = session, cipher, changes

    def open(self, account_id, token_hash, now):
        self.session.add(LoginSession(account_id=account_id, token_hash=token_hash, created_at=now,
                                      last_seen_at=now))

    def by_token(self, token_hash):
        """The session of this token hash (live or not), or None: one indexed query."""
        row = self.session.execute(_SESSION_QUERY.where(LoginSession.token_hash == token_hash)).first()
        if row is None:
            return None
        verified = row.level is not None
        return SessionRecord(
            id=row.id, account_id=row.account_id, roles=[r for r in row.roles.split(",") if r],
            phone=self.cipher.decrypt(row.phone_enc, PHONE), created_at=row.created_at,
            last_seen_at=row.last_seen_at, revoked_at=row.revoked_at, level=row.level,
            name=self.cipher.decrypt(row.name_enc, NAME) if verified else None,
            id_number=self.cipher.decrypt(row.id_number_enc, ID_NUMBER) if verified else None)

    def touch(self, session_id, now):
        self.session.execute(update(LoginSession).where(LoginSession.id == session_id).values(last_seen_at=now))

    def touch_seen(self, token_hashes, now, policy, touch_interval):
        """last_seen of the live sessions among `token_hashes` whose last_seen is older than
        `touch_interval`: what `authenticate` writes, for the requests a gateway answered from the
        principals it keeps. A session already ended (revoked, idle, too old) stays ended."""
        if not token_hashes:
            return
        self.session.execute(update(LoginSession).where(
            LoginSession.token_hash.in_(token_hashes), LoginSession.revoked_at.is_(None),
            LoginSession.last_seen_at <= now - touch_interval, LoginSession.last_seen_at > now - policy.idle,
            LoginSession.created_at > now - policy.absolute).values(last_seen_at=now))

    def revoke(self, token_hash, now):
        account_id = self.session.scalar(select(LoginSession.account_id).where(
            LoginSession.token_hash == token_hash, LoginSession.revoked_at.is_(None)))
        if account_id is None:
            return
        self.session.execute(update(LoginSession).where(LoginSession.token_hash == token_hash,
                                                        LoginSession.revoked_at.is_(None)).values(revoked_at=now))
        self.changes.note(account_id, now)

    def revoke_all(self, account_id, now):
        """End every live session of the account."""
        self.session.execute(update(LoginSession).where(LoginSession.account_id == account_id,
                                                        LoginSession.revoked_at.is_(None)).values(revoked_at=now))
        self.changes.note(account_id, now)


class SecondFactorRepository:
    def __init__(self, session, cipher):
        self.session, self.cipher = session, cipher

    def enrolled(self, account_id):
        """Whether the account has a confirmed factor (one indexed query, the seed left sealed)."""
        return self.session.scalar(select(StaffTotp.confirmed_at).where(StaffTotp.account_id == account_id)) is not None

    def get(self, account_id, lock=False):
        """The account's factor (its row locked when `lock`), or None."""
        query = select(StaffTotp).where(StaffTotp.account_id == account_id)
        row = self.session.scalar(query.with_for_update() if lock else query)
        if row is None:
            return None
        return TotpFactor(account_id=row.account_id, secret=self.cipher.decrypt(row.secret_enc, TOTP_SECRET),
                          created_at=row.created_at, confirmed_at=row.confirmed_at, last_step=row.last_step)

    def add(self, factor):
        self.session.add(StaffTotp(account_id=factor.account_id, created_at=factor.created_at,
                                   secret_enc=self.cipher.encrypt(factor.secret, TOTP_SECRET),
                                   confirmed_at=factor.confirmed_at, last_step=factor.last_step))

    def save(self, factor):
        """Store the confirmation and the last step accepted."""
        self.session.execute(update(StaffTotp).where(StaffTotp.account_id == factor.account_id)
                             .values(confirmed_at=factor.confirmed_at, last_step=factor.last_step))

    def replace_recovery_codes(self, account_id, code_hashes):
        self.session.execute(delete(RecoveryCode).where(RecoveryCode.account_id == account_id))
        self.session.add_all(RecoveryCode(account_id=account_id, code_hash=h) for h in code_hashes)

    def use_recovery_code(self, account_id, code_hash, now):
        """Spend an unused recovery code with this HMAC; False when there is none."""
        row = self.session.scalar(select(RecoveryCode).where(
            RecoveryCode.account_id == account_id, RecoveryCode.code_hash == code_hash,
            RecoveryCode.used_at.is_(None)).with_for_update())
        if row is None:
            return False
        row.used_at = now
        return True

    def remove(self, account_id):
        """The factor and every recovery code of the account (a reset)."""
        self.session.execute(delete(StaffTotp).where(StaffTotp.account_id == account_id))
        self.session.execute(delete(RecoveryCode).where(RecoveryCode.account_id == account_id))
