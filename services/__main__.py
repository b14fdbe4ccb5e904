"""python -m services run — the whole system on this machine, each service in its own process.

Development defaults: a SQLite file per service and images under var/, SMS and email written to
var/outbox/, the local RabbitMQ. Ctrl-C (or SIGTERM) stops every service gracefully.
"""
import os
import signal
import subprocess
import sys
import threading

SERVICES = ["identity", "registration", "review", "notify", "gateway"]


def _pipe(name, stream):
    for line in iter(stream.readline, ""):
        sys.stdout.write(f"{name:>12} | {line}")
        sys.stdout.flush()


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
    procs = []
    for name in SERVICES:
        proc = subprocess.Popen([sys.executable, "-m", f"services.{name}", "run"], stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
        threading.Thread(target=_pipe, args=(name, proc.stdout), daemon=True).start()
        procs.append((name, proc))
    address = os.environ.get("GATEWAY_ADDRESS", "127.0.0.1:8000")
    print(f"\n  系统已启动 / running: http://{address}/   API: http://{address}/api/v1/openapi.json"
          f"\n  短信与邮件写入 / SMS and email go to: {env('VAR_DIR')}/outbox/\n  Ctrl-C 停止 / to stop\n",
          flush=True)

    stopping = threading.Event()

    def stop(*_):
        stopping.set()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    while not stopping.is_set():
        for name, proc in procs:
            if proc.poll() is not None:
                print(f"{name} exited with {proc.returncode}; stopping the rest", file=sys.stderr)
                stopping.set()
        stopping.wait(1)
    for _, proc in procs:
        if proc.poll() is None:
            proc.terminate()
    for _, proc in procs:
        try:
            proc.wait(timeout=40)
        except subprocess.TimeoutExpired:
            proc.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
