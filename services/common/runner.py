"""Run one nameko service in this process: `python -m services.<svc> run`.

The caller's __main__ must have done `eventlet.monkey_patch()` before importing anything else.

A container that dies (an extension's thread raised) makes the process exit non-zero at once, so
whatever supervises it (compose's `restart:`, `python -m services run`) starts it again; a process
that stayed up with a dead container would look alive and serve nothing.
"""
import logging
import signal
import sys

import amqp.exceptions
import eventlet
from kombu import Connection
from kombu.exceptions import OperationalError
from nameko.amqp.publish import Publisher
from nameko.messaging import QueueConsumer
from nameko.rpc import Responder
from nameko.runners import ServiceRunner

from .config import ConfigError, service_config
from .logs import setup_logging
from .queues import quorum_rpc_queues

log = logging.getLogger(__name__)

EXIT_CONFIG = 2   # refused: the configuration is wrong (restarting will not help)
EXIT_BROKER = 3   # refused: the broker is not reachable
EXIT_DIED = 1     # the service container died while running

BROKER_HELP = """无法连接消息中间件 RabbitMQ（{uri}）：{error}
RabbitMQ is not reachable at {uri}: {error}
  - start it on this machine:   rabbitmq-server -detached    (or: sudo systemctl start rabbitmq-server)
  - or with Docker:             docker compose up -d rabbitmq
  - or point AMQP_URI at a running broker, e.g. AMQP_URI=amqp://user:pass@host:5672/
"""


BROKER_ERRORS = (OperationalError, amqp.exceptions.ConnectionError, ConnectionError, OSError)


class ForgivingReplyPublisher(Publisher):
    """Publishes RPC replies; when the broker is away, logs and drops the reply instead of raising.

    nameko publishes a reply on the worker's thread after the method ran; a connection error there
    kills the whole container (seen during a 10 s broker outage). A dropped reply costs little: the
    request was not acked on the lost connection, so the broker redelivers it, and the caller has a
    deadline of its own. Retries cover a blip of a few seconds first.

    Without publisher confirms: a confirm made every reply wait for a broker round trip on the
    worker, and protected nothing: a reply lost after the publish ends, like one dropped here, in
    the caller's deadline and retry.
    """
    retry_policy = {"max_retries": 4, "interval_start": 0.5, "interval_step": 0.5, "interval_max": 2}
    use_confirms = False

    def publish(self, payload, **kwargs):
        try:
            super().publish(payload, **kwargs)
        except BROKER_ERRORS as exc:
            log.warning("RPC reply not sent, the broker is unreachable (%s); the request will be redelivered",
                        exc)


def _let_go_when_disconnected(settle):
    """nameko's QueueConsumer catches only the built-in ConnectionError around ack/requeue; py-amqp
    raises its own (RecoverableConnectionError) on a dead connection, which kills the container.
    The broker takes back an unacked message when the connection dies, so there is nothing to do."""
    def settle_or_let_go(self, message):
        try:
            settle(self, message)
        except BROKER_ERRORS as exc:
            log.warning("message not settled, the broker is unreachable (%s); it will be redelivered", exc)
    settle_or_let_go.original = settle
    return settle_or_let_go


def forgive_lost_rpc_replies():
    """Let RPC entrypoints ride out a broker outage: replies and acks that cannot reach the broker are
    logged and let go instead of killing the container. Idempotent."""
    Responder.publisher_cls = ForgivingReplyPublisher
    for name in ("ack_message", "requeue_message"):
        settle = getattr(QueueConsumer, name)
        if not hasattr(settle, "original"):
            setattr(QueueConsumer, name, _let_go_when_disconnected(settle))


def stop_consumers_promptly(interval=0.1):
    """nameko's QueueConsumer (RPC and @consume entrypoints, RPC replies) notices a stop request only
    when drain_events returns, after kombu's safety_interval of 1 s — twice per stop, so a service
    took 2–3 s to stop (and a test's five services 12 s). Poll every `interval` instead, as our
    event consumer does; nothing else changes. Idempotent."""
    run = QueueConsumer.run
    if getattr(run, "prompt", False):
        return

    def prompt_run(self, _tokens=1, **kwargs):
        kwargs.setdefault("safety_interval", interval)
        return run(self, _tokens, **kwargs)
    prompt_run.prompt = True
    QueueConsumer.run = prompt_run


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
        return EXIT_CONFIG
    setup_logging(name, config.get("LOG_LEVEL", "INFO"))
    problem = check_broker(config["AMQP_URI"])
    if problem:
        print(problem, file=sys.stderr)
        return EXIT_BROKER
    forgive_lost_rpc_replies()
    stop_consumers_promptly()
    quorum_rpc_queues()
    runner = ServiceRunner(config)
    runner.add_service(service_cls)
    stop = eventlet.event.Event()

    def on_signal(signum, frame):
        if not stop.ready():
            stop.send(signum)

    def watch():
        """runner.wait() returns or raises only when a container stopped on its own."""
        try:
            runner.wait()
            cause = "stopped"
        except BaseException as exc:  # noqa: BLE001 — whatever killed it, the process must go
            cause = exc
        if not stop.ready():
            stop.send(("died", cause))

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    runner.start()
    log.info("%s started", name)
    watcher = eventlet.spawn(watch)
    reason = stop.wait()
    if isinstance(reason, tuple):
        log.critical("%s: service container died (%s); exiting so that it is restarted", name, reason[1])
        runner.kill()
        return EXIT_DIED
    log.info("%s stopping", name)
    with eventlet.Timeout(30, False):
        runner.stop()
    runner.kill()
    watcher.kill()
    return 0
