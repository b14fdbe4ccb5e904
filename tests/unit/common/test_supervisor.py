"""`python -m services run`'s supervisor: restarts what exits, gives up on what cannot start."""
import io
import sys
import threading

from services.__main__ import Supervisor
from tests.support.infra import wait_for

# A service that crashes on its first start and runs on its second (the file counts the starts).
FLAKY = """
import pathlib, sys, time
p = pathlib.Path(sys.argv[1]); n = int(p.read_text() or 0) + 1 if p.exists() else 1
p.write_text(str(n))
if n == 1:
    sys.exit(1)
time.sleep(600)
"""


def test_a_crashed_service_is_restarted_and_the_others_keep_running(tmp_path):
    starts = tmp_path / "starts"
    steady = tmp_path / "steady"
    out = io.StringIO()
    supervisor = Supervisor([("flaky", [sys.executable, "-c", FLAKY, str(starts)]),
                             ("steady", [sys.executable, "-c", FLAKY.replace("n == 1", "False"), str(steady)])],
                            first_backoff=0.1, out=out)
    result = {}
    thread = threading.Thread(target=lambda: result.setdefault("code", supervisor.run()))
    thread.start()
    try:
        wait_for(lambda: starts.exists() and starts.read_text() == "2", timeout=30, message="a restart")
        assert steady.read_text() == "1"  # the crash did not stop or restart the other service
        assert supervisor.children[1].proc.poll() is None
    finally:
        supervisor.stop()
        thread.join(60)
    assert result["code"] == 0
    assert "flaky exited with 1; restarting it" in out.getvalue()


def test_exits_non_zero_when_every_service_refuses_to_start():
    out = io.StringIO()
    supervisor = Supervisor([("a", [sys.executable, "-c", "raise SystemExit(2)"]),
                             ("b", [sys.executable, "-c", "raise SystemExit(3)"])],
                            first_backoff=0.01, give_up_after=2, out=out)
    assert supervisor.run() == 1
    text = out.getvalue()
    assert "a refused to start (exit 2: configuration); not restarting it" in text
    assert "b exited 3 times in a row without staying up; giving up on it" in text
