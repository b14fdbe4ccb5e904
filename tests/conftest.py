# eventlet must patch the standard library before anything imports sockets or threads
# (tests that start nameko containers hang otherwise).
import warnings

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
from tests.support import green  # noqa: E402

green.monkey_patch()  # not in pytest-xdist's controller: see tests/support/green.py

import pytest  # noqa: E402

from services.common import rpc_errors  # noqa: E402,F401 — domain errors cross RPC as themselves
from services.common.runner import stop_consumers_promptly  # noqa: E402
from tests.support.infra import *  # noqa: E402,F401,F403 — shared fixtures

stop_consumers_promptly()  # as services.common.runner.run does: a container stops in 0.2 s, not 2–3 s


def pytest_collection_modifyitems(items):
    for item in items:
        path = str(item.fspath)
        for marker in ("integration", "e2e", "browser"):
            if f"/tests/{marker}/" in path:
                item.add_marker(getattr(pytest.mark, marker))


# A slow or busy machine must not fail a property test: no deadline, no too_slow health check.
from hypothesis import HealthCheck, settings  # noqa: E402

settings.register_profile("patient", deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                            HealthCheck.data_too_large])
settings.load_profile("patient")


def pytest_unconfigure(config):
    # Flush the log handlers, then drop logging's weak references to them: otherwise their
    # callbacks run after the interpreter has torn logging down and print a traceback after
    # pytest's summary line ("Exception ignored in _removeHandlerRef").
    import logging
    logging.shutdown()
    logging._handlerList.clear()
