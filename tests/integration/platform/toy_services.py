"""Two toy services on the real platform: a publisher (as "registration") and a consumer (as "review")."""
from nameko.rpc import rpc
from sqlalchemy import Column, Integer, MetaData, String, Table, UniqueConstraint, func, insert, select
from sqlalchemy.exc import OperationalError

from services.common.base import ServiceBase
from services.common.providers import Database, Subscriptions
from services.common.subscriber import subscribe
from services.common.tables import add_platform_tables
from services.contracts.events import new_event

publisher_meta = MetaData()
add_platform_tables(publisher_meta)
submissions = Table("submissions", publisher_meta, Column("id", Integer, primary_key=True),
                    Column("application_id", String(40)))

consumer_meta = MetaData()
add_platform_tables(consumer_meta)
tasks = Table("tasks", consumer_meta, Column("id", Integer, primary_key=True),
              Column("application_id", String(40)), Column("attempt", Integer),
              UniqueConstraint("application_id", "attempt"))

TOPOLOGY = [("review", "registration", "ApplicationSubmitted")]


def submitted(application_id, attempt=1):
    return new_event("ApplicationSubmitted", application_id, {
        "application_id": application_id, "campaign_id": "c1", "account_id": "a1", "kind": "FIRST",
        "attempt": attempt, "cert_level": "ASSISTANT", "exam_year": 2019, "district_code": "110105",
        "material_ids": {"photo": "m1"}, "submitted_at": "2020-07-03T10:15:00.000+08:00"})


class Publisher(ServiceBase):
    name = "registration"
    db = Database(publisher_meta)
    subscriptions = Subscriptions(TOPOLOGY)

    @rpc
    def submit(self, application_id, attempt=1):
        with self.db.uow() as uow:
            uow.session.execute(insert(submissions).values(application_id=application_id))
            uow.publish(submitted(application_id, attempt))

    @rpc
    def submit_once(self, application_id):
        """submit, made safe to retry (as the real submit is, by its idempotency key)."""
        with self.db.uow() as uow:
            if uow.session.execute(select(submissions.c.id).where(
                    submissions.c.application_id == application_id)).first():
                return
            uow.session.execute(insert(submissions).values(application_id=application_id))
            uow.publish(submitted(application_id))


class Consumer(ServiceBase):
    name = "review"
    db = Database(consumer_meta)
    failing = set()  # application ids whose handling raises (a fault the test can fix)
    database_away = set()  # application ids whose handling finds the database unreachable


    @subscribe("registration", "ApplicationSubmitted")
    def on_application_submitted(self, event):
        data = event["data"]
        if data["application_id"] in Consumer.failing:
            raise RuntimeError(f"fault while handling {data['application_id']}")
        if data["application_id"] in Consumer.database_away:
            raise OperationalError("INSERT INTO tasks", {}, ConnectionRefusedError("connection refused"))
        with self.db.uow() as uow:
            if not uow.first_time(event, self.name):
                return
            uow.session.execute(insert(tasks).values(application_id=data["application_id"],
                                                     attempt=data["attempt"]))

    @rpc
    def task_count(self):
        with self.db.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(tasks)).scalar()
