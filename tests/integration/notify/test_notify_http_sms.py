"""The HTTP SMS channel (docs/sms-gateway.md) inside the running service, against a local gateway:
temporary failures and timeouts are retried by the timer until delivered, a refused number fails at
once (NotificationFailed on notify.events), and a code is never sent after it expired."""
import json
from datetime import datetime, timedelta, timezone

import eventlet
import eventlet.wsgi
import pytest

from services.common import clock

from . import peers

pytestmark = pytest.mark.integration


class FakeGateway:
    """Answers from a script, one answer per request, the last one forever: (status, body, delay)."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.requests = []
        self._sock = eventlet.listen(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}/send"
        self._server = eventlet.spawn(eventlet.wsgi.server, self._sock, self, log_output=False)

    def __call__(self, environ, start_response):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        self.requests.append({"body": json.loads(environ["wsgi.input"].read(length)),
                              "authorization": environ.get("HTTP_AUTHORIZATION")})
        status, body, delay = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if delay:
            eventlet.sleep(delay)
        start_response(f"{status} X", [("Content-Type", "application/json")])
        return [json.dumps(body, ensure_ascii=False).encode()]

    def close(self):
        self._server.kill()
        self._sock.close()


@pytest.fixture
def gateway():
    servers = []

    def start(*answers):
        server = FakeGateway(*answers)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


def http_settings(gateway, **overrides):
    return {"SMS_CHANNEL": "http", "SMS_HTTP_URL": gateway.url, "SMS_HTTP_API_KEY": "k-123",
            "SMS_HTTP_TEMPLATE_IDS": json.dumps({"submission_receipt": "SMS_100003"}),
            "SMS_HTTP_TIMEOUT": 0.3, **overrides}


def test_temporary_failures_and_a_timeout_are_retried_until_delivered(notify_system, gateway):
    server = gateway((503, {"ok": False, "error": "系统繁忙"}, 0), (200, {"ok": True, "id": "late"}, 1.0),
                     (200, {"ok": True, "id": "gw-42"}, 0))
    system = notify_system(**http_settings(server))
    system.emit("ApplicationSubmitted", "app-2", peers.application_submitted("app-2", "acc-2"))
    [delivered] = system.wait_outcome("NotificationDelivered", channel="sms")
    assert delivered["data"]["attempts"] == 3
    [row] = system.notifications("delivered")
    assert row["provider_message_id"] == "gw-42"
    attempts = row["delivery_attempts"]
    assert [a["outcome"] for a in attempts] == ["temporary", "temporary", "delivered"]
    assert "HTTP 503" in attempts[0]["provider_answer"] and "系统繁忙" in attempts[0]["provider_answer"]
    assert "没有回答" in attempts[1]["provider_answer"]
    assert attempts[2]["provider_message_id"] == "gw-42"

    bodies = [r["body"] for r in server.requests]
    assert len(bodies) == 3
    # every retry carries the same id: the gateway's idempotency key
    assert {b["message_id"] for b in bodies} == {row["id"]}
    first = bodies[0]
    assert first["phone"] == "15098765432" and first["template_id"] == "SMS_100003"
    assert first["params"] == {"attempt": "1", "submitted_at": "2020年7月3日 10:15"}
    assert first["text"].startswith("【北京社会工作者协会】您的登记申请表已提交，请耐心等待审核结果。")
    assert server.requests[0]["authorization"] == "Bearer k-123"
    assert system.sms() == []  # the file channel is not used


def test_a_refused_number_fails_at_once(notify_system, gateway):
    server = gateway((400, {"ok": False, "permanent": True, "error": "号码格式错误"}, 0))
    system = notify_system(**http_settings(server))
    event = system.emit("AccountRegistered", "acc-1", peers.account_registered("acc-1"))
    [failed] = system.wait_outcome("NotificationFailed")
    data = failed["data"]
    assert data["attempts"] == 1 and data["channel"] == "sms" and data["template"] == "account_registered"
    assert data["cause_event_id"] == event["id"] and data["recipient_masked"] == "138****5678"
    assert "拒绝" in data["reason"] and "号码格式错误" in data["reason"]
    system.timer_ticks(2)
    assert len(server.requests) == 1  # never retried
    [row] = system.call("list_notifications")  # what needs attention: the failed one
    assert row["state"] == "failed" and [a["outcome"] for a in row["delivery_attempts"]] == ["permanent"]


def test_a_code_is_never_sent_after_it_expires(notify_system, gateway, frozen_clock):
    start = datetime(2020, 7, 3, 2, 0, tzinfo=timezone.utc)
    frozen_clock(start)
    server = gateway((503, {"ok": False}, 0))
    system = notify_system(**http_settings(server, NOTIFY_RETRY_BASE_SECONDS=30, NOTIFY_RETRY_MAX_SECONDS=3600))
    answer = system.call("send_code", "13812345678", "604318", "login", (start + timedelta(minutes=5)).isoformat())
    assert answer["state"] == "queued"  # a retry within the validity is allowed
    [row] = system.notifications("queued")
    assert row["expires_at"] == clock.iso(start + timedelta(minutes=5))
    frozen_clock(start + timedelta(minutes=5, seconds=1))
    [failed] = system.wait_outcome("NotificationFailed", notification_id=answer["notification_id"])
    assert failed["data"]["attempts"] == 1 and "过期" in failed["data"]["reason"]
    assert len(server.requests) == 1
