"""The device id of the SMS limits: X-Device-Id, else the `dev` cookie, minted once on first use."""
import pytest
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request, Response

from services.contracts.errors import ValidationFailed
from services.gateway import device


def request(headers=None, cookie=None):
    builder = EnvironBuilder(path="/", headers=headers or {})
    if cookie:
        builder.headers["Cookie"] = f"dev={cookie}"
    return Request(builder.get_environ())


def test_a_browser_without_a_cookie_gets_one_and_uses_it_at_once():
    r = request()
    minted = device.device_of(r)
    assert device.device_of(r) == minted and len(minted) >= 16
    cookie = device.remember(r, Response(), secure=True).headers["Set-Cookie"]
    assert f"dev={minted}" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie


def test_a_known_cookie_or_header_is_kept_and_nothing_is_set():
    r = request(cookie="a" * 32)
    assert device.device_of(r) == "a" * 32
    assert "Set-Cookie" not in device.remember(r, Response(), secure=False).headers
    api = request(headers={"X-Device-Id": "client-install-0001"})
    assert device.device_of(api) == "client-install-0001"
    assert "Set-Cookie" not in device.remember(api, Response(), secure=False).headers


def test_a_forged_cookie_is_replaced_and_a_bad_header_refused():
    r = request(cookie="<script>")
    assert device.device_of(r) != "<script>"
    with pytest.raises(ValidationFailed) as caught:
        device.device_of(request(headers={"X-Device-Id": "short"}))
    assert caught.value.http_status == 400 and caught.value.code == "invalid_device_id"
