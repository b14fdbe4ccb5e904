"""The reviewer queue: tasks from ApplicationSubmitted (once per attempt), claims with a lease,
guarded decisions that publish ReviewCompleted once, and the reviewer figures."""
from datetime import datetime, timedelta, timezone

import eventlet
import pytest
from nameko.standalone.rpc import ClusterRpcProxy

from services.contracts.errors import Conflict, Forbidden, NotFound, Unauthenticated, ValidationFailed
from services.contracts.events import new_event
from services.review.models import ReviewTask
from tests.support.infra import wait_for

from .conftest import ADMIN, APPLICANT, REVIEWER, REVIEWER_2, consumed_ok, submitted_data

T0 = datetime(2020, 7, 3, 2, 15, tzinfo=timezone.utc)  # 10:15 Beijing, the moment of submission


def reviewer(n):
    return {"account_id": f"reviewer-{n}", "roles": ["reviewer"], "verified": True}


def test_application_submitted_makes_one_task_whatever_the_redeliveries(review):
    review.submit(submitted_data("app-1", material_ids={"photo": "m-1", "certificate": "m-2"}))
    task_id = wait_for(lambda: review.task_for("app-1"), message="a task")
    handled = consumed_ok()
    review.republish_registration_outbox()  # the same event id again
    wait_for(lambda: consumed_ok() >= handled + 1, timeout=60, message="the duplicate handled")
    review.submit(submitted_data("app-1"))  # the same submission under a new event id
    assert review.count(ReviewTask) == 1

    with review.rpc() as rpc:
        [task] = rpc.list_tasks(REVIEWER, {})
    assert task["id"] == task_id
    assert {k: task[k] for k in ("application_id", "attempt", "state", "claimed_by", "campaign_id",
                                 "district_code", "cert_level", "exam_year", "application_kind")} == {
        "application_id": "app-1", "attempt": 1, "state": "pending", "claimed_by": None, "campaign_id": "c2020",
        "district_code": "110105", "cert_level": "INTERMEDIATE", "exam_year": 2019, "application_kind": "FIRST"}
    assert task["submitted_at"] == "2020-07-03T10:15:00.000+08:00"
    assert task["material_ids"] == {"photo": "m-1", "certificate": "m-2"}


def test_a_newer_attempt_supersedes_the_open_task_of_an_older_one(review):
    review.submit(submitted_data("app-1", attempt=1))
    first = wait_for(lambda: review.task_for("app-1", 1))
    with review.rpc() as rpc:
        rpc.claim(REVIEWER, first)
    review.submit(submitted_data("app-1", attempt=2, submitted_at="2020-07-05T09:00:00.000+08:00"))
    second = wait_for(lambda: review.task_for("app-1", 2))
    review.submit(submitted_data("app-1", attempt=1))  # a late copy of attempt 1 (new event id): no effect
    with review.rpc() as rpc:
        assert rpc.get_task(REVIEWER, first)["state"] == "superseded"
        assert [t["id"] for t in rpc.list_tasks(REVIEWER, {})] == [second]
        with pytest.raises(Conflict) as stale:
            rpc.decide(REVIEWER, first, "approved", None, [], None)
        assert stale.value.code == "task_superseded"
    assert [a["subject"] for a in review.audit("task.superseded")] == [f"task:{first}"]

    # An older attempt that arrives after a newer one is born superseded.
    review.submit(submitted_data("app-9", attempt=3))
    review.submit(submitted_data("app-9", attempt=2))
    with review.rpc() as rpc:
        assert rpc.get_task(REVIEWER, review.task_for("app-9", 2))["state"] == "superseded"
        assert rpc.get_task(REVIEWER, review.task_for("app-9", 3))["state"] == "pending"


def test_queue_filters_oldest_first(review):
    review.submit(submitted_data("late", submitted_at="2020-07-04T09:00:00.000+08:00", district_code="110108"))
    review.submit(submitted_data("early", submitted_at="2020-07-02T09:00:00.000+08:00", cert_level="ASSISTANT"))
    review.submit(submitted_data("other", campaign_id="c2021", submitted_at="2020-07-03T09:00:00.000+08:00"))
    with review.rpc() as rpc:
        ids = lambda filters: [t["application_id"] for t in rpc.list_tasks(REVIEWER, filters)]  # noqa: E731
        assert ids({}) == ["early", "other", "late"]
        assert ids({"campaign_id": "c2020"}) == ["early", "late"]
        assert ids({"district": "110108"}) == ["late"]
        assert ids({"level": "ASSISTANT"}) == ["early"]
        assert ids({"state": "claimed"}) == []
        rpc.claim(REVIEWER, review.task_for("other"))
        assert ids({"state": "claimed"}) == ["other"] and ids({"state": "pending"}) == ["early", "late"]
        assert ids({"limit": "1"}) == ["early"]
        # Keyset pages: after the last task of a page, whatever was claimed or added meanwhile.
        assert ids({"limit": "1", "after": review.task_for("early")}) == ["other"]
        assert ids({"state": "pending", "after": review.task_for("early")}) == ["late"]
        assert ids({"after": review.task_for("late")}) == []
        with pytest.raises(NotFound):
            rpc.list_tasks(REVIEWER, {"after": "no-such-task"})
        with pytest.raises(ValidationFailed) as bad:
            rpc.list_tasks(REVIEWER, {"state": "lost", "colour": "red"})
        assert set(bad.value.details) == {"state", "colour"}
        with pytest.raises(Forbidden):
            rpc.list_tasks(APPLICANT, {})  # applicants never see the queue
        with pytest.raises(Unauthenticated):
            rpc.list_tasks(None, {})


def test_two_reviewers_claim_at_once_exactly_one_wins(review):
    review.submit(submitted_data("app-1"))
    task_id = wait_for(lambda: review.task_for("app-1"))
    start = eventlet.event.Event()
    proxies = [ClusterRpcProxy({"AMQP_URI": review.config["AMQP_URI"]}) for _ in range(6)]
    clusters = [p.start() for p in proxies]
    try:
        def attempt(n):
            start.wait()
            try:
                return clusters[n].review.claim(reviewer(n), task_id)["claimed_by"]
            except Conflict as exc:
                return exc.code
        threads = [eventlet.spawn(attempt, n) for n in range(6)]
        eventlet.sleep(0.05)
        start.send()
        results = [t.wait() for t in threads]
    finally:
        for p in proxies:
            p.stop()
    winners = [r for r in results if r != "task_claimed"]
    assert len(winners) == 1 and results.count("task_claimed") == 5, results
    [row] = review.rows(ReviewTask)
    assert row["claimed_by"] == winners[0]
    assert [a["actor"] for a in review.audit("task.claimed")] == winners


def test_an_idle_claim_expires_and_another_reviewer_may_take_it(start_review, frozen_clock):
    review = start_review(CLAIM_LEASE_SECONDS=600)
    frozen_clock(T0)
    review.submit(submitted_data("app-1"))
    task_id = wait_for(lambda: review.task_for("app-1"))
    with review.rpc() as rpc:
        claimed = rpc.claim(REVIEWER, task_id)
        assert claimed["state"] == "claimed" and claimed["claim_expires_at"] == "2020-07-03T10:25:00.000+08:00"
        frozen_clock(T0 + timedelta(seconds=500))
        with pytest.raises(Conflict):
            rpc.claim(REVIEWER_2, task_id)
        rpc.get_task(REVIEWER, task_id)  # the claimant at work: the lease runs from now again
        frozen_clock(T0 + timedelta(seconds=1000))
        with pytest.raises(Conflict):
            rpc.claim(REVIEWER_2, task_id)
        frozen_clock(T0 + timedelta(seconds=1101))  # idle for the whole lease
        [listed] = rpc.list_tasks(REVIEWER_2, {"state": "pending"})
        assert listed["id"] == task_id and listed["claimed_by"] is None
        taken = rpc.claim(REVIEWER_2, task_id)
        assert taken["claimed_by"] == "reviewer-2"
        with pytest.raises(Forbidden) as late:
            rpc.decide(REVIEWER, task_id, "approved", None, [], "late-decision-1")
        assert late.value.code == "not_claimant"
    claims = review.audit("task.claimed")
    assert [c["actor"] for c in claims] == ["reviewer-1", "reviewer-2"]
    assert claims[1]["details"]["previous_claimant"] == "reviewer-1"


def test_only_the_claimant_decides(review):
    review.submit(submitted_data("app-1"))
    task_id = wait_for(lambda: review.task_for("app-1"))
    with review.rpc() as rpc:
        with pytest.raises(Conflict) as unclaimed:
            rpc.decide(REVIEWER, task_id, "approved", None, [], None)
        assert unclaimed.value.code == "not_claimed" and int(unclaimed.value.http_status) == 409
        rpc.claim(REVIEWER, task_id)
        with pytest.raises(Forbidden) as other:
            rpc.decide(REVIEWER_2, task_id, "approved", None, [], None)
        assert other.value.code == "not_claimant" and int(other.value.http_status) == 403
        with pytest.raises(Conflict):
            rpc.release(REVIEWER_2, task_id)
        released = rpc.release(REVIEWER, task_id)
        assert released["state"] == "pending" and released["claimed_by"] is None
        rpc.claim(REVIEWER_2, task_id)
        assert rpc.release(ADMIN, task_id)["state"] == "pending"  # an admin frees a stuck claim
        with pytest.raises(NotFound):
            rpc.claim(REVIEWER, "no-such-task")
    assert [(a["actor"], a["details"]["claimant"]) for a in review.audit("task.released")] == [
        ("reviewer-1", "reviewer-1"), ("admin-1", "reviewer-2")]


def test_a_decision_replayed_with_its_key_decides_once(review):
    sink = review.bind_sink()
    review.submit(submitted_data("app-1", attempt=1))
    task_id = wait_for(lambda: review.task_for("app-1"))
    issues = [{"kind": "photo", "reason": "照片不清晰"}, {"kind": "id_card_back", "reason": "上传了身份证错误的一面"}]
    with review.rpc() as rpc:
        rpc.claim(REVIEWER, task_id)
        first = rpc.decide(REVIEWER, task_id, "rejected", "两寸照片不清晰，请重新上传", issues, "decision-0001")
        again = rpc.decide(REVIEWER, task_id, "rejected", "两寸照片不清晰，请重新上传", issues, "decision-0001")
        assert again == first and first["state"] == "decided" and first["decision"] == "rejected"
        with pytest.raises(Conflict) as other_key:
            rpc.decide(REVIEWER, task_id, "rejected", "两寸照片不清晰，请重新上传", issues, "decision-0002")
        assert other_key.value.code == "already_decided"
        with pytest.raises(Conflict) as changed:
            rpc.decide(REVIEWER, task_id, "approved", None, [], "decision-0001")
        assert changed.value.code == "idempotency_key_reused"
        with pytest.raises(Conflict):
            rpc.claim(REVIEWER_2, task_id)
    wait_for(lambda: review.outbox_pending() == 0, message="outbox drained")
    # Every outbox row is confirmed, so every event is already in the queue: what is there is all.
    [event] = review.drain(sink)
    assert event["type"] == "ReviewCompleted" and event["source"] == "review" and event["subject"] == "app-1"
    data = event["data"]
    assert first["review_id"] == task_id  # one id per decided task
    assert data == {"review_id": task_id, "application_id": "app-1", "attempt": 1,
                    "decision": "rejected", "opinion": "两寸照片不清晰，请重新上传", "material_issues": issues,
                    "reviewer_id": "reviewer-1", "completed_at": data["completed_at"]}
    assert [a["details"]["decision"] for a in review.audit("task.decided")] == ["rejected"]


def test_the_same_decision_sent_twice_at_once_decides_once(review):
    sink = review.bind_sink()
    review.submit(submitted_data("app-1"))
    task_id = wait_for(lambda: review.task_for("app-1"))
    with review.rpc() as rpc:
        rpc.claim(REVIEWER, task_id)
    proxies = [ClusterRpcProxy({"AMQP_URI": review.config["AMQP_URI"]}) for _ in range(2)]
    clusters = [p.start() for p in proxies]
    try:
        threads = [eventlet.spawn(c.review.decide, REVIEWER, task_id, "approved", None, [], "double-click-1")
                   for c in clusters]
        answers = [t.wait() for t in threads]
    finally:
        for p in proxies:
            p.stop()
    assert answers[0] == answers[1] and answers[0]["decision"] == "approved"
    # Every outbox row is confirmed (so already in the queue): exactly one event, not one per click.
    wait_for(lambda: review.outbox_pending() == 0, message="outbox drained")
    assert len(review.drain(sink)) == 1


def test_rejecting_needs_an_opinion_and_reasons_are_checked(review):
    review.submit(submitted_data("app-1"))
    task_id = wait_for(lambda: review.task_for("app-1"))
    with review.rpc() as rpc:
        rpc.claim(REVIEWER, task_id)
        with pytest.raises(ValidationFailed) as bare:
            rpc.decide(REVIEWER, task_id, "rejected", "   ", [{"kind": "photo", "reason": "照片不清晰"}], None)
        assert int(bare.value.http_status) == 422
        assert bare.value.details == {"opinion": ["不通过时必须填写审核意见，说明申请人需要修改什么"]}
        with pytest.raises(ValidationFailed) as bad:
            rpc.decide(REVIEWER, task_id, "maybe", None, [{"kind": "passport", "reason": ""}], "short")
        assert set(bad.value.details) == {"decision", "material_issues", "Idempotency-Key"}
        reasons = rpc.common_reasons()
        assert {"照片不清晰", "上传了身份证错误的一面", "照片尺寸不符", "证件信息被遮挡", "非本人证件"} <= {
            r["reason"] for r in reasons}
        # A free-text reason beside a common one.
        decided = rpc.decide(REVIEWER, task_id, "rejected", "请重新上传两寸照片", [
            {"kind": "photo", "reason": "照片尺寸不符"}, {"kind": "certificate", "reason": "证书编号处有反光，看不清"}], None)
        assert [i["reason"] for i in decided["material_issues"]] == ["照片尺寸不符", "证书编号处有反光，看不清"]


def test_a_reviewer_never_reviews_their_own_application(review):
    review.submit(submitted_data("app-own", account_id="reviewer-1"))
    task_id = wait_for(lambda: review.task_for("app-own"))
    with review.rpc() as rpc:
        [listed] = rpc.list_tasks(REVIEWER, {})
        assert listed["own_application"] is True
        with pytest.raises(Forbidden) as own:
            rpc.claim(REVIEWER, task_id)
        assert own.value.code == "own_application" and int(own.value.http_status) == 403
        rpc.claim(REVIEWER_2, task_id)
        with pytest.raises(Forbidden):
            rpc.decide(REVIEWER, task_id, "approved", None, [], None)
        assert rpc.decide(REVIEWER_2, task_id, "approved", None, [], None)["decided_by"] == "reviewer-2"


def test_get_task_shows_materials_and_is_audited(review):
    from tests.support.images import jpeg, photo
    material_id = review.upload(jpeg(photo(seed=4)))["material_id"]
    review.submit(submitted_data("app-1", material_ids={"photo": material_id}))
    task_id = wait_for(lambda: review.task_for("app-1"))
    with review.rpc() as rpc:
        task = rpc.get_task(REVIEWER, task_id)
        with pytest.raises(Forbidden):
            rpc.get_task(APPLICANT, task_id)
        with pytest.raises(NotFound):
            rpc.get_task(REVIEWER, "no-such-task")
    assert task["materials"]["photo"]["material_id"] == material_id
    assert task["materials"]["photo"]["ok"] is True and task["materials"]["photo"]["issues"] == []
    assert task["materials"]["photo"]["uploaded_by_applicant"] is True
    assert task["materials"]["photo"]["width"] == 413 and task["materials"]["photo"]["height"] == 626
    [view] = review.audit("task.viewed")
    assert view["actor"] == "reviewer-1" and view["subject"] == f"task:{task_id}"


def test_reviewer_figures(review, frozen_clock):
    for n, day in enumerate(("2020-07-01", "2020-07-02", "2020-07-03")):
        review.submit(submitted_data(f"app-{n}", submitted_at=f"{day}T09:00:00.000+08:00"))
    review.submit(submitted_data("app-3", submitted_at="2020-07-03T09:30:00.000+08:00"))
    ids = [wait_for(lambda n=n: review.task_for(f"app-{n}")) for n in range(4)]
    frozen_clock(datetime(2020, 7, 3, 3, 0, tzinfo=timezone.utc))  # 11:00 Beijing
    with review.rpc() as rpc:
        for task_id, who in ((ids[0], REVIEWER), (ids[1], REVIEWER), (ids[2], REVIEWER_2)):
            rpc.claim(who, task_id)
            rpc.decide(who, task_id, "approved", None, [], None)
        rpc.claim(REVIEWER, ids[3])
        figures = rpc.figures(REVIEWER)
        text = rpc.metrics()
        with pytest.raises(Forbidden):
            rpc.figures(APPLICANT)
    assert figures["pending"] == 0 and figures["claimed"] == 1 and figures["open"] == 1
    assert figures["oldest_waiting_seconds"] == 90 * 60  # app-3, submitted 09:30
    assert figures["decided_per_reviewer_per_day"] == [
        {"reviewer_id": "reviewer-2", "day": "2020-07-03", "decided": 1},
        {"reviewer_id": "reviewer-1", "day": "2020-07-03", "decided": 2}]
    # Waits of 50 h, 26 h and 2 h: the median is 26 h.
    assert figures["median_seconds_to_decision"] == 26 * 3600
    assert figures["counts"]["by_state"] == {"pending": 0, "claimed": 1, "decided": 3, "superseded": 0}
    assert 'review_tasks{state="claimed"} 1.0' in text
    assert "review_oldest_waiting_seconds 5400.0" in text
    assert 'review_decided_today{reviewer="reviewer-1"} 2.0' in text


def test_a_malformed_submission_is_dead_lettered_not_lost(review):
    from kombu import Connection

    from services.common import deadletters
    from services.contracts.events import CONTENT_TYPE
    event = new_event("ApplicationSubmitted", "app-x", submitted_data("app-x"))
    event["data"]["submitted_at"] = "yesterday"  # passes the schema (a string), not our parser
    import json

    import amqp
    with Connection(review.config["AMQP_URI"]) as conn:
        conn.default_channel.basic_publish(
            amqp.Message(json.dumps(event), content_type=CONTENT_TYPE), exchange="registration.events",
            routing_key="ApplicationSubmitted")
    dlq = "review.ApplicationSubmitted.dlq"
    wait_for(lambda: review.depth(dlq) == 1, timeout=30, message="dead letter")
    [letter] = deadletters.list_letters(review.config["AMQP_URI"], dlq)
    assert "submitted_at" in letter["error"]
    assert review.count(ReviewTask) == 0
