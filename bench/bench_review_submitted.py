"""Review's CPU per ApplicationSubmitted, the review service alone.

    .venv/bin/python bench/bench_review_submitted.py [--events 2000] [--database sqlite|postgresql]

Starts `python -m services.review run` on a fresh RabbitMQ vhost and a fresh database (a SQLite file,
or a PostgreSQL database dropped afterwards), publishes N ApplicationSubmitted events to
registration.events as registration's relay does, waits until review has made N tasks, then publishes
the same N events again (redeliveries: processed_events must skip them) and one new one behind them.
Prints the review process's
CPU time (user + system, /proc) per event for each pass, and checks that the replay made no task and
counted nothing. CPU time, unlike the wall clock, does not grow with the neighbours' load.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from bench.support import fresh_vhost  # noqa: E402
from tests.support.processes import stop_processes  # noqa: E402

PG_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def events(n):
    from services.contracts.events import new_event
    for i in range(n):
        data = {"application_id": f"app-{i}", "campaign_id": f"c{2020 + i % 2}", "account_id": f"acc-{i}",
                "kind": "FIRST", "attempt": 1, "cert_level": ("ASSISTANT", "INTERMEDIATE")[i % 2], "exam_year": 2019,
                "district_code": f"1101{i % 16:02d}", "submitted_at": "2020-07-03T10:15:00.000+08:00",
                "material_ids": {k: f"m-{i}-{k}" for k in ("id_card_front", "id_card_back", "certificate", "photo")}}
        yield json.dumps(new_event("ApplicationSubmitted", data["application_id"], data))


def publish(amqp_uri, bodies):
    import amqp
    conn = amqp.Connection(amqp_uri.split("//", 1)[1].split("/", 1)[0].split("@")[1],
                           userid="guest", password="guest", virtual_host=amqp_uri.rsplit("/", 1)[1])
    conn.connect()
    channel = conn.channel()
    for body in bodies:
        channel.basic_publish(amqp.Message(body.encode(), delivery_mode=2, content_type="application/cloudevents+json",
                                           type="ApplicationSubmitted"),
                              exchange="registration.events", routing_key="ApplicationSubmitted")
    conn.close()


def counted(engine):
    from sqlalchemy import text
    with engine.connect() as c:
        return (c.execute(text("SELECT count(*) FROM review_tasks")).scalar(),
                c.execute(text("SELECT count(*) FROM processed_events")).scalar(),
                c.execute(text("SELECT coalesce(sum(n), 0) FROM review_task_counts")).scalar())


def wait_until(engine, what, timeout=600):
    deadline = time.monotonic() + timeout
    while not what(counted(engine)):
        if time.monotonic() > deadline:
            raise RuntimeError(f"review did not get there in {timeout} s: {counted(engine)}")
        time.sleep(0.05)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default=os.environ.get("BENCH_DATABASE",
                                                                                               "sqlite"))
    args = parser.parse_args()
    from sqlalchemy import create_engine
    work = tempfile.mkdtemp(prefix="bench-review-submitted-")
    pg_name = None
    if args.database == "postgresql":
        import psycopg2
        pg_name = f"bench_{uuid.uuid4().hex[:8]}_review"
        conn = psycopg2.connect(PG_DSN)
        conn.autocommit = True
        conn.cursor().execute(f'CREATE DATABASE "{pg_name}"')
        conn.close()
        url = f"postgresql+psycopg2://postgres@127.0.0.1:5432/{pg_name}"
    else:
        url = f"sqlite:///{work}/review.db"
    bodies = list(events(args.events))
    proc = None
    try:
        with fresh_vhost() as amqp_uri:
            env = {**os.environ, "AMQP_URI": amqp_uri, "VAR_DIR": work, "PYTHONPATH": ROOT, "LOG_LEVEL": "WARNING",
                   "REVIEW_DATABASE_URL": url, "PYTHONWARNINGS": "ignore"}
            log = open(os.path.join(work, "review.log"), "w")
            proc = subprocess.Popen([sys.executable, "-m", "services.review", "run"], env=env, cwd=ROOT,
                                    stdout=log, stderr=subprocess.STDOUT)
            engine = create_engine(url)
            from nameko.standalone.rpc import ClusterRpcProxy

            from bench.bench_review import wait_healthy
            with ClusterRpcProxy({"AMQP_URI": amqp_uri}) as cluster:
                wait_healthy(cluster.review)  # up, its queues declared
            publish(amqp_uri, bodies[:20])  # warm-up: first statements compiled, pools filled
            wait_until(engine, lambda c: c[0] == 20)
            n = args.events
            sentinel = list(events(n + 1))[-1]  # a new event after the replays: its task says they are through
            for label, batch, want in (("new", bodies[20:], n), ("replayed", bodies, n + 1)):
                cpu0, t0 = cpu_seconds(proc.pid), time.perf_counter()
                publish(amqp_uri, batch + ([sentinel] if label == "replayed" else []))
                wait_until(engine, lambda c, w=want: c[0] == w)
                cpu, wall = cpu_seconds(proc.pid) - cpu0, time.perf_counter() - t0
                tasks, processed, counter_sum = counted(engine)
                print(f"{label:8} {len(batch)} events: review CPU {1000 * cpu / len(batch):.2f} ms an event, "
                      f"{len(batch) / wall:.0f} events/s; tasks {tasks}, processed {processed}, counters {counter_sum}")
                assert tasks == want and counter_sum == want and processed == want, (label, tasks, processed)
            engine.dispose()
            print(f"load average {open('/proc/loadavg').read().split()[:3]}")
    finally:
        if proc is not None:
            stop_processes([proc])
        if pg_name:
            import psycopg2
            conn = psycopg2.connect(PG_DSN)
            conn.autocommit = True
            conn.cursor().execute(f'DROP DATABASE IF EXISTS "{pg_name}"')
            conn.close()


if __name__ == "__main__":
    main()
