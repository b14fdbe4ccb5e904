"""The keyed digest identity keeps instead of what people type (SMS codes, image-check answers,
recovery codes, pending sign-in tokens): HMAC-SHA256 as hex, compared with hmac.compare_digest."""
import hashlib
import hmac


def digest(key, text):
    if isinstance(key, str):
        key = key.encode()
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()
