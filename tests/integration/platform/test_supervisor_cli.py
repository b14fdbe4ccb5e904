"""`python -m services run` against the real broker: when no service can start, it says so and fails."""
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.integration


def test_make_run_fails_when_every_service_refuses_to_start(amqp_uri, tmp_path):
    # Production mode with the development secrets: every service refuses its configuration.
    env = {**os.environ, "APP_ENV": "production", "AMQP_URI": amqp_uri, "VAR_DIR": str(tmp_path),
           "PYTHONPATH": os.getcwd()}
    done = subprocess.run([sys.executable, "-m", "services", "run"], env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode != 0, done.stdout + done.stderr
    assert "no service could be started" in done.stderr
