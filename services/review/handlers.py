"""The review service layer for tasks: one function per command or event.

Each takes a unit of work and plain values (the time, the settings it needs). It reaches the data
only through the unit of work's repositories (`uow.tasks`, `uow.materials`, `uow.audit` —
repository.py) and writes events with `uow.publish`; no nameko, no SQL, so the CLI calls them
directly and the unit tests run them on a fake unit of work. The rules live in `domain/` (the task
lifecycle in `domain/tasks.py`); uploads are uploads.py, the workbench's extras workbench.py.

- Every state change of a task is a transition of the domain model stored by compare-and-set
  (`uow.tasks.apply`): two reviewers racing for one task change one row; the other is refused.
- Staff looks at tasks, claims, releases and decisions go to the append-only audit log in the
  same transaction as the change.
- ReviewCompleted is written to the outbox in the decision's transaction.
"""
import logging
from datetime import datetime, timedelta
from uuid import uuid4

from services.common import clock
from services.contracts.errors import ValidationFailed
from services.contracts.events import new_event

from . import audit
from .domain import access, decisions, duplicates
from .domain import figures as figures_rules
from .domain.phash import hamming
from .domain.tasks import CLAIMED, DECIDED, OPEN, PENDING, SUPERSEDED, Task
from .domain.thresholds import DEFAULT as DEFAULT_THRESHOLDS
from .repository import MINE

log = logging.getLogger("services.review")

TASK_FILTERS = ("campaign_id", "district", "level", "state", "min_waiting_seconds", "limit", "after")
STATE_FILTERS = ("open", "all", MINE, PENDING, CLAIMED, DECIDED, SUPERSEDED)


# --- review tasks ------------------------------------------------------------------------------

def _iso(value):
    return clock.iso(value) if value is not None else None


def task_view(task, now, viewer_id=None):
    state = task.effective_state(now)
    active = state == CLAIMED
    return {
        "id": task.id, "application_id": task.application_id, "attempt": task.attempt, "state": state,
        "claimed_by": task.claimed_by if active or task.state == DECIDED else None,
        "claim_expires_at": _iso(task.lease_expires_at) if active else None,
        "campaign_id": task.campaign_id, "application_kind": task.application_kind,
        "cert_level": task.cert_level, "exam_year": task.exam_year, "district_code": task.district_code,
        "material_ids": dict(task.material_ids or {}),
        "submitted_at": _iso(task.submitted_at),
        "waiting_seconds": max(0, int(((task.decided_at or task.superseded_at or now)
                                       - task.submitted_at).total_seconds())),
        "own_application": viewer_id is not None and viewer_id == task.account_id,
        "review_id": task.review_id, "decision": task.decision, "opinion": task.opinion,
        "material_issues": list(task.material_issues or []), "decided_by": task.decided_by,
        "decided_at": _iso(task.decided_at),
    }


def _submitted_at(value):
    try:
        moment = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        moment = None
    if moment is None or moment.tzinfo is None:
        raise ValueError(f"submitted_at is not an ISO datetime with offset: {value!r}")
    return moment


def on_application_submitted(uow, event, now):
    """One task per (application, attempt), whatever the redeliveries (the service skips a repeated
    event id; a repeated submission under another id finds its task); a newer attempt supersedes
    the open task of an older one (and an older attempt arriving late is born superseded)."""
    data = event["data"]
    application_id, attempt = data["application_id"], data["attempt"]
    uow.tasks.lock_application(application_id)
    attempts = uow.tasks.attempts(application_id)
    if attempt in attempts:  # the same submission published again under another event id
        log.info("task for %s attempt %s exists already", application_id, attempt)
        return attempts[attempt][0]
    task = Task.submitted(
        max(attempts, default=None), now,
        id=str(uuid4()), application_id=application_id, attempt=attempt, account_id=data["account_id"],
        campaign_id=data["campaign_id"], application_kind=data["kind"], cert_level=data["cert_level"],
        exam_year=data["exam_year"], district_code=data["district_code"],
        material_ids=dict(data["material_ids"]), submitted_at=_submitted_at(data["submitted_at"]))
    uow.tasks.add(task)
    if task.state != SUPERSEDED:
        for older, (older_id, state) in sorted(attempts.items()):
            if older < attempt and state in OPEN:
                _, superseded = uow.tasks.apply(older_id, lambda t: t.supersede(now))
                if superseded:
                    audit.record(uow, "system", "task.superseded", f"task:{older_id}",
                                 {"application_id": application_id, "by_attempt": attempt}, now)
    return task.id


def _clean_filters(filters, max_limit):
    if filters is None:
        filters = {}
    if not isinstance(filters, dict):
        raise ValidationFailed("筛选条件应为对象", details={"filters": ["应为对象"]})
    errors = {}
    unknown = sorted(set(filters) - set(TASK_FILTERS))
    if unknown:
        errors.update({key: [f"不支持的筛选条件，可用：{'、'.join(TASK_FILTERS)}"] for key in unknown})
    clean = {key: filters[key] for key in TASK_FILTERS if filters.get(key) not in (None, "")}
    for key in ("campaign_id", "district", "level", "after"):
        if key in clean and not isinstance(clean[key], str):
            errors[key] = ["应为文本"]
    state = clean.setdefault("state", "open")
    if state not in STATE_FILTERS:
        errors["state"] = [f"状态应为 {'、'.join(STATE_FILTERS)} 之一"]
    for key, default, top in (("min_waiting_seconds", 0, 10 ** 9), ("limit", max_limit, max_limit)):
        try:
            clean[key] = int(clean.get(key, default))
            if not 0 <= clean[key] <= top or (key == "limit" and clean[key] < 1):
                raise ValueError
        except (TypeError, ValueError):
            errors[key] = [f"应为 {1 if key == 'limit' else 0} 到 {top} 之间的整数"]
    if errors:
        raise ValidationFailed("筛选条件有误，请按提示修改", details=errors)
    return clean


def list_tasks(uow, principal, filters, list_limit, now):
    """Staff queue, oldest submission first. Filters: campaign_id, district, level, state (open by
    default: pending and claimed; or pending, claimed, mine, decided, superseded, all),
    min_waiting_seconds, limit (at most `list_limit`)."""
    reviewer_id, _ = access.require_staff(principal)
    f = _clean_filters(filters, list_limit)
    return [task_view(t, now, reviewer_id) for t in uow.tasks.queue(f, now, reviewer_id)]


def _other_account_flags(uow, material, thresholds):
    """Flags for a photo or ID-front portrait that other accounts uploaded too (never who)."""
    if material.kind not in duplicates.CROSS_ACCOUNT_KINDS or not material.ok:
        return []
    mine = uow.materials.portrait_of(material.id)
    if not mine:
        return []
    nearest = {}
    for account, value in uow.materials.near_portraits(material.kind, material.account_id,
                                                       duplicates.probe_values(mine)):
        distance = hamming(mine, value)
        nearest[account] = min(distance, nearest.get(account, distance))
    flag = duplicates.other_account_flag(material.kind, list(nearest.values()), thresholds)
    return [flag] if flag else []


def _materials_of(uow, task, thresholds=DEFAULT_THRESHOLDS):
    found = uow.materials.by_ids((task.material_ids or {}).values())
    out = {}
    for kind, material_id in (task.material_ids or {}).items():
        m = found.get(material_id)
        out[kind] = {"material_id": material_id, "found": m is not None,
                     # an id the applicant did not upload themselves is worth a second look
                     "uploaded_by_applicant": bool(m and m.account_id == task.account_id),
                     "ok": m.ok if m else None,
                     "issues": m.verdict.get("issues", []) if m else [],
                     "width": m.width if m else None, "height": m.height if m else None,
                     "content_type": m.content_type if m else None,
                     "sharpness": m.verdict.get("sharpness") if m else None,
                     # what is in the picture (face, ID side, duplicates), as checked at upload
                     "checks": m.verdict.get("checks", []) if m else [],
                     "flags": _other_account_flags(uow, m, thresholds) if m else [],
                     "purged": bool(m and m.purged_at is not None)}
    return out


def get_task(uow, principal, task_id, lease_seconds, now, thresholds=DEFAULT_THRESHOLDS):
    """The task with its materials' ids and verdicts; audited; a look by the claimant renews the lease."""
    reviewer_id, roles = access.require_staff(principal)
    task, _ = uow.tasks.apply(task_id, lambda t: t.renew(reviewer_id, now, lease_seconds))
    audit.record(uow, reviewer_id, "task.viewed", f"task:{task.id}",
                 {"application_id": task.application_id, "attempt": task.attempt}, now, roles)
    return {**task_view(task, now, reviewer_id), "materials": _materials_of(uow, task, thresholds)}


def claim_details(task, **more):
    """What the audit log keeps of a claim."""
    return {"application_id": task.application_id, "attempt": task.attempt,
            "lease_expires_at": _iso(task.lease_expires_at), **more}


def claim(uow, principal, task_id, lease_seconds, now):
    """Claim a pending task (or one whose claim lapsed); claiming your own live claim renews it."""
    reviewer_id, roles = access.require_staff(principal)
    task, previous = uow.tasks.apply(task_id, lambda t: t.claim(reviewer_id, now, lease_seconds))
    audit.record(uow, reviewer_id, "task.claimed", f"task:{task.id}", claim_details(
        task, previous_claimant=previous if previous != reviewer_id else None,
        renewed=previous == reviewer_id), now, roles)
    return task_view(task, now, reviewer_id)


def release(uow, principal, task_id, now):
    """Give a claimed task back to the queue: its claimant (or an admin) only."""
    reviewer_id, roles = access.require_staff(principal)
    task, claimant = uow.tasks.apply(task_id, lambda t: t.release(reviewer_id, roles))
    audit.record(uow, reviewer_id, "task.released", f"task:{task.id}",
                 {"application_id": task.application_id, "attempt": task.attempt, "claimant": claimant},
                 now, roles)
    return task_view(task, now, reviewer_id)


def decide(uow, principal, task_id, decision, opinion, material_issues, idempotency_key, now):
    """Approve or reject a task you hold: once. Publishes ReviewCompleted in the same transaction.
    The same decision sent again with its Idempotency-Key answers the same and changes nothing."""
    reviewer_id, roles = access.require_staff(principal)
    decision, opinion, issues, key = decisions.clean_decision(decision, opinion, material_issues, idempotency_key)
    task, decided = uow.tasks.apply(
        task_id, lambda t: t.decide(reviewer_id, decision, opinion, issues, key, now))
    if decided:
        audit.record(uow, reviewer_id, "task.decided", f"task:{task.id}",
                     {"application_id": task.application_id, "attempt": task.attempt, "review_id": task.review_id,
                      "decision": decision, "opinion": opinion, "material_issues": issues}, now, roles)
        uow.publish(new_event("ReviewCompleted", task.application_id, {
            "review_id": task.review_id, "application_id": task.application_id, "attempt": task.attempt,
            "decision": decision, "opinion": opinion, "material_issues": issues,
            "reviewer_id": reviewer_id, "completed_at": clock.iso(now)}, time=now))
    return task_view(task, now, reviewer_id)


def common_reasons():
    return [dict(reason) for reason in decisions.COMMON_REASONS]


# --- figures -----------------------------------------------------------------------------------

def figures_snapshot(uow, window_days, now, recent=None, at=None):
    """Reviewer figures without the audience check (the metrics RPC uses it). `recent` (a
    domain.figures.Recent, with `at` its clock's reading) keeps the median a while; without it, the
    median is computed now."""
    since = now - timedelta(days=window_days)
    groups, oldest, closed_counts, decided = uow.tasks.figures_counts(since, now)
    opened = figures_rules.open_counts(groups, oldest, now)
    by_state = {PENDING: opened["by_state"].get(PENDING, 0), CLAIMED: opened["by_state"].get(CLAIMED, 0),
                DECIDED: closed_counts.get(DECIDED, 0), SUPERSEDED: closed_counts.get(SUPERSEDED, 0)}
    if recent is None:
        median, median_as_of = uow.tasks.median_seconds(since), now
    else:
        median, median_as_of = recent.get(window_days, at, lambda: uow.tasks.median_seconds(since), now)
    today = now.astimezone(clock.BEIJING).date().isoformat()
    per_day = figures_rules.decided_per_reviewer_per_day(decided)
    return {
        "pending": by_state[PENDING],
        "claimed": by_state[CLAIMED],
        "open": opened["open"],
        "oldest_waiting_seconds": opened["oldest_waiting_seconds"],
        "decided_per_reviewer_per_day": per_day,
        "decided_today": {row["reviewer_id"]: row["decided"] for row in per_day if row["day"] == today},
        "median_seconds_to_decision": median,
        "median_as_of": clock.iso(median_as_of),
        "window_days": window_days,
        "counts": {"by_state": by_state, "open_by_campaign": opened["by_campaign"],
                   "open_by_district": opened["by_district"], "open_by_level": opened["by_level"]},
        "as_of": clock.iso(now),
    }


def figures(uow, principal, window_days, now, recent=None, at=None):
    access.require_staff(principal)
    return figures_snapshot(uow, window_days, now, recent, at)
