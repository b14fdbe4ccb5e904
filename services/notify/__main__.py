"""python -m services.notify run — the notify service (SMS and email; see docs/sms-gateway.md)."""
import eventlet

eventlet.monkey_patch()

import sys  # noqa: E402

from services.common.runner import run  # noqa: E402
from services.notify.service import NotifyService  # noqa: E402


def main(argv):
    if argv[:1] != ["run"]:
        print("usage: python -m services.notify run", file=sys.stderr)
        return 2
    return run(NotifyService)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
