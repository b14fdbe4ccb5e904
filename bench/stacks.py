"""Where the time went, from a py-spy recording in raw (collapsed stacks) format.

    .venv/bin/py-spy record -r 50 -f raw -o /tmp/notify.txt -- .venv/bin/python bench/bench_notify.py
    .venv/bin/python bench/stacks.py /tmp/notify.txt                       # inclusive and self time
    .venv/bin/python bench/stacks.py /tmp/notify.txt --under Notifier._record --depth 2   # its callees

Functions are named without line numbers, so one function's samples add up. py-spy sees the
running green thread's stack, so an eventlet service shows which handler spent the CPU.
"""
import argparse
import collections
import re

_LINE = re.compile(r":\d+\)$")


def stacks(path):
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                stack, count = line.rstrip().rsplit(" ", 1)
                yield [_LINE.sub(")", frame) for frame in stack.split(";")], int(count)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("recording")
    parser.add_argument("--under", help="only stacks through this function; show what it called")
    parser.add_argument("--depth", type=int, default=1, help="callee levels shown with --under")
    parser.add_argument("--top", type=int, default=40)
    args = parser.parse_args(argv)
    inclusive, own, callees, total = collections.Counter(), collections.Counter(), collections.Counter(), 0
    for frames, count in stacks(args.recording):
        if args.under:
            hits = [i for i, frame in enumerate(frames) if args.under in frame]
            if not hits:
                continue
            below = frames[hits[0] + 1:hits[0] + 1 + args.depth]
            callees[" > ".join(below) or "(itself)"] += count
        total += count
        for frame in set(frames):
            inclusive[frame] += count
        own[frames[-1]] += count
    print(f"{total} samples" + (f" through {args.under}" if args.under else ""))
    tables = [("callees", callees)] if args.under else [("inclusive", inclusive), ("self", own)]
    for title, counter in tables:
        print(f"--- {title}")
        for frame, count in counter.most_common(args.top):
            print(f"{100 * count / max(total, 1):5.1f}%  {frame}")


if __name__ == "__main__":
    main()
