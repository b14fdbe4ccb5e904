"""DATA_KEYS with several ids: the newest encrypts, each value finds its own key by id, reseal moves
a value to the newest key, and no message ever carries key material."""
import base64

import pytest
from cryptography.exceptions import InvalidTag

from services.common.crypto import DataCipher, UnknownDataKey, key_id_of, key_id_of_bytes, parse_data_keys

K1 = base64.b64encode(b"1" * 32).decode()
K2 = base64.b64encode(b"2" * 32).decode()


def cipher(keys):
    return DataCipher(keys, "blind-index-key")


def test_newest_key_encrypts_and_every_key_decrypts_by_id():
    old = cipher(f"k1:{K1}")
    token, blob = old.encrypt("张三", "name"), old.encrypt_bytes(b"jpeg", "photo")
    new = cipher(f"k2:{K2},k1:{K1}")
    assert (new.current_key_id, new.key_ids) == ("k2", ["k2", "k1"])
    assert key_id_of(token) == "k1" and key_id_of_bytes(blob) == "k1"
    assert new.decrypt(token, "name") == "张三" and new.decrypt_bytes(blob, "photo") == b"jpeg"
    assert key_id_of(new.encrypt("x", "name")) == "k2"
    assert key_id_of_bytes(new.encrypt_bytes(b"x", "photo")) == "k2"


def test_reseal_moves_a_value_to_the_newest_key_and_keeps_the_context_bound():
    token, blob = cipher(f"k1:{K1}").encrypt("11010519491231002X", "id_number"), cipher(f"k1:{K1}").encrypt_bytes(
        b"jpeg", "photo")
    new = cipher(f"k2:{K2},k1:{K1}")
    moved, moved_blob = new.reseal(token, "id_number"), new.reseal_bytes(blob, "photo")
    assert key_id_of(moved) == "k2" and key_id_of_bytes(moved_blob) == "k2"
    only_new = cipher(f"k2:{K2}")
    assert only_new.decrypt(moved, "id_number") == "11010519491231002X"
    assert only_new.decrypt_bytes(moved_blob, "photo") == b"jpeg"
    assert new.reseal(moved, "id_number") is moved and new.reseal_bytes(moved_blob, "photo") is moved_blob
    assert new.reseal(None, "id_number") is None
    with pytest.raises(InvalidTag):
        new.reseal(token, "phone")  # a value under the wrong context is not silently re-bound


def test_a_retired_key_is_named_in_the_refusal():
    token = cipher(f"k1:{K1}").encrypt("x", "name")
    blob = cipher(f"k1:{K1}").encrypt_bytes(b"x", "photo")
    only_new = cipher(f"k2:{K2}")
    for attempt in (lambda: only_new.decrypt(token, "name"), lambda: only_new.decrypt_bytes(blob, "photo"),
                    lambda: only_new.reseal(token, "name")):
        with pytest.raises(UnknownDataKey) as refused:
            attempt()
        assert refused.value.kid == "k1" and "DATA_KEYS" in str(refused.value) and K1 not in str(refused.value)


@pytest.mark.parametrize("value, says", [
    ("", "DATA_KEYS"),
    (f"{K1}", "<id>:<base64 key>"),
    (f"k 1:{K1}", "<id>:<base64 key>"),
    (f"k1:{K1},k1:{K2}", "appears twice"),
    ("k1:not base64!!", "not base64"),
    ("k1:" + base64.b64encode(b"short").decode(), "16, 24 or 32 bytes"),
])
def test_malformed_data_keys_are_refused_without_showing_a_key(value, says):
    with pytest.raises(ValueError) as refused:
        parse_data_keys(value)
    assert says in str(refused.value)
    assert K1 not in str(refused.value) and K2 not in str(refused.value)


def test_repr_names_ids_only():
    shown = repr(cipher(f"k2:{K2},k1:{K1}"))
    assert "k2" in shown and K1 not in shown and K2 not in shown
