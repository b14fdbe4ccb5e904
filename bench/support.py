"""Shared by the benchmarks: a throw-away RabbitMQ vhost and percentiles."""
import contextlib
import json
import os
import statistics
import uuid

import requests

MGMT = os.environ.get("BENCH_RABBIT_MGMT", "http://127.0.0.1:15672")
AUTH = ("guest", "guest")


@contextlib.contextmanager
def fresh_vhost():
    vhost = f"bench-{uuid.uuid4().hex[:8]}"
    requests.put(f"{MGMT}/api/vhosts/{vhost}", auth=AUTH, timeout=10).raise_for_status()
    requests.put(f"{MGMT}/api/permissions/{vhost}/guest", auth=AUTH, timeout=10,
                 json={"configure": ".*", "write": ".*", "read": ".*"}).raise_for_status()
    try:
        yield f"amqp://guest:guest@127.0.0.1:5672/{vhost}"
    finally:
        requests.delete(f"{MGMT}/api/vhosts/{vhost}", auth=AUTH, timeout=10)


def percentile(values, p):
    values = sorted(values)
    if not values:
        return float("nan")
    k = (len(values) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def median(values):
    return statistics.median(values)


def summary(figure, value, bar, met, ceiling):
    """One row of `make bench`'s closing table: the figure as measured, its bar, the ceiling measured
    in the same run, and whether the bar is met (True/False; None when the figure has no bar).

    Written as a JSON line to the file named by BENCH_SUMMARY (bench/run_all.py sets it); a bench run
    on its own prints its own lines and this does nothing.
    """
    path = os.environ.get("BENCH_SUMMARY")
    if not path:
        return
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps({"figure": figure, "value": value, "bar": bar, "met": met, "ceiling": ceiling},
                            ensure_ascii=False) + "\n")


# Where a service's CPU goes, by kind of work: the first matching frame of a sampled stack decides.
CATEGORIES = [
    ("password hashing (argon2)", ("argon2",)),
    ("encryption (AES-GCM, blind index)", ("services/common/crypto.py", "cryptography/")),
    ("database (SQLAlchemy, driver)", ("sqlalchemy/", "sqlite3", "psycopg2")),
    ("images (Pillow, OpenCV)", ("PIL/", "cv2")),
    ("validation, JSON (marshmallow, json)", ("marshmallow/", "json/")),
    ("RPC and AMQP (nameko, kombu, amqp)", ("nameko/rpc.py", "nameko/amqp", "kombu/", "amqp/")),
    ("HTTP (werkzeug)", ("werkzeug/",)),
]


@contextlib.contextmanager
def profiled(pids, rate=100):
    """py-spy (non-blocking: the services are not paused) on each pid while the block runs; yields
    {pid: path of the raw recording}, complete after the block. Nothing when py-spy is absent."""
    import shutil
    import signal
    import subprocess
    import sys
    import tempfile

    exe = shutil.which("py-spy") or os.path.join(os.path.dirname(sys.executable), "py-spy")
    if not os.path.exists(exe) or not pids:
        yield {}
        return
    tmp = tempfile.mkdtemp(prefix="bench-profile-")
    paths = {pid: os.path.join(tmp, f"{pid}.txt") for pid in pids}
    spies = [subprocess.Popen([exe, "record", "--pid", str(pid), "--nonblocking", "-r", str(rate), "-f", "raw",
                               "-o", path], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
             for pid, path in paths.items()]
    try:
        yield paths
    finally:
        for spy in spies:
            spy.send_signal(signal.SIGINT)  # py-spy writes its recording on SIGINT
        for spy in spies:
            try:
                spy.wait(timeout=30)
            except subprocess.TimeoutExpired:
                spy.kill()


IDLE = ("Hub.do_poll (", "Hub.wait (")  # the event loop waiting: not CPU (py-spy --nonblocking samples it)


def breakdown(path):
    """(busy samples, [(category, share)], [(function of ours, inclusive share)]) of a raw py-spy
    recording; samples of the event loop waiting are left out."""
    import collections
    import re

    line_no = re.compile(r":\d+\)$")
    kinds, ours, total = collections.Counter(), collections.Counter(), 0
    try:
        lines = open(path, encoding="utf-8").read().splitlines()
    except OSError:
        return 0, [], []
    for line in lines:
        if not line.strip():
            continue
        stack, count = line.rsplit(" ", 1)
        frames = [line_no.sub(")", f) for f in stack.split(";")]
        count = int(count)
        if not frames[-1].strip() or frames[-1].startswith(IDLE):
            continue
        total += count
        kind = next((name for name, marks in CATEGORIES
                     if any(mark in frame for frame in frames for mark in marks)), "other Python (ours, eventlet)")
        kinds[kind] += count
        for frame in {f for f in frames if "services/" in f}:
            ours[frame] += count
    share = (lambda n: n / total) if total else (lambda n: 0.0)
    return (total, [(k, share(n)) for k, n in kinds.most_common()],
            [(f, share(n)) for f, n in ours.most_common(12)])
