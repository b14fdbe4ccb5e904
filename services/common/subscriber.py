"""`@subscribe(source, event_type)`: an event entrypoint that never loses a message silently.

nameko's own @event_handler acks and loses a message whose handler raised. Here:
- the queue `<service>.<EventType>` (durable, bound to `<source>.events`) and its `<queue>.dlq`
  are declared when the service starts, before anything can be published to them;
- a message that is not a valid event of the contract goes straight to the DLQ with the reason;
- a handler that raises is retried with backoff up to EVENT_MAX_ATTEMPTS, then dead-lettered
  with the error in the headers (`x-error`), counted in `events_dead_lettered_total`;
- except when the database is away (ours, or a peer's behind an RPC): the message is not at fault,
  so it is retried for as long as the outage lasts without spending its attempts (a database
  restart must not dead-letter the events that arrive meanwhile);
- acks and republishes happen on the consumer's own green thread (one connection, one writer);
  the acks of a run of consecutive deliveries whose handlers all returned (committed) go as one
  `multiple` ack, never covering a delivery still running or waiting for its retry.
Handlers must be idempotent: open a unit of work and call `uow.first_time(event, self.name)` first.
"""
import logging
import traceback
from functools import partial

import eventlet
from eventlet.queue import LightQueue
from kombu import Connection, Exchange, Producer, Queue
from kombu.mixins import ConsumerMixin
from nameko.exceptions import RemoteError
from nameko.extensions import Entrypoint, ProviderCollector, SharedExtension
from sqlalchemy import exc as db_errors

from services.contracts.events import MalformedEvent, exchange_of, parse_event

from .metrics import ServiceMetrics
from .queues import queue_arguments, quorum_enabled

log = logging.getLogger(__name__)


# The database cannot be reached or dropped the connection (OperationalError also covers a
# deadlock or a serialization failure: retrying is right for those too).
DATABASE_OUTAGES = (db_errors.OperationalError, db_errors.InterfaceError, db_errors.DisconnectionError,
                    db_errors.TimeoutError)


def is_database_outage(exc):
    """True when `exc` says a database is away: this service's, or a peer's (an RPC's RemoteError)."""
    if isinstance(exc, RemoteError):
        return exc.exc_type in {cls.__name__ for cls in DATABASE_OUTAGES}
    return isinstance(exc, DATABASE_OUTAGES)


def queue_name(service, event_type):
    return f"{service}.{event_type}"


def dlq_name(queue):
    return f"{queue}.dlq"


def declare_subscription(channel, service, source, event_type, quorum=False):
    """Idempotent: exchange, queue, binding and DLQ of one subscription."""
    exchange = Exchange(exchange_of(source), type="topic", durable=True, channel=channel)
    exchange.declare()
    name = queue_name(service, event_type)
    Queue(dlq_name(name), durable=True, queue_arguments=queue_arguments(quorum), channel=channel).declare()
    queue = Queue(name, exchange=exchange, routing_key=event_type, durable=True,
                  queue_arguments=queue_arguments(quorum, dead_letter_to=dlq_name(name)), channel=channel)
    queue.declare()
    return queue


def declare_topology(config, subscriptions):
    quorum = quorum_enabled(config)
    with Connection(config["AMQP_URI"], connect_timeout=5) as conn:
        conn.ensure_connection(max_retries=3)
        channel = conn.channel()
        for service, source, event_type in subscriptions:
            declare_subscription(channel, service, source, event_type, quorum)


class _Consumer(ConsumerMixin):
    def __init__(self, owner, connection):
        self.owner = owner
        self.connection = connection

    def get_consumers(self, Consumer, channel):
        return self.owner.make_consumers(Consumer, channel)

    def on_iteration(self):
        self.owner.run_pending()

    def on_consume_end(self, connection, channel):
        # A clean stop: the acks of the last handlers go out before the connection closes (a
        # crash skips this, and the broker redelivers them).
        self.owner.run_pending()

    def on_connection_error(self, exc, interval):
        log.warning("broker unreachable (%s); retrying in %ss", exc, interval)


class EventConsumer(SharedExtension, ProviderCollector):
    """One connection per service container, one kombu consumer per subscribed queue."""

    def setup(self):
        config = self.container.config
        self.service = self.container.service_name
        self.max_attempts = int(config.get("EVENT_MAX_ATTEMPTS", 5))
        self.quorum = quorum_enabled(config)
        # Prefetch beyond the worker pool (EVENT_PREFETCH, default twice max_workers): while every
        # worker is busy the next messages are already here, and each arrival lets this thread send
        # the acks of finished workers (it settles them between deliveries; with prefetch equal to
        # the pool, the broker waits for those acks and the thread for the next delivery, up to
        # `safety_interval`). Concurrency stays bounded by max_workers: spawn_worker waits for a slot.
        workers = int(config.get("max_workers", 10))
        self.prefetch = int(config.get("EVENT_PREFETCH") or 2 * workers)
        self.metrics = ServiceMetrics(self.service)
        self.connection = Connection(config["AMQP_URI"], heartbeat=0,
                                     transport_options={"confirm_publish": True})
        self._pending = LightQueue()
        self._channel = None
        self._unsettled = set()  # delivery tags of this channel not yet acked, requeued or republished
        self._done = {}  # delivery tag → message whose handler returned, its ack not sent yet

    def start(self):
        # Declare before consuming (entrypoints registered during setup), so no event for us is
        # dropped for want of a bound queue.
        with Connection(self.container.config["AMQP_URI"]) as conn:
            channel = conn.channel()
            for provider in self._providers:
                declare_subscription(channel, self.service, provider.source, provider.event_type, self.quorum)
        self._mixin = _Consumer(self, self.connection)
        self._thread = self.container.spawn_managed_thread(
            partial(self._mixin.run, safety_interval=0.1), identifier="event_consumer")

    def stop(self):
        self.wait_for_providers()
        self._mixin.should_stop = True
        self._thread.wait()
        self.connection.release()

    def kill(self):
        if hasattr(self, "_mixin"):
            self._mixin.should_stop = True
            self._thread.kill()

    def make_consumers(self, Consumer, channel):
        self._channel = channel
        self._unsettled, self._done = set(), {}  # tags count afresh on a new channel
        channel.basic_qos(0, self.prefetch, False)
        consumers = []
        for provider in list(self._providers):
            queue = declare_subscription(channel, self.service, provider.source, provider.event_type, self.quorum)
            consumers.append(Consumer(queues=[queue], on_message=partial(self._on_message, provider),
                                      accept=None, no_ack=False))
        return consumers

    # --- on the consumer thread ---------------------------------------------------------
    def _on_message(self, provider, message):
        try:
            event = parse_event(message.body)
        except MalformedEvent as exc:
            self.metrics.consumed(provider.event_type, "malformed")
            self._dead_letter(provider, message, f"MalformedEvent: {exc}")
            return
        channel = self._channel
        self._unsettled.add(message.delivery_tag)
        try:
            self.container.spawn_worker(provider, (event,), {},
                                        handle_result=partial(self._handle_result, provider, message, channel))
        except Exception:  # noqa: BLE001 — container being killed: leave it for redelivery
            self._unsettled.discard(message.delivery_tag)
            message.requeue()

    def run_pending(self):
        while self._pending.qsize():
            action = self._pending.get()
            try:
                action()
            except Exception as exc:  # noqa: BLE001 — channel gone: the broker redelivers
                log.warning("could not settle a message: %s", exc)
        if self._done:
            try:
                self._ack_done()
            except Exception as exc:  # noqa: BLE001 — channel gone: the broker redelivers
                log.warning("could not ack messages: %s", exc)
                self._done = {}

    def _ack_done(self):
        """Ack the handled messages: those below the oldest delivery still unsettled in one frame
        (`multiple` acks every tag up to its own, and all of those have committed), the rest singly
        (waiting for a slow or retried delivery would hold them against the prefetch)."""
        pending = self._unsettled.difference(self._done)
        oldest = min(pending) if pending else None
        run = [tag for tag in self._done if oldest is None or tag < oldest]
        if len(run) > 1:
            self._done[max(run)].ack(multiple=True)
            for tag in run:
                self._unsettled.discard(tag)
                del self._done[tag]
        for tag, message in list(self._done.items()):
            message.ack()
            self._unsettled.discard(tag)
            del self._done[tag]

    def _handled(self, channel, message):
        """Queue the ack of a message whose handler returned."""
        def action():
            if channel is self._channel:
                self._done[message.delivery_tag] = message
        self._pending.put(action)

    def _settle(self, channel, fn):
        """Queue an ack/republish for the consumer thread; drop it if the channel was replaced."""
        def action():
            if channel is self._channel:
                fn()
        self._pending.put(action)

    # --- on worker threads ----------------------------------------------------------------
    def _handle_result(self, provider, message, channel, worker_ctx, result, exc_info):
        if exc_info is None:
            self.metrics.consumed(provider.event_type, "ok")
            self._handled(channel, message)
            return result, exc_info
        # Waiting for the database is counted apart: it does not bring the message nearer the DLQ.
        counter = "x-outage-retries" if is_database_outage(exc_info[1]) else "x-attempts"
        tries = int((message.headers or {}).get(counter, 0)) + 1
        error = "".join(traceback.format_exception_only(exc_info[0], exc_info[1])).strip()
        if counter == "x-attempts" and tries >= self.max_attempts:
            self.metrics.consumed(provider.event_type, "dead_lettered")
            self._settle(channel, lambda: self._dead_letter(provider, message, error, tries))
        else:
            # Held unacked until the delay is over: the prefetch bounds how fast a backlog is churned.
            self.metrics.consumed(provider.event_type, "retried")
            delay = min(5.0, 0.1 * 2 ** tries)
            eventlet.spawn_after(delay, self._settle, channel,
                                 lambda: self._republish(message, queue_name(self.service, provider.event_type),
                                                         {counter: tries, "x-last-error": error[:1000]}))
        return result, exc_info

    def _republish(self, message, routing_key, headers):
        props = {k: v for k, v in message.properties.items() if k in ("message_id", "type", "timestamp")}
        all_headers = dict(message.headers or {})
        all_headers.update(headers)
        Producer(self._channel).publish(
            message.body, exchange="", routing_key=routing_key, headers=all_headers, retry=False,
            delivery_mode=2, content_type=message.content_type or "application/octet-stream",
            content_encoding=message.content_encoding or "binary", **props)
        message.ack()
        self._unsettled.discard(message.delivery_tag)

    def _dead_letter(self, provider, message, error, attempts=1):
        queue = queue_name(self.service, provider.event_type)
        info = message.delivery_info or {}
        self._republish(message, dlq_name(queue), {
            "x-error": error[:4000], "x-attempts": attempts, "x-original-queue": queue,
            "x-original-exchange": info.get("exchange", ""),
            "x-original-routing-key": info.get("routing_key", "")})
        self.metrics.dead_lettered(queue)
        log.error("dead-lettered a message from %s: %s", queue, error[:500])


class EventSubscriber(Entrypoint):
    consumer = EventConsumer()

    def __init__(self, source, event_type, **kwargs):
        self.source = source
        self.event_type = event_type
        super().__init__(**kwargs)

    def setup(self):
        self.consumer.register_provider(self)

    def stop(self):
        self.consumer.unregister_provider(self)


subscribe = EventSubscriber.decorator
