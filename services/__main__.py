"""python -m services run — the whole system on this machine, each service in its own process.

Development defaults: a SQLite file per service and images under var/, SMS and email written to
var/outbox/, the local RabbitMQ. Ctrl-C (or SIGTERM) stops every service gracefully.

A service that exits is started again after a pause that doubles on each quick failure (1 s, 2 s,
… 30 s); one that refused its configuration (exit 2), or failed RESTARTS_BEFORE_GIVING_UP times in
a row without staying up, is given up. When every service is given up this command exits 1.
"""
import os
import signal
import subprocess
import sys
import threading
import time

SERVICES = ["identity", "registration", "review", "notify", "gateway"]
EXIT_CONFIG = 2            # services.common.runner.EXIT_CONFIG: restarting will not help
STABLE_SECONDS = 60.0      # up this long: the next failure starts the backoff again from the bottom
RESTARTS_BEFORE_GIVING_UP = 5


def _pipe(name, stream):
    for line in iter(stream.readline, ""):
        sys.stdout.write(f"{name:>12} | {line}")
        sys.stdout.flush()


class Supervised:
    def __init__(self, name, argv):
        self.name, self.argv = name, argv
        self.proc = None
        self.started_at = 0.0
        self.failures = 0          # consecutive exits without staying up STABLE_SECONDS
        self.restart_at = None     # monotonic time of the next start, while waiting
        self.given_up = False


class Supervisor:
    """Starts the commands, restarts those that exit, stops them all on stop()."""

    def __init__(self, commands, first_backoff=1.0, max_backoff=30.0, stable_seconds=STABLE_SECONDS,
                 give_up_after=RESTARTS_BEFORE_GIVING_UP, env=None, out=sys.stderr):
        self.children = [Supervised(name, argv) for name, argv in commands]
        self.first_backoff, self.max_backoff = first_backoff, max_backoff
        self.stable_seconds, self.give_up_after = stable_seconds, give_up_after
        self.env, self.out = env, out
        self.stopping = threading.Event()

    def _say(self, text):
        print(text, file=self.out, flush=True)

    def _start(self, child):
        child.proc = subprocess.Popen(child.argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                      text=True, env=self.env)
        child.started_at = time.monotonic()
        child.restart_at = None
        threading.Thread(target=_pipe, args=(child.name, child.proc.stdout), daemon=True).start()

    def _exited(self, child, code):
        now = time.monotonic()
        child.proc = None
        child.failures = 1 if now - child.started_at >= self.stable_seconds else child.failures + 1
        if code == EXIT_CONFIG:
            child.given_up = True
            self._say(f"{child.name} refused to start (exit {code}: configuration); not restarting it")
        elif child.failures > self.give_up_after:
            child.given_up = True
            self._say(f"{child.name} exited {child.failures} times in a row without staying up; giving up on it")
        else:
            delay = min(self.max_backoff, self.first_backoff * 2 ** (child.failures - 1))
            child.restart_at = now + delay
            self._say(f"{child.name} exited with {code}; restarting it in {delay:g} s")

    def stop(self, *_):
        self.stopping.set()

    def run(self):
        """0 after stop(); 1 when every service was given up."""
        for child in self.children:
            self._start(child)
        while not self.stopping.is_set():
            for child in self.children:
                if child.proc is not None and child.proc.poll() is not None:
                    self._exited(child, child.proc.returncode)
                if child.restart_at is not None and time.monotonic() >= child.restart_at:
                    self._start(child)
            if all(child.given_up for child in self.children):
                self._say("no service could be started; see the messages above")
                return 1
            self.stopping.wait(0.2)
        self._terminate()
        return 0

    def _terminate(self):
        running = [child.proc for child in self.children if child.proc is not None and child.proc.poll() is None]
        for proc in running:
            proc.terminate()
        for proc in running:
            try:
                proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                proc.kill()


def main(argv):
    if argv[:1] != ["run"]:
        print("usage: python -m services run", file=sys.stderr)
        return 2
    from services.common.config import env
    from services.common.runner import check_broker

    problem = check_broker(env("AMQP_URI"))
    if problem:
        print(problem, file=sys.stderr)
        return 3
    os.makedirs(os.path.join(env("VAR_DIR"), "outbox"), exist_ok=True)
    seed = subprocess.run([sys.executable, "-m", "services.registration", "seed-demo"])
    if seed.returncode != 0:
        print("demo data could not be seeded (see above); continuing", file=sys.stderr)
    supervisor = Supervisor([(name, [sys.executable, "-m", f"services.{name}", "run"]) for name in SERVICES])
    signal.signal(signal.SIGINT, supervisor.stop)
    signal.signal(signal.SIGTERM, supervisor.stop)
    address = os.environ.get("GATEWAY_ADDRESS", "127.0.0.1:8000")
    print(f"\n  系统已启动 / running: http://{address}/   API: http://{address}/api/v1/openapi.json"
          f"\n  短信与邮件写入 / SMS and email go to: {env('VAR_DIR')}/outbox/\n  Ctrl-C 停止 / to stop\n",
          flush=True)
    return supervisor.run()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
