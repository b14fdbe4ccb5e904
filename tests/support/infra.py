"""Real infrastructure for tests: a fresh RabbitMQ vhost per test, a fresh database per service.

TEST_DATABASE=postgresql runs every service database on the local PostgreSQL (one throw-away
database each); the default is a SQLite file under the test's tmp_path.
"""
import os
import uuid

import eventlet
import psycopg2
import pytest
import requests
from nameko.containers import ServiceContainer

from services.common import clock
from services.common.config import service_config
from tests.support.private_broker import make_private_config, private_rabbit  # noqa: F401 — fixtures
from tests.support.private_postgres import private_postgres  # noqa: F401 — fixture

RABBIT_HOST = os.environ.get("TEST_RABBIT_HOST", "127.0.0.1")
RABBIT_MGMT = os.environ.get("TEST_RABBIT_MGMT", f"http://{RABBIT_HOST}:15672")
PG_DSN = os.environ.get("TEST_PG_DSN", "host=127.0.0.1 port=5432 user=postgres dbname=postgres")
AUTH = ("guest", "guest")


def wait_for(predicate, timeout=15.0, interval=0.01, message="condition"):
    """Poll until predicate() is truthy (returns it); fail the test after `timeout` seconds."""
    deadline = eventlet.hubs.get_hub().clock() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if eventlet.hubs.get_hub().clock() > deadline:
            raise AssertionError(f"timed out waiting for {message}")
        eventlet.sleep(interval)


def _try_put(url):
    """The answer, or None while the broker restarts (the outage test stops it)."""
    try:
        return requests.put(url, auth=AUTH, timeout=10)
    except requests.ConnectionError:
        return None


@pytest.fixture
def amqp_uri():
    vhost = f"test-{uuid.uuid4().hex[:12]}"
    r = wait_for(lambda: _try_put(f"{RABBIT_MGMT}/api/vhosts/{vhost}"), timeout=60, interval=0.5,
                 message="the RabbitMQ management API (rabbitmq-plugins enable rabbitmq_management)")
    assert r.status_code in (201, 204), r.text
    r = requests.put(f"{RABBIT_MGMT}/api/permissions/{vhost}/guest", auth=AUTH, timeout=10,
                     json={"configure": ".*", "write": ".*", "read": ".*"})
    assert r.status_code in (201, 204), r.text
    yield f"amqp://guest:guest@{RABBIT_HOST}:5672/{vhost}"
    requests.delete(f"{RABBIT_MGMT}/api/vhosts/{vhost}", auth=AUTH, timeout=10)


def queue_depth(amqp_uri, name):
    """Messages ready in a queue, read now over AMQP (the management API's figures lag by seconds);
    None when the queue does not exist."""
    from kombu import Connection
    with Connection(amqp_uri) as conn:
        try:
            _, messages, _ = conn.channel().queue_declare(name, passive=True)
        except Exception:  # noqa: BLE001 — NOT_FOUND
            return None
        return messages


@pytest.fixture
def database_url(tmp_path):
    """database_url(service) → a fresh, empty database URL for that service."""
    created = []
    backend = os.environ.get("TEST_DATABASE", "sqlite")

    def make(service):
        if backend == "postgresql":
            name = f"t_{uuid.uuid4().hex[:10]}_{service}"
            conn = psycopg2.connect(PG_DSN)
            conn.autocommit = True
            conn.cursor().execute(f'CREATE DATABASE "{name}"')
            conn.close()
            created.append(name)
            return f"postgresql+psycopg2://postgres@127.0.0.1:5432/{name}"
        return f"sqlite:///{tmp_path}/{service}-{uuid.uuid4().hex[:6]}.db"

    yield make
    for name in created:
        conn = psycopg2.connect(PG_DSN)
        conn.autocommit = True
        conn.cursor().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.close()


@pytest.fixture
def make_config(amqp_uri, database_url, tmp_path):
    def make(service, **overrides):
        environ = {"VAR_DIR": str(tmp_path / "var"), "AMQP_URI": amqp_uri}
        config = service_config(service, environ=environ)
        config["DATABASE_URL"] = database_url(service)
        config.update(overrides)
        return config
    return make


@pytest.fixture
def start_service():
    """start_service(ServiceClass, config) → a running nameko container, stopped after the test."""
    containers = []

    def start(cls, config):
        container = ServiceContainer(cls, config)
        containers.append(container)
        container.start()
        return container

    yield start
    for container in reversed(containers):
        try:
            with eventlet.Timeout(20):
                container.stop()
        except BaseException:  # noqa: BLE001
            container.kill()


def dependency(container, attr_name):
    """The bound provider behind `attr_name` of a running service container."""
    return next(d for d in container.dependencies if d.attr_name == attr_name)


@pytest.fixture
def frozen_clock():
    """frozen_clock(datetime) freezes services.common.clock; released after the test."""
    yield clock.set_now
    clock.set_now(None)
