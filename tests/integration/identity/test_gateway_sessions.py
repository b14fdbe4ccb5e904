"""Through the gateway on the real broker: a write asks identity afresh, so a session ended elsewhere
(another gateway copy, a password change) is refused on the next write even right after a read
remembered its principal; concurrent writes asked in one batch each get their own session's answer."""
import concurrent.futures

import pytest
import requests

from services.gateway.service import GatewayService
from tests.support.system import free_port

from .conftest import register

# A write that only identity answers and that changes nothing: the session is checked first, then
# the body (422 for a live session, 401 for an ended one).
WRITE = ("POST", "/api/v1/me/identity")


@pytest.fixture
def gateway(identity, make_config, start_service):
    port = free_port()
    start_service(GatewayService, make_config("gateway", WEB_SERVER_ADDRESS=f"127.0.0.1:{port}"))
    return f"http://127.0.0.1:{port}"


def call(base, token, method="GET", path="/api/v1/me"):
    return requests.request(method, base + path, json={"name": ""}, timeout=30,
                            headers={"Authorization": f"Bearer {token}"})


def test_a_session_ended_elsewhere_is_refused_on_the_next_write(identity, api, gateway):
    token = register(identity, api)["token"]
    assert call(gateway, token).status_code == 200  # the read remembers the principal (1 s)
    assert api.logout(token) == {"ok": True}  # through identity: as another gateway copy would
    refused = call(gateway, token, *WRITE)
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "unauthenticated"


def test_concurrent_writes_each_get_their_own_sessions_answer(identity, api, gateway):
    tokens = [register(identity, api, phone=f"1381234{n:04d}", client_ip=f"10.0.1.{n}")["token"] for n in range(8)]
    ended = set(tokens[::2])
    for token in ended:
        api.logout(token)
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda t: call(gateway, t, *WRITE).status_code, tokens * 3))
    assert answers == [401 if t in ended else 422 for t in tokens * 3]
