"""Mainland mobile numbers, the key of every account.

People type spaces, dashes, full-width digits (Chinese IMEs) and a +86 prefix; the account is
keyed by the bare 11 digits. Pure: no I/O.
"""
import re
import unicodedata

from services.contracts.errors import ValidationFailed

_MOBILE_RE = re.compile(r"^1[3-9][0-9]{9}$")
_SEPARATORS_RE = re.compile(r"[\s\-()（）]")
_PREFIXES = ("+86", "0086", "86")

INVALID_MESSAGE = "手机号应为11位中国大陆手机号，例如13800138000"


def normalise_phone(phone):
    """Fold full-width characters, drop separators and a +86 / 0086 / 86 country prefix."""
    text = unicodedata.normalize("NFKC", "" if phone is None else str(phone))
    text = _SEPARATORS_RE.sub("", text)
    for prefix in _PREFIXES:
        if text.startswith(prefix) and len(text) == len(prefix) + 11:
            return text[len(prefix):]
    return text


def check_phone(phone):
    """The normalised 11-digit number, or ValidationFailed(code="invalid_phone")."""
    text = normalise_phone(phone)
    if not text:
        _fail("请填写手机号")
    if not text.isascii() or not _MOBILE_RE.match(text):
        _fail(INVALID_MESSAGE)
    return text


def _fail(message):
    raise ValidationFailed(message, code="invalid_phone", details={"phone": [message]})
