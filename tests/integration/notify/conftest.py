"""The notify service with stand-ins of its peers, on a fresh vhost and fresh databases."""
import json
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from kombu import Connection, Exchange, Queue
from nameko.standalone.rpc import ClusterRpcProxy
from nameko.testing.services import entrypoint_waiter

from services.notify.service import NotifyService
from tests.support.infra import dependency, wait_for

from .peers import Directory, IdentityStandIn, RegistrationStandIn

AUDIT_QUEUE = "test.notify-events"


class NotifySystem:
    def __init__(self, config, notify, peers):
        self.config = config
        self.notify = notify
        self.peers = peers  # service name → stand-in container
        self.var_dir = Path(config["VAR_DIR"])
        self._outcomes = []

    # --- driving ----------------------------------------------------------------------------
    def rpc(self):
        return ClusterRpcProxy({"AMQP_URI": self.config["AMQP_URI"]})

    def emit(self, event_type, subject, data):
        """Publish through a stand-in's outbox to the event's own exchange, as its owner would."""
        with self.rpc() as cluster:
            return cluster.registration.emit(event_type, subject, data)

    def call(self, method, *args, **kwargs):
        with self.rpc() as cluster:
            return getattr(cluster.notify, method)(*args, **kwargs)

    @property
    def db(self):
        return dependency(self.notify, "db")

    def timer_ticks(self, count=1):
        """Wait until `count` runs of the retry/quiet-hours timer have completed from now on."""
        for _ in range(count):
            with entrypoint_waiter(self.notify, "process_due", timeout=15):
                pass

    # --- what went out ----------------------------------------------------------------------
    def sms(self, to=None, containing=""):
        path = self.var_dir / "outbox" / "sms.jsonl"
        if not path.exists():
            return []
        lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        return [m for m in lines if (to is None or m["to"] == to) and containing in m["body"]]

    def wait_sms(self, count=1, to=None, containing=""):
        return wait_for(lambda: len(self.sms(to, containing)) >= count and self.sms(to, containing),
                        message=f"{count} SMS to {to} containing {containing!r}")

    def emails(self):
        directory = self.var_dir / "outbox" / "email"
        if not directory.exists():
            return []
        return [message_from_bytes(path.read_bytes(), policy=policy.default)
                for path in sorted(directory.glob("*.eml"))]

    def wait_emails(self, count=1):
        return wait_for(lambda: len(self.emails()) >= count and self.emails(), message=f"{count} email(s)")

    def outcomes(self):
        """NotificationDelivered/NotificationFailed seen on notify.events so far (a bound test queue)."""
        with Connection(self.config["AMQP_URI"]) as conn:
            channel = conn.channel()
            while True:
                message = channel.basic_get(AUDIT_QUEUE, no_ack=True)
                if message is None:
                    break
                self._outcomes.append(json.loads(message.body))
        return list(self._outcomes)

    def wait_outcome(self, event_type, count=1, **match):
        def found():
            hits = [e for e in self.outcomes() if e["type"] == event_type
                    and all(e["data"].get(k) == v for k, v in match.items())]
            return len(hits) >= count and hits
        return wait_for(found, message=f"{count} {event_type} {match}")

    def notifications(self, state=None, **match):
        rows = self.call("list_notifications", state) if state else [
            row for s in ("queued", "sending", "delivered", "failed") for row in self.call("list_notifications", s)]
        return [r for r in rows if all(r.get(k) == v for k, v in match.items())]

    def wait_state(self, state, count=1, **match):
        return wait_for(lambda: len(self.notifications(state, **match)) >= count
                        and self.notifications(state, **match), message=f"{count} {state} notification(s) {match}")


@pytest.fixture
def notify_system(make_config, start_service):
    """notify_system(registration stand-in class, **config overrides) → NotifySystem; the stand-ins
    start first."""
    Directory.reset()

    def start(registration=RegistrationStandIn, **overrides):
        settings = {"NOTIFY_QUIET_HOURS": "off", "NOTIFY_TIMER_SECONDS": 0.1, "NOTIFY_RETRY_BASE_SECONDS": 0.1,
                    "NOTIFY_RETRY_MAX_SECONDS": 1, **overrides}
        peers = {cls.name: start_service(cls, make_config(cls.name))
                 for cls in (IdentityStandIn, registration)}
        config = make_config("notify", **settings)
        with Connection(config["AMQP_URI"]) as conn:  # an outside subscriber of notify.events
            Queue(AUDIT_QUEUE, Exchange("notify.events", "topic", durable=True), routing_key="#",
                  durable=True, channel=conn.channel()).declare()
        return NotifySystem(config, start_service(NotifyService, config), peers)

    yield start
    Directory.reset()
