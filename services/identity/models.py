"""The identity service's own tables (SQLAlchemy 2), beside the platform's outbox and processed-events.

Personal data never sits here in clear: phones, ID numbers and names are AES-GCM ciphertexts
(`services.common.crypto.DataCipher`, key id inside the value so keys rotate) and look-ups go
through HMAC blind indexes. Codes and session tokens are stored only as hashes.
"""
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.common import audit
from services.common.tables import add_platform_tables
from services.common.types import UtcDateTime

# Context strings bound into ciphertexts and blind indexes: a value moved to another column does
# not decrypt, and the index of a phone can never equal the index of an ID number.
PHONE = "phone"
ID_NUMBER = "id_number"
NAME = "name"
CLIENT_IP = "client_ip"
DEVICE = "device"
CLIENT = "client"  # address + device together
TOTP_SECRET = "totp_secret"


class Base(DeclarativeBase):
    pass


add_platform_tables(Base.metadata)


class Account(Base):
    __tablename__ = "accounts"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    phone_enc: Mapped[str] = mapped_column(Text)
    # Unique: one account per phone; two simultaneous registrations collide here.
    phone_index: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255), nullable=True)
    roles: Mapped[str] = mapped_column(String(80))  # comma-separated, see role_list
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    password_changed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)

    @property
    def role_list(self):
        return [role for role in self.roles.split(",") if role]


class SmsCode(Base):
    """One issued SMS code (services.identity.domain.sms_codes.SmsCode), kept as an HMAC. The table
    keeps its first name, sms_challenges (a rename would be a migration for nothing)."""
    __tablename__ = "sms_challenges"
    __table_args__ = (
        Index("ix_sms_challenges_phone", "phone_index", "created_at"),
        Index("ix_sms_challenges_ip", "client_ip_index", "created_at"),
        Index("ix_sms_challenges_device", "device_index", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    phone_index: Mapped[str] = mapped_column(String(64))
    purpose: Mapped[str] = mapped_column(String(20))
    code_hash: Mapped[str] = mapped_column(String(64))
    client_ip_index: Mapped[str | None] = mapped_column(String(64), nullable=True)
    device_index: Mapped[str | None] = mapped_column(String(64), nullable=True)
    client_index: Mapped[str | None] = mapped_column(String(64), nullable=True)  # address + device
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class CaptchaChallengeRow(Base):
    """One 图形验证码 (services.identity.domain.captcha), bound to a phone and a client, answer as HMAC."""
    __tablename__ = "captcha_challenges"
    __table_args__ = (Index("ix_captcha_challenges_time", "created_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    phone_index: Mapped[str] = mapped_column(String(64))
    client_index: Mapped[str] = mapped_column(String(64))
    answer_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class LoginFailure(Base):
    """A failed login (or a try reserved before the password is checked); cleared by a success."""
    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_account", "account_id", "failed_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    failed_at: Mapped[datetime] = mapped_column(UtcDateTime())


class PhoneLoginFailure(Base):
    """A failed login for a phone without an account (blind index only): counted and locked exactly
    like an account's, so the answers do not tell which phones are registered. Kept 24 hours."""
    __tablename__ = "phone_login_failures"
    __table_args__ = (Index("ix_phone_login_failures_phone", "phone_index", "failed_at"),
                      Index("ix_phone_login_failures_time", "failed_at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    phone_index: Mapped[str] = mapped_column(String(64))
    failed_at: Mapped[datetime] = mapped_column(UtcDateTime())


class LoginSession(Base):
    __tablename__ = "sessions"
    __table_args__ = (Index("ix_sessions_account", "account_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # SHA-256 of the token
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class PrincipalChange(Base):
    """An account whose sessions now answer differently (a session ended, the identity verified).

    Written by the repositories in the transaction of the change; gateways that keep principals
    read the recent ones every fraction of a second and drop what they kept for these accounts
    (services/gateway/principals.py). Rows older than an hour are deleted as new ones come."""
    __tablename__ = "principal_changes"
    __table_args__ = (Index("ix_principal_changes_time", "changed_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(String(36))
    changed_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Identity(Base):
    """The real-name record of one account (实名认证), at the level it reached."""
    __tablename__ = "identities"

    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    id_type: Mapped[str] = mapped_column(String(30))
    id_number_enc: Mapped[str] = mapped_column(Text)
    # Unique: one verified account per ID number.
    id_index: Mapped[str] = mapped_column(String(64), unique=True)
    name_enc: Mapped[str] = mapped_column(Text)
    level: Mapped[str] = mapped_column(String(30))  # format_checked | externally_verified
    verified_at: Mapped[datetime] = mapped_column(UtcDateTime())


class VerificationAttempt(Base):
    __tablename__ = "verification_attempts"
    __table_args__ = (Index("ix_verification_attempts_account", "account_id", "attempted_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    attempted_at: Mapped[datetime] = mapped_column(UtcDateTime())
    # pending → verified | mismatch | id_taken | unavailable (the last does not count)
    outcome: Mapped[str] = mapped_column(String(20))


class StaffTotp(Base):
    """A staff member's TOTP second factor: the seed sealed with the cipher, confirmed by a first code;
    last_step is the last time-step accepted, so a code cannot be used twice."""
    __tablename__ = "staff_totp"

    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    secret_enc: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    confirmed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    last_step: Mapped[int | None] = mapped_column(Integer, nullable=True)


class RecoveryCode(Base):
    """One of ten single-use recovery codes, kept as an HMAC."""
    __tablename__ = "staff_recovery_codes"
    __table_args__ = (Index("ix_staff_recovery_codes_account", "account_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class AuditEntry(Base):
    """Security actions on accounts (who did what to whom, when): the platform's append-only audit log
    (services.common.audit), so the auditor reads them beside registration's and review's."""
    __table__ = audit.add_table(Base.metadata)
