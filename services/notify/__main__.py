"""python -m services.notify run — the notify service (SMS and email; see docs/sms-gateway.md).

NOTIFY_MAX_WORKERS, on PostgreSQL 60 by default instead of MAX_WORKERS: notify's workers mostly
wait (the contact look-ups, the channels, their turn in a group commit), and the more wait together, the
more events and answers each group transaction carries (services/notify/group_commit.py): less CPU
a message (docs/performance.md, Notifications). Not on SQLite, whose single connection serialises
the groups anyway: there more workers only queued for it, and bench_notify measured more CPU.
"""
import eventlet

eventlet.monkey_patch()

import os  # noqa: E402
import sys  # noqa: E402

from services.common.config import database_url  # noqa: E402
from services.common.runner import run  # noqa: E402
from services.notify.service import NotifyService  # noqa: E402

POSTGRESQL_WORKERS = 60


def max_workers(environ=os.environ):
    """{"max_workers": n} for the runner, or {} to keep MAX_WORKERS."""
    if environ.get("NOTIFY_MAX_WORKERS"):
        return {"max_workers": int(environ["NOTIFY_MAX_WORKERS"])}
    if database_url("notify", environ).startswith("postgresql"):
        return {"max_workers": POSTGRESQL_WORKERS}
    return {}


def main(argv):
    if argv[:1] != ["run"]:
        print("usage: python -m services.notify run", file=sys.stderr)
        return 2
    return run(NotifyService, **max_workers())


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
