"""`python -m services.ops replay-events --to NAME --since TIME`: a subscriber that bound late catches up.

The archive is every service's outbox: its sent rows are kept EVENT_ARCHIVE_DAYS, data sealed
(services/common/retention.py). Replay reads the rows sent since TIME from every service database,
oldest first, and for each of the subscriber's queues (`NAME.*`, found with their bindings through
the management API) sends the events its bindings to our `*.events` exchanges select, straight to
that queue (the default exchange): our own queues and other subscribers see nothing. Each event goes
out as it was first published (same body, same CloudEvents id as message_id, same type), at most
once per queue per run; events the queue already had arrive again, so subscribers dedupe by id.
"""
import heapq
from datetime import datetime

from sqlalchemy import MetaData, create_engine, select

from services.common import clock
from services.common.outbox import AmqpPublisher, open_payload
from services.common.tables import add_platform_tables

from .broker import BrokerError, event_exchanges

BATCH = 500


def parse_since(text):
    """ISO 8601 date or date-time; without a zone it is Beijing time."""
    try:
        when = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        raise BrokerError(f"--since {text!r} 不是日期时间，例如 2026-03-01 或 2026-03-01T08:00 "
                          f"/ not an ISO date or date-time") from None
    return when if when.tzinfo else when.replace(tzinfo=clock.BEIJING)


def topic_matches(pattern, key):
    """AMQP topic matching: `*` one word, `#` zero or more words."""
    def match(p, k):
        if not p:
            return not k
        if p[0] == "#":
            return any(match(p[1:], k[i:]) for i in range(len(k) + 1))
        return bool(k) and p[0] in ("*", k[0]) and match(p[1:], k[1:])
    return match(pattern.split("."), key.split("."))


def subscriber_queues(management, name):
    """{queue: [(exchange, binding key)]} of NAME's queues bound to our event exchanges."""
    ours = set(event_exchanges())
    queues = {}
    for queue in management.call("GET", management.path("queues") + "?columns=name") or []:
        if not queue["name"].startswith(f"{name}."):
            continue
        bindings = management.call("GET", management.path("queues", queue["name"], "bindings")) or []
        queues[queue["name"]] = [(b["source"], b["routing_key"]) for b in bindings if b["source"] in ours]
    return {queue: keys for queue, keys in queues.items() if keys}


def archived(site, since):
    """Sent outbox rows created at or after `since`, all services merged, oldest first."""
    outbox, _ = add_platform_tables(MetaData())
    query = select(outbox.c.created_at, outbox.c.id, outbox.c.event_id, outbox.c.exchange, outbox.c.event_type,
                   outbox.c.payload).where(outbox.c.sent_at.is_not(None), outbox.c.created_at >= since) \
        .order_by(outbox.c.created_at, outbox.c.id)
    engines = [create_engine(url) for _, url in sorted(site.databases.items())]
    conns = []
    try:
        for engine in engines:
            conns.append(engine.connect().execution_options(stream_results=True, yield_per=BATCH))
        streams = [conn.execute(query) for conn in conns]
        yield from heapq.merge(*streams, key=lambda row: (row.created_at, row.id))
    finally:
        for conn in conns:
            conn.close()
        for engine in engines:
            engine.dispose()


def replay(name, since, site, management, cipher, publisher=None):
    """Send the archive since `since` to NAME's queues; returns {queue: events sent}."""
    queues = subscriber_queues(management, name)
    if not queues:
        raise BrokerError(f"订阅方 {name} 还没有绑定到本系统交换机的队列（{name}.*），无处重放；请对方先声明并绑定队列 "
                          f"/ {name} has no queue bound to our exchanges yet")
    publisher = publisher or AmqpPublisher(management.amqp_uri)
    sent = {queue: 0 for queue in queues}
    seen = set()  # event ids already sent in this run (an id is sent once, whatever the bindings)
    batch = []
    try:
        for row in archived(site, since):
            if row.event_id in seen:
                continue
            seen.add(row.event_id)
            body = open_payload(cipher, row.payload)
            for queue, keys in queues.items():
                if any(exchange == row.exchange and topic_matches(key, row.event_type) for exchange, key in keys):
                    batch.append(("", queue, body, row.event_id, row.event_type))
                    sent[queue] += 1
            if len(batch) >= BATCH:
                publisher.publish_batch(batch)
                batch = []
        if batch:
            publisher.publish_batch(batch)
    finally:
        publisher.close()
    return sent
