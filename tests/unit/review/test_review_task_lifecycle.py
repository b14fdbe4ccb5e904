"""The review task lifecycle (services/review/domain/tasks.py): every transition and every refusal,
pure (no broker, no database). A refused transition changes nothing."""
import dataclasses
from datetime import datetime, timedelta, timezone

import pytest

from services.contracts.errors import Conflict, Forbidden
from services.review.domain.tasks import CLAIMED, DECIDED, PENDING, SUPERSEDED, Task

NOW = datetime(2020, 7, 3, 2, 0, tzinfo=timezone.utc)
LEASE = 600
ISSUES = [{"kind": "photo", "reason": "照片不清晰"}]


def task(attempt=1, newest=None, **changes):
    made = Task.submitted(newest, NOW, id="t-1", application_id="app-1", attempt=attempt, account_id="applicant-1",
                          campaign_id="c2020", application_kind="FIRST", cert_level="INTERMEDIATE", exam_year=2019,
                          district_code="110105", material_ids={"photo": "m-1"}, submitted_at=NOW)
    return dataclasses.replace(made, **changes)


def claimed(by="reviewer-1", at=NOW, **changes):
    t = task(**changes)
    t.claim(by, at, LEASE)
    return t


def refused(t, error, code, call):
    before = dataclasses.replace(t)
    with pytest.raises(error) as caught:
        call(t)
    assert caught.value.code == code
    assert t == before  # nothing changed
    return caught.value


def test_a_submission_is_pending_and_a_late_older_attempt_is_born_superseded():
    assert task().state == PENDING and task(newest=1).state == PENDING
    late = task(attempt=1, newest=2)
    assert late.state == SUPERSEDED and late.superseded_at == NOW


def test_claim_takes_a_pending_task_with_a_lease():
    t = task()
    assert t.claim("reviewer-1", NOW, LEASE) is None
    assert (t.state, t.claimed_by, t.claimed_at) == (CLAIMED, "reviewer-1", NOW)
    assert t.lease_expires_at == NOW + timedelta(seconds=LEASE)
    assert t.claim_active(NOW) and t.effective_state(NOW) == CLAIMED


def test_claiming_again_renews_ones_own_claim():
    t = claimed()
    later = NOW + timedelta(seconds=100)
    assert t.claim("reviewer-1", later, LEASE) == "reviewer-1"
    assert t.lease_expires_at == later + timedelta(seconds=LEASE)


def test_a_live_claim_of_another_reviewer_is_refused():
    refused(claimed(), Conflict, "task_claimed", lambda t: t.claim("reviewer-2", NOW + timedelta(seconds=1), LEASE))


def test_an_expired_claim_is_pending_and_anyone_may_take_it():
    t = claimed()
    expiry = NOW + timedelta(seconds=LEASE)
    assert t.effective_state(expiry) == PENDING and not t.claim_active(expiry)
    assert t.claim("reviewer-2", expiry, LEASE) == "reviewer-1"
    assert t.claimed_by == "reviewer-2"


def test_nobody_claims_or_decides_their_own_application():
    refused(task(), Forbidden, "own_application", lambda t: t.claim("applicant-1", NOW, LEASE))
    t = claimed()
    t.account_id = "reviewer-1"
    refused(t, Forbidden, "own_application", lambda t: t.decide("reviewer-1", "approved", None, [], None, NOW))


def test_closed_tasks_refuse_claim_and_release():
    decided = claimed()
    decided.decide("reviewer-1", "approved", None, [], None, NOW)
    superseded = task()
    superseded.supersede(NOW)
    for closed, code in ((decided, "task_decided"), (superseded, "task_superseded")):
        refused(closed, Conflict, code, lambda t: t.claim("reviewer-2", NOW, LEASE))
        refused(closed, Conflict, code, lambda t: t.release("reviewer-1", ("reviewer",)))


def test_renew_extends_only_the_claimants_live_lease():
    t = claimed()
    later = NOW + timedelta(seconds=500)
    assert t.renew("reviewer-1", later, LEASE) and t.lease_expires_at == later + timedelta(seconds=LEASE)
    for who, when in (("reviewer-2", later), ("reviewer-1", later + timedelta(seconds=LEASE))):
        before = dataclasses.replace(t)
        assert t.renew(who, when, LEASE) is False and t == before
    pending = task()
    assert pending.renew("reviewer-1", NOW, LEASE) is False


def test_release_by_the_claimant_or_an_admin():
    t = claimed()
    assert t.release("reviewer-1", ("reviewer",)) == "reviewer-1"
    assert (t.state, t.claimed_by, t.claimed_at, t.lease_expires_at) == (PENDING, None, None, None)
    t = claimed()
    assert t.release("admin-1", ("admin",)) == "reviewer-1"  # an admin frees a stuck claim
    assert t.state == PENDING


def test_release_refused_to_anyone_else_and_on_a_pending_task():
    refused(claimed(), Conflict, "not_claimant", lambda t: t.release("reviewer-2", ("reviewer",)))
    refused(task(), Conflict, "not_claimant", lambda t: t.release("reviewer-1", ("reviewer",)))


def test_decide_by_the_holder_of_a_live_claim():
    t = claimed()
    assert t.decide("reviewer-1", "rejected", "请重新上传", ISSUES, "key-0001", NOW) is True
    assert (t.state, t.decision, t.opinion, t.material_issues) == (DECIDED, "rejected", "请重新上传", ISSUES)
    assert (t.decided_by, t.decided_at, t.decision_key) == ("reviewer-1", NOW, "key-0001")
    assert t.review_id == t.id == "t-1"  # one id per decided task: the decision is named by its task
    assert t.lease_expires_at is None and t.claimed_by == "reviewer-1"
    assert t.effective_state(NOW) == DECIDED


def test_decide_refusals():
    decide = lambda who, at=NOW: lambda t: t.decide(who, "approved", None, [], None, at)  # noqa: E731
    refused(task(), Conflict, "not_claimed", decide("reviewer-1"))
    refused(claimed(), Forbidden, "not_claimant", decide("reviewer-2"))
    lapsed = refused(claimed(), Conflict, "not_claimed", decide("reviewer-1", NOW + timedelta(seconds=LEASE)))
    assert lapsed.http_status == 409
    superseded = claimed()
    superseded.supersede(NOW)
    refused(superseded, Conflict, "task_superseded", decide("reviewer-1"))


def test_a_decision_replayed_with_its_key_changes_nothing_anything_else_is_refused():
    t = claimed()
    t.decide("reviewer-1", "rejected", "请重新上传", ISSUES, "key-0001", NOW)
    before = dataclasses.replace(t)
    later = NOW + timedelta(seconds=5)
    assert t.decide("reviewer-1", "rejected", "请重新上传", list(ISSUES), "key-0001", later) is False
    assert t.review_id == "t-1"
    assert t == before
    refused(t, Conflict, "idempotency_key_reused",
            lambda t: t.decide("reviewer-1", "approved", None, [], "key-0001", later))
    refused(t, Conflict, "already_decided",
            lambda t: t.decide("reviewer-1", "rejected", "请重新上传", ISSUES, "key-0002", later))
    refused(t, Conflict, "already_decided",
            lambda t: t.decide("reviewer-1", "rejected", "请重新上传", ISSUES, None, later))
    refused(t, Conflict, "already_decided",  # the key is the reviewer's own
            lambda t: t.decide("reviewer-2", "rejected", "请重新上传", ISSUES, "key-0001", later))


def test_supersede_closes_open_tasks_and_leaves_closed_ones():
    for t in (task(), claimed()):
        assert t.supersede(NOW) is True
        assert (t.state, t.superseded_at, t.lease_expires_at) == (SUPERSEDED, NOW, None)
    decided = claimed()
    decided.decide("reviewer-1", "approved", None, [], None, NOW)
    before = dataclasses.replace(decided)
    assert decided.supersede(NOW) is False and decided == before
    assert task(attempt=1, newest=2).supersede(NOW) is False


def test_the_lifecycle_is_what_a_stored_transition_must_still_find():
    t = claimed()
    assert t.lifecycle == (CLAIMED, "reviewer-1", NOW + timedelta(seconds=LEASE))


def test_a_task_decided_before_1_1_keeps_its_separate_review_id():
    """No rewrite of history: the id ReviewCompleted carried then is the id a replay answers with."""
    t = claimed(review_id=None)
    t.decide("reviewer-1", "approved", None, [], "key-0001", NOW)
    older = dataclasses.replace(t, review_id="5f0c2a9e-0000-4000-8000-000000000001")
    assert older.decide("reviewer-1", "approved", None, [], "key-0001", NOW) is False
    assert older.review_id == "5f0c2a9e-0000-4000-8000-000000000001"
