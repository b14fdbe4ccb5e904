"""Identity benchmark: login and authenticate latency over RPC, with the argon2 cost printed.

    .venv/bin/python bench/bench_identity.py [--calls 200] [--concurrency 10] [--database-url URL]

Starts `python -m services.identity run` as its own process against the local RabbitMQ in a fresh
vhost (created and deleted through the management API), with a stand-in `notify` service in this
process that hands back the SMS codes. Measures, over RPC from this process:
- `health` (one RPC round trip + `SELECT 1`): the ceiling every identity call sits on;
- `login` by password (argon2id verify in eventlet.tpool + lockout bookkeeping + a new session);
- `authenticate` (one indexed query, last_seen touched at most once a minute).
Figures are for this machine only; not a test, nothing is asserted.
"""
import eventlet

eventlet.monkey_patch()

import argparse  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from pathlib import Path  # noqa: E402

import requests  # noqa: E402
from nameko.containers import ServiceContainer  # noqa: E402
from nameko.rpc import rpc  # noqa: E402
from nameko.standalone.rpc import ClusterRpcProxy  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.support import summary  # noqa: E402
from services.common.config import service_config  # noqa: E402
from services.identity.domain.passwords import PasswordHasher  # noqa: E402
from services.identity.settings import make_hasher  # noqa: E402

RABBIT_HOST = os.environ.get("BENCH_RABBIT_HOST", "127.0.0.1")
RABBIT_MGMT = os.environ.get("BENCH_RABBIT_MGMT", f"http://{RABBIT_HOST}:15672")
AUTH = ("guest", "guest")
PASSWORD = "Bench-passw0rd"


class NotifyStandIn:
    name = "notify"
    codes = {}

    @rpc
    def send_code(self, phone, code, purpose, expires_at):
        NotifyStandIn.codes[(phone, purpose)] = code
        return {"notification_id": str(uuid.uuid4()), "state": "delivered"}


def make_vhost():
    vhost = f"bench-{uuid.uuid4().hex[:10]}"
    r = requests.put(f"{RABBIT_MGMT}/api/vhosts/{vhost}", auth=AUTH, timeout=10)
    r.raise_for_status()
    r = requests.put(f"{RABBIT_MGMT}/api/permissions/{vhost}/guest", auth=AUTH, timeout=10,
                     json={"configure": ".*", "write": ".*", "read": ".*"})
    r.raise_for_status()
    return vhost, f"amqp://guest:guest@{RABBIT_HOST}:5672/{vhost}"


def delete_vhost(vhost):
    requests.delete(f"{RABBIT_MGMT}/api/vhosts/{vhost}", auth=AUTH, timeout=10)


def percentile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def measure(amqp_uri, concurrency, calls, make_call):
    """make_call(proxy, i) per call; `concurrency` green threads, each with its own RPC proxy."""
    latencies = []
    errors = []
    queue = eventlet.queue.LightQueue()
    for i in range(calls):
        queue.put(i)

    def worker():
        with ClusterRpcProxy({"AMQP_URI": amqp_uri}) as cluster:
            while True:
                try:
                    i = queue.get_nowait()
                except eventlet.queue.Empty:
                    return
                started = time.perf_counter()
                try:
                    make_call(cluster.identity, i)
                except Exception as exc:  # noqa: BLE001 — count, keep going
                    errors.append(repr(exc))
                    continue
                latencies.append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    pool = [eventlet.spawn(worker) for _ in range(concurrency)]
    for thread in pool:
        thread.wait()
    wall = time.perf_counter() - started
    return latencies, errors, wall


def report(label, latencies, errors, wall):
    if not latencies:
        print(f"{label:<14} no successful calls; errors: {errors[:3]}")
        return None
    p50, p95 = statistics.median(latencies), percentile(latencies, 95)
    print(f"{label:<14} n={len(latencies):<4} p50={p50:7.1f} ms  p95={p95:7.1f} ms  max={max(latencies):7.1f} ms  "
          f"{len(latencies) / wall:7.1f} calls/s" + (f"  errors={len(errors)}" if errors else ""))
    return p50, p95


def argon2_alone(hasher, rounds=20):
    digest = hasher.hash(PASSWORD)
    started = time.perf_counter()
    for _ in range(rounds):
        hasher.verify(digest, PASSWORD)
    return (time.perf_counter() - started) / rounds * 1000


def rss_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--database-url", help="default: a fresh SQLite file")
    args = parser.parse_args(argv)

    config = service_config("identity")
    hasher = make_hasher(config)
    assert isinstance(hasher, PasswordHasher)
    print(f"argon2 parameters: {hasher.describe()}")
    print(f"argon2 verify alone, one thread in this process: {argon2_alone(hasher):.1f} ms")
    print(f"cpus: {os.cpu_count()}  calls: {args.calls}  concurrency: {args.concurrency}")

    vhost, amqp_uri = make_vhost()
    workdir = tempfile.mkdtemp(prefix="bench-identity-")
    database_url = args.database_url or f"sqlite:///{workdir}/identity.db"
    print(f"database: {database_url.split('@')[-1]}")
    env = {k: v for k, v in os.environ.items() if not k.endswith("_DATABASE_URL")}
    env.update(PYTHONPATH=str(ROOT), AMQP_URI=amqp_uri, IDENTITY_DATABASE_URL=database_url, VAR_DIR=workdir,
               LOG_LEVEL="WARNING",
               # every phone asks for its code from 127.0.0.1: no human check for the bench's own load
               SMS_CHECK_PER_ADDRESS=str(args.concurrency + 10))
    service = subprocess.Popen([sys.executable, "-m", "services.identity", "run"], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    notify = ServiceContainer(NotifyStandIn, {"AMQP_URI": amqp_uri, "serializer": "json", "max_workers": 20})
    notify.start()
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with eventlet.Timeout(5), ClusterRpcProxy({"AMQP_URI": amqp_uri}) as cluster:
                    cluster.identity.health()
                break
            except BaseException:  # noqa: BLE001 — not up yet (Timeout is a BaseException)
                if service.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"identity did not start:\n{service.stderr.read()}") from None
                eventlet.sleep(0.5)

        idle_rss = rss_kib(service.pid)
        phones = [f"1380000{i:04d}" for i in range(args.concurrency)]
        tokens = []
        with ClusterRpcProxy({"AMQP_URI": amqp_uri}) as cluster:
            for phone in phones:
                cluster.identity.send_code(phone, "register", "127.0.0.1")
                answer = cluster.identity.register(phone, NotifyStandIn.codes[(phone, "register")], PASSWORD,
                                                   "127.0.0.1")
                tokens.append(answer["token"])
            for _ in range(20):  # warm up connections and caches
                cluster.identity.authenticate(tokens[0])

        print()
        floor = report("health (RPC)", *measure(amqp_uri, args.concurrency, args.calls,
                                                lambda identity, i: identity.health()))
        login = report("login", *measure(amqp_uri, args.concurrency, args.calls,
                                         lambda identity, i: identity.login(phones[i % len(phones)],
                                                                            password=PASSWORD)))
        auth = report("authenticate", *measure(amqp_uri, args.concurrency, args.calls,
                                               lambda identity, i: identity.authenticate(tokens[i % len(tokens)])))
        print()
        if floor and auth:
            print(f"authenticate p50 / health p50 = {auth[0] / floor[0]:.2f}  "
                  f"(1.0 would be the bare RPC round trip)")
        if login:
            print(f"login p50 includes one argon2id verify ({hasher.describe()})")
        if floor and auth:
            summary(f"identity authenticate RPC p95 at {args.concurrency} concurrent", f"{auth[1]:.1f} ms", None, None,
                    f"health RPC p95 {floor[1]:.1f} ms")
        if floor and login:
            summary(f"identity password login RPC p95 at {args.concurrency} concurrent", f"{login[1]:.1f} ms", None,
                    None, f"health RPC p95 {floor[1]:.1f} ms (login adds one argon2id verify)")
        rss = rss_kib(service.pid)
        if rss and idle_rss:
            print(f"identity service resident memory: {idle_rss / 1024:.0f} MiB idle, "
                  f"{rss / 1024:.0f} MiB after the run (tpool threads: 2 per core, each may keep one argon2 block)")
    finally:
        try:
            notify.stop()
        except Exception:  # noqa: BLE001
            notify.kill()
        service.terminate()
        try:
            service.wait(timeout=30)
        except subprocess.TimeoutExpired:
            service.kill()
        delete_vhost(vhost)
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
