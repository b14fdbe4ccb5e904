"""What the reviewer's workbench (the /review/ pages) needs beside the task RPCs of handlers.py:

- `queue_page`: everything the queue page shows — a page of tasks, the counts per tab and the
  figures — from one unit of work, so the page costs one round trip, not three.
- `queue_counts`: how many tasks are in each state under the queue's filters, so each filter tab
  shows its number (and "mine": the live claims of the reviewer asking).
- `claim_next`: "下一个任务" without going back to the list — a task the reviewer already holds
  (oldest first), else the oldest pending one (or one whose claim lapsed), claimed in one step.
  Two reviewers asking at once get different tasks: the claim is the same transition, stored by
  the same compare-and-set, as `handlers.claim`, and on PostgreSQL the candidate row is taken with
  FOR UPDATE SKIP LOCKED so the other transaction moves on to the next row instead of queueing.

No nameko here either; the same form as handlers.py (a unit of work and plain values).
"""
import dataclasses

from services.contracts.errors import ValidationFailed

from . import audit
from .domain import access
from .domain.tasks import CLAIMED, DECIDED, PENDING, SUPERSEDED
from .handlers import MINE, _clean_filters, claim_details, figures, list_tasks, task_view

NEXT_FILTERS = ("campaign_id", "district", "level")
CLAIM_ROUNDS = 20  # candidates tried before giving up when every one is taken under our feet


def queue_page(uow, principal, filters, list_limit, window_days, now, recent=None, at=None):
    """{"tasks", "counts", "figures"}: what list_tasks, queue_counts and figures answer, in one
    transaction (the tabs' numbers and the list agree with each other)."""
    return {"tasks": list_tasks(uow, principal, filters, list_limit, now),
            "counts": queue_counts(uow, principal, filters, list_limit, now),
            "figures": figures(uow, principal, window_days, now, recent, at)}


def queue_counts(uow, principal, filters, list_limit, now):
    """{"pending", "claimed", "mine", "decided", "superseded", "open", "all"} under the filters
    (campaign_id, district, level, min_waiting_seconds; `state` and `limit` are ignored), with an
    expired claim counted as pending, as the queue shows it."""
    reviewer_id, _ = access.require_staff(principal)
    if isinstance(filters, dict):
        filters = {k: v for k, v in filters.items() if k not in ("state", "limit")}
    f = _clean_filters(filters, list_limit)
    counts = {PENDING: 0, CLAIMED: 0, MINE: 0, DECIDED: 0, SUPERSEDED: 0}
    for state, is_mine, n in uow.tasks.counts(f, now, reviewer_id):
        counts[state] = counts.get(state, 0) + n
        if is_mine:
            counts[MINE] += n
    counts["open"] = counts[PENDING] + counts[CLAIMED]
    counts["all"] = counts["open"] + counts[DECIDED] + counts[SUPERSEDED]
    return counts


def _next_filters(filters, max_limit):
    if filters is not None and not isinstance(filters, dict):
        raise ValidationFailed("筛选条件应为对象", details={"filters": ["应为对象"]})
    unknown = sorted(set(filters or {}) - set(NEXT_FILTERS))
    if unknown:
        raise ValidationFailed("筛选条件有误，请按提示修改",
                               details={k: [f"不支持的筛选条件，可用：{'、'.join(NEXT_FILTERS)}"] for k in unknown})
    return _clean_filters(dict(filters or {}), max_limit)


def claim_next(uow, principal, filters, skip, list_limit, lease_seconds, now):
    """The reviewer's next task, claimed (a task view with "claimed_now"), or None when the queue
    (under the filters campaign_id, district, level) holds nothing they may take. `skip`: the task
    on screen, never answered (the reviewer asked for another one)."""
    reviewer_id, roles = access.require_staff(principal)
    f = _next_filters(filters, list_limit)
    if skip is not None and not isinstance(skip, str):
        raise ValidationFailed("skip 应为任务编号", details={"skip": ["应为任务编号"]})
    passed = [skip] if skip else []
    held = uow.tasks.held_by(reviewer_id, f, now, passed)
    if held is not None:
        return {**task_view(held, now, reviewer_id), "claimed_now": False}
    for _ in range(CLAIM_ROUNDS):
        task = uow.tasks.next_free(reviewer_id, f, now, passed)
        if task is None:
            return None
        before = dataclasses.replace(task)
        previous = task.claim(reviewer_id, now, lease_seconds)
        if uow.tasks.save(task, before.lifecycle):
            audit.record(uow, reviewer_id, "task.claimed", f"task:{task.id}", claim_details(
                task, previous_claimant=previous, renewed=False, via="next"), now, roles)
            return {**task_view(task, now, reviewer_id), "claimed_now": True}
        passed.append(task.id)  # taken under our feet: try the next one
    return None
