"""Transactional outbox relay: publish what units of work wrote, with batched publisher confirms.

One batch = select unsent rows (FOR UPDATE SKIP LOCKED on PostgreSQL, so several copies of a
service share the work) → publish each → wait for the broker's confirms once → mark sent → commit.
A broker outage delays events and never drops them: rows stay unsent until confirmed.

At rest every event's `data` is sealed (AES-GCM with the service's DATA_KEYS, context "outbox"):
some events carry a full ID number, name, phone and address (RegistrationCompleted), and a row may
wait for hours while the broker is away, so deleting sent rows alone would not keep them out of
the files and backups. Sealing all events, not a list of personal ones, cannot miss a new event
type. The envelope (id, type, subject, time) stays readable for `python -m services.ops trail`.
Sent rows are the event archive (services/common/retention.py): kept EVENT_ARCHIVE_DAYS, then deleted.
"""
import functools
import json
import logging
import time

import amqp
from kombu import Connection
from sqlalchemy import bindparam, func, select, update

from services.contracts.events import CONTENT_TYPE

from . import clock
from .crypto import DataCipher
from .retention import Retention, cutoff, purge_older

SEAL_CONTEXT = "outbox"


def seal_payload(cipher, event):
    """The outbox row's payload for `event`: the envelope in clear (id, type, subject, time: what an
    operator's trail searches, nothing personal), its `data` sealed as `data_sealed`."""
    envelope = {key: value for key, value in event.items() if key != "data"}
    envelope["data_sealed"] = cipher.encrypt(json.dumps(event["data"], ensure_ascii=False), SEAL_CONTEXT)
    return json.dumps(envelope, ensure_ascii=False)


_SEALED_TAIL = ', "data_sealed": '


def open_payload(cipher, stored):
    """The event's JSON text as published; rows written before sealing began pass as they are."""
    if '"data_sealed"' not in stored:
        return stored
    # As seal_payload wrote it, `data_sealed` is the last key: the envelope's text before it is
    # what json.dumps would write again, so the clear data is spliced in instead of the whole
    # row decoded and encoded once more (the same text; anything else takes the long way).
    at = stored.rfind(_SEALED_TAIL)
    if at > 0 and stored.endswith('"}'):
        try:
            token = json.loads(stored[at + len(_SEALED_TAIL):-1])
        except ValueError:
            token = None
        if isinstance(token, str):
            return f'{stored[:at]}, "data": {cipher.decrypt(token, SEAL_CONTEXT)}}}'
    envelope = json.loads(stored)
    envelope["data"] = json.loads(cipher.decrypt(envelope.pop("data_sealed"), SEAL_CONTEXT))
    return json.dumps(envelope, ensure_ascii=False)


@functools.lru_cache(maxsize=4)
def _env_cipher(data_keys, blind_index_key):
    return DataCipher(data_keys, blind_index_key)


def environment_cipher():
    """The cipher of this process's environment: for units of work opened outside a service
    (admin commands), whose configuration is that same environment."""
    from .config import env
    return _env_cipher(env("DATA_KEYS"), env("BLIND_INDEX_KEY"))

log = logging.getLogger(__name__)


class ConfirmTimeout(RuntimeError):
    pass


class PublishConfirms:
    """Which published messages (delivery tags 1, 2, … on one channel) the broker has confirmed.

    An ack or nack with `multiple` settles every unsettled tag up to and including its own; without
    it, only that tag. Acks may come singly and out of order, so "the highest tag acked" would call
    a batch confirmed while an earlier message is still unconfirmed — or later nacked."""

    def __init__(self):
        self.last_tag = 0
        self.unsettled = set()
        self.refused = set()

    def published(self):
        self.last_tag += 1
        self.unsettled.add(self.last_tag)
        return self.last_tag

    def _settle(self, tag, multiple):
        settled = {t for t in self.unsettled if t <= tag} if multiple else self.unsettled & {tag}
        self.unsettled -= settled
        return settled

    def ack(self, tag, multiple=False):
        self._settle(tag, multiple)

    def nack(self, tag, multiple=False):
        self.refused |= self._settle(tag, multiple)

    @property
    def done(self):
        return not self.unsettled


class AmqpPublisher:
    """A channel in confirm mode; publish_batch returns once the broker has confirmed every message."""

    def __init__(self, amqp_uri, confirm_timeout=10.0):
        self.amqp_uri = amqp_uri
        self.confirm_timeout = confirm_timeout
        self._conn = None
        self._channel = None
        self._declared = set()
        self.confirms = PublishConfirms()

    def _connect(self):
        conn = Connection(self.amqp_uri, connect_timeout=5, heartbeat=0)
        conn.connect()
        channel = conn.channel()
        channel.confirm_select()
        self.confirms = confirms = PublishConfirms()  # delivery tags count from 1 on each channel
        channel.events["basic_ack"].add(confirms.ack)
        channel.events["basic_nack"].add(confirms.nack)
        self._conn, self._channel, self._declared = conn, channel, set()

    def close(self):
        if self._conn is not None:
            try:
                self._conn.release()
            except Exception:  # noqa: BLE001 — closing a dead connection
                pass
        self._conn = self._channel = None

    def declare_exchange(self, exchange):
        if exchange not in self._declared:
            self._channel.exchange_declare(exchange, "topic", durable=True, auto_delete=False)
            self._declared.add(exchange)

    def publish_batch(self, messages):
        """messages: [(exchange, routing_key, body_str, event_id[, event_type])]. Raises on any failure.
        The event type (the message's `type`) is the routing key unless given: a replay sends to a
        queue by name through the default exchange "" (services/ops/replay.py)."""
        if self._channel is None:
            self._connect()
        confirms = self.confirms
        try:
            for exchange, routing_key, body, event_id, *event_type in messages:
                if exchange:
                    self.declare_exchange(exchange)
                msg = amqp.Message(body.encode(), delivery_mode=2, content_type=CONTENT_TYPE,
                                   content_encoding="utf-8", message_id=event_id,
                                   type=event_type[0] if event_type else routing_key)
                self._channel.basic_publish(msg, exchange=exchange, routing_key=routing_key)
                confirms.published()
            deadline = time.monotonic() + self.confirm_timeout
            while not confirms.done and not confirms.refused:
                if time.monotonic() > deadline:
                    raise ConfirmTimeout("no publisher confirm in time")
                self._conn.drain_events(timeout=1)
            if confirms.refused:
                raise RuntimeError(f"broker refused {len(confirms.refused)} message(s)")
        except Exception:
            self.close()  # the next batch opens a fresh channel (and a fresh count of tags)
            raise


class OutboxRelay:
    """Moves outbox rows to the broker. Pure of nameko: the service provider drives `relay_batch`."""

    def __init__(self, engine, outbox_table, publisher, batch_size=500, metrics=None, cipher=None,
                 archive_days=Retention.archive_days):
        self.engine = engine
        self.table = outbox_table
        self.publisher = publisher
        self.batch_size = batch_size
        self.metrics = metrics
        self.cipher = cipher or environment_cipher()
        self.archive_days = archive_days
        self.skip_locked = engine.dialect.name == "postgresql"
        # built once (a relay of small batches built and cache-keyed them on every batch)
        t = outbox_table
        self._unsent = select(t.c.id, t.c.exchange, t.c.event_type, t.c.payload, t.c.event_id) \
            .where(t.c.sent_at.is_(None)).order_by(t.c.id).limit(batch_size)
        if self.skip_locked:
            self._unsent = self._unsent.with_for_update(skip_locked=True)
        self._sent = update(t).where(t.c.id.in_(bindparam("ids", expanding=True))) \
            .values(sent_at=bindparam("sent_at"))

    def relay_batch(self):
        """Publish one batch; returns how many rows were sent (0 when nothing is waiting).

        PostgreSQL: rows stay locked (SKIP LOCKED) while published, so copies never share a row.
        SQLite (one process per database): read, publish, then mark, so the write lock is not
        held across network I/O.
        """
        query = self._unsent
        if self.skip_locked:
            with self.engine.begin() as conn:
                rows = conn.execute(query).all()
                if rows:
                    self._publish_and_mark(conn, rows)
        else:
            with self.engine.begin() as conn:
                rows = conn.execute(query).all()
            if rows:
                self._publish(rows)
                with self.engine.begin() as conn:
                    self._mark(conn, rows)
        return len(rows)

    def _publish_and_mark(self, conn, rows):
        self._publish(rows)
        self._mark(conn, rows)

    def _publish(self, rows):
        self.publisher.publish_batch([(r.exchange, r.event_type, open_payload(self.cipher, r.payload), r.event_id)
                                      for r in rows])

    def _mark(self, conn, rows):
        conn.execute(self._sent, {"ids": [r.id for r in rows], "sent_at": clock.now()})
        if self.metrics:
            for r in rows:
                self.metrics.published(r.event_type)

    def purge_sent(self, batch=5000):
        """Delete rows sent more than EVENT_ARCHIVE_DAYS ago (out of the archive); returns how many went."""
        return purge_older(self.engine, self.table, self.table.c.sent_at, cutoff(self.archive_days), batch)

    def lag(self):
        """(unsent rows, age in seconds of the oldest unsent row)."""
        t = self.table
        with self.engine.connect() as conn:
            count, oldest = conn.execute(
                select(func.count(), func.min(t.c.created_at)).where(t.c.sent_at.is_(None))).one()
        age = max(0.0, (clock.now() - oldest).total_seconds()) if oldest is not None else 0.0
        return count, age
