"""A burst of events at once: the workers' writes are grouped into shared transactions
(services.notify.group_commit), and every guarantee still holds — one message per (event, channel,
recipient), duplicates skipped, an event that cannot be handled dead-lettered alone."""
import json

import pytest
from kombu import Connection, Exchange, Producer
from sqlalchemy import func, select

from services.common import deadletters
from services.contracts.events import CONTENT_TYPE, new_event
from services.notify.models import Notification
from tests.support.infra import dependency, queue_depth, wait_for

from . import peers
from .peers import Directory

pytestmark = pytest.mark.integration

COUNT = 40


def publish(amqp_uri, events):
    """As registration's relay does; the same envelope twice is a duplicate publication (a relay that
    crashed after publishing, before marking the row sent)."""
    with Connection(amqp_uri) as conn:
        producer = Producer(conn.channel(), exchange=Exchange("registration.events", "topic", durable=True))
        for event in events:
            producer.publish(json.dumps(event, ensure_ascii=False), routing_key=event["type"],
                             content_type=CONTENT_TYPE, delivery_mode=2, message_id=event["id"])


def notification_count(system):
    with dependency(system.notify, "db").engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(Notification)).scalar()


def test_a_burst_with_duplicates_and_a_bad_event_sends_each_message_once(notify_system):
    system = notify_system(EVENT_MAX_ATTEMPTS=2)
    for i in range(COUNT):
        Directory.phones[f"acc-b{i}"] = f"1390000{i:04d}"
        Directory.applications[f"app-b{i}"] = {
            "account_id": f"acc-b{i}", "name": "张三", "mobile": f"1390000{i:04d}",
            "email": f"b{i}@example.com" if i % 2 else None, "delivery": None, "resubmit_until": None}
    events = [new_event("ApplicationSubmitted", f"app-b{i}",
                        peers.application_submitted(f"app-b{i}", f"acc-b{i}")) for i in range(COUNT)]
    unknown = new_event("ApplicationSubmitted", "app-404", peers.application_submitted("app-404", "acc-404"))
    # every fifth event published twice, interleaved with the others
    burst = events + [unknown] + events[::5]
    publish(system.config["AMQP_URI"], burst)

    emails = COUNT // 2
    wait_for(lambda: len(system.sms()) >= COUNT and len(system.emails()) >= emails, timeout=60,
             message=f"{COUNT} SMS and {emails} emails")
    dlq = "notify.ApplicationSubmitted.dlq"
    wait_for(lambda: queue_depth(system.config["AMQP_URI"], dlq) == 1, timeout=60, message="the bad event dead-lettered")
    wait_for(lambda: queue_depth(system.config["AMQP_URI"], "notify.ApplicationSubmitted") == 0, timeout=60,
             message="the burst consumed")
    [letter] = deadletters.list_letters(system.config["AMQP_URI"], dlq)
    assert "not_found" in letter["error"]  # neither the account nor the application exists

    sms = system.sms()
    assert sorted(m["to"] for m in sms) == sorted(f"1390000{i:04d}" for i in range(COUNT))  # each once
    assert len({m["notification_id"] for m in sms}) == COUNT
    assert len(system.emails()) == emails
    assert notification_count(system) == COUNT + emails
    delivered = system.wait_state("delivered", count=COUNT + emails)
    assert len(delivered) == COUNT + emails
    assert not system.notifications("queued") and not system.notifications("sending")
    # the applications' contacts were asked together: fewer registration.contacts_of calls than events
    assert len(Directory.batches) < COUNT and max(len(batch) for batch in Directory.batches) > 1


def test_a_registration_without_contacts_of_is_asked_application_by_application(notify_system):
    """A rolling upgrade: notify newer than registration still delivers, through contact_of."""
    system = notify_system(peers.OlderRegistrationStandIn, EVENT_MAX_ATTEMPTS=2)
    for i in range(3):
        system.emit("ApplicationSubmitted", f"app-{i}", peers.application_submitted(f"app-{i}", "acc-1"))
    system.wait_sms(count=2, to="13812345678")
    wait_for(lambda: queue_depth(system.config["AMQP_URI"], "notify.ApplicationSubmitted.dlq") == 1, timeout=60,
             message="the event of the unknown application dead-lettered")
    assert not Directory.batches
    assert {("registration", "app-1"), ("registration", "app-2")} <= set(Directory.calls)
    assert len(system.emails()) == 1  # app-1's form has an email, app-2's has none
