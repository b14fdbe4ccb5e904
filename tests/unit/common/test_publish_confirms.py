"""Publisher confirms: an ack or nack with `multiple` settles every earlier unsettled publish."""
import pytest

from services.common.outbox import AmqpPublisher, PublishConfirms


def published(n):
    confirms = PublishConfirms()
    for _ in range(n):
        confirms.published()
    return confirms


def test_an_ack_with_multiple_confirms_every_earlier_publish():
    confirms = published(5)
    confirms.ack(3, multiple=True)
    assert confirms.unsettled == {4, 5}
    confirms.ack(5, multiple=True)
    assert confirms.done and not confirms.refused


def test_a_single_ack_of_the_last_tag_leaves_the_earlier_ones_unconfirmed():
    confirms = published(3)
    confirms.ack(3)  # acks may come out of order: the highest tag is not "all of them"
    assert not confirms.done
    assert confirms.unsettled == {1, 2}
    confirms.ack(1)
    confirms.ack(2)
    assert confirms.done


def test_a_nack_with_multiple_refuses_every_earlier_unsettled_publish():
    confirms = published(6)
    confirms.ack(2)
    confirms.nack(4, multiple=True)
    assert confirms.refused == {1, 3, 4}
    assert confirms.unsettled == {5, 6}
    confirms.ack(6, multiple=True)
    assert confirms.done and confirms.refused == {1, 3, 4}


def test_a_single_nack_refuses_only_its_own_publish():
    confirms = published(3)
    confirms.nack(2)
    confirms.ack(3, multiple=True)
    assert confirms.refused == {2} and confirms.done


class FakeChannel:
    """Confirms the batch the way a broker may: the last tag singly, then the rest with `scripted`."""

    def __init__(self, confirms, scripted):
        self.confirms, self.scripted = confirms, list(scripted)

    def basic_publish(self, *args, **kwargs):
        pass

    def drain(self):
        kind, tag, multiple = self.scripted.pop(0)
        getattr(self.confirms, kind)(tag, multiple)


class FakeConnection:
    def __init__(self, channel):
        self.channel = channel
        self.released = False

    def drain_events(self, timeout):
        self.channel.drain()

    def release(self):
        self.released = True


def publisher_with(scripted):
    publisher = AmqpPublisher("amqp://unused")
    publisher.confirms = PublishConfirms()
    publisher._channel = FakeChannel(publisher.confirms, scripted)
    publisher._conn = FakeConnection(publisher._channel)
    publisher._declared = {"registration.events"}
    return publisher


BATCH = [("registration.events", "ApplicationSubmitted", "{}", f"e-{n}") for n in range(4)]


def test_publish_batch_waits_for_every_tag_not_just_the_highest():
    publisher = publisher_with([("ack", 4, False), ("ack", 2, True), ("ack", 3, False)])
    publisher.publish_batch(BATCH)
    assert publisher.confirms.done and publisher._channel.scripted == []


def test_publish_batch_fails_when_a_multiple_nack_refuses_earlier_publishes():
    publisher = publisher_with([("ack", 4, False), ("nack", 3, True)])
    conn = publisher._conn
    with pytest.raises(RuntimeError, match="refused 3 message"):
        publisher.publish_batch(BATCH)
    assert conn.released and publisher._channel is None  # the next batch starts a fresh channel
