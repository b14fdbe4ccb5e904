"""A broker outage delays events and never drops or doubles them.

RabbitMQ is stopped (rabbitmqctl stop_app) while events are being committed, then started: the
relay keeps unsent rows and publishes them once the broker is back, the consumer reconnects, and
exactly one task exists per submission attempt.
"""
import shutil
import subprocess

import pytest
from nameko.standalone.rpc import ClusterRpcProxy
from sqlalchemy import insert

from tests.support.infra import dependency, wait_for

from .test_bus import count
from .toy_services import Consumer, Publisher, submissions, submitted

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(shutil.which("rabbitmqctl") is None, reason="needs the local RabbitMQ's rabbitmqctl")]


def rabbitmqctl(*args):
    subprocess.run(["rabbitmqctl", *args], check=True, capture_output=True, timeout=120)


def test_events_committed_during_an_outage_arrive_once(make_config, start_service):
    pub_cfg, con_cfg = make_config("registration"), make_config("review")
    publisher = start_service(Publisher, pub_cfg)
    consumer = start_service(Consumer, con_cfg)
    with ClusterRpcProxy({"AMQP_URI": pub_cfg["AMQP_URI"]}) as cluster:
        for i in range(30):
            cluster.registration.submit(f"before-{i}")
    db = dependency(publisher, "db")
    rabbitmqctl("stop_app")
    try:
        # Submissions keep committing while the broker is away (the state change and its event in
        # one transaction, as the service layer does); the relay cannot publish them yet.
        for i in range(30):
            with db_uow(db) as uow:
                uow.session.execute(insert(submissions).values(application_id=f"during-{i}"))
                uow.publish(submitted(f"during-{i}"))
    finally:
        rabbitmqctl("start_app")
        rabbitmqctl("await_startup")
    wait_for(lambda: count(consumer) == 60, timeout=90, message="all 60 tasks after the outage")
    with ClusterRpcProxy({"AMQP_URI": pub_cfg["AMQP_URI"]}) as cluster:
        cluster.registration.submit("after")
    wait_for(lambda: count(consumer) == 61, timeout=30, message="the service works after the outage")
    assert count(consumer) == 61


def db_uow(db):
    from services.common.db import UnitOfWork
    return UnitOfWork(db.engine, db.metadata, on_commit_with_events=db.wake_relay)
