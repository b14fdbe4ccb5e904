"""What leaves the identity service (events, log lines) and what it keeps (rows) carries no full
phone, ID number, name, code, password or token."""
import json
import logging

from kombu import Connection, Exchange, Queue
from sqlalchemy import MetaData, select

from services.contracts.events import CONTENT_TYPE, parse_event
from tests.support.infra import dependency, queue_depth, wait_for

from .conftest import PASSWORD, PHONE, NotifyStandIn, register

ID_NUMBER = "11010519491231002X"
NAME = "欧阳娜娜"


def bind_audit_queue(amqp_uri):
    """An outside subscriber: a plain queue bound to every identity event."""
    with Connection(amqp_uri) as conn:
        Queue("audit", Exchange("identity.events", "topic", durable=True), routing_key="#", durable=True,
              channel=conn.channel()).declare()


def read_all(amqp_uri, queue):
    messages = []
    with Connection(amqp_uri) as conn:
        bound = Queue(queue, channel=conn.channel())
        while (message := bound.get(no_ack=True)) is not None:
            messages.append(message)
    return messages


def full_journey(identity, api):
    answer = register(identity, api)
    api.verify_identity(answer["account_id"], NAME, "RESIDENT_ID", ID_NUMBER)
    api.login(PHONE, password=PASSWORD)
    api.send_code(PHONE, "login", "10.0.0.1")
    api.login(PHONE, code=NotifyStandIn.inbox[-1]["code"])
    return answer


def secrets_of(answer):
    codes = [m["code"] for m in NotifyStandIn.inbox]
    return [PHONE, ID_NUMBER, ID_NUMBER.lower(), NAME, PASSWORD, answer["token"], *codes]


def test_events_land_on_identity_events_with_masked_data(identity, api):
    bind_audit_queue(identity.config["AMQP_URI"])
    answer = full_journey(identity, api)
    wait_for(lambda: queue_depth(identity.config["AMQP_URI"], "audit") == 2, message="two identity events")
    messages = read_all(identity.config["AMQP_URI"], "audit")
    assert [m.properties["content_type"] for m in messages] == [CONTENT_TYPE] * 2
    events = [parse_event(m.body) for m in messages]  # valid against the EVENTS.md contract
    registered, verified = events
    assert (registered["type"], registered["source"], registered["subject"]) == (
        "AccountRegistered", "identity", answer["account_id"])
    assert registered["data"]["account_id"] == answer["account_id"]
    assert registered["data"]["phone_masked"] == "138****5678"
    assert registered["data"]["registered_at"].endswith("+08:00")
    assert verified["type"] == "IdentityVerified"
    assert {k: verified["data"][k] for k in ("account_id", "id_type", "id_number_masked", "name_masked", "level")} == {
        "account_id": answer["account_id"], "id_type": "RESIDENT_ID", "id_number_masked": "110105********002X",
        "name_masked": "欧***", "level": "format_checked"}
    raw = " ".join(m.body.decode() if isinstance(m.body, bytes) else m.body for m in messages)
    raw += json.dumps([e["data"] for e in events], ensure_ascii=False)
    for secret in secrets_of(answer):
        assert secret not in raw


def test_staff_and_repeated_verification_publish_nothing_more(identity, api):
    bind_audit_queue(identity.config["AMQP_URI"])
    answer = register(identity, api)
    api.verify_identity(answer["account_id"], NAME, "RESIDENT_ID", ID_NUMBER)
    api.verify_identity(answer["account_id"], NAME, "RESIDENT_ID", ID_NUMBER)  # second click
    api.create_staff("13700000001", "reviewer", "Rev1ewer-pass")
    db = dependency(identity.container, "db")
    outbox = db.metadata.tables["outbox"]
    wait_for(lambda: _unsent(db, outbox) == 0, message="outbox drained")
    assert queue_depth(identity.config["AMQP_URI"], "audit") == 2


def _unsent(db, outbox):
    with db.engine.connect() as conn:
        return len(conn.execute(select(outbox.c.id).where(outbox.c.sent_at.is_(None))).all())


def test_no_full_phone_id_or_secret_in_logs(identity, api, caplog):
    caplog.set_level(logging.INFO)
    answer = full_journey(identity, api)
    for call in (lambda: api.login(PHONE, password="Wrong-pass1"),
                 lambda: api.verify_identity(answer["account_id"], "张三", "RESIDENT_ID", "360426199101010072")):
        try:
            call()
        except Exception:  # noqa: BLE001 — refusals are logged too
            pass
    assert any(r.name == "services.identity" and "138****5678" in r.getMessage() for r in caplog.records)
    text = "\n".join(r.getMessage() + (caplog.handler.format(r) if r.exc_info else "") for r in caplog.records)
    for secret in [*secrets_of(answer), "360426199101010072"]:
        assert secret not in text, secret


def test_personal_data_is_encrypted_at_rest(identity, api):
    answer = full_journey(identity, api)
    db = dependency(identity.container, "db")
    meta = MetaData()
    meta.reflect(db.engine)
    with db.engine.connect() as conn:
        dump = "\n".join(str(row) for table in meta.sorted_tables for row in conn.execute(table.select()))
    assert len(dump) > 500  # accounts, sessions, challenges, identities, outbox rows
    for secret in secrets_of(answer):
        assert secret not in dump, secret
