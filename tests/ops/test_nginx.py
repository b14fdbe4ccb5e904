"""The shipped nginx template in a real nginx (Debian's package) in front of the real system:
`nginx -t` passes, HTTP redirects to HTTPS, HSTS on every HTTPS answer, the client's address
reaches the services through the one trusted header (forgeries ignored), body limits as the API's."""
import http.client
import json
import shutil
import ssl

import pytest
from sqlalchemy import select

from services.common.crypto import DataCipher
from services.gateway.service import GatewayService
from services.identity.models import CLIENT_IP, SmsCode
from services.identity.service import IdentityService
from services.notify.service import NotifyService
from services.registration.service import RegistrationService
from services.review.service import ReviewService
from tests.ops.nginx import INSTALL_HINT, Nginx, self_signed_certificate
from tests.support.infra import dependency, wait_for
from tests.support.system import System, free_port

pytestmark = [pytest.mark.skipif(not shutil.which("nginx") and not shutil.which("/usr/sbin/nginx"),
                                 reason=INSTALL_HINT),
              pytest.mark.e2e]

CLIENT = "127.0.0.2"  # the test's client connects from here; nginx runs on 127.0.0.1


def values(tmp_path, upstream):
    cert, key = self_signed_certificate(tmp_path)
    return {"NGINX_SERVER_NAME": "localhost", "NGINX_UPSTREAM": upstream,
            "NGINX_HTTP_PORT": str(free_port()), "NGINX_HTTPS_PORT": str(free_port()),
            "NGINX_TLS_CERT": str(cert), "NGINX_TLS_KEY": str(key), "NGINX_PROXY_TIMEOUT": "75s"}


def test_the_rendered_template_passes_nginx_t(tmp_path):
    proxy = Nginx(tmp_path / "nginx", values(tmp_path, "127.0.0.1:9"))
    assert "${NGINX_" not in proxy.rendered
    ok, said = proxy.check()
    assert ok, said


@pytest.fixture
def proxied(make_config, start_service, tmp_path):
    """The whole system, its gateway trusting only the nginx in front of it."""
    port = free_port()
    var_dir = tmp_path / "var"
    common = {"VAR_DIR": str(var_dir), "SMS_CHANNEL": "file", "EMAIL_CHANNEL": "file",
              "NOTIFY_QUIET_HOURS": "off"}
    containers = {}
    for cls in (IdentityService, RegistrationService, ReviewService, NotifyService):
        containers[cls.name] = start_service(cls, make_config(cls.name, **common))
    gateway_config = make_config("gateway", WEB_SERVER_ADDRESS=f"127.0.0.1:{port}",
                                 TRUSTED_PROXIES="127.0.0.1", **common)
    containers["gateway"] = start_service(GatewayService, gateway_config)
    system = System(f"http://127.0.0.1:{port}", gateway_config["AMQP_URI"], var_dir, containers)
    settings = values(tmp_path, f"127.0.0.1:{port}")
    proxy = Nginx(tmp_path / "nginx", settings)
    ok, said = proxy.check()
    assert ok, said
    proxy.start()
    https = int(settings["NGINX_HTTPS_PORT"])
    wait_for(lambda: _request("GET", https, "/health", tls=True, fail_soft=True), timeout=20,
             message="nginx listening")
    yield system, proxy, int(settings["NGINX_HTTP_PORT"]), https
    proxy.stop()


def _request(method, port, path, body=None, headers=None, tls=False, fail_soft=False):
    """One request from CLIENT: (status, headers, body bytes)."""
    if tls:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=60, context=context,
                                           source_address=(CLIENT, 0))
    else:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60, source_address=(CLIENT, 0))
    try:
        conn.request(method, path, body=body, headers={"Host": "localhost", **(headers or {})})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    except OSError:
        if fail_soft:
            return None
        raise
    finally:
        conn.close()


def test_through_nginx(proxied):
    system, proxy, http_port, https_port = proxied

    # HTTP only redirects to HTTPS, path and query kept
    status, headers, _ = _request("GET", http_port, "/api/v1/campaigns?x=1")
    assert status == 301 and headers["Location"] == f"https://localhost:{https_port}/api/v1/campaigns?x=1"
    assert "Strict-Transport-Security" not in headers

    status, headers, body = _request("GET", https_port, "/health", tls=True)
    assert status == 200, body
    assert headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert json.loads(body)["status"] == "ok"
    # the metrics stay inside the network
    assert _request("GET", https_port, "/metrics", tls=True)[0] == 404

    # the client's address reaches identity; a forged X-Forwarded-For does not
    status, _, body = _request("POST", https_port, "/api/v1/sms-codes",
                               json.dumps({"phone": "13800138000", "purpose": "register"}).encode(),
                               {"Content-Type": "application/json", "X-Forwarded-For": "6.6.6.6",
                                "X-Real-IP": "6.6.6.6"}, tls=True)
    assert status == 202, body
    identity = system.containers["identity"]
    cipher = DataCipher.from_config(identity.config)
    with dependency(identity, "db").engine.connect() as conn:
        [recorded] = conn.execute(select(SmsCode.client_ip_index)).scalars().all()
    assert recorded == cipher.blind_index(CLIENT, CLIENT_IP)
    assert recorded != cipher.blind_index("6.6.6.6", CLIENT_IP)

    # a photo up to 1 MB + multipart overhead passes nginx (and the gateway asks who we are) ...
    photo = "/api/v1/applications/a1/materials/photo"
    status, headers, body = _request("PUT", https_port, photo, b"x" * (1024 * 1024 + 32 * 1024),
                                     {"Content-Type": "image/jpeg"}, tls=True)
    assert status == 401, body
    # ... a larger one stops at nginx, with the API's error shape, before the gateway reads a byte
    status, headers, body = _request("PUT", https_port, photo, b"x" * (1024 * 1024 + 65 * 1024),
                                     {"Content-Type": "image/jpeg"}, tls=True)
    assert status == 413
    assert headers["Content-Type"].startswith("application/json")
    assert json.loads(body)["error"]["code"] == "too_large"
    assert "1MB" in json.loads(body)["error"]["message"]
    assert headers["Strict-Transport-Security"].startswith("max-age=")

    # the roster takes up to 20 MB
    roster = "/api/v1/admin/roster"
    status, _, body = _request("POST", https_port, roster, b"x" * (5 * 1024 * 1024),
                               {"Content-Type": "text/csv"}, tls=True)
    assert status == 401, body
    status, _, body = _request("POST", https_port, roster, b"x" * (20 * 1024 * 1024 + 1),
                               {"Content-Type": "text/csv"}, tls=True)
    assert status == 413, body
    assert "[emerg]" not in proxy.error_log()
