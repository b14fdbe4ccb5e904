import os
import pathlib
import shutil
import subprocess
import sys

import pytest

from tests.support.infra import wait_for
from tests.support.system import system  # noqa: F401 — the whole system as a fixture

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
HERE = pathlib.Path(__file__).parent


@pytest.fixture
def chromium():
    if not shutil.which("chromium"):
        pytest.skip("Debian's chromium is not installed (apt-get install chromium fonts-wqy-zenhei)")
    return CHROMIUM


def drive(script, *args, timeout=420):
    """Run tests/browser/<script> in its own process; fail the test with its output if it fails."""
    env = {**os.environ, "PYTHONPATH": str(HERE.parent.parent)}
    proc = subprocess.Popen([sys.executable, str(HERE / script), *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, env=env)
    try:
        wait_for(lambda: proc.poll() is not None, timeout=timeout, interval=0.2, message=f"browser driver {script}")
    finally:
        if proc.poll() is None:  # timed out (or the test was interrupted): no orphaned chromium
            proc.kill()
            proc.wait()
    output = proc.stdout.read().decode(errors="replace")
    assert proc.returncode == 0, output
    return output
