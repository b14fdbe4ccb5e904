"""The outbox relay reads its lag (a count over the unsent rows) once a poll interval, not after
every small batch."""
from eventlet.queue import LightQueue

from services.common import providers
from services.common.providers import Database


class FakeRelay:
    batch_size = 500

    def __init__(self, owner, batches):
        self.owner, self.batches, self.lags = owner, list(batches), 0

    def relay_batch(self):
        sent = self.batches.pop(0)
        if not self.batches:
            self.owner._running = False
        self.owner.wake_relay()  # another commit already waiting: no pause between batches
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
    db = Database.__new__(Database)
    db._running, db._wake, db.poll_seconds, db.metrics = True, LightQueue(), 0.5, Metrics()
    db.relay = FakeRelay(db, batches)
    db.retention = type("Retention", (), {"purge_seconds": 3600})()
    db.purge_expired = lambda: None
    monkeypatch.setattr(providers.time, "monotonic", lambda: clock.pop(0) if len(clock) > 1 else clock[0])
    db._relay_loop()
    return db


def test_lag_once_a_poll_interval_over_many_small_batches(monkeypatch):
    db = relay_loop(monkeypatch, [3] * 10, clock=[100.0] * 5 + [100.6] * 5)
    assert db.relay.lags == 2
    assert db.metrics.gauges == [(0, 0.0), (0, 0.0)]


def test_full_batches_read_no_lag_until_the_backlog_is_drained(monkeypatch):
    db = relay_loop(monkeypatch, [500, 500, 2], clock=[100.0])
    assert db.relay.lags == 1
