"""Personal data at rest: AES-GCM with a key id stored beside the ciphertext, plus an HMAC blind index.

DATA_KEYS is "kid:base64key[,kid:base64key...]", newest first: the first key encrypts, every listed
key decrypts, found by the id the sealed value carries. A key rotates by putting a new key first;
`python -m services.ops rotate-keys` then re-encrypts what the older keys sealed, and an older key
leaves DATA_KEYS only when no value and no kept backup still needs it (docs/operations.md).

Sealed forms (the key id is never secret; key material never appears in a message):
- text:  "kid:base64(nonce | ciphertext+tag)"
- bytes: len(kid) | kid | nonce | ciphertext+tag
"""
import base64
import binascii
import hashlib
import hmac
import os
import re

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

# A key id is a prefix of every sealed value and a LIKE pattern in rotate-keys: no ":" or ",".
KEY_ID = re.compile(r"[A-Za-z0-9_.-]{1,64}")


class UnknownDataKey(LookupError):
    """A sealed value names a key id that DATA_KEYS does not hold (retired too early, wrong environment)."""

    def __init__(self, kid):
        self.kid = kid
        super().__init__(f"数据密钥 {kid!r} 不在 DATA_KEYS 中：把该密钥加回 DATA_KEYS（放在最新密钥之后）"
                         f" / data key id {kid!r} is not in DATA_KEYS: add it back, after the newest key")


def parse_data_keys(text):
    """[(kid, key bytes), ...] newest first; ValueError naming the key id (never the key) when malformed."""
    keys = []
    for item in (text or "").split(","):
        if not item.strip():
            continue
        kid, sep, b64 = item.strip().partition(":")
        if not sep or not KEY_ID.fullmatch(kid):
            raise ValueError("DATA_KEYS 的每一项应为 <密钥编号>:<base64密钥>，编号只用字母、数字、_ . - "
                             f"/ each DATA_KEYS item is <id>:<base64 key> (item {len(keys) + 1})")
        try:
            key = base64.b64decode(b64, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError(f"DATA_KEYS 中密钥 {kid!r} 不是有效的 base64 / data key {kid!r} is not base64") from None
        if len(key) not in (16, 24, 32):
            raise ValueError(f"data key {kid!r} must be 16, 24 or 32 bytes")
        if kid in (k for k, _ in keys):
            raise ValueError(f"DATA_KEYS 中密钥编号 {kid!r} 出现了两次 / data key id {kid!r} appears twice")
        keys.append((kid, key))
    if not keys:
        raise ValueError("DATA_KEYS 为空 / DATA_KEYS holds no key")
    return keys


def key_id_of(token):
    """The key id a sealed text names (no key needed)."""
    return token.partition(":")[0]


def key_id_of_bytes(blob):
    """The key id a sealed blob names (its first 1 + len(kid) bytes are enough)."""
    return blob[1:1 + blob[0]].decode("ascii")


class DataCipher:
    def __init__(self, data_keys, blind_index_key):
        keys = parse_data_keys(data_keys)
        self._keys = {kid: AESGCM(key) for kid, key in keys}
        self._current = keys[0][0]
        self._index_key = blind_index_key.encode()

    def __repr__(self):  # never the keys
        return f"<DataCipher current={self._current!r} keys={list(self._keys)!r}>"

    @classmethod
    def from_config(cls, config):
        return cls(config["DATA_KEYS"], config["BLIND_INDEX_KEY"])

    @property
    def current_key_id(self):
        """The id of the key that encrypts (the first of DATA_KEYS)."""
        return self._current

    @property
    def key_ids(self):
        """Every key id that decrypts, newest first."""
        return list(self._keys)

    def _key(self, kid):
        try:
            return self._keys[kid]
        except KeyError:
            raise UnknownDataKey(kid) from None

    def encrypt(self, plaintext, context=""):
        """'kid:base64(nonce|ciphertext)'; context (e.g. the column name) is bound as associated data."""
        if plaintext is None:
            return None
        nonce = os.urandom(12)
        sealed = self._keys[self._current].encrypt(nonce, plaintext.encode(), context.encode())
        return f"{self._current}:{base64.b64encode(nonce + sealed).decode()}"

    def decrypt(self, token, context=""):
        if token is None:
            return None
        kid, _, b64 = token.partition(":")
        raw = base64.b64decode(b64)
        return self._key(kid).decrypt(raw[:12], raw[12:], context.encode()).decode()

    def reseal(self, token, context=""):
        """The same value sealed with the newest key (the token itself when it already is)."""
        if token is None or key_id_of(token) == self._current:
            return token
        return self.encrypt(self.decrypt(token, context), context)

    def encrypt_bytes(self, data, context=""):
        nonce = os.urandom(12)
        kid = self._current.encode()
        return bytes([len(kid)]) + kid + nonce + self._keys[self._current].encrypt(nonce, data, context.encode())

    def decrypt_bytes(self, blob, context=""):
        n = blob[0]
        kid = blob[1:1 + n].decode()
        nonce = blob[1 + n:13 + n]
        return self._key(kid).decrypt(nonce, blob[13 + n:], context.encode())

    def reseal_bytes(self, blob, context=""):
        """The same bytes sealed with the newest key (the blob itself when it already is)."""
        if key_id_of_bytes(blob) == self._current:
            return blob
        return self.encrypt_bytes(self.decrypt_bytes(blob, context), context)

    def blind_index(self, value, context=""):
        """Deterministic keyed hash for look-ups and uniqueness without storing the value."""
        if value is None:
            return None
        msg = f"{context}:{value}".encode()
        return hmac.new(self._index_key, msg, hashlib.sha256).hexdigest()
