"""Pick the channels from configuration (environment variables, see docs/sms-gateway.md)."""
import json
import os
import ssl

from services.common.config import ConfigError

from .email_message import DEFAULT_SENDER
from .file_email import FileEmailChannel
from .file_sms import FileSmsChannel
from .http_sms import HttpSmsChannel
from .smtp_email import SECURITIES, SmtpEmailChannel


def _get(config, key, default=None):
    value = config.get(key)
    return default if value in (None, "") else value


def _require(config, key, why):
    value = _get(config, key)
    if value is None:
        raise ConfigError(f"{key} is required when {why}")
    return value


def _template_ids(value):
    if isinstance(value, dict):
        return value
    try:
        parsed = json.loads(value or "{}")
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict):
        raise ConfigError('SMS_HTTP_TEMPLATE_IDS must be a JSON object, e.g. {"approved": "SMS_123"}')
    return parsed


def build_sms(config):
    kind = _get(config, "SMS_CHANNEL", "file")
    if kind == "file":
        var_dir = _get(config, "VAR_DIR", "var")
        return FileSmsChannel(_get(config, "SMS_OUTBOX", os.path.join(var_dir, "outbox", "sms.jsonl")))
    if kind == "http":
        return HttpSmsChannel(
            url=_require(config, "SMS_HTTP_URL", "SMS_CHANNEL=http"),
            api_key=_get(config, "SMS_HTTP_API_KEY"),
            template_ids=_template_ids(_get(config, "SMS_HTTP_TEMPLATE_IDS")),
            timeout=float(_get(config, "SMS_HTTP_TIMEOUT", 5)),
        )
    raise ConfigError(f"SMS_CHANNEL must be file or http, not {kind!r}")


def build_email_channel(config):
    kind = _get(config, "EMAIL_CHANNEL", "file")
    sender = _get(config, "EMAIL_SENDER", DEFAULT_SENDER)
    if kind == "file":
        var_dir = _get(config, "VAR_DIR", "var")
        return FileEmailChannel(_get(config, "EMAIL_OUTBOX_DIR", os.path.join(var_dir, "outbox", "email")),
                                sender=sender)
    if kind == "smtp":
        security = _get(config, "SMTP_SECURITY", "starttls")
        if security not in SECURITIES:
            raise ConfigError(f"SMTP_SECURITY must be one of {'/'.join(SECURITIES)}, not {security!r}")
        ca_file = _get(config, "SMTP_CA_FILE")
        return SmtpEmailChannel(
            host=_require(config, "SMTP_HOST", "EMAIL_CHANNEL=smtp"),
            port=_get(config, "SMTP_PORT"),
            security=security,
            username=_get(config, "SMTP_USERNAME"),
            password=_get(config, "SMTP_PASSWORD"),
            sender=sender,
            timeout=float(_get(config, "SMTP_TIMEOUT", 10)),
            ssl_context=ssl.create_default_context(cafile=ca_file) if ca_file else None,
        )
    raise ConfigError(f"EMAIL_CHANNEL must be file or smtp, not {kind!r}")


def build_channels(config):
    """{"sms": Channel, "email": Channel} from SMS_CHANNEL (file|http) and EMAIL_CHANNEL (file|smtp)."""
    return {"sms": build_sms(config), "email": build_email_channel(config)}
