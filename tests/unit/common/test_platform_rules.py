"""Configuration, masking, encryption: the platform's pure rules."""
import base64
import logging

import pytest
from cryptography.exceptions import InvalidTag

from services.common.config import ConfigError, service_config
from services.common.crypto import DataCipher
from services.common.logs import JsonFormatter
from services.common.masking import mask_id_number, mask_name, mask_phone, mask_text

STRONG = {"DATA_KEYS": "k1:" + base64.b64encode(b"k" * 32).decode(), "BLIND_INDEX_KEY": "x" * 40,
          "CODE_HASH_KEY": "y" * 40, "CSRF_SECRET": "z" * 40, "AMQP_URI": "amqp://app:secret@mq:5672/"}


def test_development_defaults_run_without_any_environment():
    config = service_config("identity", environ={})
    assert config["DATABASE_URL"].startswith("sqlite:///") and config["DATABASE_URL"].endswith("/identity.db")
    assert config["AMQP_URI"] == "amqp://guest:guest@127.0.0.1:5672/"


def test_production_refuses_development_secrets():
    with pytest.raises(ConfigError, match="DATA_KEYS"):
        service_config("identity", environ={"APP_ENV": "production"})
    with pytest.raises(ConfigError, match="guest"):
        service_config("identity", environ={"APP_ENV": "production", **STRONG,
                                            "AMQP_URI": "amqp://guest:guest@mq:5672/"})
    assert service_config("identity", environ={"APP_ENV": "production", **STRONG})["APP_ENV"] == "production"


def test_per_service_database_url_wins():
    config = service_config("review", environ={"REVIEW_DATABASE_URL": "postgresql+psycopg2://db/review"})
    assert config["DATABASE_URL"] == "postgresql+psycopg2://db/review"


def test_masks_as_domain_md_shows():
    assert mask_id_number("110105194912310021") == "110105********0021"
    assert mask_phone("13812341234") == "138****1234"
    assert mask_name("张三") == "张*"
    text = "user 13812341234 id 11010519491231002X and 11010519491231002x"
    masked = mask_text(text)
    assert "13812341234" not in masked and "19491231" not in masked
    assert "138****1234" in masked and "110105********002X" in masked


def test_json_logs_mask_personal_data():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "login by %s with %s", ("13812341234",
                               "11010519491231002X"), None)
    line = JsonFormatter("identity").format(record)
    assert "13812341234" not in line and "11010519491231002X" not in line and '"service": "identity"' in line


def test_cipher_round_trips_binds_context_and_rotates():
    old = DataCipher("k1:" + base64.b64encode(b"a" * 32).decode(), "idx")
    token = old.encrypt("11010519491231002X", "id_number")
    assert "11010519491231002X" not in token and token.startswith("k1:")
    assert old.decrypt(token, "id_number") == "11010519491231002X"
    with pytest.raises(InvalidTag):
        old.decrypt(token, "phone")  # a ciphertext moved to another column does not decrypt
    rotated = DataCipher("k2:" + base64.b64encode(b"b" * 32).decode() + ",k1:"
                         + base64.b64encode(b"a" * 32).decode(), "idx")
    assert rotated.decrypt(token, "id_number") == "11010519491231002X"
    assert rotated.encrypt("x").startswith("k2:")
    assert rotated.blind_index("13812341234", "phone") == old.blind_index("13812341234", "phone")
    assert old.blind_index("13812341234", "phone") != old.blind_index("13812341234", "id")
    blob = old.encrypt_bytes(b"\xff\xd8jpeg", "material")
    assert old.decrypt_bytes(blob, "material") == b"\xff\xd8jpeg"
