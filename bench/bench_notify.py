"""Notify throughput through the file channels from ApplicationSubmitted events, with the outbox lag.

As deployed: the notify service runs in its own process (`python -m services.notify run`; with
NOTIFY_REPLICAS=2, two copies competing on its queues, as `docker compose up --scale notify=2`),
on a fresh RabbitMQ vhost and fresh databases. This process holds the stand-ins of identity and
registration (they answer `contact_of`, `contacts_of`) and the publisher: N ApplicationSubmitted events are
written to the registration stand-in's outbox in one transaction and its relay publishes them;
each event makes an SMS (var/outbox/sms.jsonl) and an email copy (one .eml each). Prints, one
line per figure:
  - the ceiling: the two file channels alone, in a loop (no broker, no database)
  - notifications/s and events/s from the first publish to the last message recorded delivered
  - CPU a message of the notify process(es) (survives a busy machine) and of this process
  - event → message written latency (p50/p95)
  - outbox lag of the publisher (event written → confirmed by the broker) and of notify's own
    NotificationDelivered events (p50/p95/max)
  - resident memory of the notify process(es)
BENCH_NOTIFY_EVENTS (default 1000); BENCH_PG=0 skips PostgreSQL, BENCH_SQLITE=0 SQLite;
NOTIFY_REPLICAS (1); BENCH_PROFILE=1 records the notify process(es) with py-spy and prints
where their CPU went (bench.support.breakdown).
"""
import warnings

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
import eventlet  # noqa: E402

eventlet.monkey_patch()

import contextlib  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import psycopg2  # noqa: E402
from nameko.containers import ServiceContainer  # noqa: E402
from nameko.rpc import rpc  # noqa: E402
from sqlalchemy import MetaData, Table, create_engine, func, insert, select  # noqa: E402

from bench.support import breakdown, fresh_vhost, percentile, profiled, summary  # noqa: E402
from services.common import clock  # noqa: E402
from services.common.config import service_config  # noqa: E402
from services.common.providers import Database  # noqa: E402
from services.common.runner import forgive_lost_rpc_replies  # noqa: E402
from services.common.tables import add_platform_tables  # noqa: E402
from services.contracts.events import new_event  # noqa: E402
from services.notify.adapters import FileEmailChannel, FileSmsChannel, OutgoingMessage  # noqa: E402
from services.notify.models import Notification  # noqa: E402
from tests.support.processes import stop_processes  # noqa: E402

N = int(os.environ.get("BENCH_NOTIFY_EVENTS", 1000))
REPLICAS = int(os.environ.get("NOTIFY_REPLICAS", 1))
# "registered": the accounts registered before (AccountRegistered handled, not measured), as every
# applicant's was; "new": notify meets each account first in ApplicationSubmitted (the bench before
# notify kept phones)
ACCOUNTS = os.environ.get("BENCH_NOTIFY_ACCOUNTS", "registered")
PROFILE = os.environ.get("BENCH_PROFILE") == "1"
BAR_PER_SECOND = {"postgresql": 500}  # DESIGN.md: ≥ 500 notifications/s through the file channels on PostgreSQL
BARS = {backend: f"≥ {bar} /s" for backend, bar in BAR_PER_SECOND.items()}
PG_DSN = os.environ.get("BENCH_PG_DSN", "host=127.0.0.1 port=5432 user=postgres dbname=postgres")

peer_metadata = MetaData()
add_platform_tables(peer_metadata)


def phone_of(i):
    return f"138{i:08d}"


class Identity:
    name = "identity"

    @rpc
    def contact_of(self, account_id):
        return {"phone": phone_of(int(account_id.split("-")[1]))}


class Registration:
    name = "registration"
    db = Database(peer_metadata)

    @rpc
    def contact_of(self, application_id):
        i = int(application_id.split("-")[1])
        return {"account_id": f"acc-{i}", "name": "买买提·艾力·阿不都热合曼", "mobile": phone_of(i),
                "email": f"applicant{i}@example.com", "delivery": None, "resubmit_until": None}

    @rpc
    def contacts_of(self, application_ids):
        return {application_id: self.contact_of(application_id) for application_id in application_ids}


def registered(i):
    return new_event("AccountRegistered", f"acc-{i}", {
        "account_id": f"acc-{i}", "phone_masked": "138****0000", "registered_at": clock.iso(clock.now())})


def submitted(i):
    return new_event("ApplicationSubmitted", f"app-{i}", {
        "application_id": f"app-{i}", "campaign_id": "c-2020", "account_id": f"acc-{i}", "kind": "FIRST",
        "attempt": 1, "cert_level": "INTERMEDIATE", "exam_year": 2019, "district_code": "110105",
        "material_ids": {"photo": "m", "certificate": "m", "id_card_front": "m", "id_card_back": "m"},
        "submitted_at": clock.iso(clock.now())})


@contextlib.contextmanager
def databases(backend, tmp):
    """database_url(service) for this backend; PostgreSQL databases are dropped afterwards."""
    created = []

    def make(service):
        if backend == "sqlite":
            return f"sqlite:///{tmp}/{service}-{uuid.uuid4().hex[:6]}.db"
        name = f"bench_{uuid.uuid4().hex[:8]}_{service}"
        conn = psycopg2.connect(PG_DSN)
        conn.autocommit = True
        conn.cursor().execute(f'CREATE DATABASE "{name}"')
        conn.close()
        created.append(name)
        return f"postgresql+psycopg2://postgres@127.0.0.1:5432/{name}"

    try:
        yield make
    finally:
        for name in created:
            conn = psycopg2.connect(PG_DSN)
            conn.autocommit = True
            conn.cursor().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.close()


def cpu_seconds():
    """CPU time of this process: on a busy machine a steadier figure than the wall clock."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def ceiling(tmp, n):
    """The file channels alone: what the disk and the MIME encoder allow in this process."""
    sms, email = FileSmsChannel(f"{tmp}/ceiling/sms.jsonl"), FileEmailChannel(f"{tmp}/ceiling/email")
    body = "您的登记申请表已提交，请耐心等待审核结果。提交时间：2020年7月3日 10:15（北京时间）。" * 3
    t0, cpu0 = time.perf_counter(), cpu_seconds()
    for i in range(n):
        sms.send(OutgoingMessage("sms", phone_of(i), None, "【北京社会工作者协会】" + body[:60],
                                 "submission_receipt", f"c-{i}"))
        email.send(OutgoingMessage("email", f"a{i}@example.com", "您的登记申请表已提交", body,
                                   "submission_receipt", f"c-{i}"))
    return 2 * n / (time.perf_counter() - t0), (cpu_seconds() - cpu0) / (2 * n)


def lag_seconds(engine, table, since):
    """Written → confirmed by the broker, of the outbox rows written since `since`."""
    with engine.connect() as conn:
        rows = conn.execute(select(table.c.created_at, table.c.sent_at).where(table.c.created_at >= since)).all()
    return [(sent - created).total_seconds() for created, sent in rows if sent is not None]


def wait(predicate, timeout):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("the bench did not finish in time")
        eventlet.sleep(0.02)


def process_cpu(pid):
    """CPU seconds (user + system) a process has used so far, from /proc."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid):
    with open(f"/proc/{pid}/status", encoding="ascii") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith("VmHWM")) / 1024


def consumers(uri, queue):
    """Consumers of a queue right now (0 while it does not exist)."""
    from kombu import Connection
    with Connection(uri) as conn:
        try:
            return conn.channel().queue_declare(queue, passive=True)[2]
        except Exception:  # noqa: BLE001 — NOT_FOUND: not declared yet
            return 0


def start_notify(uri, var_dir, notify_url, replicas):
    """`python -m services.notify run`, `replicas` copies, as deployed; returns the processes once
    every copy consumes ApplicationSubmitted (so no event is published before its queue is bound)."""
    env = {**os.environ, "AMQP_URI": uri, "VAR_DIR": var_dir, "NOTIFY_DATABASE_URL": notify_url,
           "NOTIFY_QUIET_HOURS": "off", "SMS_CHANNEL": "file", "EMAIL_CHANNEL": "file",
           "LOG_LEVEL": os.environ.get("LOG_LEVEL", "WARNING"), "PYTHONPATH": ROOT}
    procs = []
    for _ in range(replicas):
        procs.append(subprocess.Popen([sys.executable, "-m", "services.notify", "run"], env=env, cwd=ROOT))
        # one after the other: the first migrates, the next find nothing to do
        wait(lambda: consumers(uri, "notify.ApplicationSubmitted") >= len(procs)
             or any(p.poll() is not None for p in procs), timeout=60)
    if any(p.poll() is not None for p in procs):
        raise RuntimeError("notify exited at start")
    return procs


def stop_notify(procs):
    stop_processes(procs, timeout=40)


def run(backend, uri, tmp, database_url):
    var_dir = f"{tmp}/{backend}/var"
    passed = ("MAX_WORKERS", "OUTBOX_POLL_SECONDS")
    environ = {**{k: os.environ[k] for k in passed if k in os.environ}, "AMQP_URI": uri, "VAR_DIR": var_dir}
    containers, procs = [], []

    def start(cls, **overrides):
        config = service_config(cls.name, environ=environ, DATABASE_URL=database_url(cls.name), **overrides)
        container = ServiceContainer(cls, config)
        container.start()
        containers.append(container)
        return container

    forgive_lost_rpc_replies()  # the stand-ins answer as the real peers do under services.common.runner
    try:
        start(Identity)
        registration = start(Registration)
        notify_url = database_url("notify")
        procs = start_notify(uri, var_dir, notify_url, REPLICAS)
        notify_engine = create_engine(notify_url)
        pub_db = next(d for d in registration.dependencies if d.attr_name == "db")
        outbox = peer_metadata.tables["outbox"]
        notify_outbox = Table("outbox", MetaData(), autoload_with=notify_engine)

        def write(events):
            with pub_db.engine.begin() as conn:
                conn.execute(insert(outbox), [
                    {"event_id": e["id"], "event_type": e["type"], "exchange": f"{e['source']}.events",
                     "payload": json.dumps(e, ensure_ascii=False), "created_at": clock.now()} for e in events])

        def delivered(cause="ApplicationSubmitted"):
            with notify_engine.connect() as conn:
                return conn.execute(select(func.count()).where(Notification.state == "delivered",
                                                               Notification.cause_event_type == cause)).scalar()

        if ACCOUNTS == "registered":  # not measured: the welcome SMS, and notify keeps each phone
            write([registered(i) for i in range(N)])
            pub_db.wake_relay()
            wait(lambda: delivered("AccountRegistered") >= N, timeout=60 + N / 5)
        since = clock.now()
        write([submitted(i) for i in range(N)])

        def unsent():
            with notify_engine.connect() as conn:
                return conn.execute(select(func.count()).select_from(notify_outbox)
                                    .where(notify_outbox.c.sent_at.is_(None))).scalar()

        pids = [p.pid for p in procs]
        with profiled(pids if PROFILE else []) as recordings:
            t0, cpu0, notify_cpu0 = time.perf_counter(), cpu_seconds(), sum(map(process_cpu, pids))
            pub_db.wake_relay()
            wait(lambda: delivered() >= 2 * N, timeout=60 + N / 5)
            elapsed, cpu = time.perf_counter() - t0, cpu_seconds() - cpu0
            notify_cpu = sum(map(process_cpu, pids)) - notify_cpu0
        wait(lambda: unsent() == 0, timeout=60)
        rss = [peak_rss_mb(pid) for pid in pids]

        sms_lines = sum(1 for _ in open(f"{var_dir}/outbox/sms.jsonl", encoding="utf-8"))
        emails = len([n for n in os.listdir(f"{var_dir}/outbox/email") if n.endswith(".eml")])
        assert sms_lines == (2 * N if ACCOUNTS == "registered" else N) and emails == N, (sms_lines, emails)
        with pub_db.engine.connect() as conn:
            created = dict(conn.execute(select(outbox.c.event_id, outbox.c.created_at)).all())
        with notify_engine.connect() as conn:
            finished = conn.execute(select(Notification.cause_event_id, Notification.finished_at)
                                    .where(Notification.cause_event_type == "ApplicationSubmitted")).all()
        to_message = [(done - created[cause]).total_seconds() for cause, done in finished]
        publisher_lag = lag_seconds(pub_db.engine, outbox, since)
        notify_lag = lag_seconds(notify_engine, notify_outbox, since)
        notify_engine.dispose()
    finally:
        stop_notify(procs)
        for container in reversed(containers):
            with eventlet.Timeout(20, False):
                container.stop()
            container.kill()
    return {"rate": 2 * N / elapsed, "events": N / elapsed, "elapsed": elapsed, "cpu": cpu,
            "notify_cpu": notify_cpu, "to_message": to_message, "publisher_lag": publisher_lag,
            "notify_lag": notify_lag, "rss": rss, "recordings": recordings}


def ms(values, p):
    return percentile(values, p) * 1000


def main():
    backends = [name for name, key in (("sqlite", "BENCH_SQLITE"), ("postgresql", "BENCH_PG"))
                if os.environ.get(key, "1") == "1"]
    with tempfile.TemporaryDirectory() as tmp:
        top, top_cpu = ceiling(tmp, min(N, 2000))
        print(f"notify  file channels alone (ceiling, no broker/db)    {top:9.0f} messages/s"
              f"  ({top_cpu * 1000:.2f} ms CPU a message)")
        for backend in backends:
            with fresh_vhost() as uri, databases(backend, tmp) as database_url:
                try:
                    r = run(backend, uri, tmp, database_url)
                except Exception as exc:  # noqa: BLE001 — report what could not be measured
                    print(f"notify  on {backend}: not measured ({exc.__class__.__name__}: {exc})")
                    summary(f"notifications through the file channels, {backend}", "not measured",
                            BARS.get(backend), False if backend in BARS else None, f"{top:,.0f} messages/s")
                    continue
            print(f"notify  {backend:<10} ApplicationSubmitted → SMS + email  {r['rate']:9.0f} notifications/s"
                  f"  ({r['rate'] / top:.0%} of ceiling; {N} events, {2 * N} messages in {r['elapsed']:.1f} s;"
                  f" accounts {ACCOUNTS}; {REPLICAS} notify process{'es' if REPLICAS > 1 else ''})")
            print(f"notify  {backend:<10} events handled                      {r['events']:9.0f} events/s")
            print(f"notify  {backend:<10} CPU of notify a message             {r['notify_cpu'] * 1000 / (2 * N):9.2f} ms"
                  f"  ({REPLICAS} process{'es' if REPLICAS > 1 else ''}; {2 * N / r['notify_cpu']:.0f} messages"
                  f" per CPU second)")
            print(f"notify  {backend:<10} CPU of the bench process a message  {r['cpu'] * 1000 / (2 * N):9.2f} ms"
                  f"  (the stand-in peers answering contact_of, the publisher's relay, the polling)")
            print(f"notify  {backend:<10} event written → message written     p50 {ms(r['to_message'], 50):7.0f} ms"
                  f"  p95 {ms(r['to_message'], 95):7.0f} ms  (all {N} at once: queueing included)")
            print(f"notify  {backend:<10} publisher outbox lag (→ confirmed)  p50 {ms(r['publisher_lag'], 50):7.0f} ms"
                  f"  p95 {ms(r['publisher_lag'], 95):7.0f} ms  max {ms(r['publisher_lag'], 100):7.0f} ms")
            print(f"notify  {backend:<10} notify outbox lag (Delivered events) p50 {ms(r['notify_lag'], 50):7.0f} ms"
                  f"  p95 {ms(r['notify_lag'], 95):7.0f} ms  max {ms(r['notify_lag'], 100):7.0f} ms")
            bar = BAR_PER_SECOND.get(backend)
            summary(f"notifications through the file channels, {backend}",
                    f"{r['rate']:,.0f} /s ({r['rate'] / top:.0%} of the ceiling)", BARS.get(backend),
                    None if bar is None else r["rate"] >= bar, f"file channels alone {top:,.0f} messages/s")
            summary(f"event written → message, {backend}, {N} events queued at once",
                    f"p95 {ms(r['to_message'], 95) / 1000:.1f} s (p50 {ms(r['to_message'], 50) / 1000:.1f} s)",
                    "reported", None, f"{N} events at the ceiling: {2 * N / top:.1f} s")
            print(f"notify  {backend:<10} peak resident memory of notify     "
                  + ", ".join(f"{mb:.0f} MiB" for mb in r["rss"]))
            print_profile(r["recordings"], 2 * N)


def print_profile(recordings, messages):
    for pid, path in recordings.items():
        samples, kinds, ours = breakdown(path)
        if not samples:
            print(f"profile notify {pid}: no busy samples")
            continue
        print(f"profile notify {pid}: {samples} busy samples at 100/s (~{samples * 10 / messages:.2f} ms a message): "
              + "; ".join(f"{kind} {share:.0%}" for kind, share in kinds))
        for frame, share in ours[:12]:
            print(f"profile notify {pid}:   {share:4.0%}  {frame}")


if __name__ == "__main__":
    main()
