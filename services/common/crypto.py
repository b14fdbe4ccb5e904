"""Personal data at rest: AES-GCM with a key id stored beside the ciphertext, plus an HMAC blind index.

DATA_KEYS is "kid:base64key[,kid:base64key...]"; the first key encrypts, every listed key decrypts,
so keys rotate by putting a new key first and re-encrypting at leisure.
"""
import base64
import hashlib
import hmac
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM


class DataCipher:
    def __init__(self, data_keys, blind_index_key):
        self._keys = {}
        self._current = None
        for item in data_keys.split(","):
            kid, _, b64 = item.strip().partition(":")
            key = base64.b64decode(b64)
            if len(key) not in (16, 24, 32):
                raise ValueError(f"data key {kid!r} must be 16, 24 or 32 bytes")
            self._keys[kid] = AESGCM(key)
            self._current = self._current or kid
        self._index_key = blind_index_key.encode()

    @classmethod
    def from_config(cls, config):
        return cls(config["DATA_KEYS"], config["BLIND_INDEX_KEY"])

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
        return self._keys[kid].decrypt(raw[:12], raw[12:], context.encode()).decode()

    def encrypt_bytes(self, data, context=""):
        nonce = os.urandom(12)
        kid = self._current.encode()
        return bytes([len(kid)]) + kid + nonce + self._keys[self._current].encrypt(nonce, data, context.encode())

    def decrypt_bytes(self, blob, context=""):
        n = blob[0]
        kid = blob[1:1 + n].decode()
        nonce = blob[1 + n:13 + n]
        return self._keys[kid].decrypt(nonce, blob[13 + n:], context.encode())

    def blind_index(self, value, context=""):
        """Deterministic keyed hash for look-ups and uniqueness without storing the value."""
        if value is None:
            return None
        msg = f"{context}:{value}".encode()
        return hmac.new(self._index_key, msg, hashlib.sha256).hexdigest()
