"""The gateway under faults: every route answers 503 in time, never hangs or says 500."""
import re

import pytest
import requests
from kombu import Connection, Exchange, Queue

from services.gateway.service import GatewayService
from services.gateway.web import ROUTES, UNAVAILABLE
from tests.support.system import free_port

pytestmark = pytest.mark.integration

PEERS = ("identity", "registration", "review", "notify")
NO_RPC = {"/health", "/metrics", "/api/v1/openapi.json", "/api/v1/<path:rest>"}
# Public routes validate their body before the first call; give them a valid one.
BODIES = {
    "/api/v1/sms-codes": {"phone": "13800138000", "purpose": "register"},
    "/api/v1/accounts": {"phone": "13800138000", "code": "123456", "password": "Abcdef12345!"},
    "/api/v1/sessions": {"phone": "13800138000", "password": "Abcdef12345!"},
    "/api/v1/password-resets": {"phone": "13800138000", "code": "123456", "new_password": "Abcdef12345!"},
    "/api/v1/captchas": {"phone": "13800138000"},
    "/api/v1/sessions/second-factor": {"pending_token": "x", "code": "123456"},
    "/api/v1/second-factor/enrolment": {"pending_token": "x"},
    "/api/v1/second-factor/enrolment/confirm": {"pending_token": "x", "code": "123456"},
}


def calls():
    for methods, path, _ in ROUTES:
        if path in NO_RPC:
            continue
        url = re.sub(r"<(?:\w+:)?(\w+)>", r"x-\1", path)
        for method in methods.split(","):
            yield method, url, BODIES.get(path)


@pytest.fixture
def gateway(make_config, start_service):
    def start(**overrides):
        port = free_port()
        config = make_config("gateway", WEB_SERVER_ADDRESS=f"127.0.0.1:{port}", **overrides)
        start_service(GatewayService, config)
        return f"http://127.0.0.1:{port}", config
    return start


def request(base, method, url, body):
    return requests.request(method, base + url, json=body, timeout=30,
                            headers={"Authorization": "Bearer some-session-token"})


def test_every_route_answers_503_when_a_service_does_not_answer_in_time(gateway):
    base, config = gateway(RPC_TIMEOUT="0.3")
    # Each service's RPC queue exists (as when the service crashed) but nobody consumes it:
    # calls are accepted by the broker and never answered.
    with Connection(config["AMQP_URI"]) as conn:
        exchange = Exchange("nameko-rpc", type="topic", durable=True, channel=conn.channel())
        exchange.declare()
        for name in PEERS:
            Queue(f"rpc-{name}", exchange=exchange, routing_key=f"{name}.*", durable=True,
                  channel=conn.channel()).declare()
    answers = {(method, url): request(base, method, url, body) for method, url, body in calls()}
    wrong = {key: (r.status_code, r.text[:200]) for key, r in answers.items()
             if r.status_code != 503 or r.json()["error"]["message"] != UNAVAILABLE}
    assert not wrong
    assert len(answers) > 30


def test_every_route_answers_503_when_no_service_is_running(gateway):
    # Requests go without publisher confirms (services/gateway/peers.py): one that no queue takes
    # ends in the deadline, as one that no service answers does.
    base, _ = gateway(RPC_TIMEOUT="0.3")
    wrong = {}
    for method, url, body in calls():
        r = request(base, method, url, body)
        if r.status_code != 503 or r.json()["error"]["code"] != "unavailable":
            wrong[(method, url)] = (r.status_code, r.text[:200])
    assert not wrong


def test_json_nested_too_deeply_is_a_bad_request(gateway):
    base, _ = gateway()
    r = requests.post(base + "/api/v1/sms-codes", data="[" * 30000 + "]" * 30000, timeout=30,
                      headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "malformed_json"


@pytest.mark.parametrize(("method", "token_size", "status", "code"), [
    ("GET", 2 * 1024, 400, "malformed_token"),       # the gateway's own limit (auth.MAX_TOKEN_LENGTH)
    ("GET", 10 * 1024, 431, "headers_too_large"),    # over the HTTP server's 8 KB header line
    ("GET", 100 * 1024, 431, "headers_too_large"),
    ("POST", 100 * 1024, 431, "headers_too_large"),  # with a body behind the headers
])
def test_an_oversized_token_is_refused_in_chinese_json(gateway, method, token_size, status, code):
    base, _ = gateway()
    answer = requests.request(method, base + "/api/v1/applications", json={"campaign_id": "c1"}, timeout=30,
                              headers={"Authorization": "Bearer " + "a" * token_size})
    assert answer.status_code == status, answer.text
    assert answer.headers["Content-Type"].startswith("application/json")
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    error = answer.json()["error"]
    assert error["code"] == code and re.search(r"[\u4e00-\u9fff]", error["message"])
    assert requests.get(base + "/api/v1/openapi.json", timeout=30).status_code == 200  # still serving


@pytest.mark.parametrize(("method", "url", "body"), [
    ("GET", "/api/v1/admin/exports/approved?format=csv&campaign_id=c%00x", None),  # found by the deep fuzz
    ("GET", "/api/v1/applications/app%001", None),
    ("POST", "/api/v1/sms-codes", {"phone": "1380013800\u0000", "purpose": "login"}),
    ("POST", "/api/v1/sessions", {"phone": "13800138000", "password": "pass\u0000word"}),
])
def test_a_nul_character_is_a_bad_request_not_a_server_error(gateway, method, url, body):
    """No database stores a NUL (PostgreSQL refuses it): refused at the edge, before any service is
    asked (none runs here, so an answer other than 503 proves nothing was called)."""
    base, _ = gateway()
    r = requests.request(method, base + url, json=body, timeout=30, headers={"Authorization": "Bearer t"})
    assert r.status_code == 422, r.text
    assert "空字符" in r.json()["error"]["message"]


def test_a_page_asked_with_a_nul_character_is_a_bad_request(gateway):
    base, _ = gateway()
    r = requests.get(base + "/login?next=/applications%00x", timeout=30)
    assert r.status_code == 422 and "空字符" in r.text and "text/html" in r.headers["Content-Type"]
