"""`make bench`: run every bench_*.py in its own process, one after another (they share 2 cores)."""
import glob
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    failed = []
    for script in sorted(glob.glob(os.path.join(HERE, "bench_*.py"))):
        print(f"\n## {os.path.basename(script)}", flush=True)
        if subprocess.run([sys.executable, script], cwd=os.path.dirname(HERE)).returncode != 0:
            failed.append(os.path.basename(script))
    if failed:
        print(f"\nbenchmarks that failed to run: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
