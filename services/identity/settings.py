"""The identity service's settings and adapters, read once from the config dict (services.common.config).

| key | default | meaning |
|---|---|---|
| `CODE_HASH_KEY` | dev value | HMAC key of stored SMS codes |
| `IDENTITY_VERIFIER` | `format` | `format` (local checks only) or `http` (docs/identity-verifier.md) |
| `IDENTITY_VERIFIER_URL`, `IDENTITY_VERIFIER_TOKEN` | — | required for `http` |
| `IDENTITY_VERIFIER_TIMEOUT` | `5` | seconds |
| `IDENTITY_VERIFIER_ALLOW_HTTP` | `0` | `1`: plain http to a private network |
| `IDENTITY_ID_TYPES` | `RESIDENT_ID` | comma-separated ID types accepted for real-name verification |
| `ARGON2_TIME_COST`, `ARGON2_MEMORY_KIB`, `ARGON2_PARALLELISM` | 2, 19456, 1 | password hashing cost |
| `SMS_CAP_PER_CLIENT` | 5 | codes per Beijing day to one phone from one client (address + device) |
| `SMS_CHECK_PER_PHONE_ADDRESS`, `SMS_CAP_PER_PHONE_ADDRESS` | 3, 10 | …from one address, any device: human check, refusal |
| `SMS_CHECK_PER_PHONE`, `SMS_CAP_PER_PHONE` | 5, 30 | …to one phone from every client |
| `SMS_CHECK_PER_DEVICE`, `SMS_CAP_PER_DEVICE` | 5, 20 | …from one device, every phone |
| `SMS_CHECK_PER_ADDRESS` | 30 | …from one address, every phone: human check only (carrier NAT) |
| `CAPTCHA_WAIT_SECONDS` | 300 | the non-visual alternative: wait this long instead of reading the image |
| `STAFF_SMS_FALLBACK_ROLES` | empty | staff roles that may still log in with password + SMS code instead of TOTP |
| `NOTIFY_RPC_TIMEOUT` | `10` | seconds to wait for notify.send_code |
| `SESSION_TOUCH_SECONDS` | `60` | authenticate writes last_seen at most this often |
"""
from dataclasses import dataclass, field
from datetime import timedelta

from services.common.config import ConfigError
from services.common.idnumbers import ID_TYPE_LABELS, RESIDENT_ID

from .adapters.verifier import FormatOnlyVerifier, HttpIdentityVerifier, IdentityVerifier
from .domain.captcha import CaptchaPolicy
from .domain.lockout import LockoutPolicy
from .domain.passwords import PasswordHasher
from .domain.sessions import SessionPolicy
from .domain.sms_codes import SmsCodePolicy
from .domain.sms_limits import SmsLimits
from .domain.staff_roles import check_role
from .domain.verification import AttemptPolicy


@dataclass(frozen=True)
class IdentitySettings:
    code_key: str
    hasher: PasswordHasher
    verifier: IdentityVerifier
    id_types: frozenset = frozenset({RESIDENT_ID})
    sms_policy: SmsCodePolicy = field(default_factory=SmsCodePolicy)
    sms_limits: SmsLimits = field(default_factory=SmsLimits)
    captcha_policy: CaptchaPolicy = field(default_factory=CaptchaPolicy)
    sms_fallback_roles: frozenset = frozenset()
    lockout_policy: LockoutPolicy = field(default_factory=LockoutPolicy)
    session_policy: SessionPolicy = field(default_factory=SessionPolicy)
    attempt_policy: AttemptPolicy = field(default_factory=AttemptPolicy)
    touch_interval: timedelta = timedelta(seconds=60)
    notify_timeout: float = 10.0

    @classmethod
    def from_config(cls, config):
        get = config.get
        defaults = SmsLimits()
        limits = SmsLimits(**{name: int(get("SMS_" + name.upper(), getattr(defaults, name)))
                              for name in SmsLimits.__dataclass_fields__})
        captcha = CaptchaPolicy(wait=timedelta(seconds=int(get("CAPTCHA_WAIT_SECONDS", 300))))
        return cls(
            code_key=config["CODE_HASH_KEY"],
            hasher=make_hasher(config),
            verifier=make_verifier(config),
            id_types=accepted_id_types(config),
            sms_limits=limits,
            captcha_policy=captcha,
            sms_fallback_roles=fallback_roles(config),
            touch_interval=timedelta(seconds=float(get("SESSION_TOUCH_SECONDS", 60))),
            notify_timeout=float(get("NOTIFY_RPC_TIMEOUT", 10)),
        )


def fallback_roles(config):
    """STAFF_SMS_FALLBACK_ROLES: staff roles allowed password + SMS code instead of TOTP (default none)."""
    raw = str(config.get("STAFF_SMS_FALLBACK_ROLES") or "")
    try:
        return frozenset(check_role(r.strip()) for r in raw.split(",") if r.strip())
    except Exception as exc:  # noqa: BLE001 — ValidationFailed: say it as a configuration error
        raise ConfigError(f"STAFF_SMS_FALLBACK_ROLES: {exc}") from None


def make_hasher(config):
    return PasswordHasher(time_cost=int(config.get("ARGON2_TIME_COST", 2)),
                          memory_cost=int(config.get("ARGON2_MEMORY_KIB", 19456)),
                          parallelism=int(config.get("ARGON2_PARALLELISM", 1)))


def make_verifier(config):
    kind = str(config.get("IDENTITY_VERIFIER") or "format").strip().lower()
    if kind == "format":
        return FormatOnlyVerifier()
    if kind == "http":
        url, token = config.get("IDENTITY_VERIFIER_URL"), config.get("IDENTITY_VERIFIER_TOKEN")
        if not url or not token:
            raise ConfigError("IDENTITY_VERIFIER=http needs IDENTITY_VERIFIER_URL and IDENTITY_VERIFIER_TOKEN "
                              "(docs/identity-verifier.md)")
        try:
            return HttpIdentityVerifier(url, token, timeout=float(config.get("IDENTITY_VERIFIER_TIMEOUT", 5)),
                                        allow_plain_http=str(config.get("IDENTITY_VERIFIER_ALLOW_HTTP", "0")) == "1")
        except ValueError as exc:
            raise ConfigError(f"IDENTITY_VERIFIER_URL: {exc}") from None
    raise ConfigError(f"IDENTITY_VERIFIER must be 'format' or 'http', not {kind!r}")


def accepted_id_types(config):
    raw = config.get("IDENTITY_ID_TYPES") or RESIDENT_ID
    types = frozenset(t.strip().upper() for t in str(raw).split(",") if t.strip())
    unknown = sorted(types - set(ID_TYPE_LABELS))
    if unknown or not types:
        raise ConfigError(f"IDENTITY_ID_TYPES: unknown ID type(s) {unknown}; known: {sorted(ID_TYPE_LABELS)}")
    return types
