"""What the workbench pages ask the review service: counts per state under the queue's filters,
"下一个任务" (claim the oldest task the reviewer may take in one step) and the "mine" filter."""
from datetime import datetime, timedelta, timezone

import eventlet
import pytest
from nameko.standalone.rpc import ClusterRpcProxy

from services.contracts.errors import Forbidden, ValidationFailed
from tests.support.infra import wait_for

from .conftest import APPLICANT, REVIEWER, REVIEWER_2, submitted_data

NOW = datetime(2020, 7, 10, 2, 0, tzinfo=timezone.utc)  # 10:00 Beijing


def at(days_before):
    return (NOW - timedelta(days=days_before)).astimezone(timezone(timedelta(hours=8))).isoformat(
        timespec="milliseconds")


def test_counts_per_state_follow_the_filters(review, frozen_clock):
    frozen_clock(NOW)
    review.submit(submitted_data("a", submitted_at=at(5)))
    review.submit(submitted_data("b", submitted_at=at(2)))
    review.submit(submitted_data("c", submitted_at=at(0.1), campaign_id="c2021"))
    review.submit(submitted_data("d", submitted_at=at(4)))
    tasks = {name: wait_for(lambda n=name: review.task_for(n)) for name in "abcd"}
    with review.rpc() as rpc:
        rpc.claim(REVIEWER, tasks["a"])
        rpc.claim(REVIEWER_2, tasks["b"])
        rpc.claim(REVIEWER, tasks["d"])
        rpc.decide(REVIEWER, tasks["d"], "approved", None, [], None)

        assert rpc.queue_counts(REVIEWER, {}) == {"pending": 1, "claimed": 2, "mine": 1, "decided": 1,
                                                  "superseded": 0, "open": 3, "all": 4}
        assert rpc.queue_counts(REVIEWER_2, {"campaign_id": "c2020", "state": "decided", "limit": 5}) == {
            "pending": 0, "claimed": 2, "mine": 1, "decided": 1, "superseded": 0, "open": 2, "all": 3}
        older_than_3_days = rpc.queue_counts(REVIEWER, {"min_waiting_seconds": 3 * 86400})
        assert (older_than_3_days["claimed"], older_than_3_days["decided"], older_than_3_days["all"]) == (1, 1, 2)
        assert [t["application_id"] for t in rpc.list_tasks(REVIEWER, {"state": "mine"})] == ["a"]
        assert [t["application_id"] for t in rpc.list_tasks(REVIEWER_2, {"state": "mine"})] == ["b"]

        # A claim whose lease ran out is pending again, in the counts as in the list.
        frozen_clock(NOW + timedelta(hours=1))
        assert rpc.queue_counts(REVIEWER, {}) == {"pending": 3, "claimed": 0, "mine": 0, "decided": 1,
                                                  "superseded": 0, "open": 3, "all": 4}
        with pytest.raises(ValidationFailed) as bad:
            rpc.queue_counts(REVIEWER, {"min_waiting_seconds": "long", "colour": "red"})
        assert set(bad.value.details) == {"min_waiting_seconds", "colour"}
        with pytest.raises(Forbidden):
            rpc.queue_counts(APPLICANT, {})

        # The page's one round trip answers what the three RPCs answer.
        page = rpc.queue_page(REVIEWER, {"state": "pending"})
        assert page["tasks"] == rpc.list_tasks(REVIEWER, {"state": "pending"})
        assert page["counts"] == rpc.queue_counts(REVIEWER, {"state": "pending"})
        assert page["figures"]["counts"] == rpc.figures(REVIEWER)["counts"]
        with pytest.raises(ValidationFailed):
            rpc.queue_page(REVIEWER, {"colour": "red"})
        with pytest.raises(Forbidden):
            rpc.queue_page(APPLICANT, {})


def test_next_takes_what_the_reviewer_holds_then_the_oldest_pending(review, frozen_clock):
    frozen_clock(NOW)
    review.submit(submitted_data("young", submitted_at=at(1)))
    review.submit(submitted_data("old", submitted_at=at(3)))
    review.submit(submitted_data("own", submitted_at=at(9), account_id="reviewer-1"))
    review.submit(submitted_data("elsewhere", submitted_at=at(8), campaign_id="c2021"))
    tasks = {name: wait_for(lambda n=name: review.task_for(n)) for name in ("young", "old", "own", "elsewhere")}
    with review.rpc() as rpc:
        # The oldest this reviewer may take: never their own application.
        first = rpc.claim_next(REVIEWER, {"campaign_id": "c2020"})
        assert (first["application_id"], first["state"], first["claimed_by"], first["claimed_now"]) == (
            "old", "claimed", "reviewer-1", True)
        # Asking again while holding it answers the held task, claims nothing more.
        again = rpc.claim_next(REVIEWER, {"campaign_id": "c2020"})
        assert (again["id"], again["claimed_now"]) == (tasks["old"], False)
        # "Another one, please" (skip the one on screen) claims the next oldest.
        second = rpc.claim_next(REVIEWER, {"campaign_id": "c2020"}, tasks["old"])
        assert (second["application_id"], second["claimed_now"]) == ("young", True)
        rpc.decide(REVIEWER, tasks["young"], "approved", None, [], None)
        # After a decision, next comes back to the task still held.
        assert rpc.claim_next(REVIEWER, {"campaign_id": "c2020"}, tasks["young"])["id"] == tasks["old"]
        rpc.decide(REVIEWER, tasks["old"], "approved", None, [], None)
        assert rpc.claim_next(REVIEWER, {"campaign_id": "c2020"}) is None
        # Without the campaign filter the other campaign's task comes; their own never does.
        assert rpc.claim_next(REVIEWER, {})["application_id"] == "elsewhere"
        assert rpc.claim_next(REVIEWER_2, {})["application_id"] == "own"
        with pytest.raises(ValidationFailed) as bad:
            rpc.claim_next(REVIEWER, {"state": "decided"})
        assert set(bad.value.details) == {"state"}
    claims = [a for a in review.audit("task.claimed") if a["details"].get("via") == "next"]
    assert [a["subject"] for a in claims] == [f"task:{tasks[n]}" for n in ("old", "young", "elsewhere", "own")]
    assert {a["actor"] for a in claims[:3]} == {"reviewer-1"}


def test_next_takes_a_lapsed_claim(review, frozen_clock):
    frozen_clock(NOW)
    review.submit(submitted_data("a", submitted_at=at(2)))
    task = wait_for(lambda: review.task_for("a"))
    with review.rpc() as rpc:
        rpc.claim(REVIEWER_2, task)
        assert rpc.claim_next(REVIEWER, {}) is None
        frozen_clock(NOW + timedelta(hours=1))
        taken = rpc.claim_next(REVIEWER, {})
    assert (taken["id"], taken["claimed_by"]) == (task, "reviewer-1")
    assert [a["details"]["previous_claimant"] for a in review.audit("task.claimed")][-1] == "reviewer-2"


def test_reviewers_asking_for_next_at_once_get_different_tasks(review):
    for n in range(6):
        review.submit(submitted_data(f"app-{n}", submitted_at=f"2020-07-0{n + 1}T09:00:00.000+08:00"))
    wait_for(lambda: all(review.task_for(f"app-{n}") for n in range(6)))
    reviewers = [{"account_id": f"r-{n}", "roles": ["reviewer"], "verified": True} for n in range(4)]
    proxies = [ClusterRpcProxy({"AMQP_URI": review.config["AMQP_URI"]}) for _ in reviewers]
    clusters = [p.start() for p in proxies]
    try:
        threads = [eventlet.spawn(c.review.claim_next, r, {}) for c, r in zip(clusters, reviewers, strict=True)]
        answers = [t.wait() for t in threads]
    finally:
        for p in proxies:
            p.stop()
    assert sorted(a["application_id"] for a in answers) == ["app-0", "app-1", "app-2", "app-3"]
    assert sorted(a["claimed_by"] for a in answers) == [r["account_id"] for r in reviewers]
    with review.rpc() as rpc:
        assert rpc.queue_counts(REVIEWER, {})["claimed"] == 4
