"""Two copies of notify (`python -m services.notify run` twice, as `docker compose up --scale
notify=2`) competing on the same queues and database: a burst where every event is published twice
still makes each message once, with one outcome event each."""
import json
import os
import pathlib
import subprocess
import sys

import pytest
from kombu import Connection
from sqlalchemy import create_engine, func, select

from services.contracts.events import new_event
from services.notify.models import Base, Notification
from tests.support.infra import queue_depth, wait_for
from tests.support.processes import stop_processes

from . import peers
from .peers import Directory, IdentityStandIn, RegistrationStandIn
from .test_notify_burst import publish

pytestmark = pytest.mark.integration

COUNT = 60
REPLICAS = 2


def consumers(amqp_uri, queue):
    with Connection(amqp_uri) as conn:
        try:
            return conn.channel().queue_declare(queue, passive=True)[2]
        except Exception:  # noqa: BLE001 — not declared yet
            return 0


@pytest.fixture
def replicas(make_config, start_service, tmp_path):
    """Starts the stand-ins here and notify REPLICAS times in processes of its own; yields the config."""
    Directory.reset()
    for cls in (IdentityStandIn, RegistrationStandIn):
        start_service(cls, make_config(cls.name))
    config = make_config("notify")
    env = {**os.environ, "AMQP_URI": config["AMQP_URI"], "VAR_DIR": config["VAR_DIR"],
           "NOTIFY_DATABASE_URL": config["DATABASE_URL"], "NOTIFY_QUIET_HOURS": "off", "LOG_LEVEL": "WARNING",
           "PYTHONPATH": os.getcwd()}
    procs, log = [], open(tmp_path / "notify.log", "a")
    try:
        for _ in range(REPLICAS):  # one after the other: the first creates the schema
            procs.append(subprocess.Popen([sys.executable, "-m", "services.notify", "run"], env=env,
                                          stdout=subprocess.DEVNULL, stderr=log))
            wait_for(lambda: consumers(config["AMQP_URI"], "notify.ApplicationSubmitted") >= len(procs)
                     or any(p.poll() is not None for p in procs), timeout=60, message="notify to consume")
        assert all(p.poll() is None for p in procs), (tmp_path / "notify.log").read_text()
        yield config
    finally:
        stop_processes(procs)
        log.close()
        Directory.reset()


def test_two_copies_of_notify_send_each_message_once(replicas):
    config = replicas
    uri, var = config["AMQP_URI"], pathlib.Path(config["VAR_DIR"])
    for i in range(COUNT):
        Directory.phones[f"acc-r{i}"] = f"1370000{i:04d}"
        Directory.applications[f"app-r{i}"] = {
            "account_id": f"acc-r{i}", "name": "张三", "mobile": f"1370000{i:04d}",
            "email": f"r{i}@example.com", "delivery": None, "resubmit_until": None}
    events = [new_event("ApplicationSubmitted", f"app-r{i}", peers.application_submitted(f"app-r{i}", f"acc-r{i}"))
              for i in range(COUNT)]
    publish(uri, [e for pair in zip(events, events, strict=True) for e in pair])  # each twice in a row

    engine = create_engine(config["DATABASE_URL"])
    outbox, processed = Base.metadata.tables["outbox"], Base.metadata.tables["processed_events"]

    def count(table, *where):
        with engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(table).where(*where)).scalar()

    try:
        wait_for(lambda: count(Notification, Notification.state == "delivered") >= 2 * COUNT, timeout=120,
                 message=f"{2 * COUNT} messages delivered")
        wait_for(lambda: queue_depth(uri, "notify.ApplicationSubmitted") == 0 and
                 count(outbox, outbox.c.sent_at.is_(None)) == 0, timeout=60,
                 message="every copy consumed and the outcome events published")
        sms = [json.loads(line) for line in (var / "outbox" / "sms.jsonl").read_text(encoding="utf-8").splitlines()]
        assert sorted(m["to"] for m in sms) == sorted(f"1370000{i:04d}" for i in range(COUNT))  # each once
        assert len(list((var / "outbox" / "email").glob("*.eml"))) == COUNT
        assert count(Notification) == 2 * COUNT
        assert count(outbox) == 2 * COUNT  # one NotificationDelivered a message
        assert count(processed) == COUNT
        assert consumers(uri, "notify.ApplicationSubmitted") == REPLICAS  # both copies were there throughout
    finally:
        engine.dispose()
