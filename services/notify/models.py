"""The notify service's own tables (SQLAlchemy 2), beside the platform's outbox and processed-events.

A notification is one message to one recipient on one channel; `dedupe_key` (unique) makes it one
per (cause event, channel, recipient) however often the event arrives. Recipients and bodies are
AES-GCM ciphertexts (`services.common.crypto.DataCipher`): a body can hold an SMS code,
a name or a reviewer's opinion. Staff see the masked recipient and the delivery attempts.
"""
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.common.tables import add_platform_tables
from services.common.types import UtcDateTime

# Context strings bound into the ciphertexts: a value moved to another column does not decrypt.
RECIPIENT = "notifications.recipient"
BODY = "notifications.body"
PARAMS = "notifications.params"
PHONE = "account_phones.phone"


class Base(DeclarativeBase):
    pass


add_platform_tables(Base.metadata)


class Notification(Base):
    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_due", "state", "next_attempt_at"),
        Index("ix_notifications_created", "created_at"),
        Index("ix_notifications_resend_of", "resend_of"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(40))  # verification_code, submission_receipt, …
    channel: Mapped[str] = mapped_column(String(10))  # sms | email
    recipient_enc: Mapped[str] = mapped_column(Text)
    recipient_masked: Mapped[str] = mapped_column(String(120))
    subject: Mapped[str | None] = mapped_column(Text, nullable=True)  # email only; no personal data
    body_enc: Mapped[str] = mapped_column(Text)
    params_enc: Mapped[str] = mapped_column(Text)  # JSON of the template values (HTTP SMS gateways)
    template: Mapped[str] = mapped_column(String(60))  # the file that rendered it, e.g. approved.sms.j2
    template_version: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(12))  # queued | sending | delivered | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime())  # due from then on while queued
    release_at: Mapped[datetime] = mapped_column(UtcDateTime())  # after quiet hours (= created when none)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)  # codes only
    cause_event_id: Mapped[str | None] = mapped_column(String(36), nullable=True)  # None for codes
    cause_event_type: Mapped[str | None] = mapped_column(String(60), nullable=True)
    resend_of: Mapped[str | None] = mapped_column(ForeignKey("notifications.id"), nullable=True)
    provider_message_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    failure_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())  # also the lease of a sending row
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class DeliveryAttempt(Base):
    """One try at the provider: when, what it answered, the id it gave."""
    __tablename__ = "delivery_attempts"
    __table_args__ = (UniqueConstraint("notification_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    notification_id: Mapped[str] = mapped_column(ForeignKey("notifications.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    outcome: Mapped[str | None] = mapped_column(String(12), nullable=True)  # delivered|temporary|permanent
    provider_answer: Mapped[str | None] = mapped_column(Text, nullable=True)
    provider_message_id: Mapped[str | None] = mapped_column(String(255), nullable=True)


class ApplicationAttempt(Base):
    """The latest submission attempt seen per application, so a late ReviewCompleted for an earlier
    attempt does not tell the applicant about a decision that no longer stands (EVENTS.md, order)."""
    __tablename__ = "application_attempts"

    application_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    attempt: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class AccountPhone(Base):
    """The phone of an account, as identity answered `contact_of` (from AccountRegistered on, or at
    the first event of an account registered before), so later events skip that RPC. An account's
    phone never changes today (identity has no way to change it); the day it can, identity must say
    so in an event and notify must replace the row (or drop it) on that event. Encrypted at rest."""
    __tablename__ = "account_phones"

    account_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    phone_enc: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
