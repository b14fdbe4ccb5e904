"""The plain records the repositories hand to the service layer beside the Application aggregate:
what was stored, decrypted, with no rules of their own. The SQL side is repository.py; the
in-memory side the unit tests use is tests/unit/registration/fakes.py."""
from dataclasses import dataclass, field
from datetime import date, datetime

from services.common.idnumbers import normalise_number


@dataclass
class RosterRecord:
    """One exam pass of the roster (考试合格记录); `key` is what a re-import upserts on."""
    name: str
    id_type: str
    id_number: str
    level: str
    exam_year: int
    management_number: str
    approval_date: date
    local_only: bool = False
    scores: dict = field(default_factory=dict)  # column header → score as text
    source_file: str | None = None

    @property
    def key(self):
        return roster_key(self.id_type, self.id_number, self.level, self.exam_year)


def roster_key(id_type, id_number, level, exam_year):
    return id_type, normalise_number(id_number), level, exam_year


@dataclass(frozen=True)
class Submission:
    """The snapshot of one submitted attempt and the answer its idempotency key replays."""
    application_id: str
    account_id: str
    attempt: int
    idempotency_key: str | None
    form: dict
    materials: dict
    answer: dict
    event_id: str
    submitted_at: datetime


@dataclass(frozen=True)
class Decision:
    """A reviewer's decision on one attempt, as ReviewCompleted told it."""
    application_id: str
    attempt: int
    decision: str
    opinion: str | None
    material_issues: list
    review_id: str
    reviewer_id: str
    event_id: str
    decided_at: datetime


@dataclass(frozen=True)
class Dispatch:
    """证书寄送: one mailing per application."""
    application_id: str
    registration_number: str
    carrier: str
    tracking_number: str
    recorded_by: str
    dispatched_at: datetime


@dataclass
class Feedback:
    """反馈: a person asks staff to add or correct their roster record; name and number when verified."""
    id: str
    account_id: str
    message: str
    state: str
    created_at: datetime
    name: str | None = None
    id_number: str | None = None
    note: str | None = None
    resolved_by: str | None = None
    resolved_at: datetime | None = None
    verified: bool = False  # name and id_number are the verified identity's (kept encrypted)


@dataclass(frozen=True)
class Waiting:
    """An application submitted and still undecided (the watchdog's line)."""
    id: str
    campaign_id: str
    attempt: int
    submitted_at: datetime
    district_code: str | None
