"""The review service's own tables (SQLAlchemy 2), beside the platform's outbox and processed-events.

- `materials`: one row per upload checked, accepted or refused. Accepted images live encrypted
  under VAR_DIR/materials/ (services.review.adapters.storage); the row keeps where, their hash and
  the verdict. A refused upload keeps only its verdict ("why was my photo refused").
- `review_tasks`: one per application attempt (UNIQUE), the claim with its lease and the decision.
- `audit_log`: the platform's append-only audit log (services.common.audit): staff looks at tasks
  and materials, claims, releases, decisions, purges. The database refuses UPDATE and DELETE.
"""
from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.common import audit
from services.common.tables import add_platform_tables
from services.common.types import UtcDateTime


class Base(DeclarativeBase):
    pass


add_platform_tables(Base.metadata)


class Material(Base):
    __tablename__ = "materials"
    __table_args__ = (
        Index("ix_materials_application", "application_id", "kind"),
        Index("ix_materials_account", "account_id"),
        Index("ix_materials_sha256", "sha256"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    account_id: Mapped[str] = mapped_column(String(64))
    application_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(20))
    ok: Mapped[bool] = mapped_column(Boolean)
    # Of the re-encoded bytes (what is stored, before encryption); None for a refused upload.
    sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    path: Mapped[str | None] = mapped_column(String(200), nullable=True)  # relative to the store root
    thumb_path: Mapped[str | None] = mapped_column(String(200), nullable=True)
    content_type: Mapped[str | None] = mapped_column(String(40), nullable=True)
    width: Mapped[int | None] = mapped_column(Integer, nullable=True)
    height: Mapped[int | None] = mapped_column(Integer, nullable=True)
    verdict: Mapped[dict] = mapped_column(JSON)  # Verdict.to_dict() of the upload as received
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    purged_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class MaterialFingerprint(Base):
    """Perceptual hashes of an accepted material (domain/phash.py): "image" (the whole picture,
    for the same picture twice in one application) and "portrait" (the face region of the 2-inch
    photo and the ID front, compared across accounts). band0-3 are the hash's four 16-bit bands:
    a multi-index look-up on them finds every near hash without a scan (domain/duplicates.py)."""
    __tablename__ = "material_fingerprints"
    __table_args__ = (
        Index("ix_material_fingerprints_material", "material_id"),
        Index("ix_material_fingerprints_application", "application_id", "region"),
        *(Index(f"ix_material_fingerprints_band{i}", "region", f"band{i}") for i in range(4)),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    material_id: Mapped[str] = mapped_column(String(36))
    account_id: Mapped[str] = mapped_column(String(64))
    application_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(20))
    region: Mapped[str] = mapped_column(String(12))
    hash: Mapped[str] = mapped_column(String(16))
    band0: Mapped[int] = mapped_column(Integer)
    band1: Mapped[int] = mapped_column(Integer)
    band2: Mapped[int] = mapped_column(Integer)
    band3: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


OPEN_TASKS = text("state IN ('pending', 'claimed')")


class ReviewTask(Base):
    """The row of a domain.tasks.Task (its lifecycle lives there; services/review/repository.py maps it)."""
    __tablename__ = "review_tasks"
    __table_args__ = (
        UniqueConstraint("application_id", "attempt", name="uq_review_tasks_application_attempt"),
        Index("ix_review_tasks_queue", "state", "submitted_at"),
        Index("ix_review_tasks_decided", "decided_at"),
        # The queue's open tasks in queue order, and nothing else: the first page of a national year's
        # queue reads twenty index entries instead of sorting every open task.
        Index("ix_review_tasks_open", "submitted_at", "attempt", "id", postgresql_where=OPEN_TASKS,
              sqlite_where=OPEN_TASKS),
        # Every task in queue order: the list under "all" or a closed state; and, with what the counts
        # group by, the tasks of the one day whose counts the queue reads from rows rather than from
        # review_task_counts (min_waiting_seconds), without reading the rows themselves.
        Index("ix_review_tasks_order", "submitted_at", "attempt", "id", "state", "campaign_id", "district_code",
              "cert_level"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    application_id: Mapped[str] = mapped_column(String(64))
    attempt: Mapped[int] = mapped_column(Integer)
    account_id: Mapped[str] = mapped_column(String(64))  # the applicant: never their own reviewer
    campaign_id: Mapped[str] = mapped_column(String(64))
    application_kind: Mapped[str] = mapped_column(String(20))  # FIRST, RENEWAL, LATE, REISSUE
    cert_level: Mapped[str] = mapped_column(String(20))
    exam_year: Mapped[int] = mapped_column(Integer)
    district_code: Mapped[str] = mapped_column(String(12))
    material_ids: Mapped[dict] = mapped_column(JSON)  # kind → material id, as submitted
    submitted_at: Mapped[datetime] = mapped_column(UtcDateTime())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    state: Mapped[str] = mapped_column(String(12))
    claimed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    claimed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    lease_expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    review_id: Mapped[str | None] = mapped_column(String(36), nullable=True, unique=True)
    decision: Mapped[str | None] = mapped_column(String(10), nullable=True)
    opinion: Mapped[str | None] = mapped_column(Text, nullable=True)
    material_issues: Mapped[list | None] = mapped_column(JSON, nullable=True)
    decided_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    decision_key: Mapped[str | None] = mapped_column(String(100), nullable=True)  # Idempotency-Key
    superseded_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class TaskCount(Base):
    """How many tasks each (bucket, campaign, district, level, UTC day of submission) holds. The task
    repository keeps it in the transaction of every task it adds or moves to another bucket, so the
    queue's counts and the figures read a few hundred rows instead of counting a national year of
    tasks. Buckets: open (pending or claimed: which claims are live is read from the claimed rows,
    since a lease runs out without a write), decided, superseded."""
    __tablename__ = "review_task_counts"

    bucket: Mapped[str] = mapped_column(String(12), primary_key=True)
    campaign_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    district_code: Mapped[str] = mapped_column(String(12), primary_key=True)
    cert_level: Mapped[str] = mapped_column(String(20), primary_key=True)
    submitted_day: Mapped[date] = mapped_column(Date, primary_key=True)
    n: Mapped[int] = mapped_column(Integer)


class DecisionCount(Base):
    """Decisions per reviewer per Beijing day, kept with each decision (a decision is final): the
    figures' throughput without counting every decided task."""
    __tablename__ = "review_decision_counts"

    reviewer_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    n: Mapped[int] = mapped_column(Integer)


class AuditEntry(Base):
    """The platform's append-only audit log (services.common.audit)."""
    __table__ = audit.add_table(Base.metadata)
