"""The identity service's repositories, reached on the unit of work (`Database(...,
repositories=repositories)`, db.UnitOfWork): accounts (`uow.accounts`, the phone decrypted on the
way out), sessions (`uow.sessions`), the staff second factor (`uow.second_factors`: the TOTP seed
sealed at rest, the recovery codes as HMACs) and its part of the platform's append-only audit log
(`uow.audit`: enrolments and resets); verified identities as read (`uow.identities`). The in-memory twins are tests/unit/identity/fakes.py.

Not all of identity is here yet (issue #11 step 2): handlers.py and staff.py still query codes,
failures, identities and the staff list inline, through a Context."""
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update

from services.common.audit import AuditLog

from .models import (
    ID_NUMBER,
    NAME,
    PHONE,
    TOTP_SECRET,
    Account,
    Identity,
    LoginSession,
    RecoveryCode,
    StaffTotp,
)


def repositories(session, cipher):
    """The unit of work's hook: this service's repositories for one session."""
    return {"accounts": AccountRepository(session, cipher), "sessions": SessionRepository(session, cipher),
            "identities": IdentityRepository(session, cipher),
            "second_factors": SecondFactorRepository(session, cipher), "audit": AuditLog(session)}


@dataclass
class AccountRecord:
    """An account as the service layer sees it: the phone in clear, the roles as a list."""
    id: str
    phone: str
    roles: list
    created_at: datetime
    password_changed_at: datetime | None = None


class AccountRepository:
    def __init__(self, session, cipher):
        self.session, self.cipher = session, cipher

    def get(self, account_id, lock=False):
        """The account (its row locked when `lock`), or None."""
        query = select(Account).where(Account.id == str(account_id))
        row = self.session.scalar(query.with_for_update() if lock else query)
        if row is None:
            return None
        return AccountRecord(id=row.id, phone=self.cipher.decrypt(row.phone_enc, PHONE), roles=row.role_list,
                             created_at=row.created_at, password_changed_at=row.password_changed_at)


@dataclass
class IdentityRecord:
    """A verified identity, name and number in clear (only the service layer sees them)."""
    account_id: str
    id_type: str
    name: str
    id_number: str
    level: str
    verified_at: datetime


class IdentityRepository:
    def __init__(self, session, cipher):
        self.session, self.cipher = session, cipher

    def get(self, account_id):
        """The account's verified identity, or None."""
        row = self.session.get(Identity, str(account_id))
        if row is None:
            return None
        return IdentityRecord(account_id=row.account_id, id_type=row.id_type, level=row.level,
                              name=self.cipher.decrypt(row.name_enc, NAME),
                              id_number=self.cipher.decrypt(row.id_number_enc, ID_NUMBER),
                              verified_at=row.verified_at)


@dataclass
class SessionRecord:
    """A login session with whom it belongs to: the account, and its verified identity when there is one."""
    id: int
    account_id: str
    roles: list
    phone: str
    created_at: datetime
    last_seen_at: datetime
    revoked_at: datetime | None = None
    level: str | None = None  # the identity's verification level; None: not verified
    name: str | None = None
    id_number: str | None = None


_SESSION_QUERY = (
    select(LoginSession.id, LoginSession.created_at, LoginSession.last_seen_at, LoginSession.revoked_at,
           Account.id.label("account_id"), Account.roles, Account.phone_enc, Identity.level, Identity.name_enc,
           Identity.id_number_enc)
    .join(Account, Account.id == LoginSession.account_id)
    .outerjoin(Identity, Identity.account_id == Account.id))


class SessionRepository:
    def __init__(self, session, cipher):
        self.session, self.cipher = session, cipher

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

    def revoke(self, token_hash, now):
        self.session.execute(update(LoginSession).where(LoginSession.token_hash == token_hash,
                                                        LoginSession.revoked_at.is_(None)).values(revoked_at=now))

    def revoke_all(self, account_id, now):
        """End every live session of the account."""
        self.session.execute(update(LoginSession).where(LoginSession.account_id == account_id,
                                                        LoginSession.revoked_at.is_(None)).values(revoked_at=now))


@dataclass
class TotpFactor:
    """A staff member's TOTP second factor; `last_step`: the last time-step accepted (no code twice)."""
    account_id: str
    secret: str
    created_at: datetime
    confirmed_at: datetime | None = None
    last_step: int | None = None


class SecondFactorRepository:
    def __init__(self, session, cipher):
        self.session, self.cipher = session, cipher

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
