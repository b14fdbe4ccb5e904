"""python -m services.gateway run — the HTTP API on GATEWAY_ADDRESS (default 127.0.0.1:8000)."""
import eventlet

eventlet.monkey_patch()

import os  # noqa: E402
import sys  # noqa: E402

from services.common.runner import run  # noqa: E402
from services.gateway.service import GatewayService  # noqa: E402


def main(argv):
    if argv[:1] != ["run"]:
        print("usage: python -m services.gateway run", file=sys.stderr)
        return 2
    return run(GatewayService, WEB_SERVER_ADDRESS=os.environ.get("GATEWAY_ADDRESS", "127.0.0.1:8000"))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
