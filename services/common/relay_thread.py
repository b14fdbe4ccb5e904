"""The outbox relay's loop and the retention schedule, run on one green thread per service.

Woken at once by every commit that wrote events (`wake`), else every `poll_seconds`: it relays a
batch (common/outbox.py), backs off while the broker or the database is away (rows stay, nothing is
lost), purges what is past its retention period when due (common/retention.py) and reads the lag
gauge. Plain code: services/common/providers.Database starts it in a managed thread."""
import logging
import time

from eventlet.queue import Empty, LightQueue

from .retention import cutoff, purge_older

log = logging.getLogger(__name__)


class RelayThread:
    def __init__(self, relay, engine, metadata, retention, metrics, poll_seconds=0.5):
        self.relay, self.engine, self.metadata = relay, engine, metadata
        self.retention, self.metrics, self.poll_seconds = retention, metrics, poll_seconds
        self._wake = LightQueue()
        self._running = True  # not set in run(): a stop before the thread first runs must hold
        self._next_purge = 0.0

    def wake(self):
        if self._wake.qsize() == 0:
            self._wake.put(None)

    def stop(self):
        self._running = False
        self.wake()

    def run(self):
        failures = 0
        next_lag = 0.0
        while self._running:
            try:
                sent = self.relay.relay_batch()
                failures = 0
            except Exception as exc:  # noqa: BLE001 — broker or DB away: keep rows, retry with backoff
                failures += 1
                sent = 0
                log.warning("outbox relay failed (%s): %s; retrying", failures, exc)
            if sent >= self.relay.batch_size:
                continue
            now = time.monotonic()
            self._purge_if_due(now)
            # The lag gauge once a poll interval, not after every small batch: under a steady trickle
            # of commits each batch is a few rows and the count over the unsent rows cost as much.
            if now >= next_lag:
                next_lag = now + self.poll_seconds
                try:
                    self.metrics.outbox(*self.relay.lag())
                except Exception:  # noqa: BLE001 — a gauge is not worth a failure
                    pass
            delay = min(5.0, 0.2 * 2 ** failures) if failures else self.poll_seconds
            try:
                self._wake.get(timeout=delay)
            except Empty:
                pass

    def _purge_if_due(self, now):
        if now < self._next_purge:
            return
        self._next_purge = now + self.retention.purge_seconds
        try:
            self.purge_expired()
        except Exception as exc:  # noqa: BLE001 — the database is away: try again next time
            log.warning("retention purge failed: %s", exc)

    def purge_expired(self):
        """Sent outbox rows past the archive period, processed-event records past theirs."""
        archived = self.relay.purge_sent()
        processed = self.metadata.tables.get("processed_events")
        marks = purge_older(self.engine, processed, processed.c.processed_at,
                            cutoff(self.retention.processed_days)) if processed is not None else 0
        if archived or marks:
            log.info("retention: deleted %s archived events and %s processed-event records", archived, marks)
