from datetime import datetime, timedelta, timezone

import pytest

from services.notify.domain.delivery import (
    Delivery,
    InvalidTransition,
    Outcome,
    State,
    dedupe_key,
    mask_recipient,
)
from services.notify.domain.retry import RetryPolicy

NOW = datetime(2020, 7, 3, 2, 0, tzinfo=timezone.utc)
POLICY = RetryPolicy(max_attempts=3, random=lambda: 0.5)


def record(**kwargs):
    fields = dict(notification_id="n-1", channel="sms", recipient="13812345678", template="approved",
                  version=1, cause_event_id="evt-1", not_before=NOW)
    return Delivery(**{**fields, **kwargs})


def test_happy_path_records_the_attempt():
    delivery = record()
    assert delivery.is_due(NOW) and delivery.start(NOW) is True
    assert delivery.state is State.SENDING
    delivery.delivered(NOW + timedelta(seconds=1), "prov-9", "HTTP 200 ok")
    assert delivery.state is State.DELIVERED
    (attempt,) = delivery.attempts
    assert (attempt.number, attempt.started_at, attempt.finished_at) == (1, NOW, NOW + timedelta(seconds=1))
    assert (attempt.outcome, attempt.provider_message_id, attempt.provider_answer) == (
        Outcome.DELIVERED, "prov-9", "HTTP 200 ok")
    assert delivery.outcome_event() == ("NotificationDelivered", {
        "notification_id": "n-1", "channel": "sms", "template": "approved",
        "recipient_masked": "138****5678", "cause_event_id": "evt-1", "attempts": 1})


def test_temporary_failure_requeues_with_backoff_then_gives_up():
    delivery = record()
    delivery.start(NOW)
    retry_at = delivery.failed(NOW, "HTTP 503", permanent=False, policy=POLICY)
    assert retry_at == NOW + timedelta(seconds=30)
    assert delivery.state is State.QUEUED and delivery.not_before == retry_at
    assert not delivery.is_due(NOW) and delivery.is_due(retry_at)
    assert delivery.outcome_event() is None
    delivery.start(retry_at)
    delivery.failed(retry_at, "HTTP 503", permanent=False, policy=POLICY)
    delivery.start(delivery.not_before)
    assert delivery.failed(delivery.not_before, "HTTP 503", permanent=False, policy=POLICY) is None
    assert delivery.state is State.FAILED
    assert [a.outcome for a in delivery.attempts] == [Outcome.TEMPORARY] * 3
    assert delivery.failure_reason == "已尝试3次仍失败：HTTP 503"
    event_type, data = delivery.outcome_event()
    assert event_type == "NotificationFailed" and data["attempts"] == 3 and data["reason"].endswith("HTTP 503")


def test_permanent_failure_is_final_at_once():
    delivery = record()
    delivery.start(NOW)
    assert delivery.failed(NOW, "空号", permanent=True, policy=POLICY) is None
    assert delivery.state is State.FAILED and delivery.failure_reason == "空号"
    assert delivery.attempts[0].outcome is Outcome.PERMANENT


def test_expired_code_is_failed_instead_of_sent():
    delivery = record(template="verification_code", expires_at=NOW + timedelta(minutes=5))
    delivery.start(NOW)
    delivery.failed(NOW, "timeout", permanent=False, policy=POLICY)
    assert delivery.start(NOW + timedelta(minutes=6)) is False
    assert delivery.state is State.FAILED and "过期" in delivery.failure_reason
    assert len(delivery.attempts) == 1


def test_retry_that_would_land_after_expiry_gives_up():
    delivery = record(expires_at=NOW + timedelta(seconds=20))
    delivery.start(NOW)
    assert delivery.failed(NOW, "HTTP 503", permanent=False, policy=POLICY) is None
    assert delivery.failure_reason == "有效期内无法再重试：HTTP 503"


@pytest.mark.parametrize("action", [
    lambda d: d.delivered(NOW, "x", "y"),
    lambda d: d.failed(NOW, "x", permanent=False),
])
def test_only_a_sending_record_can_finish(action):
    with pytest.raises(InvalidTransition):
        action(record())


def test_cannot_start_twice_or_before_release_or_after_delivery():
    delivery = record()
    delivery.start(NOW)
    with pytest.raises(InvalidTransition):
        delivery.start(NOW)
    with pytest.raises(InvalidTransition, match="才能发送"):
        record(not_before=NOW + timedelta(hours=1)).start(NOW)
    delivery.delivered(NOW, "x", "y")
    with pytest.raises(InvalidTransition) as excinfo:
        delivery.start(NOW)
    assert excinfo.value.code == "notification_state_conflict" and excinfo.value.http_status == 409


def test_dedupe_key_is_one_per_event_channel_and_recipient():
    key = dedupe_key("evt-1", "sms", "13812345678")
    assert key == dedupe_key("evt-1", "sms", "+86 138-1234-5678")
    assert dedupe_key("evt-1", "email", "Zhang@Example.com") == dedupe_key("evt-1", "email", "zhang@example.com")
    assert len({key, dedupe_key("evt-2", "sms", "13812345678"), dedupe_key("evt-1", "email", "13812345678"),
                dedupe_key("evt-1", "sms", "13812345679")}) == 4
    assert dedupe_key("evt|1", "sms", "2") != dedupe_key("evt", "sms", "1|2")  # parts cannot run together
    assert "13812345678" not in key and len(key) == 64
    assert record().dedupe_key == key
    with pytest.raises(ValueError):
        dedupe_key(None, "sms", "13812345678")


def test_mask_recipient():
    assert mask_recipient("sms", "13812345678") == "138****5678"
    assert mask_recipient("email", "zhang@example.com") == "z***@example.com"
