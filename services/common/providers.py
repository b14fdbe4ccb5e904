"""nameko dependency providers: the thin edge between the framework and the platform."""
from nameko.extensions import DependencyProvider

from . import migrations, rpc_errors  # noqa: F401 — domain errors cross RPC as themselves
from .crypto import DataCipher
from .db import UnitOfWork, create_schema, make_engine
from .metrics import ServiceMetrics
from .outbox import AmqpPublisher, OutboxRelay
from .relay_thread import RelayThread
from .retention import Retention
from .subscriber import declare_topology


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
    carrying the service's repositories when `repositories` is given (db.UnitOfWork). The schema is
    migrated (or created) at set-up.

    When the metadata carries an outbox table, the provider also runs the outbox relay on a managed
    green thread (relay_thread.RelayThread), woken at once by every commit that wrote events.
    """

    def __init__(self, metadata, repositories=None):
        self.metadata = metadata
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
        self.relay_thread = None
        if "outbox" in self.metadata.tables:
            retention = Retention.from_config(config)
            self.publisher = AmqpPublisher(config["AMQP_URI"])
            relay = OutboxRelay(
                self.engine, self.metadata.tables["outbox"], self.publisher,
                batch_size=int(config.get("OUTBOX_BATCH", 500)), metrics=self.metrics, cipher=self.cipher,
                archive_days=retention.archive_days)
            self.relay_thread = RelayThread(relay, self.engine, self.metadata, retention, self.metrics,
                                            poll_seconds=float(config.get("OUTBOX_POLL_SECONDS", 0.5)))

    @property
    def relay(self):
        return self.relay_thread.relay if self.relay_thread else None

    def start(self):
        if self.relay_thread:
            self._thread = self.container.spawn_managed_thread(self.relay_thread.run, identifier="outbox_relay")

    def stop(self):
        if self.relay_thread:
            self.relay_thread.stop()
            self._thread.wait()
            self.publisher.close()
        self.engine.dispose()

    def kill(self):
        if self.relay_thread:
            self.relay_thread.stop()
            self._thread.kill()
            self.publisher.close()

    def wake_relay(self):
        if self.relay_thread:
            self.relay_thread.wake()

    def get_dependency(self, worker_ctx):
        return DatabaseHandle(self)


class Subscriptions(DependencyProvider):
    """Declares the service's event queues (and their dead-letter queues) when it starts, from its
    subscriptions in services/contracts/subscriptions.py: an event published while the service is
    down then waits in its queue instead of being dropped by the exchange."""

    def __init__(self, subscriptions):
        self.subscriptions = subscriptions  # (service, source, event_type)

    def start(self):
        if self.subscriptions:
            declare_topology(self.container.config, self.subscriptions)


class Cipher(DependencyProvider):
    """AES-GCM + blind index keyed from the environment (services.common.crypto)."""

    def setup(self):
        self.cipher = DataCipher.from_config(self.container.config)

    def get_dependency(self, worker_ctx):
        return self.cipher


class Config(DependencyProvider):
    def get_dependency(self, worker_ctx):
        return self.container.config
