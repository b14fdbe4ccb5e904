import pytest

from services.common.config import ConfigError
from services.notify.adapters import (
    FileEmailChannel,
    FileSmsChannel,
    HttpSmsChannel,
    SmtpEmailChannel,
    build_channels,
)


def test_defaults_write_to_the_outbox_under_var_dir(tmp_path):
    channels = build_channels({"VAR_DIR": str(tmp_path)})
    assert isinstance(channels["sms"], FileSmsChannel) and isinstance(channels["email"], FileEmailChannel)
    assert channels["sms"].path == tmp_path / "outbox" / "sms.jsonl"
    assert channels["email"].directory == tmp_path / "outbox" / "email"


def test_http_and_smtp_from_environment_strings():
    channels = build_channels({
        "SMS_CHANNEL": "http", "SMS_HTTP_URL": "https://sms.example.cn/send", "SMS_HTTP_API_KEY": "k",
        "SMS_HTTP_TEMPLATE_IDS": '{"verification_code": "SMS_1"}', "SMS_HTTP_TIMEOUT": "3",
        "EMAIL_CHANNEL": "smtp", "SMTP_HOST": "smtp.example.cn", "SMTP_SECURITY": "tls",
        "SMTP_USERNAME": "u", "SMTP_PASSWORD": "p", "EMAIL_SENDER": "协会 <a@example.cn>",
    })
    sms, email = channels["sms"], channels["email"]
    assert isinstance(sms, HttpSmsChannel) and isinstance(email, SmtpEmailChannel)
    assert (sms.url, sms.api_key, sms.template_ids, sms.timeout) == (
        "https://sms.example.cn/send", "k", {"verification_code": "SMS_1"}, 3.0)
    assert (email.host, email.port, email.security, email.sender) == ("smtp.example.cn", 465, "tls",
                                                                      "协会 <a@example.cn>")


@pytest.mark.parametrize("config, match", [
    ({"SMS_CHANNEL": "carrier-pigeon"}, "SMS_CHANNEL"),
    ({"EMAIL_CHANNEL": "fax"}, "EMAIL_CHANNEL"),
    ({"SMS_CHANNEL": "http"}, "SMS_HTTP_URL"),
    ({"SMS_CHANNEL": "http", "SMS_HTTP_URL": "http://x", "SMS_HTTP_TEMPLATE_IDS": "[1]"}, "JSON object"),
    ({"EMAIL_CHANNEL": "smtp"}, "SMTP_HOST"),
    ({"EMAIL_CHANNEL": "smtp", "SMTP_HOST": "h", "SMTP_SECURITY": "ssl"}, "SMTP_SECURITY"),
])
def test_bad_configuration_stops_start_up(config, match):
    with pytest.raises(ConfigError, match=match):
        build_channels(config)
