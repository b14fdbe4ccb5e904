"""A toy service run by the real runner in its own process; an RPC lets a test kill its container.

`python -m tests.integration.platform.mortal_service` — configured from the environment like any
service (AMQP_URI, VAR_DIR).
"""
import eventlet

eventlet.monkey_patch()

import sys  # noqa: E402

from nameko.extensions import DependencyProvider  # noqa: E402
from nameko.rpc import rpc  # noqa: E402

from services.common.runner import run  # noqa: E402


class Fault(DependencyProvider):
    """`self.fault()` makes an extension thread raise, as a broker error in nameko's reply does."""

    def get_dependency(self, worker_ctx):
        def fault():
            def boom():
                raise ConnectionRefusedError(111, "Connection refused")
            self.container.spawn_managed_thread(boom, identifier="doomed")
        return fault


class MortalService:
    name = "mortal"
    fault = Fault()

    @rpc
    def ping(self):
        return "pong"

    @rpc
    def die(self):
        self.fault()
        return "dying"


if __name__ == "__main__":
    sys.exit(run(MortalService))
