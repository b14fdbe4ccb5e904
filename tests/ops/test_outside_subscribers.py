"""Item 5 of issue 13 on a private RabbitMQ node (management API, and the AMQPS listener of
deploy/rabbitmq/tls.conf with a self-signed certificate): `add-subscriber` makes an account that can
read our events over TLS and do nothing else, and `replay-events` gives a late subscriber every
archived event, each id once per run, with the body first published."""
import importlib.util
import pathlib
import ssl
from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone

import amqp
import pytest
from kombu import Connection
from sqlalchemy import MetaData

from services.common.config import DEV_SECRETS
from services.common.crypto import DataCipher
from services.common.db import UnitOfWork, create_schema, make_engine
from services.common.outbox import AmqpPublisher, OutboxRelay
from services.common.subscriber import declare_subscription
from services.common.tables import add_platform_tables
from services.contracts.events import new_event
from services.ops.__main__ import main
from services.ops.broker import Management
from tests.integration.platform.toy_services import submitted
from tests.ops.nginx import self_signed_certificate
from tests.support.infra import queue_depth, wait_for
from tests.support.private_broker import PrivateRabbit, _free_port, _needs_rabbitmq

ROOT = pathlib.Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]
SERVICES = ("identity", "registration", "review", "notify")
NAME = "printing-office"
QUEUE = f"{NAME}.events"
OUR_QUEUE = "review.ApplicationSubmitted"
BEFORE = datetime(2020, 7, 3, 1, 0, tzinfo=timezone.utc)  # published before the subscriber bound
AFTER = BEFORE + timedelta(hours=2)                       # published while it was bound

spec = importlib.util.spec_from_file_location("example_subscriber", ROOT / "examples" / "subscriber.py")
example = importlib.util.module_from_spec(spec)
spec.loader.exec_module(example)


@pytest.fixture
def node(tmp_path_factory):
    """A private node with the management API and the AMQPS listener exactly as compose ships it,
    only the certificate directory and the port moved."""
    _needs_rabbitmq()
    certs = tmp_path_factory.mktemp("certs")
    self_signed_certificate(certs, host="localhost")
    tls_port = _free_port()
    conf = (ROOT / "deploy" / "rabbitmq" / "tls.conf").read_text() \
        .replace("/etc/rabbitmq/certs/", f"{certs}/") \
        .replace("listeners.ssl.default = 5671", f"listeners.ssl.default = 127.0.0.1:{tls_port}")
    rabbit = PrivateRabbit(str(tmp_path_factory.mktemp("rabbit")), management=True, extra_conf=conf)
    rabbit.tls_port, rabbit.ca_file = tls_port, str(certs / "fullchain.pem")
    rabbit.start()
    yield rabbit
    rabbit.stop()


@pytest.fixture
def site(node, database_url, tmp_path):
    """Every service database with its outbox, and the environment `python -m services.ops` reads."""
    environ = {"AMQP_URI": node.amqp_uri, "RABBITMQ_MANAGEMENT_URL": node.management_url, "VAR_DIR": str(tmp_path),
               **DEV_SECRETS}
    engines = {}
    for service in SERVICES:
        url = database_url(service)
        metadata = MetaData()
        add_platform_tables(metadata)
        engines[service] = (make_engine(url), metadata)
        create_schema(*engines[service])
        environ[f"{service.upper()}_DATABASE_URL"] = url
    yield environ, engines
    for engine, _ in engines.values():
        engine.dispose()


def publish(engines, node, events, frozen_clock, at):
    """Through the services' own outbox and relay: archived (sealed) and published to our exchanges."""
    frozen_clock(at)
    cipher = DataCipher(DEV_SECRETS["DATA_KEYS"], DEV_SECRETS["BLIND_INDEX_KEY"])
    for service in {e["source"] for e in events}:
        engine, metadata = engines[service]
        with UnitOfWork(engine, metadata, cipher=cipher) as uow:
            for event in (e for e in events if e["source"] == service):
                uow.publish(event)
        publisher = AmqpPublisher(node.amqp_uri)
        try:
            assert OutboxRelay(engine, metadata.tables["outbox"], publisher, cipher=cipher).relay_batch() > 0
        finally:
            publisher.close()
    frozen_clock(None)


def review_completed(application_id):
    return new_event("ReviewCompleted", application_id, {
        "review_id": f"r-{application_id}", "application_id": application_id, "attempt": 1, "decision": "approved",
        "opinion": None, "material_issues": [], "reviewer_id": "staff-1", "completed_at": "2020-07-03T10:00:00+08:00"})


def run(capsys, environ, *argv):
    code = main(list(argv), environ=environ)
    out, err = capsys.readouterr()
    return code, out, err


def subscriber_uri(node, password):
    return f"amqps://{NAME}:{password}@127.0.0.1:{node.tls_port}/"


def refused(conn, action):
    channel = conn.channel()
    with pytest.raises(amqp.exceptions.AccessRefused):
        action(channel)


def drain(conn, queue):
    """Every message in `queue`: [(message_id, type, body)]."""
    channel, got = conn.channel(), []
    while (message := channel.basic_get(queue, no_ack=True)) is not None:
        got.append((message.properties["message_id"], message.properties["type"], message.body))
    return got


def test_a_subscriber_reads_over_tls_touches_nothing_of_ours_and_catches_up_by_replay(
        node, site, capsys, frozen_clock):
    environ, engines = site
    with Connection(node.amqp_uri) as admin:  # one of our own queues, as the review service declares it
        declare_subscription(admin.channel(), "review", "registration", "ApplicationSubmitted")

    assert run(capsys, environ, "add-subscriber", "review")[0] == 2  # one of our own names: refused
    code, out, _ = run(capsys, environ, "add-subscriber", NAME)
    assert code == 0
    password = out.split("(shown once): ")[1].split()[0]
    code, _, err = run(capsys, environ, "add-subscriber", NAME)
    assert code == 2 and "已存在" in err  # nothing changed: the password handed over still works

    early = [submitted(f"app-{i}") for i in range(3)] + [review_completed("app-0")]
    publish(engines, node, early, frozen_clock, BEFORE)  # nobody of theirs bound yet: they miss these

    with pytest.raises(ssl.SSLCertVerificationError):  # the client checks the broker's certificate
        example.connect(subscriber_uri(node, password))  # (system CAs: they do not know this one)
    conn = example.connect(subscriber_uri(node, password), ca_file=node.ca_file)  # AMQPS, certificate checked
    try:
        channel = conn.channel()
        channel.queue_declare(QUEUE, durable=True, auto_delete=False)
        for exchange, key in (("registration.events", "#"), ("registration.events", "ApplicationSubmitted"),
                              ("review.events", "ReviewCompleted")):  # overlapping bindings: still once
            channel.exchange_declare(exchange, "topic", durable=True, auto_delete=False, passive=True)
            channel.queue_bind(QUEUE, exchange, key)

        body = amqp.Message(b"{}", message_id="forged")
        refused(conn, lambda ch: ch.basic_publish_confirm(body, exchange="registration.events",
                                                          routing_key="ApplicationSubmitted"))
        refused(conn, lambda ch: ch.basic_publish_confirm(body, exchange="", routing_key=OUR_QUEUE))
        refused(conn, lambda ch: ch.basic_consume(OUR_QUEUE))
        refused(conn, lambda ch: ch.basic_get(OUR_QUEUE))
        refused(conn, lambda ch: ch.queue_declare(OUR_QUEUE, durable=True, auto_delete=False))
        refused(conn, lambda ch: ch.queue_purge(OUR_QUEUE))
        refused(conn, lambda ch: ch.queue_delete(OUR_QUEUE))
        refused(conn, lambda ch: ch.queue_bind(OUR_QUEUE, "review.events", "#"))
        refused(conn, lambda ch: ch.exchange_declare("registration.events", "topic", durable=True, auto_delete=False))
        refused(conn, lambda ch: ch.queue_declare("elsewhere", durable=True, auto_delete=False))
        refused(conn, lambda ch: ch.queue_bind(QUEUE, "amq.topic", "#"))  # no exchange but our *.events

        management = Management.from_environment(environ)  # capped: it cannot fill the broker's disk
        queue = wait_for(lambda: (q := management.call("GET", f"queues/%2F/{QUEUE}")).get("policy") and q,
                         timeout=30, message="the management API to show the queue's policy")
        assert queue["policy"] == f"subscriber-{NAME}"
        assert queue["effective_policy_definition"]["overflow"] == "drop-head"

        late = [submitted("app-7"), submitted("app-8")]
        publish(engines, node, late, frozen_clock, AFTER)
        ours_before = queue_depth(node.amqp_uri, OUR_QUEUE)
        assert ours_before == 5  # our queue got every ApplicationSubmitted, none forged

        live = drain(conn, QUEUE)
        assert sorted(m[0] for m in live) == sorted(e["id"] for e in late)  # it can read

        code, out, _ = run(capsys, environ, "replay-events", "--to", NAME, "--since", "2020-07-03T08:00:00+08:00")
        assert code == 0 and f'{{"queue": "{QUEUE}", "events": 6}}' in out
        first = drain(conn, QUEUE)
        code, out, _ = run(capsys, environ, "replay-events", "--to", NAME, "--since", "2020-07-03")
        second = drain(conn, QUEUE)
        code, out, _ = run(capsys, environ, "replay-events", "--to", NAME,
                           "--since", (AFTER - timedelta(minutes=1)).isoformat())
        only_late = drain(conn, QUEUE)
    finally:
        conn.close()

    everything = {e["id"]: e for e in early + late}
    for replayed in (first, second):  # each run: every archived event, each id exactly once
        assert Counter(m[0] for m in replayed) == Counter(list(everything))
        assert all(kind == everything[event_id]["type"] for event_id, kind, _ in replayed)
    assert sorted(m[0] for m in only_late) == sorted(e["id"] for e in late)  # --since selects
    bodies = defaultdict(set)  # the same body as first published, whichever way it came
    for event_id, _, raw in live + first + second + only_late:
        bodies[event_id].add(bytes(raw) if not isinstance(raw, str) else raw.encode())
    assert all(len(variants) == 1 for variants in bodies.values())
    assert queue_depth(node.amqp_uri, OUR_QUEUE) == ours_before  # replay went to theirs only
