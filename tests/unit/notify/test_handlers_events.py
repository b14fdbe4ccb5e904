"""The notify service layer on a fake unit of work (no SQLite, no broker): an event becomes its
SMS and email once, quiet hours hold a message, a superseded attempt says nothing, retries."""
from datetime import datetime, timedelta, timezone

import pytest

from services.common import clock
from services.notify.adapters import PermanentFailure, TemporaryFailure
from services.notify.handlers import Notifier

from .builders import BEIJING, CIPHER, NOON, TEMPLATES, rejected, settings, submitted
from .fakes import FakeChannel, fake_db


@pytest.fixture
def now():
    clock.set_now(NOON)
    yield clock.set_now
    clock.set_now(None)


@pytest.fixture
def make(now):
    def build(sms=None, email=None, **changes):
        channels = {"sms": sms or FakeChannel(), "email": email or FakeChannel()}
        return Notifier(fake_db(), CIPHER, TEMPLATES, channels, settings(**changes))
    return build


def stored(notifier):
    return notifier.db.uow.notifications


def published(notifier):
    return notifier.db.uow.published_types()


def test_a_submission_becomes_one_sms_and_one_email_both_delivered(make):
    notifier = make()
    ids = notifier.application_submitted(submitted(), "notify", "13812345678", "a@b.cn")
    assert len(ids) == 2 and [stored(notifier).state(i) for i in ids] == ["delivered", "delivered"]
    [sms], [email] = notifier.channels["sms"].sent, notifier.channels["email"].sent
    assert sms.recipient == "13812345678" and email.recipient == "a@b.cn" and email.subject
    assert published(notifier) == ["NotificationDelivered", "NotificationDelivered"]


def test_the_same_event_again_sends_nothing(make):
    notifier = make()
    event = submitted()
    notifier.application_submitted(event, "notify", "13812345678", "a@b.cn")
    assert notifier.already_handled(event, "notify")
    assert notifier.application_submitted(event, "notify", "13812345678", "a@b.cn") == []
    assert len(notifier.channels["sms"].sent) == 1 and len(stored(notifier).stored) == 2


def test_without_an_email_address_only_the_sms_goes(make):
    notifier = make()
    assert len(notifier.application_submitted(submitted(), "notify", "13812345678", None)) == 1
    assert notifier.channels["email"].sent == []


def test_quiet_hours_hold_the_message_until_eight(make, now):
    now(datetime(2020, 7, 3, 23, 30, tzinfo=BEIJING).astimezone(timezone.utc))
    notifier = make()
    [sms_id, _] = notifier.application_submitted(submitted(), "notify", "13812345678", "a@b.cn")
    assert stored(notifier).state(sms_id) == "queued" and notifier.channels["sms"].sent == []
    morning = datetime(2020, 7, 4, 8, 0, tzinfo=BEIJING).astimezone(timezone.utc)
    now(morning - timedelta(seconds=1))
    assert notifier.process_due() == 0
    now(morning)
    assert notifier.process_due() == 2
    assert stored(notifier).state(sms_id) == "delivered"


def test_a_rejection_of_a_superseded_attempt_says_nothing(make):
    notifier = make()
    notifier.application_submitted(submitted(attempt=2), "notify", "13812345678", None)
    assert notifier.review_completed(rejected(attempt=1), "notify", "13812345678", None, None) == []
    assert len(notifier.review_completed(rejected(attempt=2), "notify", "13812345678", None, None)) == 1


def test_a_temporary_failure_is_retried_and_a_permanent_one_fails_at_once(make, now):
    notifier = make(sms=FakeChannel(TemporaryFailure("HTTP 503"), "ok"), email=FakeChannel(PermanentFailure("550")))
    sms_id, email_id = notifier.application_submitted(submitted(), "notify", "13812345678", "a@b.cn")
    assert (stored(notifier).state(sms_id), stored(notifier).state(email_id)) == ("queued", "failed")
    assert published(notifier) == ["NotificationFailed"]
    now(NOON + timedelta(seconds=30))
    assert notifier.process_due() == 1
    assert stored(notifier).state(sms_id) == "delivered"
    [listed] = [m for m in notifier.list_notifications("delivered")]
    assert [a["outcome"] for a in listed["delivery_attempts"]] == ["temporary", "delivered"]


def test_a_code_is_one_message_however_often_it_is_asked_for(make):
    notifier = make()
    expires = (NOON + timedelta(minutes=5)).isoformat()
    answer = notifier.send_code("13812345678", "604318", "register", expires)
    assert answer["state"] == "delivered"
    assert notifier.send_code("13812345678", "604318", "register", expires) == answer
    assert len(notifier.channels["sms"].sent) == 1


def test_events_in_one_group_are_each_recorded_once(make):
    notifier = make()
    captured = []
    notifier.store_group = lambda write_many, work: captured.append(work) or ([], [])
    event = submitted()
    notifier.application_submitted(event, "notify", "13812345678", "a@b.cn")
    notifier.application_submitted(event, "notify", "13812345678", "a@b.cn")  # redelivered meanwhile
    notifier.application_submitted(submitted(application_id="app-2"), "notify", "13912345678", None)
    answers = notifier._store_events(captured)
    assert [len(ids) for ids, _ in answers] == [2, 0, 1]
    assert [[] for _ in captured] == [ids for ids, _ in notifier._store_events(captured)]
