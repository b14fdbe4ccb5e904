"""Publisher confirms against the real RabbitMQ: a batch returns only when the broker confirmed
every message in it, and fails when the broker refuses any (here: a full queue that rejects)."""
import pytest
from kombu import Connection

from services.common.outbox import AmqpPublisher
from tests.support.infra import queue_depth

pytestmark = pytest.mark.integration

EXCHANGE = "registration.events"


def bound_queue(amqp_uri, name, **arguments):
    with Connection(amqp_uri) as conn:
        channel = conn.channel()
        channel.exchange_declare(EXCHANGE, "topic", durable=True, auto_delete=False)
        channel.queue_declare(name, durable=True, auto_delete=False, arguments=arguments or None)
        channel.queue_bind(name, EXCHANGE, routing_key="#")


def batch(n):
    return [(EXCHANGE, "ApplicationSubmitted", "{}", f"e-{k}") for k in range(n)]


def test_a_large_batch_returns_only_when_every_message_is_confirmed(amqp_uri):
    bound_queue(amqp_uri, "all")
    publisher = AmqpPublisher(amqp_uri)
    seen = []  # the broker's acks; RabbitMQ usually answers a burst with some `multiple` ones
    try:
        publisher.publish_batch(batch(1))
        publisher._channel.events["basic_ack"].add(lambda tag, multiple: seen.append(multiple))
        publisher.publish_batch(batch(2000))
        assert publisher.confirms.done and publisher.confirms.last_tag == 2001 and seen
    finally:
        publisher.close()
    assert queue_depth(amqp_uri, "all") == 2001


def test_a_batch_the_broker_partly_refuses_fails(amqp_uri):
    bound_queue(amqp_uri, "full", **{"x-max-length": 1, "x-overflow": "reject-publish"})
    publisher = AmqpPublisher(amqp_uri)
    with pytest.raises(RuntimeError, match="broker refused"):
        publisher.publish_batch(batch(5))
    assert publisher._channel is None  # closed: the relay retries the batch on a fresh channel
    assert queue_depth(amqp_uri, "full") == 1
