"""Proofs of the event bus against the real RabbitMQ and database."""
import json
import os

import amqp
import pytest
from kombu import Connection, Exchange, Queue
from nameko.standalone.rpc import ClusterRpcProxy
from sqlalchemy import func, select, update

from services.common import deadletters, metrics
from services.contracts.events import CONTENT_TYPE
from tests.support.infra import dependency, queue_depth, wait_for

from .toy_services import Consumer, Publisher, submitted, tasks

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def _reset_faults():
    Consumer.failing.clear()
    Consumer.database_away.clear()
    yield
    Consumer.failing.clear()
    Consumer.database_away.clear()


def task_rows(container):
    with dependency(container, "db").engine.connect() as conn:
        return conn.execute(select(tasks.c.application_id, tasks.c.attempt)).all()


def count(container):
    return len(task_rows(container))


def consumed_ok():
    return metrics.EVENTS_CONSUMED.labels("review", "ApplicationSubmitted", "ok")._value.get()


def rpc(config):
    return ClusterRpcProxy({"AMQP_URI": config["AMQP_URI"]})


def test_event_reaches_consumer_once_per_attempt(make_config, start_service):
    pub_cfg, con_cfg = make_config("registration"), make_config("review")
    publisher = start_service(Publisher, pub_cfg)  # publishes before the consumer ever ran
    with rpc(pub_cfg) as cluster:
        cluster.registration.submit("app-1")
        cluster.registration.submit("app-2", 2)
    consumer = start_service(Consumer, con_cfg)
    wait_for(lambda: count(consumer) == 2, message="two tasks")
    assert sorted(task_rows(consumer)) == [("app-1", 1), ("app-2", 2)]
    assert publisher  # keeps flake8 quiet about the unused container


def test_redelivered_event_has_one_effect(make_config, start_service):
    pub_cfg, con_cfg = make_config("registration"), make_config("review")
    publisher = start_service(Publisher, pub_cfg)
    consumer = start_service(Consumer, con_cfg)
    with rpc(pub_cfg) as cluster:
        cluster.registration.submit("app-1")
    wait_for(lambda: count(consumer) == 1)
    handled = consumed_ok()
    # The relay crashed after publishing, before marking the row sent: it publishes again.
    db = dependency(publisher, "db")
    outbox = db.metadata.tables["outbox"]
    wait_for(lambda: _pending(db) == 0, message="the first publication marked sent")
    with db.engine.begin() as conn:
        conn.execute(update(outbox).values(sent_at=None))
    db.wake_relay()
    wait_for(lambda: _pending(db) == 0)
    wait_for(lambda: consumed_ok() == handled + 1, message="the duplicate handled")
    assert count(consumer) == 1


def _pending(db):
    outbox = db.metadata.tables["outbox"]
    with db.engine.connect() as conn:
        return conn.execute(select(func.count()).where(outbox.c.sent_at.is_(None))).scalar()


def test_failing_handler_dead_letters_then_replays(make_config, start_service):
    pub_cfg, con_cfg = make_config("registration"), make_config("review", EVENT_MAX_ATTEMPTS=3)
    start_service(Publisher, pub_cfg)
    consumer = start_service(Consumer, con_cfg)
    before = metrics.EVENTS_DEAD_LETTERED.labels("review", "review.ApplicationSubmitted")._value.get()
    Consumer.failing.add("app-bad")
    with rpc(pub_cfg) as cluster:
        cluster.registration.submit("app-bad")
        cluster.registration.submit("app-good")
    dlq = "review.ApplicationSubmitted.dlq"
    wait_for(lambda: queue_depth(con_cfg["AMQP_URI"], dlq) == 1, message="dead letter")
    assert task_rows(consumer) == [("app-good", 1)]
    # the counter moves right after the letter is published: wait for it, then check it moved once
    dead_lettered = metrics.EVENTS_DEAD_LETTERED.labels("review", "review.ApplicationSubmitted")._value.get
    wait_for(lambda: dead_lettered() >= before + 1, message="the dead-letter metric")
    assert dead_lettered() == before + 1
    assert "events_dead_lettered_total" in metrics.render()

    letters = deadletters.list_letters(con_cfg["AMQP_URI"], dlq)
    assert len(letters) == 1
    assert "fault while handling app-bad" in letters[0]["error"]
    assert letters[0]["attempts"] == 3
    assert letters[0]["type"] == "ApplicationSubmitted"

    Consumer.failing.clear()  # the fault is fixed
    assert deadletters.replay(con_cfg["AMQP_URI"], dlq) == 1
    wait_for(lambda: count(consumer) == 2, message="replayed letter handled")
    assert queue_depth(con_cfg["AMQP_URI"], dlq) == 0


def test_waiting_for_the_database_does_not_spend_attempts(make_config, start_service):
    pub_cfg, con_cfg = make_config("registration"), make_config("review", EVENT_MAX_ATTEMPTS=3)
    start_service(Publisher, pub_cfg)
    consumer = start_service(Consumer, con_cfg)
    retried = metrics.EVENTS_CONSUMED.labels("review", "ApplicationSubmitted", "retried")._value.get
    before = retried()
    Consumer.database_away.add("app-1")  # the database restarts: longer than 3 attempts take
    with rpc(pub_cfg) as cluster:
        cluster.registration.submit("app-1")
    wait_for(lambda: retried() >= before + 5, timeout=30, message="more retries than EVENT_MAX_ATTEMPTS")
    Consumer.database_away.clear()  # the database is back
    wait_for(lambda: count(consumer) == 1, timeout=30, message="the event handled once the database is back")
    assert queue_depth(con_cfg["AMQP_URI"], "review.ApplicationSubmitted.dlq") == 0


@pytest.mark.parametrize("body", [b"not json {", b'{"specversion": "1.0"}', json.dumps(
    {**submitted("x"), "data": {"application_id": "x"}}).encode()], ids=["not-json", "no-envelope", "bad-data"])
def test_malformed_message_is_dead_lettered_and_consumer_survives(make_config, start_service, body):
    pub_cfg, con_cfg = make_config("registration"), make_config("review")
    start_service(Publisher, pub_cfg)
    consumer = start_service(Consumer, con_cfg)
    with Connection(con_cfg["AMQP_URI"]) as conn:
        conn.default_channel.basic_publish(
            amqp.Message(body, content_type=CONTENT_TYPE), exchange="registration.events",
            routing_key="ApplicationSubmitted")
    dlq = "review.ApplicationSubmitted.dlq"
    wait_for(lambda: queue_depth(con_cfg["AMQP_URI"], dlq) == 1, message="dead letter")
    [letter] = deadletters.list_letters(con_cfg["AMQP_URI"], dlq)
    assert letter["error"].startswith("MalformedEvent")
    with rpc(pub_cfg) as cluster:  # the consumer still works
        cluster.registration.submit("app-after")
    wait_for(lambda: count(consumer) == 1)


def test_two_consumer_copies_handle_each_event_once(make_config, start_service):
    pub_cfg, con_cfg = make_config("registration"), make_config("review")
    start_service(Publisher, pub_cfg)
    first = start_service(Consumer, con_cfg)
    start_service(Consumer, dict(con_cfg))  # same database, same queue: competing consumers
    handled = consumed_ok()
    with rpc(pub_cfg) as cluster:
        for i in range(60):
            cluster.registration.submit(f"app-{i}")
    wait_for(lambda: consumed_ok() == handled + 60, message="60 events handled")
    assert count(first) == 60


@pytest.mark.skipif(os.environ.get("TEST_DATABASE") != "postgresql",
                    reason="several copies of a publishing service need PostgreSQL (SKIP LOCKED)")
def test_two_publisher_copies_relay_each_row_once(make_config, start_service):
    pub_cfg = make_config("registration")
    a = start_service(Publisher, pub_cfg)
    b = start_service(Publisher, dict(pub_cfg))
    with Connection(pub_cfg["AMQP_URI"]) as conn:  # an outside subscriber counting what was published
        Queue("audit", Exchange("registration.events", "topic", durable=True), routing_key="#",
              durable=True, channel=conn.channel()).declare()
    with rpc(pub_cfg) as cluster:
        for i in range(200):
            cluster.registration.submit(f"app-{i}")
    wait_for(lambda: _pending(dependency(a, "db")) == 0, message="outbox drained")
    assert dependency(b, "db").relay is not None
    wait_for(lambda: queue_depth(pub_cfg["AMQP_URI"], "audit") == 200, message="200 published")
