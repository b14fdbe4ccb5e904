"""The review task (审核任务): one per application attempt, and its lifecycle as a pure model.

    submitted ──▶ PENDING ──claim──▶ CLAIMED ──decide──▶ DECIDED
                     ▲                 │  │
                     └────release──────┘  └─ the lease runs out: shown as PENDING, anyone may claim
    PENDING, CLAIMED ──supersede (the applicant submitted again)──▶ SUPERSEDED
    submitted for an attempt older than one already here ──▶ born SUPERSEDED

A claim is a lease (`lease_expires_at`); its claimant renews it by claiming again or opening the
task. An expired claim stays CLAIMED in storage and counts as PENDING (`effective_state`).

Every transition checks its guards first and raises a DomainError naming the refusal before any
field changes. The repository stores a transition only while the lifecycle it was decided on
(`lifecycle`: state, claimant, lease) is still the stored one; when another request got there
first, the caller loads the task again and asks once more, so two reviewers can never both hold
one task and the loser hears why (taken, decided, superseded).

No nameko, no SQLAlchemy: plain values in (`now` included), plain values out.
"""
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from services.contracts.errors import Conflict, Forbidden
from services.contracts.roles import ADMIN
from services.contracts.states import CLAIMED, DECIDED, PENDING, SUPERSEDED, TASK_STATES  # noqa: F401

OPEN = (PENDING, CLAIMED)


def lease_until(now, lease_seconds):
    return now + timedelta(seconds=lease_seconds)


def effective_state(state, lease_expires_at, now):
    """An expired claim is pending again: anyone may claim it."""
    if state == CLAIMED and (lease_expires_at is None or lease_expires_at <= now):
        return PENDING
    return state


def forbid_own_application(task_account_id, reviewer_id):
    if task_account_id == reviewer_id:
        raise Forbidden("不能审核本人提交的申请，请交由其他审核人员处理", code="own_application")


@dataclass
class Task:
    id: str
    application_id: str
    attempt: int
    account_id: str  # the applicant: never their own reviewer
    campaign_id: str
    application_kind: str
    cert_level: str
    exam_year: int
    district_code: str
    material_ids: dict  # material kind → material id, as submitted
    submitted_at: datetime
    created_at: datetime
    state: str = PENDING
    claimed_by: str | None = None
    claimed_at: datetime | None = None
    lease_expires_at: datetime | None = None
    # The decision's id in ReviewCompleted: the task's own id for decisions made from 1.1 on; tasks
    # decided before keep the separate id they were given (docs/contract-versions.md).
    review_id: str | None = None
    decision: str | None = None
    opinion: str | None = None
    material_issues: list = field(default_factory=list)
    decided_by: str | None = None
    decided_at: datetime | None = None
    decision_key: str | None = None  # the Idempotency-Key the decision came with
    superseded_at: datetime | None = None

    @classmethod
    def submitted(cls, newest_attempt, now, **fields):
        """The task of a new submission; born superseded when a newer attempt has a task already."""
        task = cls(created_at=now, **fields)
        if newest_attempt is not None and newest_attempt > task.attempt:
            task.state, task.superseded_at = SUPERSEDED, now
        return task

    # -- what the task is now ---------------------------------------------------------------------

    @property
    def lifecycle(self):
        """What a stored transition must still find: (state, claimant, lease)."""
        return self.state, self.claimed_by, self.lease_expires_at

    def claim_active(self, now):
        return self.state == CLAIMED and self.lease_expires_at is not None and self.lease_expires_at > now

    def effective_state(self, now):
        return effective_state(self.state, self.lease_expires_at, now)

    def _refuse_closed(self):
        if self.state == DECIDED:
            raise Conflict("该任务已审核完毕，不能再领取或修改", code="task_decided")
        if self.state == SUPERSEDED:
            raise Conflict("申请人已重新提交，该任务已失效，请处理新的任务", code="task_superseded")

    # -- transitions ------------------------------------------------------------------------------

    def claim(self, reviewer_id, now, lease_seconds):
        """Take a pending task (or one whose claim lapsed); claiming your own live claim renews it.
        Returns the claimant before (None when it was pending)."""
        forbid_own_application(self.account_id, reviewer_id)
        self._refuse_closed()
        if self.claim_active(now) and self.claimed_by != reviewer_id:
            raise Conflict("该任务已被其他审核员领取，请选择其他任务", code="task_claimed")
        previous = self.claimed_by if self.state == CLAIMED else None
        self.state, self.claimed_by, self.claimed_at = CLAIMED, reviewer_id, now
        self.lease_expires_at = lease_until(now, lease_seconds)
        return previous

    def renew(self, reviewer_id, now, lease_seconds):
        """The claimant at work (opening the task): the lease runs from now again. False: nothing to renew."""
        if self.claimed_by != reviewer_id or not self.claim_active(now):
            return False
        self.lease_expires_at = lease_until(now, lease_seconds)
        return True

    def release(self, reviewer_id, roles):
        """Give a claimed task back to the queue: its claimant, or an admin freeing a stuck claim.
        Returns the claimant it had."""
        self._refuse_closed()
        claimant = self.claimed_by if self.state == CLAIMED else None
        if claimant is None or (claimant != reviewer_id and ADMIN not in roles):
            raise Conflict("你没有领取该任务，无需释放", code="not_claimant")
        self.state, self.claimed_by, self.claimed_at, self.lease_expires_at = PENDING, None, None, None
        return claimant

    def decide(self, reviewer_id, decision, opinion, material_issues, key, now):
        """Approve or reject, once, by the holder of a live claim. Returns False (nothing changed)
        when the task is decided already and this is the same decision sent again with its key.
        One task is decided once, so the task's id names the decision: no second id is minted."""
        forbid_own_application(self.account_id, reviewer_id)
        if self.state == DECIDED:
            return self._replayed(reviewer_id, decision, opinion, material_issues, key)
        if self.state == SUPERSEDED:
            self._refuse_closed()
        if not self.claim_active(now):
            raise Conflict("请先领取该任务再作出审核决定（尚未领取，或领取已超时失效）", code="not_claimed")
        if self.claimed_by != reviewer_id:
            raise Forbidden("该任务已由其他审核员领取，只有领取人可以作出审核决定", code="not_claimant")
        self.state, self.decision, self.opinion = DECIDED, decision, opinion
        self.material_issues = list(material_issues)
        self.decided_by, self.decided_at, self.decision_key, self.review_id = reviewer_id, now, key, self.id
        self.lease_expires_at = None
        return True

    def _replayed(self, reviewer_id, decision, opinion, material_issues, key):
        if key is not None and self.decision_key == key and self.decided_by == reviewer_id:
            if (self.decision, self.opinion, list(self.material_issues or [])) != (
                    decision, opinion, list(material_issues)):
                raise Conflict("这个 Idempotency-Key 已用于另一个不同的审核决定", code="idempotency_key_reused")
            return False
        raise Conflict("该任务已审核完毕，不能重复审核", code="already_decided")

    def supersede(self, now):
        """The applicant submitted again: an open task lapses. False for a closed one (it stays)."""
        if self.state not in OPEN:
            return False
        self.state, self.superseded_at, self.lease_expires_at = SUPERSEDED, now, None
        return True
