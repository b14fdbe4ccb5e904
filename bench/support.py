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
