"""Through the gateway on the real broker: the gateway keeps principals and watches identity's
changes, so a session ended elsewhere (another gateway copy, a password change) is refused within
the second even right after a read kept its principal, and a verification made elsewhere shows;
with the watch off (AUTH_WATCH_SECONDS huge) a write asks identity afresh; concurrent writes asked
in one batch each get their own session's answer."""
import concurrent.futures

import pytest
import requests

from services.gateway.service import GatewayService
from tests.support.infra import dependency, wait_for
from tests.support.system import free_port

from .conftest import register

# A write that only identity answers and that changes nothing: the session is checked first, then
# the body (422 for a live session, 401 for an ended one).
WRITE = ("POST", "/api/v1/me/identity")


@pytest.fixture
def start_gateway(identity, make_config, start_service):
    def start(**overrides):
        port = free_port()
        container = start_service(GatewayService, make_config("gateway", WEB_SERVER_ADDRESS=f"127.0.0.1:{port}",
                                                              **overrides))
        return f"http://127.0.0.1:{port}", dependency(container, "principals").cache
    return start


@pytest.fixture
def gateway(start_gateway):
    return start_gateway()[0]


def call(base, token, method="GET", path="/api/v1/me"):
    return requests.request(method, base + path, json={"name": ""}, timeout=30,
                            headers={"Authorization": f"Bearer {token}"})


def test_a_session_ended_elsewhere_is_refused_within_the_second(identity, api, gateway):
    token = register(identity, api)["token"]
    assert call(gateway, token).status_code == 200  # the read keeps the principal
    assert call(gateway, token, *WRITE).status_code == 422  # and a write is answered from it
    assert api.logout(token) == {"ok": True}  # through identity: as another gateway copy would
    wait_for(lambda: call(gateway, token, *WRITE).status_code == 401, timeout=10,
             message="the gateway hears of the logout at its next look")
    refused = call(gateway, token)
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "unauthenticated"


def test_a_verification_made_elsewhere_shows(identity, api, gateway):
    answer = register(identity, api)
    assert call(gateway, answer["token"]).json()["verified"] is False
    api.verify_identity(answer["account_id"], "张三", "RESIDENT_ID", "11010519491231002X")
    wait_for(lambda: call(gateway, answer["token"]).json()["verified"] is True, timeout=10,
             message="the gateway hears of the verification at its next look")


def test_without_the_watch_a_write_asks_identity_afresh(identity, api, start_gateway):
    unwatched, principals = start_gateway(AUTH_WATCH_SECONDS="3600")  # one look at start, then none for an hour
    token = register(identity, api)["token"]
    assert call(unwatched, token).status_code == 200  # kept
    assert api.logout(token) == {"ok": True}  # nobody hears of it
    wait_for(lambda: not principals.watched(), timeout=10, message="the look at start lapses")
    refused = call(unwatched, token, *WRITE)
    assert refused.status_code == 401


def test_concurrent_writes_each_get_their_own_sessions_answer(identity, api, gateway):
    tokens = [register(identity, api, phone=f"1381234{n:04d}", client_ip=f"10.0.1.{n}")["token"] for n in range(8)]
    ended = set(tokens[::2])
    for token in ended:
        api.logout(token)
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda t: call(gateway, t, *WRITE).status_code, tokens * 3))
    assert answers == [401 if t in ended else 422 for t in tokens * 3]
