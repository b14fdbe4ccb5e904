"""The human check: answer as HMAC, single use, bound to phone and client, expiry, the wait alternative."""
from datetime import datetime, timedelta, timezone

import pytest

from services.contracts.errors import TooManyRequests, ValidationFailed
from services.identity.adapters.captcha_image import data_url
from services.identity.domain import captcha

KEY = b"test-key"
NOW = datetime(2020, 7, 1, 2, 0, tzinfo=timezone.utc)
POLICY = captcha.CaptchaPolicy()


def challenge():
    return captcha.new(POLICY, "phone-1", "client-1", NOW, KEY)


def refused(code, fn):
    with pytest.raises(TooManyRequests if code == "captcha_required" else ValidationFailed) as caught:
        fn()
    assert caught.value.code == code
    return caught.value


def test_right_answer_passes_once_whatever_the_case_and_width():
    c, answer = challenge()
    assert answer not in c.answer_hash and set(answer) <= set(captcha.ALPHABET)
    fullwidth = "".join(chr(ord(ch) + 0xFEE0) for ch in answer.lower())  # typed with a Chinese IME
    captcha.check(c, " " + fullwidth, "phone-1", "client-1", NOW + timedelta(seconds=30), KEY)
    assert c.used_at is not None
    refused("captcha_used", lambda: captcha.check(c, answer, "phone-1", "client-1", NOW, KEY))


def test_a_wrong_answer_spends_the_challenge_and_says_how_to_fix_it():
    c, answer = challenge()
    error = refused("captcha_wrong", lambda: captcha.check(c, "ZZZZZ", "phone-1", "client-1", NOW, KEY))
    assert "看不清可换一张" in error.message and error.details == {"captcha_answer": [error.message]}
    refused("captcha_used", lambda: captcha.check(c, answer, "phone-1", "client-1", NOW, KEY))


def test_bound_to_phone_and_client_and_expires():
    c, answer = challenge()
    refused("captcha_required", lambda: captcha.check(c, answer, "phone-2", "client-1", NOW, KEY))
    refused("captcha_required", lambda: captcha.check(c, answer, "phone-1", "client-2", NOW, KEY))
    refused("captcha_expired", lambda: captcha.check(c, answer, "phone-1", "client-1", NOW + POLICY.ttl, KEY))
    refused("captcha_required", lambda: captcha.check(None, answer, "phone-1", "client-1", NOW, KEY))


def test_waiting_instead_of_reading_the_image():
    c, _ = challenge()
    error = refused("captcha_required", lambda: captcha.check(c, "", "phone-1", "client-1",
                                                              NOW + timedelta(minutes=1), KEY))
    assert "不方便识别图片？等待4分钟后可直接获取验证码" in error.message
    captcha.check(c, "", "phone-1", "client-1", NOW + POLICY.wait, KEY)
    refused("captcha_used", lambda: captcha.check(c, "", "phone-1", "client-1", NOW + POLICY.wait, KEY))
    late, _ = challenge()
    refused("captcha_expired", lambda: captcha.check(late, None, "phone-1", "client-1",
                                                     NOW + POLICY.wait + POLICY.wait_valid, KEY))


def test_the_image_is_an_inline_png():
    assert data_url("AB3K").startswith("data:image/png;base64,iVBOR")
