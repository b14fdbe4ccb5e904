"""Configuration from environment variables, with development defaults.

In production (APP_ENV=production) the service refuses to start while any secret still has its
development value, a `change-me` placeholder from .env.example, or fewer bytes than it needs, and
while AMQP_URI has no account of its own (kombu falls back to guest/guest): a forgotten variable
must stop the deploy, not leak data.
"""
import base64
import binascii
import os
from urllib.parse import unquote, urlsplit

DEV_SECRETS = {
    # key id "dev" + 32 zero-ish bytes, base64; only ever valid in development
    "DATA_KEYS": "dev:ZGV2LWRhdGEta2V5LW5vdC1mb3ItcHJvZHVjdGlvbiE=",
    "BLIND_INDEX_KEY": "dev-blind-index-key-not-for-production",
    "CODE_HASH_KEY": "dev-code-hash-key-not-for-production",
    "CSRF_SECRET": "dev-csrf-secret-not-for-production",
}

DEFAULTS = {
    "APP_ENV": "development",
    "AMQP_URI": "amqp://guest:guest@127.0.0.1:5672/",
    "VAR_DIR": "var",
    "LOG_LEVEL": "INFO",
    "EVENT_MAX_ATTEMPTS": "5",
    "OUTBOX_BATCH": "500",
    "OUTBOX_POLL_SECONDS": "0.5",
    "MAX_WORKERS": "20",
    **DEV_SECRETS,
}


class ConfigError(RuntimeError):
    pass


def env(name, environ=None):
    environ = os.environ if environ is None else environ
    return environ.get(name, DEFAULTS.get(name))


def database_url(service, environ=None):
    """<SERVICE>_DATABASE_URL wins; else a SQLite file per service under VAR_DIR."""
    environ = os.environ if environ is None else environ
    url = environ.get(f"{service.upper()}_DATABASE_URL")
    if url:
        return url
    var_dir = os.path.abspath(env("VAR_DIR", environ))
    return f"sqlite:///{var_dir}/{service}.db"


def service_config(service, environ=None, **overrides):
    """The nameko config dict of one service. Our own keys live beside nameko's."""
    environ = os.environ if environ is None else environ
    config = {key: env(key, environ) for key in DEFAULTS}
    config.update({key: value for key, value in environ.items() if key.isupper()})
    config.update(
        SERVICE_NAME=service,
        DATABASE_URL=database_url(service, environ),
        max_workers=int(env("MAX_WORKERS", environ)),
        serializer="json",
    )
    config.update(overrides)
    check_production(config)
    return config


PLACEHOLDER = "change-me"
MIN_SECRET_CHARS = 32      # HMAC keys: BLIND_INDEX_KEY, CODE_HASH_KEY, CSRF_SECRET
DATA_KEY_BYTES = 32        # AES-256-GCM
GENERATE = {
    "DATA_KEYS": "python -c \"import base64,os;print('k1:'+base64.b64encode(os.urandom(32)).decode())\"",
    "secret": "python -c \"import secrets;print(secrets.token_urlsafe(48))\"",
}


def check_production(config):
    if config.get("APP_ENV") != "production":
        return
    problems = []
    dev = sorted(key for key, value in DEV_SECRETS.items() if config.get(key) in (None, "", value))
    if dev:
        problems.append("仍是开发环境的默认密钥 / development secrets: " + ", ".join(dev))
    placeholders = sorted(key for key, value in config.items()
                          if isinstance(value, str) and PLACEHOLDER in value.lower())
    if placeholders:
        problems.append(f"仍是 .env.example 的占位符 {PLACEHOLDER} / placeholders: " + ", ".join(placeholders))
    if "DATA_KEYS" not in dev:
        problems.append(_data_keys_problem(config.get("DATA_KEYS")))
    short = sorted(key for key in DEV_SECRETS if key != "DATA_KEYS" and key not in dev
                   and len(config.get(key) or "") < MIN_SECRET_CHARS)
    if short:
        problems.append(f"密钥太短，至少{MIN_SECRET_CHARS}个字符 / shorter than {MIN_SECRET_CHARS} characters: "
                        + ", ".join(short) + f"（生成 / generate: {GENERATE['secret']}）")
    problems = [p for p in problems + [_amqp_problem(config.get("AMQP_URI") or "")] if p]
    if problems:
        raise ConfigError("生产环境拒绝启动 / refusing to start in production:\n  - " + "\n  - ".join(problems)
                          + "\n  在环境变量中设置（见 .env.example） / set them in the environment (see .env.example)")


def _data_keys_problem(value):
    """DATA_KEYS is "kid:base64key[,...]", every key DATA_KEY_BYTES long."""
    weak = []
    for item in (value or "").split(","):
        kid, _, b64 = item.strip().partition(":")
        try:
            size = len(base64.b64decode(b64, validate=True))
        except (binascii.Error, ValueError):
            size = 0
        if not kid or size < DATA_KEY_BYTES:
            weak.append(kid or "?")
    if weak:
        return (f"DATA_KEYS 的密钥须为 {DATA_KEY_BYTES} 字节的 base64 / each key must be {DATA_KEY_BYTES} bytes "
                f"of base64 ({', '.join(weak)})（生成 / generate: {GENERATE['DATA_KEYS']}）")
    return None


def _amqp_problem(uri):
    """An account of our own on every broker listed (kombu takes "uri1;uri2" for fail-over)."""
    for one in uri.split(";"):
        parts = urlsplit(one.strip())
        user, password = unquote(parts.username or ""), unquote(parts.password or "")
        if not user or not password or user == "guest":
            return ("AMQP_URI 须带专用的 RabbitMQ 账号和密码（不带时默认使用 guest/guest） / AMQP_URI needs "
                    "its own user and password, e.g. amqp://registration:<password>@rabbitmq:5672/")
    return None
