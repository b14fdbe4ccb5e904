"""python -m services.notify run — the notify service (SMS and email; see docs/sms-gateway.md).

NOTIFY_MAX_WORKERS (60) instead of MAX_WORKERS: notify's workers mostly wait (contact_of RPCs, the
channels, their turn in a group commit), and the more wait together, the more events and answers each
group transaction carries (services/notify/group_commit.py): less CPU a message (bench_notify).
"""
import eventlet

eventlet.monkey_patch()

import os  # noqa: E402
import sys  # noqa: E402

from services.common.runner import run  # noqa: E402
from services.notify.service import NotifyService  # noqa: E402

MAX_WORKERS = 60


def main(argv):
    if argv[:1] != ["run"]:
        print("usage: python -m services.notify run", file=sys.stderr)
        return 2
    return run(NotifyService, max_workers=int(os.environ.get("NOTIFY_MAX_WORKERS") or MAX_WORKERS))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
