from datetime import datetime, timedelta, timezone

import pytest

from services.contracts.errors import TooManyRequests, ValidationFailed
from services.identity.domain import sms_codes
from services.identity.domain.sms_codes import (
    LOGIN,
    REGISTER,
    SmsCode,
    SmsCodePolicy,
    beijing_day_start,
    hash_code,
    issue,
    verify,
)

KEY = b"test-key"
POLICY = SmsCodePolicy()
PHONE = "phone-index-1"
# 2020-07-01 10:00 Beijing time.
NOW = datetime(2020, 7, 1, 2, 0, tzinfo=timezone.utc)


def fresh(now=NOW, purpose=REGISTER, recent=(), policy=POLICY):
    return issue(policy, PHONE, purpose, list(recent), now, KEY)


def refused(exc_type, code, call):
    with pytest.raises(exc_type) as caught:
        call()
    assert caught.value.code == code
    return caught.value


def test_issue_gives_six_digits_stored_only_as_hmac():
    challenge, code = fresh()
    assert len(code) == 6 and code.isdigit()
    assert code not in challenge.code_hash
    assert challenge.code_hash == hash_code(KEY, PHONE, REGISTER, code)
    assert challenge.expires_at - challenge.created_at == timedelta(minutes=5)
    assert (challenge.attempts, challenge.used_at, challenge.purpose) == (0, None, REGISTER)


def test_codes_are_not_repeated():
    assert len({fresh()[1] for _ in range(50)}) > 40


def test_code_hash_binds_phone_and_purpose():
    assert hash_code(KEY, PHONE, REGISTER, "123456") != hash_code(KEY, PHONE, LOGIN, "123456")
    assert hash_code(KEY, PHONE, REGISTER, "123456") != hash_code(KEY, "other", REGISTER, "123456")
    assert hash_code("test-key", PHONE, REGISTER, "1") == hash_code(KEY, PHONE, REGISTER, "1")


def test_verify_accepts_once():
    challenge, code = fresh()
    verify(challenge, code, REGISTER, NOW + timedelta(minutes=4), KEY)
    assert challenge.used_at == NOW + timedelta(minutes=4)
    error = refused(ValidationFailed, "sms_code_used", lambda: verify(challenge, code, REGISTER, NOW, KEY))
    assert error.message == "验证码已使用过，请重新获取"
    assert error.details == {"sms_code": [error.message]}


def test_typed_code_is_normalised():
    challenge, code = fresh()
    full_width = "".join(chr(ord(d) + 0xFEE0) for d in code)
    verify(challenge, f" {full_width[:3]} {full_width[3:]} ", REGISTER, NOW, KEY)
    assert challenge.used_at == NOW


def test_expired_after_five_minutes():
    challenge, code = fresh()
    error = refused(ValidationFailed, "sms_code_expired",
                    lambda: verify(challenge, code, REGISTER, NOW + timedelta(minutes=5), KEY))
    assert error.message == "验证码已过期，请重新获取"
    assert challenge.used_at is None


def test_wrong_purpose_is_refused_without_using_a_try():
    challenge, code = fresh(purpose=REGISTER)
    refused(ValidationFailed, "sms_code_wrong_purpose", lambda: verify(challenge, code, LOGIN, NOW, KEY))
    assert challenge.attempts == 0


def test_wrong_codes_count_down_then_the_challenge_dies():
    challenge, code = fresh()
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for left in (4, 3, 2, 1):
        error = refused(ValidationFailed, "sms_code_wrong", lambda: verify(challenge, wrong, REGISTER, NOW, KEY))
        assert error.message == f"验证码不正确，还可以再试{left}次"
    error = refused(ValidationFailed, "sms_code_too_many_tries",
                    lambda: verify(challenge, wrong, REGISTER, NOW, KEY))
    assert "重新获取" in error.message
    assert challenge.attempts == 5
    # Even the right code is refused now.
    refused(ValidationFailed, "sms_code_too_many_tries", lambda: verify(challenge, code, REGISTER, NOW, KEY))
    assert challenge.used_at is None


def test_malformed_input_does_not_use_a_try():
    challenge, _ = fresh()
    for typed in ("12345", "abcdef", "", None, "1234567"):
        error = refused(ValidationFailed, "sms_code_wrong", lambda t=typed: verify(challenge, t, REGISTER, NOW, KEY))
        assert error.message == "验证码应为6位数字，请检查后重新输入"
    assert challenge.attempts == 0


def test_wrong_key_never_matches():
    challenge, code = fresh()
    refused(ValidationFailed, "sms_code_wrong", lambda: verify(challenge, code, REGISTER, NOW, b"other"))


def test_resend_cooldown_per_phone_and_purpose():
    first, _ = fresh()
    error = refused(TooManyRequests, "sms_code_cooldown",
                    lambda: fresh(now=NOW + timedelta(seconds=20.5), recent=[first]))
    assert error.details == {"retry_after": 40}
    assert error.message == "获取验证码过于频繁，请40秒后再试"
    assert error.http_status == 429
    # Another purpose is not held back, and after 60 s the same one is fine.
    fresh(now=NOW + timedelta(seconds=1), purpose=LOGIN, recent=[first])
    fresh(now=NOW + timedelta(seconds=60), recent=[first])


def test_unknown_purpose_is_refused():
    refused(ValidationFailed, "invalid_sms_purpose", lambda: fresh(purpose="shopping"))


def test_beijing_day_start():
    assert beijing_day_start(NOW) == datetime(2020, 6, 30, 16, 0, tzinfo=timezone.utc)
    late = datetime(2020, 7, 1, 15, 59, tzinfo=timezone.utc)  # 23:59 Beijing
    assert beijing_day_start(late) == datetime(2020, 6, 30, 16, 0, tzinfo=timezone.utc)


def test_wait_text():
    assert sms_codes.wait_text(59) == "59秒"
    assert sms_codes.wait_text(61) == "2分钟"
    assert sms_codes.wait_text(3600) == "1小时"
    assert sms_codes.wait_text(3601) == "1小时1分钟"


def test_challenge_is_a_plain_dataclass():
    challenge = SmsCode(PHONE, REGISTER, "h", NOW, NOW + timedelta(minutes=5))
    assert challenge.attempts == 0 and challenge.used_at is None
