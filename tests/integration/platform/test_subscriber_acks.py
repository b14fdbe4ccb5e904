"""@subscribe acks a run of handled deliveries in one `multiple` ack, never one still running:
a crash before the ack redelivers exactly the messages not yet handled, nothing else."""
import eventlet
import pytest
from kombu.message import Message

from services.common.base import ServiceBase
from services.common.subscriber import subscribe
from tests.support.infra import queue_depth, wait_for

from .test_subscriber_prefetch import publish

pytestmark = pytest.mark.integration

QUEUE = "review.ApplicationSubmitted"


class Counted(ServiceBase):
    """Counts what it handles; an application in `held` waits until the test lets it go."""
    name = "review"
    seen = []
    held = set()
    release = None

    @subscribe("registration", "ApplicationSubmitted")
    def on_application_submitted(self, event):
        application_id = event["data"]["application_id"]
        if application_id in Counted.held:
            Counted.release.wait()
        Counted.seen.append(application_id)


@pytest.fixture(autouse=True)
def _fresh():
    Counted.seen, Counted.held, Counted.release = [], set(), eventlet.event.Event()
    yield
    if not Counted.release.ready():
        Counted.release.send(None)


@pytest.fixture
def acks(monkeypatch):
    """The `multiple` flag of every ack sent."""
    sent = []
    ack = Message.ack

    def spy(message, multiple=False):
        sent.append(multiple)
        return ack(message, multiple=multiple)
    monkeypatch.setattr(Message, "ack", spy)
    return sent


def crash(container):
    """As the process dying: its threads are killed, the consumer's connection closes, acks unsent."""
    container.kill()


def test_handled_deliveries_are_acked_together_and_each_handled_once(make_config, start_service, acks):
    config = make_config("review", max_workers=3)
    container = start_service(Counted, config)
    Counted.held = {f"app-{i}" for i in range(20)}  # all wait, then finish together
    publish(config, 20)
    wait_for(lambda: queue_depth(config["AMQP_URI"], QUEUE) == 14, message="six handed out")
    Counted.release.send(None)
    wait_for(lambda: len(Counted.seen) == 20, message="all 20 handled")
    container.stop()
    assert sorted(Counted.seen) == sorted(f"app-{i}" for i in range(20))
    assert True in acks, "some acks went together"
    assert queue_depth(config["AMQP_URI"], QUEUE) == 0  # every one acked before the connection closed


def test_a_crash_redelivers_only_the_delivery_still_running(make_config, start_service, acks):
    config = make_config("review", max_workers=3)
    first = start_service(Counted, config)
    Counted.held = {"app-0"}  # the first delivery: a `multiple` ack of any later one would cover it
    publish(config, 12)
    wait_for(lambda: len(Counted.seen) == 11 and len(acks) == 11, message="all but the first handled and acked")
    assert True not in acks  # none of them could go together: the first one was still running
    crash(first)
    wait_for(lambda: queue_depth(config["AMQP_URI"], QUEUE) == 1, message="only the held one back")
    Counted.held = set()
    start_service(Counted, config)
    wait_for(lambda: len(Counted.seen) == 12, message="the held one redelivered and handled")
    assert Counted.seen[-1] == "app-0" and len(set(Counted.seen)) == 12
