"""A broker outage delays events and never drops or doubles them, and no service dies of it.

The broker here is a private RabbitMQ node (tests.support.private_broker): stopping it disturbs
nobody else on the machine. Slow tier: `make test-slow`.
"""
import eventlet
import pytest
from nameko.standalone.rpc import ClusterRpcProxy
from sqlalchemy import insert, select

from services.common.db import UnitOfWork
from services.common.runner import forgive_lost_rpc_replies
from tests.support.infra import dependency, wait_for

from .test_bus import count, task_rows
from .toy_services import Consumer, Publisher, submissions, submitted

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(600)]


def db_uow(db):
    return UnitOfWork(db.engine, db.metadata, on_commit_with_events=db.wake_relay, cipher=db.cipher)


def submit(uri, application_id, timeout=5):
    """One try by a client: True when the service answered."""
    try:
        with ClusterRpcProxy({"AMQP_URI": uri}, timeout=timeout) as cluster:
            cluster.registration.submit_once(application_id)
        return True
    except BaseException:  # noqa: BLE001 — broker away, reply lost, deadline: the client tries again
        return False


def test_events_committed_during_an_outage_arrive_once(private_rabbit, make_private_config, start_service):
    pub_cfg, con_cfg = make_private_config("registration"), make_private_config("review")
    publisher = start_service(Publisher, pub_cfg)
    consumer = start_service(Consumer, con_cfg)
    for i in range(30):
        assert submit(pub_cfg["AMQP_URI"], f"before-{i}")
    db = dependency(publisher, "db")
    private_rabbit.stop_app()
    try:
        # Submissions keep committing while the broker is away (the state change and its event in
        # one transaction, as the service layer does); the relay cannot publish them yet.
        for i in range(30):
            with db_uow(db) as uow:
                uow.session.execute(insert(submissions).values(application_id=f"during-{i}"))
                uow.publish(submitted(f"during-{i}"))
    finally:
        private_rabbit.start_app()
    wait_for(lambda: count(consumer) == 60, timeout=90, message="all 60 tasks after the outage")
    wait_for(lambda: submit(pub_cfg["AMQP_URI"], "after"), timeout=60, interval=0.5,
             message="the service to answer after the outage")
    wait_for(lambda: count(consumer) == 61, timeout=30, message="the service works after the outage")
    assert count(consumer) == 61


def test_services_survive_an_outage_during_a_load_of_submissions(private_rabbit, make_private_config,
                                                                 start_service):
    forgive_lost_rpc_replies()  # as services.common.runner.run does
    pub_cfg, con_cfg = make_private_config("registration"), make_private_config("review")
    publisher = start_service(Publisher, pub_cfg)
    consumer = start_service(Consumer, con_cfg)
    uri = pub_cfg["AMQP_URI"]
    accepted = []

    def client(n):
        for i in range(n):
            application_id = f"load-{i}"
            # A client retries until it gets an answer (submit_once is safe to retry).
            wait_for(lambda app=application_id: submit(uri, app), timeout=120, interval=0.2,
                     message=f"{application_id} to be accepted")
            accepted.append(application_id)

    load = eventlet.spawn(client, 60)
    wait_for(lambda: len(accepted) >= 10, timeout=60, message="the load to be under way")
    private_rabbit.stop_app()
    eventlet.sleep(0)  # let the clients meet the outage
    wait_for(lambda: not submit(uri, "probe", timeout=1), timeout=30, message="the outage to be felt")
    private_rabbit.start_app()
    load.wait()
    assert not publisher._died.ready() and not consumer._died.ready()  # nobody died of it
    wait_for(lambda: {a for a, _ in task_rows(consumer)} >= set(accepted), timeout=90,
             message="every accepted submission reviewed")
    tasks = [a for a, _ in task_rows(consumer)]
    with dependency(publisher, "db").engine.connect() as conn:
        submitted_ids = [row.application_id for row in conn.execute(select(submissions.c.application_id))]
    assert sorted(submitted_ids) == sorted(set(submitted_ids))  # no submission twice
    assert sorted(tasks) == sorted(submitted_ids)  # each committed submission reviewed exactly once
    assert set(accepted) <= set(tasks)  # nothing accepted was lost


def test_a_service_killed_mid_load_loses_and_doubles_nothing(private_rabbit, make_private_config,
                                                             start_service, tmp_path):
    import os
    import signal
    import subprocess
    import sys

    from sqlalchemy import create_engine

    con_cfg = make_private_config("review")
    consumer = start_service(Consumer, con_cfg)
    uri = con_cfg["AMQP_URI"]
    database = f"sqlite:///{tmp_path}/publisher.db"
    env = {**os.environ, "AMQP_URI": uri, "REGISTRATION_DATABASE_URL": database, "VAR_DIR": str(tmp_path),
           "PYTHONPATH": os.getcwd()}

    def start_publisher():
        return subprocess.Popen([sys.executable, "-m", "tests.integration.platform.toy_runner"], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    publisher = start_publisher()
    accepted = []

    def client(n):
        for i in range(n):
            wait_for(lambda app=f"kill-{i}": submit(uri, app, timeout=3), timeout=180, interval=0.2,
                     message=f"kill-{i} to be accepted")
            accepted.append(f"kill-{i}")

    try:
        load = eventlet.spawn(client, 60)
        wait_for(lambda: len(accepted) >= 20, timeout=120, message="the load to be under way")
        os.kill(publisher.pid, signal.SIGKILL)  # no goodbye: whatever was in flight stays in flight
        publisher.wait()
        publisher = start_publisher()  # what compose's restart: or `make run` does
        load.wait()
        wait_for(lambda: {a for a, _ in task_rows(consumer)} >= set(accepted), timeout=120,
                 message="every accepted submission reviewed")
    finally:
        publisher.kill()
        publisher.wait()
    tasks = [a for a, _ in task_rows(consumer)]
    with create_engine(database).connect() as conn:
        submitted_ids = [row.application_id for row in conn.execute(select(submissions.c.application_id))]
    assert sorted(submitted_ids) == sorted(set(submitted_ids))
    assert sorted(tasks) == sorted(submitted_ids)
    assert set(accepted) == {f"kill-{i}" for i in range(60)}
