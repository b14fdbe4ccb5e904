"""nameko dependency providers: the thin edge between the framework and the platform."""
import logging
import time

from eventlet.queue import Empty, LightQueue
from nameko.extensions import DependencyProvider

from . import migrations, rpc_errors  # noqa: F401 — domain errors cross RPC as themselves
from .crypto import DataCipher
from .db import UnitOfWork, create_schema, make_engine
from .metrics import ServiceMetrics
from .outbox import AmqpPublisher, OutboxRelay
from .retention import Retention, cutoff, purge_older
from .subscriber import declare_topology

log = logging.getLogger(__name__)


class DatabaseHandle:
    def __init__(self, provider):
        self._provider = provider
        self.engine = provider.engine

    def uow(self):
        p = self._provider
        return UnitOfWork(p.engine, p.metadata, on_commit_with_events=p.wake_relay, cipher=p.cipher,
                          repositories=p.repositories)


class Database(DependencyProvider):
    """Each worker gets a handle whose `uow()` opens a unit of work on the service's own database,
    carrying the service's repositories when `repositories` is given (db.UnitOfWork).

    When the metadata carries an outbox table, the provider also runs the outbox relay in a
    managed green thread, woken at once by every commit that wrote events.
    """

    def __init__(self, metadata, topology=(), repositories=None):
        self.metadata = metadata
        self.topology = topology  # (service, source, event_type) subscriptions to declare at start
        self.repositories = repositories  # (session, cipher) → {name: repository}; see db.UnitOfWork

    def setup(self):
        config = self.container.config
        self.service = self.container.service_name
        self.engine = make_engine(config["DATABASE_URL"])
        schema = config.get("DB_SCHEMA", "migrate")
        if schema == "migrate" and migrations.owns(self.service, self.metadata):
            migrations.upgrade(self.engine, self.metadata, self.service)
        elif schema in ("migrate", "create"):
            create_schema(self.engine, self.metadata)
        self.metrics = ServiceMetrics(self.service)
        self.cipher = DataCipher.from_config(config)  # seals outbox payloads at rest
        self.retention = Retention.from_config(config)
        self._wake = LightQueue()
        self._running = False
        self.relay = None
        if "outbox" in self.metadata.tables:
            self.publisher = AmqpPublisher(config["AMQP_URI"])
            self.relay = OutboxRelay(
                self.engine, self.metadata.tables["outbox"], self.publisher,
                batch_size=int(config.get("OUTBOX_BATCH", 500)), metrics=self.metrics, cipher=self.cipher,
                archive_days=self.retention.archive_days)
            self.poll_seconds = float(config.get("OUTBOX_POLL_SECONDS", 0.5))

    def start(self):
        if self.topology:
            declare_topology(self.container.config, self.topology)
        if self.relay:
            self._running = True
            self._thread = self.container.spawn_managed_thread(self._relay_loop, identifier="outbox_relay")

    def stop(self):
        self._running = False
        if self.relay:
            self.wake_relay()
            self._thread.wait()
            self.publisher.close()
        self.engine.dispose()

    def kill(self):
        self._running = False
        if self.relay:
            self._thread.kill()
            self.publisher.close()

    def wake_relay(self):
        if self.relay and self._wake.qsize() == 0:
            self._wake.put(None)

    def _purge_if_due(self, now):
        """The retention schedule (services/common/retention.py), run by the relay's thread."""
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

    def _relay_loop(self):
        failures = 0
        self._next_purge = 0.0
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
                except Exception:  # noqa: BLE001
                    pass
            delay = min(5.0, 0.2 * 2 ** failures) if failures else self.poll_seconds
            try:
                self._wake.get(timeout=delay)
            except Empty:
                pass

    def get_dependency(self, worker_ctx):
        return DatabaseHandle(self)


class Cipher(DependencyProvider):
    """AES-GCM + blind index keyed from the environment (services.common.crypto)."""

    def setup(self):
        self.cipher = DataCipher.from_config(self.container.config)

    def get_dependency(self, worker_ctx):
        return self.cipher


class Config(DependencyProvider):
    def get_dependency(self, worker_ctx):
        return self.container.config
