"""The identity service on the real broker and database, with a stand-in for its peer `notify`.

identity hands every SMS code to `notify.send_code` by RPC; the stand-in below is a nameko
service named "notify" that records what it was asked to send, so a test can read the code the
way a person reads their phone.
"""
from contextlib import contextmanager

import pytest
from nameko.rpc import rpc
from nameko.standalone.rpc import ClusterRpcProxy

from services.identity.service import IdentityService


class NotifyStandIn:
    name = "notify"
    inbox = []  # [{"phone", "code", "purpose", "expires_at"}], newest last
    failing = False

    @rpc
    def send_code(self, phone, code, purpose, expires_at):
        if NotifyStandIn.failing:
            raise RuntimeError("SMS provider down")
        NotifyStandIn.inbox.append({"phone": phone, "code": code, "purpose": purpose, "expires_at": expires_at})
        return {"notification_id": f"n-{len(NotifyStandIn.inbox)}", "state": "delivered"}


class Harness:
    def __init__(self, config, container):
        self.config = config
        self.container = container

    @contextmanager
    def rpc(self):
        with ClusterRpcProxy({"AMQP_URI": self.config["AMQP_URI"], "serializer": "json"}) as cluster:
            yield cluster.identity

    @staticmethod
    def code_for(phone, purpose):
        codes = [m["code"] for m in NotifyStandIn.inbox if m["phone"] == phone and m["purpose"] == purpose]
        assert codes, f"no {purpose} code was sent to {phone}"
        return codes[-1]


@pytest.fixture
def start_identity(make_config, start_service):
    """start_identity(**config overrides) → Harness: identity + the notify stand-in, running."""
    NotifyStandIn.inbox.clear()
    NotifyStandIn.failing = False

    def start(**overrides):
        start_service(NotifyStandIn, make_config("notify"))
        config = make_config("identity", **overrides)
        return Harness(config, start_service(IdentityService, config))

    yield start
    NotifyStandIn.inbox.clear()
    NotifyStandIn.failing = False


@pytest.fixture
def identity(start_identity):
    return start_identity()


@pytest.fixture
def api(identity):
    """An open RPC proxy to identity."""
    with identity.rpc() as proxy:
        yield proxy


PHONE = "13812345678"
PASSWORD = "Passw0rd!x"


def register(harness, api, phone=PHONE, password=PASSWORD, client_ip="10.0.0.1"):
    """send_code + register as a person would; returns register's answer."""
    api.send_code(phone, "register", client_ip)
    return api.register(phone, harness.code_for(phone, "register"), password, client_ip)
