"""The registration service's own tables (SQLAlchemy 2), plus the platform's outbox and processed-events.

Personal data at rest: ID numbers and names of the roster, and the personal part of every form
(name, ID number, birth date, phones, email, mailing address) are encrypted with the service's
`Cipher` (AES-GCM, the column name bound as context); look-ups go through an HMAC blind index.
"""
from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.common import audit
from services.common.tables import add_platform_tables
from services.common.types import UtcDateTime


class Base(DeclarativeBase):
    pass


add_platform_tables(Base.metadata)


class Campaign(Base):
    """登记批次. Windows are aware UTC instants; the year of `opens_at` in Beijing numbers registrations."""
    __tablename__ = "campaigns"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(20))
    region: Mapped[str] = mapped_column(String(12))
    eligible_exam_years: Mapped[list] = mapped_column(JSON)
    eligible_levels: Mapped[list] = mapped_column(JSON)
    opens_at = mapped_column(UtcDateTime(), nullable=False)
    closes_at = mapped_column(UtcDateTime(), nullable=False)
    delivery_methods: Mapped[list] = mapped_column(JSON)
    exclude_local_only: Mapped[bool] = mapped_column(Boolean)
    allow_resubmit_after_close: Mapped[bool] = mapped_column(Boolean)
    resubmit_closes_at = mapped_column(UtcDateTime(), nullable=True)
    created_at = mapped_column(UtcDateTime(), nullable=False)


class RosterRecord(Base):
    """One exam pass (考试合格记录) of the roster. Re-imports upsert on (person, level, exam year)."""
    __tablename__ = "roster_records"
    __table_args__ = (UniqueConstraint("id_number_index", "level", "exam_year", name="uq_roster_person_level_year"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id_type: Mapped[str] = mapped_column(String(20))
    id_number_enc: Mapped[str] = mapped_column(Text)
    id_number_index: Mapped[str] = mapped_column(String(64), index=True)
    name_enc: Mapped[str] = mapped_column(Text)
    level: Mapped[str] = mapped_column(String(20))
    exam_year: Mapped[int] = mapped_column(Integer)
    management_number: Mapped[str] = mapped_column(String(32), index=True)  # as given, never parsed
    approval_date = mapped_column(Date, nullable=False)
    local_only: Mapped[bool] = mapped_column(Boolean, default=False)
    scores: Mapped[dict] = mapped_column(JSON, default=dict)  # column header → score as text
    source_file: Mapped[str | None] = mapped_column(String(200), nullable=True)
    imported_at = mapped_column(UtcDateTime(), nullable=False)
    updated_at = mapped_column(UtcDateTime(), nullable=False)


class Application(Base):
    """登记申请: the current state of one applicant's application in one campaign."""
    __tablename__ = "applications"
    __table_args__ = (
        UniqueConstraint("account_id", "campaign_id", name="uq_application_account_campaign"),
        # The report's counts read this narrow index, not the wide rows (personal data sealed in them).
        Index("ix_applications_report", "campaign_id", "state", "district_code", "cert_level"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    account_id: Mapped[str] = mapped_column(String(64), index=True)
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(20), index=True)
    attempt: Mapped[int] = mapped_column(Integer, default=0)
    decided_attempt: Mapped[int] = mapped_column(Integer, default=0)
    form: Mapped[dict] = mapped_column(JSON)  # the form without its personal part
    personal_enc: Mapped[str] = mapped_column(Text)  # encrypted JSON: name, id number, phones, address…
    materials: Mapped[dict] = mapped_column(JSON)
    # copies of form fields for reports and the queue (never personal)
    cert_level: Mapped[str | None] = mapped_column(String(20), nullable=True)
    exam_year: Mapped[int | None] = mapped_column(Integer, nullable=True)
    district_code: Mapped[str | None] = mapped_column(String(12), nullable=True)
    first_submitted_at = mapped_column(UtcDateTime(), nullable=True)
    submitted_at = mapped_column(UtcDateTime(), nullable=True)
    decided_at = mapped_column(UtcDateTime(), nullable=True)
    review_opinion: Mapped[str | None] = mapped_column(Text, nullable=True)
    material_issues: Mapped[list] = mapped_column(JSON, default=list)
    registration_number: Mapped[str | None] = mapped_column(String(40), unique=True, nullable=True)
    valid_from = mapped_column(Date, nullable=True)
    valid_until = mapped_column(Date, nullable=True)
    created_at = mapped_column(UtcDateTime(), nullable=False)
    updated_at = mapped_column(UtcDateTime(), nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {"version_id_col": version}


class Submission(Base):
    """The immutable snapshot of one submitted attempt, and the idempotency key that submitted it."""
    __tablename__ = "submissions"
    __table_args__ = (
        UniqueConstraint("application_id", "attempt", name="uq_submission_attempt"),
        UniqueConstraint("account_id", "idempotency_key", name="uq_submission_idempotency_key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id"), index=True)
    account_id: Mapped[str] = mapped_column(String(64))
    attempt: Mapped[int] = mapped_column(Integer)
    idempotency_key: Mapped[str | None] = mapped_column(String(100), nullable=True)
    form: Mapped[dict] = mapped_column(JSON)
    personal_enc: Mapped[str] = mapped_column(Text)
    materials: Mapped[dict] = mapped_column(JSON)
    answer_enc: Mapped[str] = mapped_column(Text)  # the application view answered, replayed for the same key
    event_id: Mapped[str] = mapped_column(String(36))
    submitted_at = mapped_column(UtcDateTime(), nullable=False)


class Decision(Base):
    """A reviewer's decision on one attempt, as ReviewCompleted told it."""
    __tablename__ = "decisions"
    __table_args__ = (UniqueConstraint("application_id", "attempt", name="uq_decision_attempt"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id"), index=True)
    attempt: Mapped[int] = mapped_column(Integer)
    decision: Mapped[str] = mapped_column(String(20))
    opinion: Mapped[str | None] = mapped_column(Text, nullable=True)
    material_issues: Mapped[list] = mapped_column(JSON, default=list)
    review_id: Mapped[str] = mapped_column(String(64))
    reviewer_id: Mapped[str] = mapped_column(String(64))
    event_id: Mapped[str] = mapped_column(String(64))
    decided_at = mapped_column(UtcDateTime(), nullable=False)


class ReportDay(Base):
    """Per campaign and Beijing day: submissions (resubmissions among them) and rejections, kept by
    the repository in the transaction of each submission and decision (services.common.counters),
    so the report's series reads these rows instead of every submission."""
    __tablename__ = "report_days"

    campaign_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    day = mapped_column(Date, primary_key=True)
    submissions: Mapped[int] = mapped_column(Integer)
    resubmissions: Mapped[int] = mapped_column(Integer)
    rejections: Mapped[int] = mapped_column(Integer)


class ReportReason(Base):
    """Per campaign: how often each material issue was a reason for rejection, (kind, reason) spelled
    as the console shows them (domain/report.reason_key), kept with each rejection."""
    __tablename__ = "report_reasons"

    campaign_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), primary_key=True)
    reason: Mapped[str] = mapped_column(Text, primary_key=True)
    n: Mapped[int] = mapped_column(Integer)


class Dispatch(Base):
    """证书寄送: one mailing per application."""
    __tablename__ = "dispatches"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id"), unique=True)
    registration_number: Mapped[str] = mapped_column(String(40))
    carrier: Mapped[str] = mapped_column(String(40))
    tracking_number: Mapped[str] = mapped_column(String(40))
    recorded_by: Mapped[str] = mapped_column(String(64))
    dispatched_at = mapped_column(UtcDateTime(), nullable=False)


# The contexts feedback's personal columns are sealed with: the table was called "appeals" when the
# first rows were sealed, and a new context would leave those rows unreadable (services/ops/sealed.py).
FEEDBACK_NAME, FEEDBACK_ID_NUMBER = "appeal.name", "appeal.id_number"


class Feedback(Base):
    """反馈: a person whose roster record is missing or wrong asks staff to fix it."""
    __tablename__ = "feedback"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    account_id: Mapped[str] = mapped_column(String(64), index=True)
    message: Mapped[str] = mapped_column(Text)
    name_enc: Mapped[str | None] = mapped_column(Text, nullable=True)  # from the verified identity
    id_number_enc: Mapped[str | None] = mapped_column(Text, nullable=True)
    state: Mapped[str] = mapped_column(String(20), index=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    resolved_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at = mapped_column(UtcDateTime(), nullable=False)
    resolved_at = mapped_column(UtcDateTime(), nullable=True)


class NumberSequence(Base):
    """The last registration number issued per campaign year; allocated inside the approving transaction."""
    __tablename__ = "number_sequences"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_seq: Mapped[int] = mapped_column(Integer, default=0)


class AuditEntry(Base):
    """Who exported, imported or read personal data, and when (never the data itself): the
    platform's append-only audit log (services.common.audit)."""
    __table__ = audit.add_table(Base.metadata)
