"""The outbox relay reads its lag (a count over the unsent rows) once a poll interval, not after
every small batch."""
from services.common import relay_thread
from services.common.relay_thread import RelayThread


class FakeRelay:
    batch_size = 500

    def __init__(self, owner, batches):
        self.owner, self.batches, self.lags = owner, list(batches), 0

    def relay_batch(self):
        sent = self.batches.pop(0)
        if not self.batches:
            self.owner.stop()
        self.owner.wake()  # another commit already waiting: no pause between batches
        return sent

    def lag(self):
        self.lags += 1
        return 0, 0.0


class Metrics:
    def __init__(self):
        self.gauges = []

    def outbox(self, pending, age):
        self.gauges.append((pending, age))


def relay_loop(monkeypatch, batches, clock):
    loop = RelayThread(None, None, None, type("Retention", (), {"purge_seconds": 3600})(), Metrics())
    loop.relay = FakeRelay(loop, batches)
    loop.purge_expired = lambda: None
    monkeypatch.setattr(relay_thread.time, "monotonic", lambda: clock.pop(0) if len(clock) > 1 else clock[0])
    loop.run()
    return loop


def test_lag_once_a_poll_interval_over_many_small_batches(monkeypatch):
    db = relay_loop(monkeypatch, [3] * 10, clock=[100.0] * 5 + [100.6] * 5)
    assert db.relay.lags == 2
    assert db.metrics.gauges == [(0, 0.0), (0, 0.0)]


def test_full_batches_read_no_lag_until_the_backlog_is_drained(monkeypatch):
    db = relay_loop(monkeypatch, [500, 500, 2], clock=[100.0])
    assert db.relay.lags == 1
