"""The outbox keeps no personal data in plaintext and forgets sent rows after the archive period."""
import json
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, insert, select

from services.common import clock
from services.common.db import UnitOfWork, create_schema, make_engine
from services.common.outbox import OutboxRelay
from services.contracts.events import new_event
from tests.support.infra import dependency, wait_for

from .toy_services import Consumer, Publisher, publisher_meta, submissions, submitted

pytestmark = pytest.mark.integration

T0 = datetime(2020, 7, 3, 2, 0, tzinfo=timezone.utc)
PERSONAL = {"name": "张三丰", "id_number": "110105194912310021", "phone": "13812345678",
            "address": "北京市朝阳区某某街道1号"}


class Recorder:
    def __init__(self):
        self.sent = []

    def publish_batch(self, messages):
        self.sent.extend(messages)


def completed():
    return new_event("RegistrationCompleted", "app-1", {
        "application_id": "app-1", "registration_number": "京社登2020000001", "name": PERSONAL["name"],
        "id_type": "RESIDENT_ID", "id_number": PERSONAL["id_number"], "cert_level": "ASSISTANT",
        "management_number": "2019110000001", "valid_from": "2020-07-03", "valid_until": "2023-07-02",
        "delivery": {"method": "mail", "recipient": PERSONAL["name"], "phone": PERSONAL["phone"],
                     "address": PERSONAL["address"], "postcode": "100020"}})


def raw_payloads(engine):
    outbox = publisher_meta.tables["outbox"]
    with engine.connect() as conn:
        return [row.payload for row in conn.execute(select(outbox.c.payload))]


def test_payloads_are_sealed_at_rest_and_published_as_json(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path}/outbox.db")
    create_schema(engine, publisher_meta)
    event = completed()
    with UnitOfWork(engine, publisher_meta) as uow:
        uow.publish(event)
    [stored] = raw_payloads(engine)
    assert not any(value in stored for value in PERSONAL.values())
    assert "京社登" not in stored and "delivery" not in stored  # nothing of the data is readable
    envelope = json.loads(stored)  # the envelope is, for an operator's trail
    assert (envelope["id"], envelope["type"], envelope["subject"]) == (event["id"], event["type"], "app-1")
    recorder = Recorder()
    assert OutboxRelay(engine, publisher_meta.tables["outbox"], recorder).relay_batch() == 1
    [(exchange, routing_key, body, event_id)] = recorder.sent
    assert json.loads(body) == event and event_id == event["id"] and routing_key == "RegistrationCompleted"


def test_rows_written_before_sealing_are_still_relayed(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path}/outbox.db")
    create_schema(engine, publisher_meta)
    event = completed()
    with engine.begin() as conn:
        conn.execute(insert(publisher_meta.tables["outbox"]).values(
            event_id=event["id"], event_type=event["type"], exchange="registration.events",
            payload=json.dumps(event, ensure_ascii=False), created_at=clock.now()))
    recorder = Recorder()
    OutboxRelay(engine, publisher_meta.tables["outbox"], recorder).relay_batch()
    assert json.loads(recorder.sent[0][2]) == event


def test_sent_rows_are_purged_after_the_retention_period_only(tmp_path, frozen_clock):
    engine = make_engine(f"sqlite:///{tmp_path}/outbox.db")
    create_schema(engine, publisher_meta)
    outbox = publisher_meta.tables["outbox"]
    frozen_clock(T0)
    with UnitOfWork(engine, publisher_meta) as uow:
        for _ in range(3):
            uow.publish(completed())
    relay = OutboxRelay(engine, outbox, Recorder(), batch_size=2, archive_days=1)
    relay.relay_batch()  # two sent at T0, one still waiting
    frozen_clock(T0 + timedelta(hours=23))
    assert relay.purge_sent() == 0
    frozen_clock(T0 + timedelta(hours=25))
    assert relay.purge_sent(batch=1) == 2
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(outbox).where(outbox.c.sent_at.is_(None))).scalar() == 1
        assert conn.execute(select(func.count()).select_from(outbox)).scalar() == 1  # unsent rows are kept


def test_a_running_service_purges_what_it_sent(make_config, start_service):
    publisher = start_service(Publisher, make_config("registration", EVENT_ARCHIVE_DAYS="0",
                                                     RETENTION_PURGE_SECONDS="0.05"))
    consumer = start_service(Consumer, make_config("review"))
    db = dependency(publisher, "db")
    with UnitOfWork(db.engine, db.metadata, on_commit_with_events=db.wake_relay, cipher=db.cipher) as uow:
        uow.session.execute(insert(submissions).values(application_id="a-1"))
        uow.publish(submitted("a-1"))
    outbox = db.metadata.tables["outbox"]

    def rows():
        with db.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(outbox)).scalar()
    wait_for(lambda: rows() == 0, message="the sent row to be purged")
    wait_for(lambda: dependency(consumer, "db") and _tasks(consumer) == 1, message="the event to arrive")


def _tasks(consumer):
    from .test_bus import count
    return count(consumer)


