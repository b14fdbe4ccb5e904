"""@subscribe prefetches beyond its worker pool, and runs no more handlers at once than the pool."""
import json

import eventlet
import pytest
from kombu import Connection, Exchange, Producer

from services.common.base import ServiceBase
from services.common.subscriber import subscribe
from services.contracts.events import CONTENT_TYPE
from tests.support.infra import queue_depth, wait_for

from .toy_services import submitted

pytestmark = pytest.mark.integration

QUEUE = "review.ApplicationSubmitted"


class Held(ServiceBase):
    """Handlers that wait until the test lets them go."""
    name = "review"
    release = None
    running = 0
    most = 0
    done = 0

    @subscribe("registration", "ApplicationSubmitted")
    def on_application_submitted(self, event):
        cls = Held
        cls.running += 1
        cls.most = max(cls.most, cls.running)
        try:
            cls.release.wait()
        finally:
            cls.running -= 1
            cls.done += 1


@pytest.fixture(autouse=True)
def _fresh():
    Held.release, Held.running, Held.most, Held.done = eventlet.event.Event(), 0, 0, 0
    yield
    if not Held.release.ready():
        Held.release.send(None)


def publish(config, count):
    with Connection(config["AMQP_URI"]) as conn:
        producer = Producer(conn.channel(), exchange=Exchange("registration.events", "topic", durable=True))
        for i in range(count):
            producer.publish(json.dumps(submitted(f"app-{i}")), routing_key="ApplicationSubmitted",
                             content_type=CONTENT_TYPE, delivery_mode=2)


@pytest.mark.parametrize("prefetch, expected", [(None, 6), (5, 5)])
def test_prefetch_is_beyond_the_pool_and_concurrency_stays_bounded(make_config, start_service, prefetch, expected):
    overrides = {"max_workers": 3} if prefetch is None else {"max_workers": 3, "EVENT_PREFETCH": prefetch}
    config = make_config("review", **overrides)
    start_service(Held, config)
    publish(config, 20)
    # three handlers run; the broker has handed out `expected` (twice the pool unless configured)
    wait_for(lambda: Held.running == 3 and queue_depth(config["AMQP_URI"], QUEUE) == 20 - expected,
             message=f"3 running, {20 - expected} ready")
    Held.release.send(None)
    wait_for(lambda: Held.done == 20 and queue_depth(config["AMQP_URI"], QUEUE) == 0, message="all 20 handled")
    assert Held.most == 3
