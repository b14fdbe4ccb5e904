"""`make bench`: run every bench_*.py in its own process, one after another (they share 2 cores), then
print one table: each figure, its bar, the ceiling measured in the same run, met or not.

Each bench adds its rows through `bench.support.summary` (a JSON line each in BENCH_SUMMARY). The
machine's load is printed before and after: figures from a busy machine are not comparable.
"""
import glob
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def load():
    try:
        with open("/proc/loadavg", encoding="ascii") as fh:
            one, five, fifteen = fh.read().split()[:3]
        return f"load average {one} {five} {fifteen} on {os.cpu_count()} CPUs"
    except OSError:
        return "load average unknown"


def table(rows, failed):
    lines = ["| figure | measured | bar | ceiling (same run) | met |", "|---|---|---|---|---|"]
    for row in rows:
        met = {True: "yes", False: "**NO**", None: "—"}[row["met"]]
        lines.append(f"| {row['figure']} | {row['value']} | {row['bar'] or '—'} | {row['ceiling'] or '—'} | {met} |")
    for name in failed:
        lines.append(f"| {name} | did not run to the end | — | — | **NO** |")
    return "\n".join(lines)


def main(argv=()):
    scripts = sorted(glob.glob(os.path.join(HERE, "bench_*.py")))
    if argv:  # `bench/run_all.py notify submit`: only these
        scripts = [s for s in scripts if any(f"bench_{name}" in s for name in argv)]
    failed = []
    started, before = time.monotonic(), load()
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "summary.jsonl")
        env = {**os.environ, "BENCH_SUMMARY": path}
        for script in scripts:
            print(f"\n## {os.path.basename(script)}", flush=True)
            if subprocess.run([sys.executable, script], cwd=os.path.dirname(HERE), env=env).returncode != 0:
                failed.append(os.path.basename(script))
        rows = []
        if os.path.exists(path):
            with open(path, encoding="utf-8") as fh:
                rows = [json.loads(line) for line in fh if line.strip()]
    print(f"\n## summary ({(time.monotonic() - started) / 60:.0f} min; before: {before}; after: {load()})\n")
    print(table(rows, failed))
    if failed:
        print(f"\nbenchmarks that failed to run: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
