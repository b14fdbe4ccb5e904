"""The walking skeleton under load: HTTP submit latency at 20 concurrent applicants and throughput
from HTTP submit to review task created, beside the ceiling of the same HTTP → RPC path
(GET /api/v1/code-tables) measured in the same run, and each service's resident memory.

Runs the real system (`python -m services run`) against the local RabbitMQ in a fresh vhost, on
SQLite files (default) or, with BENCH_DATABASE=postgresql, on fresh PostgreSQL databases, one per
service (BENCH_PG_DSN says where; they are dropped afterwards).
Bars (DESIGN.md): submit p95 ≤ 200 ms at 20 concurrent and ≤ 3× the ceiling's p95; ≥ 150 submissions/s
to review task.
"""
import contextlib
import glob
import http.cookiejar
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import psycopg2
import pyotp
import requests
from sqlalchemy import create_engine, text

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from bench.support import breakdown, fresh_vhost, percentile, profiled, summary  # noqa: E402
from tests.support import images  # noqa: E402
from tests.support.journey import APPLICANT_PASSWORD, FORM, STAFF_PASSWORD  # noqa: E402
from tests.support.journey import numbered_id_number as id_number  # noqa: E402

N = int(os.environ.get("BENCH_APPLICANTS", 200))
# Submitted after the measured ones, with py-spy sampling the services: where a submit's time goes.
# Apart from the measured run, so the sampling does not weigh on its figures; 0 skips it.
PROFILED = int(os.environ.get("BENCH_PROFILE_APPLICANTS", 60))
CONCURRENCY = 20
DATABASE = os.environ.get("BENCH_DATABASE", "sqlite")
PG_DSN = os.environ.get("BENCH_PG_DSN", "host=127.0.0.1 port=5432 user=postgres dbname=postgres")
WITH_DATABASES = ("identity", "registration", "review", "notify")  # the gateway keeps nothing
ADMIN, REVIEWER = "13900000001", "13900000002"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Api:
    """The applicants' browsers: each thread keeps its HTTP connection open between requests, as a
    browser does (a new TCP connection per request cost the client and the gateway a share of the
    CPU both measure on). Bearer tokens, no cookies: one thread plays many applicants, and a device
    cookie carried from one to the next would count their SMS codes as one device's."""

    def __init__(self, base, var_dir):
        self.base, self.var_dir = base, var_dir
        self._local = threading.local()

    def call(self, method, path, token=None, retry_unavailable=False, **kw):
        headers = kw.pop("headers", {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if not hasattr(self._local, "session"):
            self._local.session = requests.Session()  # cookies refused: a thread serves many applicants
            self._local.session.cookies.set_policy(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
        r = self._local.session.request(method, self.base + path, headers=headers, timeout=60, **kw)
        if r.status_code == 503 and retry_unavailable:  # setup on a busy machine: as a person would, again
            return self.call(method, path, token, headers=headers, **kw)
        if r.status_code >= 400:
            raise RuntimeError(f"{method} {path}: {r.status_code} {r.text[:300]}")
        return r.json() if r.content else None

    def code(self, phone):
        deadline = time.time() + 30
        while time.time() < deadline:
            path = os.path.join(self.var_dir, "outbox", "sms.jsonl")
            if os.path.exists(path):
                for line in reversed(open(path, encoding="utf-8").read().splitlines()):
                    m = json.loads(line)
                    found = re.search(r"(?<!\d)(\d{6})(?!\d)", m["body"])
                    if m["to"] == phone and "验证码" in m["body"] and found:
                        return found.group(1)
            time.sleep(0.05)
        raise RuntimeError(f"no code for {phone}")


def staff_token(api, env, phone, role):
    subprocess.run([sys.executable, "-m", "services.identity", "create-staff", "--role", role, "--phone", phone,
                    "--password", STAFF_PASSWORD], env=env, cwd=ROOT, check=True, capture_output=True)
    # Password, then enrolment of the TOTP second factor at this first login (docs/signin.md).
    pending = api.call("POST", "/api/v1/sessions", json={"phone": phone, "password": STAFF_PASSWORD})["pending_token"]
    secret = api.call("POST", "/api/v1/second-factor/enrolment", json={"pending_token": pending})["secret"]
    return api.call("POST", "/api/v1/second-factor/enrolment/confirm",
                    json={"pending_token": pending, "code": pyotp.TOTP(secret).now()})["token"]


def prepare(api, campaign_id, i, uploads):
    """One applicant up to the submit (not measured); an upload or the form answered 503 on a busy
    machine is sent again, as a person would (both are idempotent)."""
    phone = f"137{i:08d}"
    api.call("POST", "/api/v1/sms-codes", json={"phone": phone, "purpose": "register"})
    token = api.call("POST", "/api/v1/accounts", json={"phone": phone, "code": api.code(phone),
                                                       "password": APPLICANT_PASSWORD})["token"]
    api.call("POST", "/api/v1/me/identity", token, json={"name": "张三", "id_type": "RESIDENT_ID",
                                                         "id_number": id_number(i)})
    app = api.call("POST", "/api/v1/applications", token, json={"campaign_id": campaign_id})
    api.call("PATCH", f"/api/v1/applications/{app['id']}", token, json=FORM, retry_unavailable=True)
    for kind, data in uploads.items():
        api.call("PUT", f"/api/v1/applications/{app['id']}/materials/{kind}", token, data=data,
                 headers={"Content-Type": "image/jpeg"}, retry_unavailable=True)
    return token, app["id"]


def timed(fn):
    t0 = time.perf_counter()
    fn()
    return (time.perf_counter() - t0) * 1000


def wait_for_tasks(api, reviewer, tasks_db, count, since):
    """Until review's database holds `count` tasks, then the reviewer's queue listed once to see them
    all through the API (one list: REVIEW_LIST_LIMIT is raised above). The wait reads the table from
    this process (a COUNT on review's own database, as an operator's dashboard would): asking the API
    fifty times a second took CPU from the submits measured. Returns when the count was reached."""
    with tasks_db.connect() as conn:
        while conn.execute(text("SELECT count(*) FROM review_tasks")).scalar_one() < count:
            conn.rollback()  # a fresh snapshot each look (PostgreSQL)
            if time.perf_counter() - since > 300:
                raise RuntimeError("review tasks did not all appear in 300 s")
            time.sleep(0.01)
    done = time.perf_counter()
    listed = len(api.call("GET", "/api/v1/review/tasks", reviewer, params={"limit": count}))
    if listed < count:
        raise RuntimeError(f"review's database holds {count} tasks but the queue lists {listed}")
    return done


def service_pids(supervisor):
    """{service name: pid} of the processes this bench's `python -m services run` (pid `supervisor`)
    started: its children only — other benches on the machine run services of the same names, and
    profiling theirs is how registration and review once showed "no busy samples"."""
    out = {}
    for status in glob.glob("/proc/[0-9]*/stat"):
        try:
            ppid = int(open(status).read().rsplit(")", 1)[1].split()[1])
            cmd = open(status.replace("stat", "cmdline"), "rb").read().split(b"\0")
        except (OSError, ValueError, IndexError):
            continue
        name = next((c.decode().split(".")[1] for c in cmd if c.startswith(b"services.") and c.count(b".") == 1),
                    None)
        if ppid == supervisor and name and b"run" in cmd:
            out[name] = int(status.split("/")[2])
    return out


def cpu_seconds(pids):
    """{service: CPU seconds (user + system) its process has used so far}, from /proc/<pid>/stat."""
    tick, out = os.sysconf("SC_CLK_TCK"), {}
    for name, pid in pids.items():
        try:
            fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[name] = (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return out


def print_cpu(before, after, count):
    """CPU time a submit in each process: unlike the wall clock, it does not grow with the neighbours' load."""
    used = {name: (after[name] - before[name]) * 1000 / count for name in before if name in after}
    print(f"cpu     {sum(used.values()):.1f} ms of CPU a submit, all services (HTTP submit to review task): "
          + ", ".join(f"{name} {ms:.1f}" for name, ms in sorted(used.items(), key=lambda kv: -kv[1])))
    return sum(used.values())


def print_breakdown(recordings, pids, count):
    names = {pid: name for name, pid in pids.items()}
    for pid, path in sorted(recordings.items(), key=lambda item: names[item[0]]):
        samples, kinds, ours = breakdown(path)
        if not samples:
            why = "no busy samples" if os.path.exists(path) else "not recorded (py-spy wrote nothing in time)"
            print(f"profile {names[pid]:<12} {why}")
            continue
        print(f"profile {names[pid]:<12} {samples} busy samples at 100/s over {count} submits "
              f"(~{samples * 10 / count:.1f} ms a submit): " + "; ".join(f"{kind} {share:.0%}" for kind, share in kinds))
        for frame, share in ours[:6]:
            print(f"profile {names[pid]:<12}   {share:4.0%}  {frame}")


def rss_mb(pids):
    out = {}
    for name, pid in pids.items():
        try:
            for line in open(f"/proc/{pid}/status"):
                if line.startswith("VmRSS"):
                    out[name] = int(line.split()[1]) / 1024
        except OSError:
            continue
    return out


@contextlib.contextmanager
def databases():
    """{<SERVICE>_DATABASE_URL: url} for BENCH_DATABASE: nothing for SQLite (each service's file under
    VAR_DIR), else a fresh PostgreSQL database per service, dropped afterwards."""
    if DATABASE == "sqlite":
        yield {}
        return
    if DATABASE != "postgresql":
        raise SystemExit(f"BENCH_DATABASE is sqlite or postgresql, not {DATABASE!r}")
    names = {service: f"bench_{uuid.uuid4().hex[:8]}_{service}" for service in WITH_DATABASES}

    def run(sql):
        conn = psycopg2.connect(PG_DSN)
        conn.autocommit = True
        conn.cursor().execute(sql)
        conn.close()

    try:
        for name in names.values():
            run(f'CREATE DATABASE "{name}"')
        dsn = dict(part.split("=", 1) for part in PG_DSN.split())
        yield {f"{service.upper()}_DATABASE_URL": f"postgresql+psycopg2://{dsn.get('user', 'postgres')}@"
               f"{dsn.get('host', '127.0.0.1')}:{dsn.get('port', '5432')}/{name}" for service, name in names.items()}
    finally:
        for name in names.values():
            run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main():
    print(f"submit  databases: {DATABASE}", flush=True)
    with fresh_vhost() as uri, tempfile.TemporaryDirectory() as var_dir, databases() as database_urls:
        port = free_port()
        env = {**os.environ, **database_urls, "AMQP_URI": uri, "VAR_DIR": var_dir,
               "GATEWAY_ADDRESS": f"127.0.0.1:{port}",
               "PYTHONPATH": ROOT, "LOG_LEVEL": "WARNING", "NOTIFY_QUIET_HOURS": "off",
               # every applicant asks for its code from this one address: the bench raises the
               # address's human-check threshold (identity's SMS_CHECK_PER_ADDRESS) for the system it starts
               "SMS_CHECK_PER_ADDRESS": str(N + PROFILED + 10),
               # and lets the reviewer's list carry every task, so the bench can count them (default 200)
               "REVIEW_LIST_LIMIT": str(N + PROFILED + 10)}
        system = subprocess.Popen([sys.executable, "-m", "services", "run"], env=env, cwd=ROOT,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        api = Api(f"http://127.0.0.1:{port}", var_dir)
        tasks_db = create_engine(database_urls.get("REVIEW_DATABASE_URL") or f"sqlite:///{var_dir}/review.db")
        try:
            deadline = time.time() + 60
            while True:
                try:
                    if requests.get(api.base + "/health", timeout=2).status_code == 200:
                        break
                except requests.RequestException:
                    pass
                if time.time() > deadline:
                    raise RuntimeError("the system did not become healthy in 60 s")
                time.sleep(0.2)
            admin = staff_token(api, env, ADMIN, "admin")
            reviewer = staff_token(api, env, REVIEWER, "reviewer")
            campaigns = api.call("GET", "/api/v1/campaigns")
            campaign_id = campaigns[0]["id"]
            roster = "姓名,证件类型,证件号码,级别,考试年度,职业水平证书管理号,批准日期,本地有效\n" + "".join(
                f"张三,居民身份证,{id_number(i)},中级,2019,2019110{i:010d},2019-12-20,否\n" for i in range(N + PROFILED))
            api.call("POST", "/api/v1/admin/roster", admin, data=roster.encode(),
                     headers={"X-Filename": "roster.csv", "Content-Type": "text/csv"})
            uploads = {"id_card_front": images.jpeg(images.id_card(seed=1)),
                       "id_card_back": images.jpeg(images.id_card_back(seed=2)),
                       "certificate": images.jpeg(images.certificate(seed=3)),
                       "photo": images.jpeg(images.photo(seed=4))}
            t0 = time.perf_counter()
            with ThreadPoolExecutor(4) as pool:
                everyone = list(pool.map(lambda i: prepare(api, campaign_id, i, uploads), range(N + PROFILED)))
            prepared, profiled_ones = everyone[:N], everyone[N:]
            print(f"submit  prepared {N + PROFILED} applications (register, verify, form, 4 uploads) in "
                  f"{time.perf_counter() - t0:.0f} s", flush=True)

            # The ceiling of the same path: HTTP → gateway → one RPC → answer.
            token0 = prepared[0][0]
            with ThreadPoolExecutor(CONCURRENCY) as pool:
                t0 = time.perf_counter()
                ceiling = list(pool.map(lambda _: timed(lambda: api.call("GET", "/api/v1/code-tables", token0)),
                                        range(N)))
                ceiling_rate = N / (time.perf_counter() - t0)

            def submit(item):
                token, app_id = item
                return timed(lambda: api.call("POST", f"/api/v1/applications/{app_id}/submit", token,
                                              headers={"Idempotency-Key": f"bench-{app_id}"}))

            everyone_pids = service_pids(system.pid)
            cpu_before = cpu_seconds(everyone_pids)
            with ThreadPoolExecutor(CONCURRENCY) as pool:
                t0 = time.perf_counter()
                latencies = list(pool.map(submit, prepared))
                submitted = time.perf_counter()
            done = wait_for_tasks(api, reviewer, tasks_db, N, t0)
            cpu_after = cpu_seconds(everyone_pids)
            rate = N / (done - t0)
            p50, p95 = percentile(latencies, 50), percentile(latencies, 95)
            print(f"submit  ceiling GET /code-tables at {CONCURRENCY} concurrent: {ceiling_rate:7.0f} req/s, "
                  f"p50 {percentile(ceiling, 50):.0f} ms, p95 {percentile(ceiling, 95):.0f} ms")
            print(f"submit  HTTP submit at {CONCURRENCY} concurrent: p50 {p50:.0f} ms, p95 {p95:.0f} ms "
                  f"(bar p95 ≤ 200 ms: {'meets' if p95 <= 200 else 'MISSES'}; "
                  f"{p95 / percentile(ceiling, 95):.1f}× the ceiling's p95)")
            print(f"submit  submit → review task: {rate:7.1f} submissions/s over {N} "
                  f"(HTTP part {N / (submitted - t0):.0f}/s; bar ≥ 150/s: {'meets' if rate >= 150 else 'MISSES'}; "
                  f"{rate / ceiling_rate:.0%} of the ceiling)")
            cpu_total = print_cpu(cpu_before, cpu_after, N)
            top_p95 = percentile(ceiling, 95)
            summary(f"HTTP submit p95 at {CONCURRENCY} concurrent ({DATABASE})", f"{p95:.0f} ms (p50 {p50:.0f}; "
                    f"{p95 / top_p95:.1f}× the ceiling)", "≤ 200 ms and ≤ 3× the ceiling's p95",
                    p95 <= 200 and p95 <= 3 * top_p95,
                    f"GET /code-tables p95 {top_p95:.0f} ms, {ceiling_rate:.0f} req/s")
            summary(f"submit → review task ({DATABASE})", f"{rate:.0f} submissions/s ({rate / ceiling_rate:.0%} of the ceiling)",
                    "≥ 150 /s", rate >= 150, f"GET /code-tables {ceiling_rate:.0f} req/s")
            summary(f"CPU a submit, all services ({DATABASE})", f"{cpu_total:.1f} ms", None, None,
                    f"GET /code-tables {ceiling_rate:.0f} req/s")
            if profiled_ones:
                pids = {name: pid for name, pid in everyone_pids.items()
                        if name in ("gateway", "identity", "registration", "review")}
                with profiled(list(pids.values())) as recordings:
                    with ThreadPoolExecutor(CONCURRENCY) as pool:
                        list(pool.map(submit, profiled_ones))
                    # review creates the tasks after the HTTP answers (from the outbox, by event):
                    # sample until they are all there, or its share of a submit is not in the profile
                    wait_for_tasks(api, reviewer, tasks_db, N + PROFILED, time.perf_counter())
                if recordings:
                    print_breakdown(recordings, pids, len(profiled_ones))
                else:
                    print("profile not measured: py-spy is not installed (pip install -e '.[dev]')")
            for name, mb in sorted(rss_mb(everyone_pids).items()):
                print(f"memory  {name:<12} resident {mb:6.0f} MB after the run")
        finally:
            tasks_db.dispose()
            system.terminate()
            try:
                system.wait(timeout=60)
            except subprocess.TimeoutExpired:
                system.kill()


if __name__ == "__main__":
    main()
