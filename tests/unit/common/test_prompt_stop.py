"""nameko's queue consumer polls for a stop request every 0.1 s, not kombu's 1 s (services stop fast)."""
from kombu.mixins import ConsumerMixin
from nameko.messaging import QueueConsumer

from services.common.runner import stop_consumers_promptly


def test_the_consumer_loop_waits_at_most_a_tenth_of_a_second(monkeypatch):
    seen = []

    def consume_once(self, **kwargs):
        seen.append(kwargs)
        self.should_stop = True
        return iter(())
    monkeypatch.setattr(ConsumerMixin, "consume", consume_once)
    monkeypatch.setattr(QueueConsumer, "connection", type("C", (), {"connection_errors": (), "channel_errors": ()})())
    stop_consumers_promptly()
    stop_consumers_promptly()  # twice: still one layer
    consumer = QueueConsumer.__new__(QueueConsumer)
    consumer.should_stop = False
    consumer.run()
    assert seen == [{"limit": None, "safety_interval": 0.1}]
