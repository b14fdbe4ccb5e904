"""RPC entrypoints ride out a broker outage: a reply or an ack that cannot reach the broker is let go."""
import amqp.exceptions
import pytest
from kombu.exceptions import OperationalError
from nameko.amqp.publish import Publisher
from nameko.messaging import QueueConsumer
from nameko.rpc import Responder

from services.common.runner import ForgivingReplyPublisher, forgive_lost_rpc_replies


class DeadChannelMessage:
    class channel:
        connection = object()  # nameko only tries when the channel still names a connection

    def ack(self):
        raise amqp.exceptions.RecoverableConnectionError("connection already closed")

    requeue = ack


def test_acks_on_a_dead_connection_do_not_raise():
    forgive_lost_rpc_replies()
    forgive_lost_rpc_replies()  # twice: still one layer
    consumer = QueueConsumer.__new__(QueueConsumer)
    consumer.ack_message(DeadChannelMessage())
    consumer.requeue_message(DeadChannelMessage())
    assert not hasattr(QueueConsumer.ack_message.original, "original")
    assert Responder.publisher_cls is ForgivingReplyPublisher


def test_a_reply_the_broker_cannot_take_is_let_go(monkeypatch):
    def refuse(self, payload, **kwargs):
        raise OperationalError("[Errno 111] Connection refused")
    monkeypatch.setattr(Publisher, "publish", refuse)
    ForgivingReplyPublisher("amqp://guest:guest@127.0.0.1:1/").publish({"result": 1})


def test_other_failures_still_raise(monkeypatch):
    def broken(self, payload, **kwargs):
        raise TypeError("not serialisable")
    monkeypatch.setattr(Publisher, "publish", broken)
    with pytest.raises(TypeError):
        ForgivingReplyPublisher("amqp://guest:guest@127.0.0.1:1/").publish({"result": 1})
