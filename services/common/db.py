"""A database per service: engine, unit of work, and the nameko provider that hands one to each worker.

Rule: no RPC or other network I/O inside a unit of work. On SQLite the pool holds one connection
per process (writes are serialised anyway), so a green thread waits for the pool instead of
blocking the whole process inside SQLite's busy handler.
"""
import functools
import os
import sqlite3
import time

from sqlalchemy import create_engine, event, insert, select
from sqlalchemy.orm import Session
from sqlalchemy.pool import QueuePool

from . import clock
from .outbox import environment_cipher, seal_payload
from .statements import insert_on_conflict


def make_engine(url):
    if url.startswith("sqlite"):
        path = url.split("sqlite:///", 1)[-1]
        if path and path != ":memory:":
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        engine = create_engine(url, poolclass=QueuePool, pool_size=1, max_overflow=0, pool_timeout=60,
                               connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _):
            dbapi_conn.isolation_level = None  # we say BEGIN ourselves, below
            cur = dbapi_conn.cursor()
            _set_wal(cur)
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(conn):
            # Take the write lock up front: a deferred BEGIN that later upgrades fails at once
            # (SQLITE_BUSY) when another process writes, whatever the busy timeout.
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        return engine
    # The pool keeps a service's 20 workers' connections (MAX_WORKERS); with 10 kept, a burst of 20
    # opened and closed a connection per unit of work beyond the tenth (bench_submit on PostgreSQL:
    # psycopg2.connect and a new server backend each time). The ceiling stays 30 per process.
    return create_engine(url, pool_size=20, max_overflow=10, pool_pre_ping=True, pool_timeout=30)


def _set_wal(cursor, attempts=100):
    """PRAGMA journal_mode=WAL, retried: on a fresh file several processes starting at once (copies
    of a service, each migrating) get "database is locked" at once, whatever the busy timeout."""
    for attempt in range(attempts):
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == attempts - 1:
                raise
            time.sleep(0.05)


class UnitOfWork:
    """One transaction: state changes, the outbox rows of their events, the processed-event marks.

    `with db.uow() as uow:` commits on success and rolls back on error. `repositories(session,
    cipher)` — the service's own, e.g. registration.repository.repositories — returns a mapping of
    name → repository; each becomes an attribute (`uow.applications`), so a service layer reaches
    its data only through them and a fake unit of work with the same attributes can stand in.
    """

    def __init__(self, engine, metadata, on_commit_with_events=None, cipher=None, repositories=None):
        self.session = Session(engine, expire_on_commit=False)
        self._cipher = cipher  # seals outbox payloads; the environment's keys when None
        self._outbox = metadata.tables.get("outbox")
        self._processed = metadata.tables.get("processed_events")
        self._on_events = on_commit_with_events
        self.events = []
        if repositories is not None:
            for name, repository in repositories(self.session, cipher or environment_cipher()).items():
                setattr(self, name, repository)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        try:
            if exc_type is None:
                self.commit()
            else:
                self.session.rollback()
        finally:
            self.session.close()

    def commit(self):
        self.session.commit()
        if self.events and self._on_events:
            self._on_events()
        self.events = []

    def publish(self, event):
        """Write an event (from services.contracts.events.new_event) to the outbox in this transaction."""
        # The values as parameters, not .values(): one statement whose compiled form is cached; with
        # .values() SQLAlchemy builds a cache key from every value, the sealed payload's bytes included.
        self.session.execute(_insert(self._outbox), {
            "event_id": event["id"], "event_type": event["type"], "exchange": f"{event['source']}.events",
            "payload": seal_payload(self._cipher or environment_cipher(), event), "created_at": clock.now()})
        self.events.append(event)

    def publish_many(self, events):
        """`publish` of many events in one INSERT (one round trip instead of one each)."""
        if len(events) <= 1:
            for event in events:
                self.publish(event)
            return
        cipher, now = self._cipher or environment_cipher(), clock.now()
        self.session.execute(_insert(self._outbox), [
            {"event_id": e["id"], "event_type": e["type"], "exchange": f"{e['source']}.events",
             "payload": seal_payload(cipher, e), "created_at": now} for e in events])
        self.events.extend(events)

    def seen_before(self, keys):
        """The (consumer, source, event id) keys among `keys` processed before: first_time for a
        batch, one query per (consumer, source); record the new ones with mark_processed."""
        keys, seen = list(keys), set()
        for consumer, source in {(c, s) for c, s, _ in keys}:
            ids = [i for c, s, i in keys if (c, s) == (consumer, source)]
            seen.update((consumer, source, i) for i in self.session.scalars(
                select(self._processed.c.event_id).where(self._processed.c.consumer == consumer,
                                                         self._processed.c.source == source,
                                                         self._processed.c.event_id.in_(ids))))
        return seen

    def mark_processed(self, keys):
        """Record (consumer, source, event id) keys as processed in one INSERT; a key recorded by a
        concurrent copy meanwhile makes it fail (IntegrityError), rolling the transaction back."""
        now = clock.now()
        rows = [{"consumer": c, "source": s, "event_id": i, "processed_at": now} for c, s, i in keys]
        if rows:
            self.session.execute(insert(self._processed), rows)

    def first_time(self, event, consumer):
        """Record (source, id) for this consumer; False when it was processed before (skip it).

        One statement: the mark is inserted unless it is there already (ON CONFLICT DO NOTHING, SQLite
        and PostgreSQL alike), and whether a row was written tells. A concurrent copy marking the same
        event first makes this insert wait for its commit and then write nothing. Call it first in the
        unit of work.
        """
        return self.session.execute(insert_on_conflict(self._processed, "DO NOTHING"), {
            "consumer": consumer, "source": event["source"], "event_id": event["id"],
            "processed_at": clock.now()}).rowcount == 1


@functools.lru_cache(maxsize=32)
def _insert(table):
    """One INSERT statement per table: built once, its cache key is computed once."""
    return insert(table)


def create_schema(engine, metadata):
    """Tests and `make run` on a fresh SQLite file; production uses Alembic (services.common.migrations)."""
    metadata.create_all(engine)
