"""A national year on PostgreSQL: what staff wait for when the tables are full.

    .venv/bin/python bench/bench_scale.py            # 100,000 applications (BENCH_SCALE_APPLICATIONS)
    BENCH_SCALE_APPLICATIONS=1000000 .venv/bin/python bench/bench_scale.py   # three-year cycles, opt-in

Starts registration and review (`python -m services.<name> run`) on fresh PostgreSQL databases and a
fresh vhost, lets their migrations build the schema, then fills the tables with SQL (generate_series):
applications across every state with their submissions, decisions and mailings; four materials rows
and a review task per submitted application; a million outbox and processed-event rows. Personal data
is sealed with the services' own cipher, so every read decrypts as in production.

Measured through the services' RPCs (what the gateway calls), p95 over repeated calls:
  - the reviewer's queue page with filters, its first page and a page deep in the queue;
  - one application with its history (as staff, so the read is audited);
  - the admin report, for everything and for one campaign;
  - the export of approved registrations: time, and the registration process's peak memory at
    10 % of the rows and at all of them (flat memory: the export streams).
The ceiling is the cheapest RPC of the same services in the same run (code tables).
Bars (issue #12): queue and application ≤ 50 ms, report ≤ 500 ms, export memory flat as rows grow.
"""
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
import uuid

import eventlet

eventlet.monkey_patch()

import psycopg2  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from nameko.standalone.rpc import ClusterRpcProxy  # noqa: E402

from bench.support import fresh_vhost, percentile, summary  # noqa: E402
from services.common import spreadsheets  # noqa: E402
from services.common.config import DEV_SECRETS  # noqa: E402
from services.common.crypto import DataCipher  # noqa: E402
from services.gateway.site.review import QUEUE_PAGE  # noqa: E402
from tests.support.journey import FORM  # noqa: E402
from tests.support.processes import stop_processes  # noqa: E402

N = int(os.environ.get("BENCH_SCALE_APPLICATIONS", 100_000))
EVENT_ROWS = int(os.environ.get("BENCH_SCALE_EVENT_ROWS", 1_000_000))
REPEAT = int(os.environ.get("BENCH_SCALE_REPEAT", 40))
KEEP = os.environ.get("BENCH_SCALE_KEEP") == "1"  # leave the filled databases for EXPLAIN; drop them by hand
PG = os.environ.get("BENCH_PG_DSN", "host=127.0.0.1 port=5432 user=postgres dbname=postgres")
SERVICES = ("registration", "review")
ADMIN = {"account_id": "bench-admin", "roles": ["admin"]}
REVIEWER = {"account_id": "bench-reviewer", "roles": ["reviewer"]}
DISTRICTS = ("110101", "110102", "110105", "110106", "110107", "110108", "110109", "110111",
             "110112", "110113", "110114", "110115", "110116", "110117", "110118", "110119")
PERSONAL = ("name", "id_number", "birth_date", "mobile", "email", "delivery")


def database(name, create=True):
    conn = psycopg2.connect(PG)
    conn.autocommit = True
    conn.cursor().execute(f'CREATE DATABASE "{name}"' if create else f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    conn.close()


def url(name):
    return f"postgresql+psycopg2://postgres@127.0.0.1:5432/{name}"


def connect(name):
    return psycopg2.connect(f"host=127.0.0.1 port=5432 user=postgres dbname={name}")


def start(service, env):
    return subprocess.Popen([sys.executable, "-m", f"services.{service}", "run"], env=env, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def peak_mb(pid):
    """Peak resident memory of a process so far (VmHWM), in MB."""
    with open(f"/proc/{pid}/status", encoding="ascii") as fh:
        return next(int(line.split()[1]) / 1024 for line in fh if line.startswith("VmHWM"))


def reset_peak(pid):
    """Start VmHWM again from the current resident size (Linux: write 5 to clear_refs)."""
    with open(f"/proc/{pid}/clear_refs", "w", encoding="ascii") as fh:
        fh.write("5")


def p95_ms(fn, repeat=REPEAT):
    times = []
    for i in range(repeat):
        t0 = time.perf_counter()
        fn(i)
        times.append((time.perf_counter() - t0) * 1000)
    return percentile(times, 95)


# --- filling the tables ------------------------------------------------------------------------------

def sealed_personal(cipher):
    personal = {k: v for k, v in {**FORM, "name": "张三", "id_number": "11010519491231002X",
                                   "birth_date": "1949-12-31"}.items() if k in PERSONAL}
    return (cipher.encrypt(json.dumps(personal, ensure_ascii=False, sort_keys=True), "application.personal"),
            cipher.encrypt(json.dumps(personal, ensure_ascii=False, sort_keys=True), "submission.personal"),
            cipher.encrypt(json.dumps({}, sort_keys=True), "submission.answer"))


# i → state: 10 % drafts, 20 % waiting for review, 10 % rejected, 30 % approved, 30 % mailed.
STATE_OF = """(CASE WHEN mod(i, 10) = 0 THEN 'DRAFT' WHEN mod(i, 10) IN (1, 2) THEN 'SUBMITTED'
               WHEN mod(i, 10) = 3 THEN 'REJECTED' WHEN mod(i, 10) IN (4, 5, 6) THEN 'APPROVED' ELSE 'DISPATCHED' END)"""


def fill_registration(conn, campaign_id, first, last, seals):
    application_enc, submission_enc, answer_enc = seals
    public = json.dumps({k: v for k, v in FORM.items() if k not in PERSONAL}, ensure_ascii=False)
    districts = "ARRAY[" + ",".join(f"'{d}'" for d in DISTRICTS) + "]"
    with conn, conn.cursor() as cur:
        cur.execute(f"""
            INSERT INTO applications (id, account_id, campaign_id, kind, state, attempt, decided_attempt, form,
                personal_enc, materials, cert_level, exam_year, district_code, first_submitted_at, submitted_at,
                decided_at, review_opinion, material_issues, registration_number, valid_from, valid_until,
                created_at, updated_at, version)
            SELECT md5('app' || i)::uuid::text, 'acct-' || i, %(campaign)s, 'FIRST', {STATE_OF},
                   CASE WHEN mod(i, 10) = 0 THEN 0 ELSE 1 END, CASE WHEN mod(i, 10) IN (0, 1, 2) THEN 0 ELSE 1 END,
                   %(public)s::json, %(app_enc)s,
                   json_build_object('id_card_front', json_build_object('material_id', md5('m1' || i)::uuid::text,
                                         'ok', true, 'issues', '[]'::json),
                                     'id_card_back', json_build_object('material_id', md5('m2' || i)::uuid::text,
                                         'ok', true, 'issues', '[]'::json),
                                     'certificate', json_build_object('material_id', md5('m3' || i)::uuid::text,
                                         'ok', true, 'issues', '[]'::json),
                                     'photo', json_build_object('material_id', md5('m4' || i)::uuid::text,
                                         'ok', true, 'issues', '[]'::json)),
                   CASE WHEN mod(i, 3) = 0 THEN 'ASSISTANT' ELSE 'INTERMEDIATE' END, 2019,
                   ({districts})[1 + mod(i, 16)],
                   CASE WHEN mod(i, 10) = 0 THEN NULL ELSE now() - (i || ' seconds')::interval END,
                   CASE WHEN mod(i, 10) = 0 THEN NULL ELSE now() - (i || ' seconds')::interval END,
                   CASE WHEN mod(i, 10) >= 3 THEN now() - (i || ' seconds')::interval + interval '1 hour' END,
                   CASE WHEN mod(i, 10) = 3 THEN '照片不符合要求' END, '[]'::json,
                   CASE WHEN mod(i, 10) >= 4 THEN '1101' || lpad(i::text, 9, '0') END,
                   CASE WHEN mod(i, 10) >= 4 THEN DATE '2020-06-01' END, CASE WHEN mod(i, 10) >= 4 THEN DATE '2023-05-31' END,
                   now() - (i || ' seconds')::interval, now(), 1
            FROM generate_series(%(first)s, %(last)s) AS i""",
                    {"campaign": campaign_id, "public": public, "app_enc": application_enc, "first": first, "last": last})
        cur.execute("""
            INSERT INTO submissions (application_id, account_id, attempt, idempotency_key, form, personal_enc,
                materials, answer_enc, event_id, submitted_at)
            SELECT md5('app' || i)::uuid::text, 'acct-' || i, 1, NULL, %(public)s::json, %(sub_enc)s, '{}'::json,
                   %(answer)s, md5('sub' || i)::uuid::text, now() - (i || ' seconds')::interval
            FROM generate_series(%(first)s, %(last)s) AS i WHERE mod(i, 10) <> 0""",
                    {"public": public, "sub_enc": submission_enc, "answer": answer_enc, "first": first, "last": last})
        cur.execute("""
            INSERT INTO decisions (application_id, attempt, decision, opinion, material_issues, review_id,
                reviewer_id, event_id, decided_at)
            SELECT md5('app' || i)::uuid::text, 1, CASE WHEN mod(i, 10) = 3 THEN 'rejected' ELSE 'approved' END,
                   NULL, CASE WHEN mod(i, 10) = 3 THEN '[{"kind": "photo", "reason": "照片背景有杂物"}]'::json
                   ELSE '[]'::json END, md5('rev' || i)::uuid::text, 'bench-reviewer', md5('dec' || i)::uuid::text,
                   now() - (i || ' seconds')::interval + interval '1 hour'
            FROM generate_series(%(first)s, %(last)s) AS i WHERE mod(i, 10) >= 3""", {"first": first, "last": last})
        cur.execute("""
            INSERT INTO dispatches (application_id, registration_number, carrier, tracking_number, recorded_by,
                dispatched_at)
            SELECT md5('app' || i)::uuid::text, '1101' || lpad(i::text, 9, '0'), 'EMS', 'EMS' || i, 'bench-admin', now()
            FROM generate_series(%(first)s, %(last)s) AS i WHERE mod(i, 10) >= 7""", {"first": first, "last": last})


def fill_review(conn, campaign_id, first, last):
    with conn, conn.cursor() as cur:
        cur.execute("""
            INSERT INTO materials (id, account_id, application_id, kind, ok, sha256, path, thumb_path, content_type,
                width, height, verdict, created_at, purged_at)
            SELECT md5('m' || k || i)::uuid::text, 'acct-' || i, md5('app' || i)::uuid::text,
                   (ARRAY['id_card_front', 'id_card_back', 'certificate', 'photo'])[k], true, md5('sha' || k || i),
                   'bench/' || i || '-' || k, NULL, 'image/jpeg', 826, 1252, '{"ok": true, "issues": []}'::json,
                   now() - (i || ' seconds')::interval, NULL
            FROM generate_series(%(first)s, %(last)s) AS i, generate_series(1, 4) AS k""",
                    {"first": first, "last": last})
        cur.execute("""
            INSERT INTO review_tasks (id, application_id, attempt, account_id, campaign_id, application_kind,
                cert_level, exam_year, district_code, material_ids, submitted_at, created_at, state, claimed_by,
                claimed_at, lease_expires_at, review_id, decision, opinion, material_issues, decided_by,
                decided_at, decision_key, superseded_at)
            SELECT md5('task' || i)::uuid::text, md5('app' || i)::uuid::text, 1, 'acct-' || i, %(campaign)s, 'FIRST',
                   CASE WHEN mod(i, 3) = 0 THEN 'ASSISTANT' ELSE 'INTERMEDIATE' END, 2019,
                   (ARRAY['110101','110102','110105','110106','110107','110108','110109','110111','110112',
                          '110113','110114','110115','110116','110117','110118','110119'])[1 + mod(i, 16)],
                   json_build_object('photo', md5('m4' || i)::uuid::text), now() - (i || ' seconds')::interval,
                   now() - (i || ' seconds')::interval,
                   CASE WHEN mod(i, 10) IN (1, 2) THEN 'pending' ELSE 'decided' END, NULL, NULL, NULL,
                   CASE WHEN mod(i, 10) >= 3 THEN md5('rev' || i)::uuid::text END,
                   CASE WHEN mod(i, 10) = 3 THEN 'rejected' WHEN mod(i, 10) >= 4 THEN 'approved' END, NULL, '[]'::json,
                   CASE WHEN mod(i, 10) >= 3 THEN 'bench-reviewer' END,
                   CASE WHEN mod(i, 10) >= 3 THEN now() - (i || ' seconds')::interval + interval '1 hour' END, NULL, NULL
            FROM generate_series(%(first)s, %(last)s) AS i WHERE mod(i, 10) <> 0""",
                    {"campaign": campaign_id, "first": first, "last": last})


def fill_events(conn, rows):
    """Half sent outbox rows, half processed-event marks: what a year of traffic leaves behind."""
    with conn, conn.cursor() as cur:
        cur.execute("""
            INSERT INTO outbox (event_id, event_type, exchange, payload, created_at, sent_at)
            SELECT md5('evt' || i)::uuid::text, 'ApplicationSubmitted', 'registration.events', '{}',
                   now() - (i || ' seconds')::interval, now() - (i || ' seconds')::interval
            FROM generate_series(1, %(n)s) AS i""", {"n": rows // 2})
        cur.execute("""
            INSERT INTO processed_events (consumer, source, event_id, processed_at)
            SELECT 'registration', 'review', md5('pev' || i)::uuid::text, now() - (i || ' seconds')::interval
            FROM generate_series(1, %(n)s) AS i""", {"n": rows - rows // 2})


def recount_report(conn):
    """The report's counters (report_days, report_reasons), as the repository would have kept them with
    each submission and decision (the rows above were written by SQL; their reasons are trimmed already)."""
    with conn, conn.cursor() as cur:
        cur.execute("DELETE FROM report_days")
        cur.execute("""
            INSERT INTO report_days (campaign_id, day, submissions, resubmissions, rejections)
            SELECT campaign_id, day, sum(s), sum(r), sum(j) FROM (
                SELECT a.campaign_id, CAST(timezone('Asia/Shanghai', s.submitted_at) AS DATE) AS day, 1 AS s,
                       CASE WHEN s.attempt > 1 THEN 1 ELSE 0 END AS r, 0 AS j
                FROM submissions s JOIN applications a ON a.id = s.application_id
                UNION ALL
                SELECT a.campaign_id, CAST(timezone('Asia/Shanghai', d.decided_at) AS DATE), 0, 0, 1
                FROM decisions d JOIN applications a ON a.id = d.application_id WHERE d.decision = 'rejected'
            ) AS counted GROUP BY campaign_id, day""")
        cur.execute("DELETE FROM report_reasons")
        cur.execute("""
            INSERT INTO report_reasons (campaign_id, kind, reason, n)
            SELECT a.campaign_id, coalesce(e->>'kind', ''), coalesce(nullif(trim(e->>'reason'), ''), '未说明原因'),
                   count(*)
            FROM decisions d JOIN applications a ON a.id = d.application_id, json_array_elements(d.material_issues) e
            WHERE d.decision = 'rejected' GROUP BY 1, 2, 3""")


def recount(name):
    """The review counters, as the transitions would have kept them (the rows above were written by SQL)."""
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    from services.review.repository import TaskRepository
    engine = create_engine(url(name))
    with Session(engine) as session, session.begin():
        TaskRepository(session).recount()
    engine.dispose()


def vacuum_analyze(*conns):
    """What autovacuum does after a bulk of inserts: statistics, and the visibility map that lets the
    narrow indexes answer counts without reading the wide rows."""
    for conn in conns:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("VACUUM ANALYZE")
        conn.autocommit = False


# --- measuring -----------------------------------------------------------------------------------

def measure(rpc, campaign_id, count, registration_pid):
    ids = [str(uuid.UUID(hex=__import__("hashlib").md5(f"app{i}".encode()).hexdigest()))
           for i in range(1, count + 1, max(1, count // REPEAT))]
    out = {"ceiling": p95_ms(lambda i: rpc.registration.code_tables())}
    # The reviewer's queue page: the tasks (a page of them), the counts per tab and the figures, in the
    # one RPC the page makes (queue_page).
    def page(filters):
        return rpc.review.queue_page(REVIEWER, {**filters, "limit": QUEUE_PAGE})

    out["queue"] = p95_ms(lambda i: page({"state": ("open", "pending")[i % 2]}))
    out["queue filtered"] = p95_ms(lambda i: page(
        {"state": "all", "campaign_id": campaign_id, "min_waiting_seconds": 3600 * (i % 3)}))
    out["application + history"] = p95_ms(lambda i: (rpc.registration.get_application(ADMIN, ids[i % len(ids)]),
                                                     rpc.registration.history(ADMIN, ids[i % len(ids)])))
    out["report"] = p95_ms(lambda i: rpc.registration.report(ADMIN, None if i % 2 else campaign_id), repeat=10)
    # The export as the gateway streams it: start_export, then export_page after export_page, written
    # by the same stream_table; the registration process's peak and the writer's (tracemalloc) peak.
    reset_peak(registration_pid)
    before = peak_mb(registration_pid)
    t0 = time.perf_counter()
    tracemalloc.start()
    started = rpc.registration.start_export(ADMIN, "csv")

    def rows():
        after = None
        while True:
            page = rpc.registration.export_page(ADMIN, None, after)
            yield from page["rows"]
            if (after := page["next"]) is None:
                return

    written = sum(len(piece) for piece in spreadsheets.stream_table("csv", started["header"], rows()))
    out["writer MB"] = tracemalloc.get_traced_memory()[1] / 2 ** 20
    tracemalloc.stop()
    out["export s"] = time.perf_counter() - t0
    out["export rows"] = started["rows"]
    out["export file MB"] = written / 2 ** 20
    out["export MB"] = peak_mb(registration_pid) - before
    return out


def main():
    logging.getLogger("amqp").setLevel(logging.ERROR)  # the start-up polls' cancelled calls are not news
    stamp = uuid.uuid4().hex[:8]
    names = {s: f"bench_{stamp}_{s}" for s in SERVICES}
    for name in names.values():
        database(name)
    processes = []
    try:
        with fresh_vhost() as uri, tempfile.TemporaryDirectory() as var_dir:
            env = {**os.environ, "AMQP_URI": uri, "VAR_DIR": var_dir, "PYTHONPATH": ROOT, "LOG_LEVEL": "WARNING",
                   **{f"{s.upper()}_DATABASE_URL": url(n) for s, n in names.items()}}
            processes = [start(s, env) for s in SERVICES]
            cipher = DataCipher.from_config({k: env.get(k) or v for k, v in DEV_SECRETS.items()})
            with ClusterRpcProxy({"AMQP_URI": uri}, timeout=600) as rpc:
                deadline = time.time() + 120
                while True:  # both services answer once their migrations have run
                    try:
                        with eventlet.Timeout(5):
                            rpc.registration.code_tables(), rpc.review.common_reasons()
                        break
                    except BaseException:  # noqa: BLE001 — Timeout is a BaseException
                        if time.time() > deadline:
                            raise RuntimeError("registration and review did not start in 120 s") from None
                campaign = rpc.registration.create_campaign(ADMIN, {
                    "name": "全国首次登记（基准）", "kind": "FIRST", "eligible_exam_years": [2019],
                    "eligible_levels": ["ASSISTANT", "INTERMEDIATE"], "opens_at": "2020-06-01T00:00:00",
                    "closes_at": "2030-06-30T00:00:00", "delivery_methods": ["MAIL"], "exclude_local_only": True,
                    "allow_resubmit_after_close": True})
                reg, rev = connect(names["registration"]), connect(names["review"])
                seals = sealed_personal(cipher)
                results = {}
                done = 0
                for size in (N // 10, N):
                    t0 = time.perf_counter()
                    fill_registration(reg, campaign["id"], done + 1, size, seals)
                    fill_review(rev, campaign["id"], done + 1, size)
                    if size == N:
                        fill_events(reg, EVENT_ROWS // 2)
                        fill_events(rev, EVENT_ROWS // 2)
                    recount_report(reg)
                    recount(names["review"])
                    vacuum_analyze(reg, rev)
                    print(f"scale  filled {size:,} applications in {time.perf_counter() - t0:.0f} s", flush=True)
                    done = size
                    results[size] = measure(rpc, campaign["id"], size, processes[0].pid)
                    print(f"scale  {size:,}: " + ", ".join(f"{k} {v:,.1f}" for k, v in results[size].items()),
                          flush=True)
                report(results)
    finally:
        stop_processes(processes)
        for name in names.values():
            if KEEP:
                print(f"scale  kept database {name}", flush=True)
            else:
                database(name, create=False)


def report(results):
    small, big = sorted(results)
    r, s = results[big], results[small]
    ceiling = f"{r['ceiling']:.1f} ms (code tables RPC)"
    for figure, key, bar in (("reviewer queue page p95 (tasks, counts, figures)", "queue", 50),
                             ("reviewer queue page with filters p95", "queue filtered", 50),
                             ("one application + history p95", "application + history", 50),
                             ("admin report p95", "report", 500)):
        summary(f"{figure} at {big:,} applications", f"{r[key]:.1f} ms", f"≤ {bar} ms", r[key] <= bar, ceiling)
    flat = r["export MB"] <= s["export MB"] + 20 and r["writer MB"] <= s["writer MB"] + 5
    summary(f"export of approved (streamed): peak memory, registration + writer, {s['export rows']:,} → "
            f"{r['export rows']:,} rows ({r['export file MB']:.0f} MB of CSV in {r['export s']:.1f} s)",
            f"{s['export MB']:.0f} + {s['writer MB']:.1f} MB → {r['export MB']:.0f} + {r['writer MB']:.1f} MB",
            "flat as rows grow", flat, "—")

if __name__ == "__main__":
    main()
