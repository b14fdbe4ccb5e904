"""The registration service on the real broker and database, with stand-ins for identity and review.

`world` starts the three containers on a fresh vhost, freezes the clock inside the 2020 window
(2020-07-03 10:15 Beijing) and offers the steps the tests combine.
"""
import base64
import itertools
import json
from datetime import datetime, timezone

import amqp
import pytest
from kombu import Connection, Exchange, Queue
from nameko.standalone.rpc import ClusterRpcProxy
from sqlalchemy import func, select

from services.common import metrics
from services.common.outbox import open_payload
from services.contracts.events import CONTENT_TYPE, new_event
from services.registration import models
from services.registration.service import RegistrationService
from tests.support.infra import dependency, wait_for

from . import peers

UTC = timezone.utc
INSIDE = datetime(2020, 7, 3, 2, 15, tzinfo=UTC)  # 2020-07-03 10:15 Beijing
ADMIN = {"account_id": "admin-1", "roles": ["admin"]}
REVIEWER = {"account_id": "reviewer-1", "roles": ["reviewer"]}
ROSTER_HEADER = ["姓名", "证件类型", "证件号码", "级别", "考试年度", "职业水平证书管理号", "批准日期", "本地有效"]
KINDS = ("id_card_front", "id_card_back", "certificate", "photo")

# Valid resident ID numbers (check characters right), all born before 2020.
PEOPLE = {
    "u-zhang": ("张三", "11010519491231002X"),
    "u-li": ("李四", "440524188001010014"),
    "u-wang": ("王五", "360426199101010071"),
    "u-zhao": ("赵六", "110101199003071233"),
    "u-sun": ("孙七", "110108198506150048"),
}

FORM = {
    "ethnicity": "01", "political_status": "13", "education": "BACHELOR", "major": "社会工作",
    "graduated_from": "北京大学", "graduated_on": "2015-07", "employer": "朝阳区阳光社会工作服务中心",
    "employer_category": "SOCIAL_WORK_AGENCY", "position": "社工", "years_in_social_work": 5,
    "service_district": "110105", "service_fields": ["SOCIAL_WELFARE", "COMMUNITY_BUILDING"],
    "mobile": "13800138000", "email": "applicant@example.com",
    "delivery": {"method": "MAIL", "recipient": "张三", "phone": "13800138000", "province": "北京市",
                 "city": "北京市", "district": "朝阳区", "address": "建国路88号院3号楼2单元501", "postcode": "100022"},
    "attestation": True, "consent_sensitive": True,
}


def campaign_2020(**changes):
    return {"name": "2020年北京市社会工作者职业水平证书首次登记", "kind": "FIRST",
            "eligible_exam_years": [2019], "eligible_levels": ["ASSISTANT", "INTERMEDIATE"],
            "opens_at": "2020-07-01T00:00", "closes_at": "2020-07-31T24:00", "delivery_methods": ["MAIL"],
            "exclude_local_only": True, "allow_resubmit_after_close": False, **changes}


def roster_row(account_or_name, id_number=None, level="中级", year="2019", number=None, local="否",
               approval="2019-12-20"):
    if id_number is None:
        name, id_number = PEOPLE[account_or_name]
    else:
        name = account_or_name
    return [name, "居民身份证", id_number, level, year, number or f"2019110{id_number[-10:-1]}", approval, local]


def csv_bytes(rows, encoding="utf-8", header=ROSTER_HEADER):
    text = "".join(",".join(str(c) for c in row) + "\r\n" for row in [header, *rows])
    return text.encode(encoding)


class EventLog:
    """An outside subscriber: a plain kombu queue bound to registration.events with '#'."""

    def __init__(self, amqp_uri):
        self.conn = Connection(amqp_uri)
        self.channel = self.conn.channel()
        Queue("test-registration-events", Exchange("registration.events", "topic", durable=True),
              routing_key="#", durable=True, channel=self.channel).declare()
        self.seen = []

    def drain(self):
        while True:
            message = self.channel.basic_get("test-registration-events", no_ack=True)
            if message is None:
                return
            self.seen.append(json.loads(message.body))

    def of_type(self, event_type):
        self.drain()
        return [e for e in self.seen if e["type"] == event_type]

    def wait(self, event_type, count=1):
        return wait_for(lambda: len(self.of_type(event_type)) >= count and self.of_type(event_type),
                        message=f"{count} {event_type} event(s)")

    def close(self):
        self.conn.release()


class World:
    def __init__(self, config, container, cluster, events, set_now):
        self.config = config
        self.container = container
        self.rpc = cluster.registration
        self.events = events
        self.set_now = set_now
        self._ids = itertools.count(1)

    # --- peers ---------------------------------------------------------------------------------
    def verified(self, account_id, name=None, id_number=None):
        default_name, default_id = PEOPLE.get(account_id, (None, None))
        peers.IdentityStandIn.people[account_id] = {
            "name": name or default_name, "id_type": "RESIDENT_ID", "id_number": id_number or default_id,
            "gender": None, "birth_date": None, "level": "format_checked",
            "verified_at": "2020-06-30T10:00:00.000+08:00"}
        return account_id

    def material(self, account_id, application_id, kind, ok=True):
        material_id = f"m-{next(self._ids)}"
        peers.ReviewStandIn.materials[material_id] = {
            "material_id": material_id, "application_id": application_id, "account_id": account_id,
            "kind": kind, "ok": ok}
        return material_id

    # --- admin ---------------------------------------------------------------------------------
    def campaign(self, **changes):
        return self.rpc.create_campaign(ADMIN, campaign_2020(**changes))

    def import_roster(self, content, filename="roster.csv", principal=ADMIN):
        return self.rpc.import_roster(principal, filename, base64.b64encode(content).decode())

    def roster(self, *rows):
        report = self.import_roster(csv_bytes(rows))
        assert report["refused"] == [], report
        return report

    # --- the applicant -------------------------------------------------------------------------
    def opened(self, account_id, campaign_id, row=None):
        self.verified(account_id)
        self.roster(row or roster_row(account_id))
        return self.rpc.open_application(account_id, campaign_id)

    def ready(self, account_id, campaign_id, row=None):
        """An application with the whole form filled and four accepted materials, not yet submitted."""
        app = self.opened(account_id, campaign_id, row)
        self.rpc.save_draft(account_id, app["id"], FORM)
        for kind in KINDS:
            app = self.rpc.attach_material(account_id, app["id"], kind, self.material(account_id, app["id"], kind))
        return app

    def submitted(self, account_id, campaign_id, key=None):
        app = self.ready(account_id, campaign_id)
        return self.rpc.submit(account_id, app["id"], key)

    def view(self, account_id, application_id):
        return self.rpc.get_application({"account_id": account_id, "roles": ["applicant"]}, application_id)

    # --- review --------------------------------------------------------------------------------
    def decide(self, application_id, attempt, decision, opinion=None, issues=(), event=None):
        event = event or new_event("ReviewCompleted", application_id, {
            "review_id": f"r-{next(self._ids)}", "application_id": application_id, "attempt": attempt,
            "decision": decision, "opinion": opinion, "material_issues": list(issues),
            "reviewer_id": REVIEWER["account_id"], "completed_at": "2020-07-05T09:30:00.000+08:00"})
        with Connection(self.config["AMQP_URI"]) as conn:
            conn.default_channel.basic_publish(
                amqp.Message(json.dumps(event, ensure_ascii=False).encode(), content_type=CONTENT_TYPE,
                             message_id=event["id"], type=event["type"], delivery_mode=2),
                exchange="review.events", routing_key="ReviewCompleted")
        return event

    def wait_state(self, account_id, application_id, state):
        return wait_for(lambda: (lambda v: v if v["state"] == state else None)(
            self.view(account_id, application_id)), message=f"state {state}")

    @staticmethod
    def handled():
        return metrics.EVENTS_CONSUMED.labels("registration", "ReviewCompleted", "ok")._value.get()

    def wait_handled(self, before, count=1):
        wait_for(lambda: self.handled() >= before + count, message=f"{count} ReviewCompleted handled")

    # --- the database --------------------------------------------------------------------------
    def count(self, model, *where):
        with dependency(self.container, "db").engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(model).where(*where)).scalar()

    def outbox(self, event_type):
        outbox = models.Base.metadata.tables["outbox"]
        with dependency(self.container, "db").engine.connect() as conn:
            rows = conn.execute(select(outbox.c.payload).where(outbox.c.event_type == event_type)
                                .order_by(outbox.c.id)).all()
        db = dependency(self.container, "db")
        return [json.loads(open_payload(db.cipher, r.payload)) for r in rows]  # sealed at rest


@pytest.fixture
def start_world(make_config, start_service, frozen_clock):
    """start_world(**config overrides) → World; the clock is frozen at INSIDE."""
    logs = []

    def start(**overrides):
        peers.reset()
        frozen_clock(INSIDE)
        config = make_config("registration", **overrides)
        container = start_service(RegistrationService, config)
        peer_config = {"AMQP_URI": config["AMQP_URI"], "serializer": "json", "max_workers": 10}
        start_service(peers.IdentityStandIn, dict(peer_config))
        start_service(peers.ReviewStandIn, dict(peer_config))
        events = EventLog(config["AMQP_URI"])
        logs.append(events)
        cluster = ClusterRpcProxy({"AMQP_URI": config["AMQP_URI"]}, timeout=30)
        logs.append(cluster)
        return World(config, container, cluster.start(), events, frozen_clock)

    yield start
    for item in reversed(logs):
        if isinstance(item, EventLog):
            item.close()
        else:
            item.stop()
    peers.reset()


@pytest.fixture
def world(start_world):
    return start_world()
