"""The task commands of services/review/handlers.py and workbench.py on a fake unit of work: a task
from ApplicationSubmitted, claim / release / decide with their refusals, each audited; a refused
command changes nothing and writes nothing."""
from datetime import timedelta

import pytest

from services.contracts.errors import Conflict, Forbidden, NotFound
from services.review import handlers, workbench
from services.review.domain.tasks import CLAIMED, DECIDED, PENDING, SUPERSEDED

from .handler_steps import ADMIN, APPLICANT, LEASE, NOW, REVIEWER, REVIEWER_2, submitted, world

ISSUES = [{"kind": "photo", "reason": "照片不清晰"}]


def claim(uow, task_id, who=REVIEWER, at=NOW):
    with uow:
        return handlers.claim(uow, who, task_id, LEASE, at)


def decide(uow, task_id, who=REVIEWER, decision="approved", opinion=None, issues=(), key=None, at=NOW):
    with uow:
        return handlers.decide(uow, who, task_id, decision, opinion, list(issues), key, at)


def refused(uow, error, code, call):
    """The command raises `error` with `code`, inside a unit of work that rolls back: nothing changed."""
    tasks, audit = dict(uow.tasks.stored), list(uow.audit.stored)
    with pytest.raises(error) as caught, uow:
        call()
    assert caught.value.code == code
    assert uow.tasks.stored == tasks and uow.audit.stored == audit
    return caught.value


def test_application_submitted_makes_one_pending_task_whatever_the_redeliveries():
    uow, task_id = world()
    task = uow.tasks.get(task_id)
    assert (task.state, task.application_id, task.attempt, task.material_ids) == (
        PENDING, "app-1", 1, {"photo": "m-none"})
    assert submitted(uow) == task_id  # the same submission under another event id
    assert len(uow.tasks.stored) == 1 and uow.published == []


def test_a_new_attempt_supersedes_the_open_task_and_a_late_older_one_is_born_superseded():
    uow, first = world()
    second = submitted(uow, attempt=2)
    assert uow.tasks.get(first).state == SUPERSEDED and uow.tasks.get(second).state == PENDING
    [entry] = uow.audit.stored
    assert (entry["action"], entry["subject"], entry["application_id"], entry["details"]["by_attempt"]) == (
        "task.superseded", f"task:{first}", "app-1", 2)
    submitted(uow, "app-2", attempt=3)
    late = submitted(uow, "app-2", attempt=2)
    assert uow.tasks.get(late).state == SUPERSEDED


def test_claim_takes_the_task_and_is_audited():
    uow, task_id = world()
    view = claim(uow, task_id)
    assert (view["state"], view["claimed_by"]) == (CLAIMED, "reviewer-1")
    [entry] = uow.audit.stored
    assert (entry["action"], entry["actor"], entry["roles"], entry["details"]["previous_claimant"]) == (
        "task.claimed", "reviewer-1", ["reviewer"], None)


def test_claim_refusals_change_nothing():
    uow, task_id = world()
    refused(uow, Forbidden, "staff_only", lambda: handlers.claim(uow, APPLICANT, task_id, LEASE, NOW))
    refused(uow, Forbidden, "own_application",
            lambda: handlers.claim(uow, {"account_id": "applicant-1", "roles": ["reviewer"]}, task_id, LEASE, NOW))
    refused(uow, NotFound, "task_not_found", lambda: handlers.claim(uow, REVIEWER, "nope", LEASE, NOW))
    claim(uow, task_id)
    refused(uow, Conflict, "task_claimed", lambda: handlers.claim(uow, REVIEWER_2, task_id, LEASE, NOW))


def test_a_lapsed_claim_may_be_taken_by_another_reviewer():
    uow, task_id = world()
    claim(uow, task_id)
    view = claim(uow, task_id, REVIEWER_2, NOW + timedelta(seconds=LEASE))
    assert view["claimed_by"] == "reviewer-2"
    assert uow.audit.stored[-1]["details"]["previous_claimant"] == "reviewer-1"


def test_release_by_the_claimant_or_an_admin_only():
    uow, task_id = world()
    claim(uow, task_id)
    refused(uow, Conflict, "not_claimant", lambda: handlers.release(uow, REVIEWER_2, task_id, NOW))
    with uow:
        view = handlers.release(uow, ADMIN, task_id, NOW)
    assert view["state"] == PENDING and view["claimed_by"] is None
    assert uow.audit.actions()[-1] == "task.released" and uow.audit.stored[-1]["details"]["claimant"] == "reviewer-1"
    refused(uow, Conflict, "not_claimant", lambda: handlers.release(uow, REVIEWER, task_id, NOW))


def test_decide_publishes_review_completed_once_with_the_audit_entry():
    uow, task_id = world()
    claim(uow, task_id)
    view = decide(uow, task_id, decision="rejected", opinion="照片不清晰", issues=ISSUES, key="key-0001")
    assert (view["state"], view["decision"], view["decided_by"]) == (DECIDED, "rejected", "reviewer-1")
    [event] = uow.published
    assert event["type"] == "ReviewCompleted" and event["data"]["material_issues"] == ISSUES
    assert event["data"]["review_id"] == view["review_id"] == task_id and event["data"]["attempt"] == 1
    assert uow.audit.stored[-1]["details"]["review_id"] == task_id
    assert uow.audit.actions() == ["task.claimed", "task.decided"]
    again = decide(uow, task_id, decision="rejected", opinion="照片不清晰", issues=ISSUES, key="key-0001")
    assert again == view and len(uow.published) == 1 and len(uow.audit.stored) == 2


def test_decide_refusals_change_nothing_and_publish_nothing():
    uow, task_id = world()

    def by(who, decision="approved", key=None):
        opinion, issues = ("照片不清晰", ISSUES) if decision == "rejected" else (None, [])
        return lambda: handlers.decide(uow, who, task_id, decision, opinion, issues, key, NOW)
    refused(uow, Conflict, "not_claimed", by(REVIEWER))
    claim(uow, task_id)
    refused(uow, Forbidden, "not_claimant", by(REVIEWER_2))
    decide(uow, task_id, key="key-0001")
    refused(uow, Conflict, "idempotency_key_reused", by(REVIEWER, "rejected", "key-0001"))
    refused(uow, Conflict, "already_decided", by(REVIEWER))
    assert [e["type"] for e in uow.published] == ["ReviewCompleted"]


def test_a_superseded_task_cannot_be_claimed_or_decided():
    uow, task_id = world()
    claim(uow, task_id)
    submitted(uow, attempt=2)
    refused(uow, Conflict, "task_superseded", lambda: handlers.claim(uow, REVIEWER, task_id, LEASE, NOW))
    refused(uow, Conflict, "task_superseded",
            lambda: handlers.decide(uow, REVIEWER, task_id, "approved", None, [], None, NOW))


def test_get_task_shows_the_materials_and_is_audited():
    uow, task_id = world()
    with uow:
        view = handlers.get_task(uow, REVIEWER, task_id, LEASE, NOW)
    assert view["materials"]["photo"]["found"] is False
    assert uow.audit.actions() == ["task.viewed"]


def test_the_queue_and_its_counts_show_an_expired_claim_as_pending():
    uow, first = world()
    second = submitted(uow, "app-2", account_id="applicant-2", submitted_at="2020-07-03T10:00:01.000+08:00")
    claim(uow, first)
    later = NOW + timedelta(seconds=LEASE + 1)
    with uow:
        pending = handlers.list_tasks(uow, REVIEWER_2, {"state": "pending"}, 200, later)
        counts = workbench.queue_counts(uow, REVIEWER_2, None, 200, later)
        mine = handlers.list_tasks(uow, REVIEWER, {"state": "mine"}, 200, NOW)
    assert [t["id"] for t in pending] == [first, second]
    assert (counts["pending"], counts["claimed"], counts["open"], counts["all"]) == (2, 0, 2, 2)
    assert [t["id"] for t in mine] == [first]
    with uow:
        page = workbench.queue_page(uow, REVIEWER_2, {"state": "pending"}, 200, 30, later)
    assert [t["id"] for t in page["tasks"]] == [first, second] and page["counts"] == counts
    assert page["figures"]["pending"] == 2


def test_claim_next_answers_a_held_task_first_then_the_oldest_free_one_not_ones_own():
    uow, first = world()
    second = submitted(uow, "app-2", account_id="reviewer-1",  # the reviewer's own application
                       submitted_at="2020-07-03T10:00:01.000+08:00")
    third = submitted(uow, "app-3", account_id="applicant-3", submitted_at="2020-07-03T10:00:02.000+08:00")
    with uow:
        taken = workbench.claim_next(uow, REVIEWER, None, None, 200, LEASE, NOW)
        held = workbench.claim_next(uow, REVIEWER, None, None, 200, LEASE, NOW)
        skipped = workbench.claim_next(uow, REVIEWER, None, first, 200, LEASE, NOW)
    assert (taken["id"], taken["claimed_now"]) == (first, True)
    assert (held["id"], held["claimed_now"]) == (first, False)
    assert skipped["id"] == third and second not in (taken["id"], skipped["id"])
    assert [e["details"]["via"] for e in uow.audit.stored] == ["next", "next"]


def test_figures_count_open_tasks_and_decisions():
    uow, task_id = world()
    claim(uow, task_id)
    decide(uow, task_id, at=NOW + timedelta(seconds=30))
    submitted(uow, "app-2", account_id="applicant-2")
    with uow:
        figures = handlers.figures(uow, REVIEWER, 30, NOW + timedelta(minutes=1))
    assert (figures["pending"], figures["open"], figures["counts"]["by_state"]["decided"]) == (1, 1, 1)
    assert figures["decided_today"] == {"reviewer-1": 1}
    with pytest.raises(Forbidden):
        handlers.figures(uow, APPLICANT, 30, NOW)
