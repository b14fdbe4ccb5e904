"""Run one nameko service in this process: `python -m services.<svc> run`.

The caller's __main__ must have done `eventlet.monkey_patch()` before importing anything else.
"""
import logging
import signal
import sys

import eventlet
from kombu import Connection
from nameko.runners import ServiceRunner

from .config import ConfigError, service_config
from .logs import setup_logging

log = logging.getLogger(__name__)

BROKER_HELP = """无法连接消息中间件 RabbitMQ（{uri}）：{error}
RabbitMQ is not reachable at {uri}: {error}
  - start it on this machine:   rabbitmq-server -detached    (or: sudo systemctl start rabbitmq-server)
  - or with Docker:             docker compose up -d rabbitmq
  - or point AMQP_URI at a running broker, e.g. AMQP_URI=amqp://user:pass@host:5672/
"""


def check_broker(uri):
    """None when the broker answers, else a message that says how to fix it."""
    try:
        with Connection(uri, connect_timeout=3) as conn:
            conn.ensure_connection(max_retries=1)
        return None
    except Exception as exc:  # noqa: BLE001
        safe_uri = uri.split("@")[-1]
        return BROKER_HELP.format(uri=safe_uri, error=exc)


def run(service_cls, **overrides):
    name = service_cls.name
    try:
        config = service_config(name, **overrides)
    except ConfigError as exc:
        print(f"{name}: {exc}", file=sys.stderr)
        return 2
    setup_logging(name, config.get("LOG_LEVEL", "INFO"))
    problem = check_broker(config["AMQP_URI"])
    if problem:
        print(problem, file=sys.stderr)
        return 3
    runner = ServiceRunner(config)
    runner.add_service(service_cls)
    stop = eventlet.event.Event()

    def on_signal(signum, frame):
        if not stop.ready():
            stop.send(signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    runner.start()
    log.info("%s started", name)
    runner_thread = eventlet.spawn(runner.wait)
    stop.wait()
    log.info("%s stopping", name)
    with eventlet.Timeout(30, False):
        runner.stop()
    runner.kill()
    runner_thread.kill()
    return 0
