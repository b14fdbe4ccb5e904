"""SMS codes: issue a 6-digit code, verify it once.

Rules (DESIGN.md, security): valid 5 minutes, single use, at most 5 wrong tries, resend cooldown
60 s per phone, purpose and client; the daily limits per client are domain/sms_limits.py's
(docs/signin.md). "Daily" is the Beijing calendar day, the day people see. Codes are kept only as an HMAC bound to phone and purpose, so a
leaked table does not give usable codes and a code for one purpose cannot serve another.

`verify` mutates the issued code (attempts, used_at) and raises on failure: the caller must persist
it whether verify returns or raises, or wrong tries would never be counted.
"""
import hmac
import math
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from services.common.clock import BEIJING
from services.contracts.errors import TooManyRequests, ValidationFailed

from .keyed import digest

REGISTER = "register"
LOGIN = "login"
RESET_PASSWORD = "reset_password"
ADMIN_LOGIN = "admin_login"
PURPOSES = (REGISTER, LOGIN, RESET_PASSWORD, ADMIN_LOGIN)


@dataclass(frozen=True)
class SmsCodePolicy:
    code_length: int = 6
    ttl: timedelta = timedelta(minutes=5)
    max_attempts: int = 5
    resend_cooldown: timedelta = timedelta(seconds=60)  # per phone, purpose and client


@dataclass
class SmsCode:
    """One issued code, kept only as its HMAC; who asked for it as blind indexes (clients.py)."""
    phone_index: str  # blind index of the phone (HMAC), never the phone itself
    purpose: str
    code_hash: str
    created_at: datetime
    expires_at: datetime
    attempts: int = 0
    used_at: datetime | None = None
    client_index: str | None = None  # address + device: the unit of the per-client limits
    address_index: str | None = None
    device_index: str | None = None
    id: int | None = None  # set once stored


def issue(policy, phone_index, purpose, recent_from_client, now, key):
    """Return (sms_code, plain_code) or raise TooManyRequests (the resend cooldown).

    recent_from_client: this phone's codes asked by this client (domain/sms_limits.py), at
    least those younger than the cooldown: a stranger's request does not delay the owner's.
    Daily limits are domain/sms_limits.py's, decided before this.
    """
    _check_purpose(purpose)
    same_purpose = [c.created_at for c in recent_from_client if c.purpose == purpose]
    if same_purpose:
        ready_at = max(same_purpose) + policy.resend_cooldown
        if now < ready_at:
            wait = _seconds(ready_at - now)
            _refuse("sms_code_cooldown", f"获取验证码过于频繁，请{wait}秒后再试", wait)
    code = f"{secrets.randbelow(10 ** policy.code_length):0{policy.code_length}d}"
    issued = SmsCode(phone_index=phone_index, purpose=purpose, code_hash=hash_code(key, phone_index, purpose, code),
                     created_at=now, expires_at=now + policy.ttl)
    return issued, code


def verify(sms_code, code, purpose, now, key, policy=SmsCodePolicy()):
    """Accept `code` once for `purpose` or raise ValidationFailed; see the module note on saving."""
    if sms_code.purpose != purpose:
        _invalid("sms_code_wrong_purpose", "该验证码不能用于当前操作，请重新获取验证码")
    if sms_code.used_at is not None:
        _invalid("sms_code_used", "验证码已使用过，请重新获取")
    if sms_code.attempts >= policy.max_attempts:
        _invalid("sms_code_too_many_tries", "验证码输错次数过多，已失效，请重新获取")
    if now >= sms_code.expires_at:
        _invalid("sms_code_expired", "验证码已过期，请重新获取")
    typed = _typed(code)
    if len(typed) != policy.code_length or not typed.isascii() or not typed.isdigit():
        # Not a guess at a valid code, so it does not use up a try.
        _invalid("sms_code_wrong", f"验证码应为{policy.code_length}位数字，请检查后重新输入")
    expected = hash_code(key, sms_code.phone_index, sms_code.purpose, typed)
    if not hmac.compare_digest(expected, sms_code.code_hash):
        sms_code.attempts += 1
        left = policy.max_attempts - sms_code.attempts
        if left <= 0:
            _invalid("sms_code_too_many_tries", "验证码输错次数过多，已失效，请重新获取")
        _invalid("sms_code_wrong", f"验证码不正确，还可以再试{left}次")
    sms_code.used_at = now
    return sms_code


def matches(sms_code, code, key, policy=SmsCodePolicy()):
    """Whether `code` is the one issued as `sms_code`, whatever its state; changes nothing.

    For "this person holds the code" questions (a second click after the code was used), never
    as a substitute for `verify`.
    """
    typed = _typed(code)
    if len(typed) != policy.code_length or not typed.isascii() or not typed.isdigit():
        return False
    expected = hash_code(key, sms_code.phone_index, sms_code.purpose, typed)
    return hmac.compare_digest(expected, sms_code.code_hash)


def hash_code(key, phone_index, purpose, code):
    return digest(key, f"{phone_index}|{purpose}|{code}")


def _typed(code):
    return "".join(unicodedata.normalize("NFKC", "" if code is None else str(code)).split())


def beijing_day_start(now):
    """The instant (UTC-aware as given) the Beijing calendar day containing `now` began."""
    local = now.astimezone(BEIJING)
    return datetime.combine(local.date(), time(0), tzinfo=BEIJING).astimezone(now.tzinfo)


def check_purpose(purpose):
    _check_purpose(purpose)


def _check_purpose(purpose):
    if purpose not in PURPOSES:
        message = "验证码用途无效"
        raise ValidationFailed(message, code="invalid_sms_purpose", details={"purpose": [message]})


def _seconds(delta):
    return max(1, math.ceil(delta.total_seconds()))


def wait_text(seconds):
    if seconds < 60:
        return f"{seconds}秒"
    minutes = math.ceil(seconds / 60)
    if minutes < 60:
        return f"{minutes}分钟"
    return f"{minutes // 60}小时{minutes % 60}分钟" if minutes % 60 else f"{minutes // 60}小时"


def _refuse(code, message, retry_after):
    raise TooManyRequests(message, code=code, details={"retry_after": retry_after})


def _invalid(code, message):
    raise ValidationFailed(message, code=code, details={"sms_code": [message]})
