"""Production refuses what would start insecurely: guest broker access, placeholders, weak secrets."""
import base64

import pytest

from services.common.config import ConfigError, service_config

STRONG = {"APP_ENV": "production", "DATA_KEYS": "k1:" + base64.b64encode(b"k" * 32).decode(),
          "BLIND_INDEX_KEY": "x" * 40, "CODE_HASH_KEY": "y" * 40, "CSRF_SECRET": "z" * 40,
          "AMQP_URI": "amqp://registration:s3cret-and-long@rabbitmq:5672/"}


def refusal(**changes):
    with pytest.raises(ConfigError) as caught:
        service_config("identity", environ={**STRONG, **changes})
    return str(caught.value)


def test_a_strong_production_configuration_starts():
    assert service_config("identity", environ=STRONG)["APP_ENV"] == "production"


@pytest.mark.parametrize("uri", ["amqp://rabbitmq:5672/", "amqp://registration@rabbitmq:5672/",
                                 "amqp://guest:guest@rabbitmq:5672/", "amqp://guest:other@rabbitmq:5672/",
                                 "amqp://app:pw@mq1:5672/;amqp://mq2:5672/"])
def test_broker_access_without_an_account_of_our_own_is_refused(uri):
    assert "AMQP_URI" in refusal(AMQP_URI=uri)


def test_env_example_placeholders_are_refused_wherever_they_are():
    message = refusal(CODE_HASH_KEY="change-me" + "x" * 40, SMTP_PASSWORD="change-me",
                      AMQP_URI="amqp://registration:change-me@rabbitmq:5672/")
    assert "CODE_HASH_KEY" in message and "SMTP_PASSWORD" in message and "AMQP_URI" in message
    assert "change-me" in message


def test_env_example_as_it_is_is_refused():
    assert "DATA_KEYS" in refusal(DATA_KEYS="k1:change-me", BLIND_INDEX_KEY="change-me")


@pytest.mark.parametrize("key", ["BLIND_INDEX_KEY", "CODE_HASH_KEY", "CSRF_SECRET"])
def test_short_secrets_are_refused(key):
    message = refusal(**{key: "s" * 31})
    assert key in message and "32" in message


@pytest.mark.parametrize("keys", ["k1:" + base64.b64encode(b"k" * 16).decode(), "k1:not base64!",
                                  "k1:" + base64.b64encode(b"k" * 32).decode() + ",k0:c2hvcnQ=", ":" ])
def test_data_keys_must_be_32_bytes_each(keys):
    assert "DATA_KEYS" in refusal(DATA_KEYS=keys)


def test_development_is_not_bothered():
    assert service_config("identity", environ={"AMQP_URI": "amqp://127.0.0.1:5672/"})["APP_ENV"] == "development"
