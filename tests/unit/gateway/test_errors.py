"""Every failure at the HTTP edge becomes an honest status with a Chinese message."""
import json

from nameko.exceptions import RemoteError
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from services.contracts.errors import TooManyRequests, Unauthenticated, Unavailable
from services.gateway.site import handler
from services.gateway.web import read_json, response_for_exception


def body(response):
    return json.loads(response.get_data(as_text=True))["error"]


def test_refusals_keep_their_status_and_a_rate_limit_says_when_to_retry():
    r = response_for_exception(TooManyRequests("操作过于频繁，请60秒后再试", details={"retry_after": 60}))
    assert r.status_code == 429 and r.headers["Retry-After"] == "60" and "60秒" in body(r)["message"]
    assert r.headers["Cache-Control"] == "no-store"


def test_a_silent_or_broken_service_is_503_not_500():
    late = response_for_exception(Unavailable("服务暂时不可用，请稍后再试"))  # GatewayService._call's deadline
    assert late.status_code == 503 and late.headers["Retry-After"] == "5"
    assert handler.response_for(Unavailable("服务暂时不可用，请稍后再试"), None).status_code == 503
    assert response_for_exception(RemoteError("KeyError", "x")).status_code == 503
    unknown = response_for_exception(KeyError("x"))
    assert unknown.status_code == 500 and "联系技术支持" in body(unknown)["message"]


def test_malformed_json_is_a_400_in_chinese():
    req = Request(EnvironBuilder(method="POST", data=b"{not json", content_type="application/json").get_environ())
    try:
        read_json(req)
    except Exception as exc:  # noqa: BLE001
        r = response_for_exception(exc)
    assert r.status_code == 400 and "JSON" in body(r)["message"]


def test_a_page_that_needs_login_sends_you_to_login_and_back_but_never_to_another_site():
    req = Request(EnvironBuilder(path="/applications/abc").get_environ())
    r = handler.response_for(Unauthenticated("请先登录"), req)
    assert r.status_code == 303 and r.headers["Location"] == "/login?next=/applications/abc"
    assert handler._safe_next("//evil.example/x") == "/" and handler._safe_next("https://evil.example") == "/"


def test_pages_refuse_in_chinese_with_their_status_and_security_headers():
    r = handler.error_page(404, "申请不存在")
    text = r.get_data(as_text=True)
    assert r.status_code == 404 and "申请不存在" in text and "页面不存在" in text
    assert "script-src 'self'" in r.headers["Content-Security-Policy"] and r.headers["Cache-Control"] == "no-store"
