"""The identity service's repositories, reached on the unit of work (`Database(...,
repositories=repositories)`, db.UnitOfWork): accounts (`uow.accounts`, the phone decrypted on the
way out), sessions (`uow.sessions`), the staff second factor (`uow.second_factors`: the TOTP seed
sealed at rest, the recovery codes as HMACs) and its part of the platform's append-only audit log
(`uow.audit`: enrolments and resets). The in-memory twins are tests/unit/identity/fakes.py.

Not all of identity is here yet (issue #11 step 2): handlers.py and staff.py still query codes,
failures, identities and the staff list inline, through a Context."""
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update

from services.common.audit import AuditLog

from .models import PHONE, TOTP_SECRET, Account, LoginSession, RecoveryCode, StaffTotp


def repositories(session, cipher):
    """The unit of work's hook: this service's repositories for one session."""
    return {"accounts": AccountRepository(session, cipher), "sessions": SessionRepository(session),
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


class SessionRepository:
    def __init__(self, session):
        self.session = session

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
