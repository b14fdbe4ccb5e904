"""Personal names as they appear on identity documents.

Chinese names: 2-20 characters of CJK ideographs, with "·" between the parts of ethnic-minority
and transliterated names. Latin names only for documents foreigners hold.
"""
import re
import unicodedata

from services.common.idnumbers import FOREIGN_PERMANENT, PASSPORT
from services.contracts.errors import ValidationFailed

MIDDLE_DOT = "·"  # U+00B7, the form used on ID cards
# What IMEs and fonts produce instead of U+00B7; all mean the same separator.
_DOT_VARIANTS = "•．・‧･"

# Ideographs incl. extension A and the supplementary planes (rare name characters such as 䶮, 𠇔)
# and 〇, which appears in some names.
_CJK = "\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U000323af"
_CHINESE_RE = re.compile(f"^[{_CJK}]+(·[{_CJK}]+)*$")
_CJK_CHAR_RE = re.compile(f"[{_CJK}]")
# Latin letters with diacritics (À-ɏ without × and ÷), space, dot, hyphen, comma, apostrophe.
_LATIN_LETTER = "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f"
_LATIN_RE = re.compile(f"^[{_LATIN_LETTER}][{_LATIN_LETTER} .,'-]*$")
_LATIN_LETTER_RE = re.compile(f"[{_LATIN_LETTER}]")
_LATIN_ALLOWED_RE = re.compile(f"[{_LATIN_LETTER} .,'-]")

CHINESE_MIN, CHINESE_MAX = 2, 20
LATIN_MIN, LATIN_MAX = 2, 60
LATIN_NAME_TYPES = frozenset({PASSPORT, FOREIGN_PERMANENT})


def check_name(name, id_type):
    """Return the normalised name or raise ValidationFailed(code="invalid_name")."""
    text = unicodedata.normalize("NFC", "" if name is None else str(name)).strip()
    if not text:
        _fail("请填写姓名")
    for variant in _DOT_VARIANTS:
        text = text.replace(variant, MIDDLE_DOT)
    if _CJK_CHAR_RE.search(text) or not _LATIN_LETTER_RE.search(text):
        return _check_chinese(text)
    if id_type not in LATIN_NAME_TYPES:
        _fail("该证件类型的姓名应为汉字，请按证件上的中文姓名填写；外文姓名仅适用于护照和外国人永久居留身份证")
    return _check_latin(text)


def _check_chinese(text):
    # People put spaces between surname and given name and type "." for "·"; documents have neither.
    text = "".join(text.split()).replace(".", MIDDLE_DOT)
    if not _CHINESE_RE.match(text):
        bad = _unique(ch for ch in text if ch != MIDDLE_DOT and not _CJK_CHAR_RE.match(ch))
        if bad:
            _fail(f"姓名中有不允许的字符{_quote(bad)}，中文姓名只能包含汉字和间隔号“·”")
        _fail("间隔号“·”只能用在两个汉字之间，不能在开头、结尾或连续出现")
    if len(text) < CHINESE_MIN:
        _fail(f"姓名至少{CHINESE_MIN}个汉字")
    if len(text) > CHINESE_MAX:
        _fail(f"姓名最多{CHINESE_MAX}个字（含间隔号），当前{len(text)}个")
    return text


def _check_latin(text):
    text = " ".join(text.split())
    if not _LATIN_RE.match(text):
        bad = _unique(ch for ch in text if not _LATIN_ALLOWED_RE.match(ch))
        if bad:
            _fail(f"外文姓名中有不允许的字符{_quote(bad)}，只能包含字母、空格和 . , ' -")
        _fail("外文姓名应以字母开头，请按证件上的姓名填写")
    if len(text) < LATIN_MIN:
        _fail(f"外文姓名至少{LATIN_MIN}个字母")
    if len(text) > LATIN_MAX:
        _fail(f"外文姓名最多{LATIN_MAX}个字符（含空格），当前{len(text)}个")
    return text


def _unique(chars):
    return list(dict.fromkeys(chars))


def _quote(chars):
    return "、".join(f"“{ch}”" for ch in chars[:5])


def _fail(message):
    raise ValidationFailed(message, code="invalid_name", details={"name": [message]})
