"""The whole system in this test process: five nameko containers on a fresh vhost, each service with
its own fresh database (SQLite, or PostgreSQL with TEST_DATABASE=postgresql), the gateway on a
free port, SMS and email written under the test's var/outbox/."""
import json
import socket
from datetime import timedelta

import pytest
import requests
from nameko.standalone.rpc import ClusterRpcProxy

from services.common import clock
from services.gateway.service import GatewayService
from services.identity.service import IdentityService
from services.notify.service import NotifyService
from services.registration.service import RegistrationService
from services.review.service import ReviewService
from tests.support.infra import wait_for


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class System:
    def __init__(self, base_url, amqp_uri, var_dir, containers):
        self.base_url = base_url
        self.amqp_uri = amqp_uri
        self.var_dir = var_dir
        self.containers = containers

    def client(self):
        return Client(self.base_url)

    def rpc(self):
        return ClusterRpcProxy({"AMQP_URI": self.amqp_uri})

    def sms(self):
        path = self.var_dir / "outbox" / "sms.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]

    def sms_to(self, phone, containing=""):
        return [m for m in self.sms() if m["to"] == phone and containing in m["body"]]

    def wait_sms(self, phone, containing="", count=1):
        return wait_for(lambda: len(self.sms_to(phone, containing)) >= count and self.sms_to(phone, containing),
                        message=f"SMS to {phone} containing {containing!r}")

    def code_for(self, phone):
        """The newest verification code sent to this phone."""
        import re
        messages = self.wait_sms(phone, "验证码")
        return re.search(r"(?<!\d)(\d{6})(?!\d)", messages[-1]["body"]).group(1)


class Client:
    """A tiny JSON client with a bearer token."""

    def __init__(self, base_url):
        self.base_url = base_url
        self.http = requests.Session()
        self.token = None

    def call(self, method, path, json_body=None, data=None, headers=None, expect=None):
        h = dict(headers or {})
        if self.token:
            h["Authorization"] = f"Bearer {self.token}"
        r = self.http.request(method, self.base_url + path, json=json_body, data=data, headers=h, timeout=30)
        if expect is not None:
            assert r.status_code == expect, f"{method} {path}: {r.status_code} {r.text}"
        return r


@pytest.fixture
def system(make_config, start_service, tmp_path):
    port = free_port()
    var_dir = tmp_path / "var"
    containers = {}
    common = {"VAR_DIR": str(var_dir), "SMS_CHANNEL": "file", "EMAIL_CHANNEL": "file",
              "NOTIFY_QUIET_HOURS": "off"}
    for cls in (IdentityService, RegistrationService, ReviewService, NotifyService):
        containers[cls.name] = start_service(cls, make_config(cls.name, **common))
    gateway_config = make_config("gateway", WEB_SERVER_ADDRESS=f"127.0.0.1:{port}", **common)
    containers["gateway"] = start_service(GatewayService, gateway_config)
    return System(f"http://127.0.0.1:{port}", gateway_config["AMQP_URI"], var_dir, containers)


def beijing_window_around_now():
    now = clock.now().astimezone(clock.BEIJING).replace(tzinfo=None, microsecond=0)
    return (now - timedelta(days=1)).isoformat(), (now + timedelta(days=30)).isoformat()
