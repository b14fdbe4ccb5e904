"""The service runner: a process whose container died must exit non-zero at once."""
import os
import subprocess
import sys

import pytest
from nameko.standalone.rpc import ClusterRpcProxy

from services.common.runner import EXIT_DIED
from tests.support.infra import wait_for

pytestmark = pytest.mark.integration


def answers(amqp_uri):
    try:
        with ClusterRpcProxy({"AMQP_URI": amqp_uri}, timeout=2) as cluster:
            return cluster.mortal.ping() == "pong"
    except Exception:  # noqa: BLE001 — not consuming yet
        return False


def test_a_dead_container_ends_the_process_with_an_error(amqp_uri, tmp_path):
    env = {**os.environ, "AMQP_URI": amqp_uri, "VAR_DIR": str(tmp_path), "PYTHONPATH": os.getcwd()}
    proc = subprocess.Popen([sys.executable, "-m", "tests.integration.platform.mortal_service"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_for(lambda: answers(amqp_uri), timeout=60, interval=0.2, message="the service to answer")
        with ClusterRpcProxy({"AMQP_URI": amqp_uri}, timeout=5) as cluster:
            cluster.mortal.die.call_async()  # the container may die before it answers
        wait_for(lambda: proc.poll() is not None, timeout=30, interval=0.1,
                 message="the process to exit after its container died")
        output = proc.stdout.read()
        assert proc.returncode == EXIT_DIED, output
        assert "service container died" in output
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
