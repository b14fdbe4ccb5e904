"""Staff second factor that does not travel by SMS: TOTP (RFC 6238, pyotp) and recovery codes.

- A TOTP code is accepted for the current 30 s step or one either side (clock drift), and only for
  a step later than the last one accepted: a code seen over a shoulder cannot be used again.
- Ten recovery codes are shown once at enrolment and kept only as HMACs; each works once.
- After the password, the caller holds a *pending token* (10 minutes, HMAC-signed, bound to the
  password's last change) that only lets them present the second factor or enrol.
"""
import hmac
import secrets
from datetime import datetime, timedelta, timezone

import pyotp

from services.contracts.errors import Unauthenticated, ValidationFailed

from .keyed import digest

STEP = 30
RECOVERY_CODES = 10
PENDING_TTL = timedelta(minutes=10)
ISSUER = "社工证书登记"
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def new_secret():
    return pyotp.random_base32()  # 160 bits, as RFC 4226 recommends


def provisioning_uri(secret, account_label):
    return pyotp.TOTP(secret).provisioning_uri(name=account_label, issuer_name=ISSUER)


def step_of(now):
    return int(now.timestamp()) // STEP


def accept_totp(secret, code, now, last_step):
    """The step the code belongs to, or raise ValidationFailed; replays (step <= last_step) refused."""
    typed = "".join(str(code or "").split())
    if len(typed) != 6 or not typed.isdigit():
        _wrong("动态验证码应为6位数字，请打开身份验证器应用查看")
    totp, current = pyotp.TOTP(secret), step_of(now)
    for step in (current, current - 1, current + 1):
        if hmac.compare_digest(totp.at(step * STEP), typed):
            if last_step is not None and step <= last_step:
                _wrong("该动态验证码已使用过，请等待身份验证器显示下一个验证码后再输入", "second_factor_replayed")
            return step
    _wrong("动态验证码不正确，请核对身份验证器应用中的6位数字（并确认手机时间准确）")


def looks_like_recovery_code(code):
    return "-" in str(code or "") or len("".join(str(code or "").split())) > 6


def new_recovery_codes():
    return ["-".join("".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(4)) for _ in range(2))
            for _ in range(RECOVERY_CODES)]


def hash_recovery_code(key, account_id, code):
    typed = "".join(str(code or "").lower().split()).replace("-", "")
    return digest(key, f"recovery|{account_id}|{typed}")


def new_pending_token(key, account_id, password_changed_at, now):
    issued = int(now.timestamp())
    return f"{account_id}.{issued}.{_pending_sig(key, account_id, issued, password_changed_at)}"


def pending_account(key, token, now):
    """(account_id, issued_at) of a well-signed, unexpired pending token; check_pending binds the password."""
    try:
        account_id, issued, _sig = str(token).split(".")
        issued_at = datetime.fromtimestamp(int(issued), timezone.utc)
    except (ValueError, OverflowError, OSError):
        raise expired() from None
    if not (issued_at <= now < issued_at + PENDING_TTL):
        raise expired()
    return account_id, int(issued)


def check_pending(key, token, password_changed_at):
    account_id, issued, sig = str(token).split(".")
    if not hmac.compare_digest(_pending_sig(key, account_id, int(issued), password_changed_at), sig):
        raise expired()


def _pending_sig(key, account_id, issued, password_changed_at):
    changed = password_changed_at.isoformat() if password_changed_at else "-"
    return digest(key, f"pending|{account_id}|{issued}|{changed}")


def _wrong(message, code="second_factor_wrong"):
    raise ValidationFailed(message, code=code, details={"code": [message]})


def expired():
    return Unauthenticated("登录步骤已超时，请重新输入手机号和密码", code="second_factor_expired")


