"""Outbox relay throughput with publisher confirms, against this machine's own ceiling.

Prints, from one run on the same broker:
  - raw publish loop (no confirms): the ceiling
  - one confirm per event (what nameko's dispatcher does)
  - the outbox relay: rows read from the database, published, confirmed per batch, marked sent
Bar (DESIGN.md): relay ≥ 2,000 events/s.
"""
import json
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import amqp  # noqa: E402
from kombu import Connection  # noqa: E402
from sqlalchemy import MetaData, insert  # noqa: E402

from bench.support import fresh_vhost, summary  # noqa: E402
from services.common import clock  # noqa: E402
from services.common.db import make_engine  # noqa: E402
from services.common.outbox import AmqpPublisher, OutboxRelay  # noqa: E402
from services.common.tables import add_platform_tables  # noqa: E402
from services.contracts.events import new_event  # noqa: E402

N = int(os.environ.get("BENCH_EVENTS", 20000))


def sample_event(i):
    return new_event("ApplicationSubmitted", f"app-{i}", {
        "application_id": f"app-{i}", "campaign_id": "c1", "account_id": f"acc-{i}", "kind": "FIRST",
        "attempt": 1, "cert_level": "INTERMEDIATE", "exam_year": 2019, "district_code": "110105",
        "material_ids": {"photo": "m", "certificate": "m", "id_card_front": "m", "id_card_back": "m"},
        "submitted_at": clock.iso(clock.now())})


def bind_sink(uri):
    with Connection(uri) as conn:
        ch = conn.channel()
        ch.exchange_declare("registration.events", "topic", durable=True, auto_delete=False)
        ch.queue_declare("sink", durable=True, auto_delete=False)
        ch.queue_bind("sink", "registration.events", "#")


def purge(uri):
    with Connection(uri) as conn:
        conn.channel().queue_purge("sink")


def raw_loop(uri, body, n, confirm_each=False):
    with Connection(uri) as conn:
        conn.connect()
        ch = conn.channel()
        if confirm_each:
            ch.confirm_select()
        t0 = time.perf_counter()
        for _ in range(n):
            msg = amqp.Message(body, delivery_mode=2, content_type="application/cloudevents+json")
            if confirm_each:
                ch.basic_publish_confirm(msg, exchange="registration.events", routing_key="ApplicationSubmitted")
            else:
                ch.basic_publish(msg, exchange="registration.events", routing_key="ApplicationSubmitted")
        if not confirm_each:  # make sure everything left the client before stopping the clock
            ch.basic_qos(0, 1, False)
        return n / (time.perf_counter() - t0)


def relay_rate(uri, url, n, batch):
    meta = MetaData()
    outbox, _ = add_platform_tables(meta)
    engine = make_engine(url)
    meta.drop_all(engine)
    meta.create_all(engine)
    rows = [{"event_id": e["id"], "event_type": e["type"], "exchange": "registration.events",
             "payload": json.dumps(e, ensure_ascii=False), "created_at": clock.now()}
            for e in (sample_event(i) for i in range(n))]
    with engine.begin() as conn:
        conn.execute(insert(outbox), rows)
    relay = OutboxRelay(engine, outbox, AmqpPublisher(uri), batch_size=batch)
    t0 = time.perf_counter()
    sent = 0
    while sent < n:
        sent += relay.relay_batch()
    rate = n / (time.perf_counter() - t0)
    relay.publisher.close()
    meta.drop_all(engine)
    engine.dispose()
    return rate


def main():
    body = json.dumps(sample_event(0), ensure_ascii=False).encode()
    with fresh_vhost() as uri, tempfile.TemporaryDirectory() as tmp:
        bind_sink(uri)
        ceiling = raw_loop(uri, body, N)
        purge(uri)
        per_event = raw_loop(uri, body, min(N, 3000), confirm_each=True)
        purge(uri)
        print(f"outbox  raw publish loop (ceiling, no confirms)  {ceiling:9.0f} events/s")
        print(f"outbox  one confirm per event (nameko dispatch)   {per_event:9.0f} events/s"
              f"  ({per_event / ceiling:.0%} of ceiling)")
        backends = [("sqlite", f"sqlite:///{tmp}/bench.db")]
        if os.environ.get("BENCH_PG", "1") == "1":
            backends.append(("postgresql", os.environ.get(
                "BENCH_PG_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")))
        for name, url in backends:
            try:
                rate = relay_rate(uri, url, N, batch=500)
            except Exception as exc:  # noqa: BLE001 — report what could not be measured
                print(f"outbox  relay on {name}: not measured ({exc.__class__.__name__}: {exc})")
                summary(f"outbox relay with batched confirms, {name}", "not measured", "≥ 2,000 events/s", False,
                        f"raw publish loop {ceiling:,.0f} events/s")
                continue
            purge(uri)
            verdict = "meets" if rate >= 2000 else "MISSES"
            print(f"outbox  relay with batched confirms on {name:<10} {rate:9.0f} events/s"
                  f"  ({rate / ceiling:.0%} of ceiling; bar 2,000/s: {verdict})")
            summary(f"outbox relay with batched confirms, {name}", f"{rate:,.0f} events/s", "≥ 2,000 events/s",
                    rate >= 2000, f"raw publish loop {ceiling:,.0f} events/s")


if __name__ == "__main__":
    main()
