"""The notify service layer over its real repository and database (SQLite, or PostgreSQL under
TEST_DATABASE=postgresql) with fake channels and a controlled clock, no broker: what is sealed at rest,
what reaches the outbox. The same service layer on fake units of work: tests/unit/notify."""
import json
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, update

from services.common import clock
from services.common.config import DEV_SECRETS
from services.common.crypto import DataCipher
from services.common.db import UnitOfWork, create_schema, make_engine
from services.common.outbox import environment_cipher, open_payload
from services.contracts.errors import Conflict, NotFound
from services.contracts.events import new_event
from services.notify import metrics
from services.notify.adapters import PermanentFailure, TemporaryFailure
from services.notify.domain import triggers
from services.notify.domain.quiet_hours import QuietHoursPolicy
from services.notify.domain.retry import RetryPolicy
from services.notify.handlers import Notifier, Settings
from services.notify.models import Base, DeliveryAttempt, Notification
from services.notify.repository import repositories
from tests.unit.notify.builders import BEIJING, NOON, TEMPLATES, rejected, submitted
from tests.unit.notify.fakes import FakeChannel

pytestmark = pytest.mark.integration


class Db:
    def __init__(self, url):
        self.engine = make_engine(url)
        create_schema(self.engine, Base.metadata)

    def uow(self):
        return UnitOfWork(self.engine, Base.metadata, repositories=repositories)


@pytest.fixture
def now():
    clock.set_now(NOON)
    yield clock.set_now
    clock.set_now(None)


@pytest.fixture
def make(database_url, now):
    def build(sms=None, email=None, **settings):
        options = {"quiet_hours": QuietHoursPolicy(), "retry": RetryPolicy(max_attempts=3, random=lambda: 0.5),
                   **settings}
        db = Db(database_url("notify"))
        cipher = DataCipher(DEV_SECRETS["DATA_KEYS"], DEV_SECRETS["BLIND_INDEX_KEY"])
        channels = {"sms": sms or FakeChannel(), "email": email or FakeChannel()}
        return Notifier(db, cipher, TEMPLATES, channels, Settings(**options))
    return build


def outbox(notifier):
    table = Base.metadata.tables["outbox"]
    with notifier.db.engine.connect() as conn:
        return [json.loads(open_payload(environment_cipher(), row.payload))  # sealed at rest
                for row in conn.execute(select(table.c.payload).order_by(table.c.id))]


def notification(notifier, notification_id):
    with notifier.db.engine.connect() as conn:
        return conn.execute(select(Notification).where(Notification.id == notification_id)).one()


def test_a_code_goes_at_once_and_the_same_request_is_the_same_message(make):
    notifier = make()
    expires = (NOON + timedelta(minutes=5)).isoformat()
    answer = notifier.send_code("13812345678", "604318", "register", expires)
    assert answer["state"] == "delivered"
    [message] = notifier.channels["sms"].sent
    assert "604318" in message.body and message.params["code"] == "604318"
    assert notifier.send_code("13812345678", "604318", "register", expires) == answer
    assert notifier.send_code("13812345678", "604319", "register", expires)["notification_id"] != answer["notification_id"]
    [delivered, _] = outbox(notifier)
    assert delivered["type"] == "NotificationDelivered" and delivered["data"]["cause_event_id"] is None
    row = notification(notifier, answer["notification_id"])
    assert "604318" not in row.body_enc + row.params_enc + row.dedupe_key


def test_a_temporary_failure_is_retried_after_backoff_then_given_up(make, now):
    sms = FakeChannel(TemporaryFailure("HTTP 503"))
    notifier = make(sms=sms)
    [notification_id] = notifier.account_registered(new_event("AccountRegistered", "acc-1", {
        "account_id": "acc-1", "phone_masked": "138****5678", "registered_at": "2020-07-03T10:00:00+08:00"}),
        "notify", "13812345678")
    row = notification(notifier, notification_id)
    assert (row.state, row.attempts, row.next_attempt_at) == ("queued", 1, NOON + timedelta(seconds=30))
    assert metrics.RETRY_BACKLOG.labels("sms")._value.get() == 0  # not measured yet
    notifier.update_backlog()
    assert metrics.RETRY_BACKLOG.labels("sms")._value.get() == 1
    assert notifier.process_due() == 0  # not due yet
    now(NOON + timedelta(seconds=30))
    assert notifier.process_due() == 1
    assert notification(notifier, notification_id).next_attempt_at == NOON + timedelta(seconds=90)
    now(NOON + timedelta(seconds=90))
    failed_before = metrics.FAILED.labels("sms")._value.get()
    notifier.process_due()
    row = notification(notifier, notification_id)
    assert (row.state, row.attempts) == ("failed", 3) and row.failure_reason == "已尝试3次仍失败：HTTP 503"
    assert metrics.FAILED.labels("sms")._value.get() == failed_before + 1
    assert metrics.RETRY_BACKLOG.labels("sms")._value.get() == 0
    [event] = outbox(notifier)
    assert event["type"] == "NotificationFailed" and event["data"]["attempts"] == 3
    assert len(sms.sent) == 3 and {m.notification_id for m in sms.sent} == {notification_id}


def test_a_permanent_failure_fails_at_once_and_an_unexpected_error_is_retried(make):
    notifier = make(sms=FakeChannel(PermanentFailure("号码无效")), email=FakeChannel(RuntimeError("bug")))
    ids = notifier.application_submitted(submitted(), "notify", "13812345678", "a@b.cn")
    sms, email = (notification(notifier, i) for i in ids)
    assert (sms.state, sms.failure_reason) == ("failed", "号码无效")
    assert (email.state, email.attempts) == ("queued", 1)
    with notifier.db.engine.connect() as conn:
        answers = conn.execute(select(DeliveryAttempt.outcome, DeliveryAttempt.provider_answer)
                               .where(DeliveryAttempt.notification_id == email.id)).all()
    assert answers == [("temporary", "发送时出错：RuntimeError")]


def test_one_message_per_event_channel_and_recipient(make):
    notifier = make()
    event = submitted()
    assert len(notifier.application_submitted(event, "notify", "13812345678", "a@b.cn")) == 2
    assert notifier.already_handled(event, "notify")
    assert notifier.application_submitted(event, "notify", "13812345678", "a@b.cn") == []
    assert len(notifier.channels["sms"].sent) == len(notifier.channels["email"].sent) == 1


def test_quiet_hours_hold_until_eight_and_process_due_releases(make, now):
    late = datetime(2020, 7, 3, 23, 30, tzinfo=BEIJING).astimezone(timezone.utc)
    now(late)
    notifier = make()
    [notification_id, _] = notifier.application_submitted(submitted(), "notify", "13812345678", "a@b.cn")
    row = notification(notifier, notification_id)
    morning = datetime(2020, 7, 4, 8, 0, tzinfo=BEIJING).astimezone(timezone.utc)
    assert (row.state, row.release_at, row.attempts) == ("queued", morning, 0)
    notifier.update_backlog()
    assert metrics.HELD.labels("sms")._value.get() == 1
    now(morning - timedelta(seconds=1))
    assert notifier.process_due() == 0
    now(morning)
    assert notifier.process_due() == 2
    assert notification(notifier, notification_id).state == "delivered"


def test_an_interrupted_send_is_taken_back_after_the_lease_and_a_late_answer_is_ignored(make, now):
    notifier = make(sending_lease=timedelta(seconds=60))
    event = submitted()
    [intent] = triggers.submission_receipt(event["data"], "13812345678", None)
    prepared = notifier._prepare(intent, event["id"], NOON)
    with notifier.db.uow() as uow:
        [(delivery, claim, _)] = notifier._insert(uow, [prepared], NOON)  # claimed, then the process "dies"
    now(NOON + timedelta(seconds=59))
    notifier.process_due()
    assert notification(notifier, delivery.notification_id).state == "sending"
    now(NOON + timedelta(seconds=61))
    notifier.process_due()
    taken = notification(notifier, delivery.notification_id)
    assert (taken.state, taken.attempts) == ("queued", 1)
    # the first send's answer arrives after all: its attempt was closed, the answer is only logged
    late = notifier._send(claim)
    assert notifier._record([late]) == {}
    now(NOON + timedelta(minutes=5))
    notifier.process_due()
    assert notification(notifier, delivery.notification_id).state == "delivered"
    with notifier.db.engine.connect() as conn:
        outcomes = conn.execute(select(DeliveryAttempt.number, DeliveryAttempt.outcome)
                                .where(DeliveryAttempt.notification_id == delivery.notification_id)
                                .order_by(DeliveryAttempt.number)).all()
    assert outcomes == [(1, "temporary"), (2, "delivered")]


def test_a_late_rejection_of_an_earlier_attempt_says_nothing(make):
    notifier = make()
    notifier.application_submitted(submitted(attempt=2), "notify", "13812345678", None)
    assert notifier.review_completed(rejected(attempt=1), "notify", "13812345678", None, None) == []
    assert len(notifier.review_completed(rejected(attempt=2), "notify", "13812345678", None, None)) == 1


def test_resend_rules(make):
    notifier = make(email=FakeChannel(PermanentFailure("550 no such user"), "ok"))
    [_, email_id] = notifier.application_submitted(submitted(), "notify", "13812345678", "a@b.cn")
    [failed] = notifier.list_notifications()
    assert failed["id"] == email_id and failed["recipient_masked"] == "a***@b.cn"
    answer = notifier.resend(email_id)
    assert answer["state"] == "delivered" and answer["resend_of"] == email_id
    first, second = notifier.channels["email"].sent
    assert (first.body, first.subject) == (second.body, second.subject)
    assert first.notification_id != second.notification_id
    with notifier.db.engine.begin() as conn:
        conn.execute(update(Notification).where(Notification.id == answer["notification_id"]).values(state="queued"))
    with pytest.raises(Conflict, match="正在发送中"):
        notifier.resend(email_id)
    with pytest.raises(NotFound):
        notifier.resend("nope")
    code = notifier.send_code("13812345678", "604318", "login", (NOON + timedelta(minutes=5)).isoformat())
    with pytest.raises(Conflict, match="验证码不重发"):
        notifier.resend(code["notification_id"])


def test_a_code_is_failed_not_sent_once_expired(make, now):
    notifier = make(sms=FakeChannel(TemporaryFailure("HTTP 503")), retry=RetryPolicy(random=lambda: 0.5))
    answer = notifier.send_code("13812345678", "604318", "login", (NOON + timedelta(seconds=80)).isoformat())
    assert answer["state"] == "queued"  # first retry (30 s) is inside the validity
    now(NOON + timedelta(seconds=30))
    notifier.process_due()  # second failure: the next retry (60 s later) would be after expiry
    row = notification(notifier, answer["notification_id"])
    assert row.state == "failed" and row.failure_reason.startswith("有效期内无法再重试")
    assert len(notifier.channels["sms"].sent) == 2


def test_events_recorded_in_one_group_keep_every_guarantee(make):
    """The group commit's path: several events in one unit of work. A repeat inside the group or
    from before creates nothing, each message once, a late rejection of a superseded attempt is
    still ignored when the newer submission is in the same group."""
    notifier = make()
    before = submitted(application_id="app-0")
    notifier.application_submitted(before, "notify", "13800000000", None)  # recorded alone, earlier
    captured = []
    notifier.store_group = lambda write_many, work: captured.append(work) or ([], [])
    newer, other = submitted(attempt=2), submitted(application_id="app-2")
    notifier.application_submitted(newer, "notify", "13812345678", "a@b.cn")
    notifier.application_submitted(newer, "notify", "13812345678", "a@b.cn")  # redelivered meanwhile
    notifier.application_submitted(other, "notify", "13912345678", None)
    notifier.review_completed(rejected(attempt=1), "notify", "13812345678", "a@b.cn", None)
    notifier.application_submitted(before, "notify", "13800000000", None)
    assert len(captured) == 5

    answers = notifier._store_events(captured)
    created = [len(ids) for ids, _ in answers]
    assert created == [2, 0, 1, 0, 0]
    notifier.deliver([claim for _, claims in answers for claim in claims])
    assert [m.recipient for m in notifier.channels["sms"].sent] == ["13800000000", "13812345678", "13912345678"]
    assert [m.recipient for m in notifier.channels["email"].sent] == ["a@b.cn"]
    delivered = [e for e in outbox(notifier) if e["type"] == "NotificationDelivered"]
    assert len(delivered) == 4 and len({e["data"]["notification_id"] for e in delivered}) == 4
    # and the same group again (the broker redelivers it all) changes nothing
    assert [ids for ids, _ in notifier._store_events(captured)] == [[]] * 5
    processed = Base.metadata.tables["processed_events"]
    with notifier.db.engine.connect() as conn:
        assert len(conn.execute(select(processed.c.event_id)).scalars().all()) == 4


def test_a_group_of_answers_is_written_back_row_by_row(make, now):
    """Answers recorded together (one statement per table on PostgreSQL): each row gets its own
    state and each attempt its own answer."""
    sms = FakeChannel(TemporaryFailure("HTTP 503"), PermanentFailure("号码无效"), "ok")
    notifier = make(sms=sms)
    captured = []
    notifier.record_group = lambda write_many, sent: captured.append(sent) or {}
    events = [submitted(application_id=f"app-{i}") for i in range(4)]
    ids = [notifier.application_submitted(event, "notify", f"1380000000{i}", f"a{i}@b.cn")
           for i, event in enumerate(events)]
    answers = [sent for group in captured for sent in group]
    assert len(answers) == 8
    states = notifier._record(answers)
    rows = {i: notification(notifier, i) for pair in ids for i in pair}
    assert sorted(r.state for r in rows.values()) == ["delivered"] * 6 + ["failed", "queued"]
    assert sum(state == "delivered" for state in states.values()) == 6
    with notifier.db.engine.connect() as conn:
        attempts = dict(conn.execute(select(DeliveryAttempt.notification_id, DeliveryAttempt.outcome)).all())
    assert sorted(attempts.values()) == ["delivered"] * 6 + ["permanent", "temporary"]
    for notification_id, row in rows.items():
        assert row.updated_at == NOON and (row.finished_at is not None) == (row.state != "queued")
        assert (row.provider_message_id is not None) == (row.state == "delivered")
        assert attempts[notification_id] == {"delivered": "delivered", "failed": "permanent",
                                             "queued": "temporary"}[row.state]
    queued = next(r for r in rows.values() if r.state == "queued")
    assert queued.next_attempt_at == NOON + timedelta(seconds=30) and queued.attempts == 1
    assert len([e for e in outbox(notifier) if e["type"] == "NotificationDelivered"]) == 6


def test_new_rows_are_stored_as_given_and_a_repeated_key_is_already_recorded(make):
    """`add` writes a group's rows in one statement per table (arrays on PostgreSQL): every column as
    given, the attempt rows with them, and a dedupe key stored before refused as AlreadyRecorded."""
    from services.notify.domain.records import AlreadyRecorded
    from services.notify.handlers import Prepared
    from services.notify.models import BODY, PARAMS, RECIPIENT

    notifier = make()
    later = NOON + timedelta(hours=1)
    prepared = [Prepared(id=f"n-{i}", dedupe_key=f"key-{i}", kind="submission_receipt", channel="sms",
                         recipient=f"1381234567{i}", subject=None if i else "主题", body=f"正文 {i}",
                         params={"n": i, "名": "张"}, template="submission_receipt.sms.j2", version=2,
                         release_at=NOON if i else later, expires_at=later if i else None,
                         cause_event_id=f"e-{i}" if i else None, cause_event_type="ApplicationSubmitted")
                for i in range(3)]
    with notifier.db.uow() as uow:
        stored = notifier._insert(uow, prepared, NOON)
    assert [claim is None for _, claim, _ in stored] == [True, False, False]  # the first is not due yet
    cipher = environment_cipher()
    for p in prepared:
        row = notification(notifier, p.id)
        assert (row.dedupe_key, row.kind, row.channel, row.subject, row.template, row.template_version) == \
            (p.dedupe_key, p.kind, p.channel, p.subject, p.template, p.version)
        assert (row.release_at, row.expires_at, row.cause_event_id, row.created_at, row.updated_at) == \
            (p.release_at, p.expires_at, p.cause_event_id, NOON, NOON)
        assert (cipher.decrypt(row.recipient_enc, RECIPIENT), cipher.decrypt(row.body_enc, BODY),
                json.loads(cipher.decrypt(row.params_enc, PARAMS))) == (p.recipient, p.body, p.params)
        assert p.body not in row.body_enc and row.recipient_masked.startswith("138")
        assert (row.state, row.attempts) == (("queued", 0) if p.release_at > NOON else ("sending", 1))
    with notifier.db.engine.connect() as conn:
        attempts = conn.execute(select(DeliveryAttempt.notification_id, DeliveryAttempt.number,
                                       DeliveryAttempt.started_at).order_by(DeliveryAttempt.notification_id)).all()
    assert attempts == [("n-1", 1, NOON), ("n-2", 1, NOON)]
    again = Prepared(**{**prepared[1].__dict__, "id": "n-9"})
    with pytest.raises(AlreadyRecorded), notifier.db.uow() as uow:
        notifier._insert(uow, [again], NOON)
    assert len(notifier.list_notifications(limit=10)) == 3
