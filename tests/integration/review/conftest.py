"""The review service on the real broker and database, with a toy publisher named "registration".

The toy stands in for the registration service: it owns a database with the platform tables and
publishes ApplicationSubmitted through its outbox exactly as the real one does, so the review
service's subscription, de-duplication and DLQ run for real.
"""
import base64
from contextlib import contextmanager

import pytest
from kombu import Connection, Exchange, Queue
from nameko.rpc import rpc
from nameko.standalone.rpc import ClusterRpcProxy
from sqlalchemy import MetaData, func, select, update

from services.common import metrics
from services.common.db import create_schema, make_engine
from services.common.providers import Database, Subscriptions
from services.common.tables import add_platform_tables
from services.contracts.events import new_event
from services.contracts.subscriptions import SUBSCRIPTIONS
from services.review.models import AuditEntry, Base, Material, ReviewTask
from services.review.service import ReviewService
from tests.support.infra import dependency, queue_depth, wait_for

registration_meta = MetaData()
add_platform_tables(registration_meta)

REVIEWER = {"account_id": "reviewer-1", "roles": ["reviewer"], "verified": True}
REVIEWER_2 = {"account_id": "reviewer-2", "roles": ["reviewer"], "verified": True}
ADMIN = {"account_id": "admin-1", "roles": ["admin"], "verified": True}
APPLICANT = {"account_id": "applicant-1", "roles": ["applicant"], "verified": True}
OTHER_APPLICANT = {"account_id": "applicant-2", "roles": ["applicant"], "verified": True}


def submitted_data(application_id, attempt=1, account_id="applicant-1", material_ids=None, campaign_id="c2020",
                   district_code="110105", cert_level="INTERMEDIATE",
                   submitted_at="2020-07-03T10:15:00.000+08:00"):
    return {"application_id": application_id, "campaign_id": campaign_id, "account_id": account_id,
            "kind": "FIRST", "attempt": attempt, "cert_level": cert_level, "exam_year": 2019,
            "district_code": district_code, "material_ids": material_ids or {"photo": "m-none"},
            "submitted_at": submitted_at}


class RegistrationToy:
    """Publishes ApplicationSubmitted through the outbox, like the registration service."""
    name = "registration"
    db = Database(registration_meta)
    subscriptions = Subscriptions(SUBSCRIPTIONS)

    @rpc
    def submit(self, data):
        with self.db.uow() as uow:
            event = new_event("ApplicationSubmitted", data["application_id"], data)
            uow.publish(event)
        return event["id"]


def consumed_ok():
    return metrics.EVENTS_CONSUMED.labels("review", "ApplicationSubmitted", "ok")._value.get()


class Harness:
    def __init__(self, config, review, registration):
        self.config = config
        self.review = review
        self.registration = registration

    @contextmanager
    def rpc(self):
        with ClusterRpcProxy({"AMQP_URI": self.config["AMQP_URI"], "serializer": "json"}) as cluster:
            yield cluster.review

    @property
    def db(self):
        return dependency(self.review, "db")

    @property
    def store(self):
        from services.review.adapters.storage import MaterialStore
        from services.review.settings import ReviewSettings
        return MaterialStore(ReviewSettings.from_config(self.config).materials_dir,
                             dependency(self.review, "cipher").cipher)

    def upload(self, data, kind="photo", account_id="applicant-1", application_id="app-1"):
        with self.rpc() as review:
            return review.check_material(account_id, application_id, kind, base64.b64encode(data).decode())

    def submit(self, data):
        """Publish ApplicationSubmitted and wait until the review service handled it."""
        before = consumed_ok()
        with ClusterRpcProxy({"AMQP_URI": self.config["AMQP_URI"]}) as cluster:
            event_id = cluster.registration.submit(data)
        wait_for(lambda: consumed_ok() >= before + 1, message="ApplicationSubmitted handled")
        return event_id

    def task_for(self, application_id, attempt=1):
        with self.db.engine.connect() as conn:
            return conn.execute(select(ReviewTask.id).filter_by(
                application_id=application_id, attempt=attempt)).scalar()

    def count(self, model, *where):
        with self.db.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(model).where(*where)).scalar()

    def rows(self, model, *where):
        with self.db.engine.connect() as conn:
            return conn.execute(select(model.__table__).where(*where)).mappings().all()

    def audit(self, action=None):
        where = [AuditEntry.action == action] if action else []
        return self.rows(AuditEntry, *where)

    def materials(self, *where):
        return self.rows(Material, *where)

    def republish_registration_outbox(self):
        """The relay 'crashed' after publishing, before marking sent: it publishes every row again."""
        db = dependency(self.registration, "db")
        outbox = db.metadata.tables["outbox"]

        def all_marked_sent():  # the relay marks rows after the broker confirms: wait for that first
            with db.engine.connect() as conn:
                return conn.execute(select(func.count()).where(outbox.c.sent_at.is_(None))).scalar() == 0
        wait_for(all_marked_sent, message="the first publication marked sent")
        with db.engine.begin() as conn:
            conn.execute(update(outbox).values(sent_at=None))
        db.wake_relay()

    def outbox_pending(self):
        outbox = self.db.metadata.tables["outbox"]
        with self.db.engine.connect() as conn:
            return conn.execute(select(func.count()).where(outbox.c.sent_at.is_(None))).scalar()

    def bind_sink(self, name="sink", routing_key="ReviewCompleted"):
        with Connection(self.config["AMQP_URI"]) as conn:
            Queue(name, Exchange("review.events", "topic", durable=True), routing_key=routing_key,
                  durable=True, channel=conn.channel()).declare()
        return name

    def depth(self, queue):
        return queue_depth(self.config["AMQP_URI"], queue)

    def drain(self, queue):
        """Every message body in a queue (acked), as parsed JSON."""
        import json
        bodies = []
        with Connection(self.config["AMQP_URI"]) as conn:
            channel = conn.channel()
            while True:
                message = channel.basic_get(queue, no_ack=True)
                if message is None:
                    return bodies
                bodies.append(json.loads(message.body))


@pytest.fixture
def start_review(make_config, start_service):
    """start_review(**config overrides) → Harness: the review service and the toy publisher, running."""
    def start(**overrides):
        config = make_config("review", **overrides)
        review = start_service(ReviewService, config)
        registration = start_service(RegistrationToy, make_config("registration"))
        return Harness(config, review, registration)
    return start


@pytest.fixture
def review(start_review):
    return start_review()


@pytest.fixture
def engine(database_url):
    """A fresh review database with its schema, for repository-level tests (no service running)."""
    engine = make_engine(database_url("review"))
    create_schema(engine, Base.metadata)
    yield engine
    engine.dispose()
