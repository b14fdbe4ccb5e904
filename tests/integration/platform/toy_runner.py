"""`python -m tests.integration.platform.toy_runner` — the toy Publisher in its own process, run by the
real runner and configured from the environment (AMQP_URI, REGISTRATION_DATABASE_URL), so a test
can kill -9 it."""
import eventlet

eventlet.monkey_patch()

import sys  # noqa: E402

from services.common.runner import run  # noqa: E402
from tests.integration.platform.toy_services import Publisher  # noqa: E402

if __name__ == "__main__":
    sys.exit(run(Publisher))
