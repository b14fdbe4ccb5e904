"""The broker's management HTTP API, with the services' own account (the first URI of AMQP_URI).

RABBITMQ_MANAGEMENT_URL (compose: http://rabbitmq:15672) says where it answers; the virtual host
is AMQP_URI's. Used by add-subscriber and replay-events; nothing here touches our queues.
"""
import json
import urllib.error
import urllib.request
from base64 import b64encode
from urllib.parse import quote, unquote, urlsplit

from services.common.config import env
from services.contracts.events import CATALOGUE, exchange_of


class BrokerError(RuntimeError):
    """A refusal with its reason (printed, exit 2)."""


def event_exchanges():
    """Our topic exchanges, one per publishing service: the only ones a subscriber may read."""
    return sorted({exchange_of(source) for source, _, _ in CATALOGUE.values()})


class Management:
    def __init__(self, url, amqp_uri):
        if not url:
            raise BrokerError("未设置 RABBITMQ_MANAGEMENT_URL（例如 http://rabbitmq:15672）/ RABBITMQ_MANAGEMENT_URL is not set")
        first = urlsplit(amqp_uri.split(";")[0].strip())
        self.base = url.rstrip("/")
        self.amqp_uri = amqp_uri
        self.vhost = unquote(first.path[1:]) if len(first.path) > 1 else "/"
        credentials = f"{unquote(first.username or '')}:{unquote(first.password or '')}"
        self._auth = "Basic " + b64encode(credentials.encode()).decode()

    @classmethod
    def from_environment(cls, environ=None):
        return cls(env("RABBITMQ_MANAGEMENT_URL", environ), env("AMQP_URI", environ))

    def path(self, kind, *names):
        return "/".join([kind, quote(self.vhost, safe=""), *(quote(n, safe="") for n in names)])

    def call(self, method, path, body=None):
        """The decoded JSON answer (None when empty); 404 → None for GET."""
        request = urllib.request.Request(f"{self.base}/api/{path}", method=method,
                                         data=None if body is None else json.dumps(body).encode(),
                                         headers={"Authorization": self._auth, "content-type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                text = answer.read()
        except urllib.error.HTTPError as exc:
            if exc.code == 404 and method == "GET":
                return None
            raise BrokerError(f"RabbitMQ 管理接口拒绝了 {method} /api/{path}：HTTP {exc.code} {exc.read()[:200]!r} "
                              f"/ the management API refused the request") from None
        except OSError as exc:
            raise BrokerError(f"连不上 RabbitMQ 管理接口 {self.base}：{exc} / management API unreachable") from None
        return json.loads(text) if text else None
