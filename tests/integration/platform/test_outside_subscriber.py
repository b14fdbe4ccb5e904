"""The example outside subscriber (plain py-amqp, no nameko) receives our events from the exchanges."""
import json
import pathlib
import subprocess
import sys

import pytest
from kombu import Connection, Exchange
from nameko.standalone.rpc import ClusterRpcProxy

from .toy_services import Publisher

ROOT = pathlib.Path(__file__).resolve().parents[3]
pytestmark = pytest.mark.integration


def test_example_subscriber_gets_each_event_once(make_config, start_service):
    config = make_config("registration")
    with Connection(config["AMQP_URI"]) as conn:  # as add-subscriber does: the subscriber may not create it
        Exchange("registration.events", "topic", durable=True, channel=conn.channel()).declare()
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "examples" / "subscriber.py"), "--uri", config["AMQP_URI"],
         "--queue", "printing-office", "--bind", "registration.events:#", "--max-messages", "3",
         "--idle-timeout", "30"], stdout=subprocess.PIPE, text=True)
    try:
        assert json.loads(proc.stdout.readline()) == {"ready": True}
        start_service(Publisher, config)
        with ClusterRpcProxy({"AMQP_URI": config["AMQP_URI"]}) as cluster:
            for i in range(3):
                cluster.registration.submit(f"app-{i}")
        out, _ = proc.communicate(timeout=60)
    finally:
        proc.kill()
    lines = [json.loads(line) for line in out.splitlines()]
    assert [e["type"] for e in lines] == ["ApplicationSubmitted"] * 3
    assert sorted(e["subject"] for e in lines) == ["app-0", "app-1", "app-2"]
    assert proc.returncode == 0
