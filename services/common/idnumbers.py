"""Identity document numbers: the rules of every ID type in DOMAIN.md ("Identity documents").

Pure functions, no I/O. `parse_id` normalises what people type (spaces, full-width characters,
lowercase x) and either returns an `IdDocument` or raises `InvalidIdNumber` whose Chinese
message says exactly what is wrong.
"""
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime

from services.common.clock import BEIJING
from services.contracts.errors import ValidationFailed

RESIDENT_ID = "RESIDENT_ID"
HMT_RESIDENCE = "HMT_RESIDENCE"
HK_MO_PERMIT = "HK_MO_PERMIT"
TW_PERMIT = "TW_PERMIT"
PASSPORT = "PASSPORT"
FOREIGN_PERMANENT = "FOREIGN_PERMANENT"

ID_TYPE_LABELS = {
    RESIDENT_ID: "居民身份证",
    HMT_RESIDENCE: "港澳台居民居住证",
    HK_MO_PERMIT: "港澳居民来往内地通行证",
    TW_PERMIT: "台湾居民来往大陆通行证",
    PASSPORT: "护照",
    FOREIGN_PERMANENT: "外国人永久居留身份证",
}

# GB 11643-1999 check character.
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"

# Types that carry an 18-character GB 11643 number (birth date, sex, check character).
_EIGHTEEN_CHAR_TYPES = (RESIDENT_ID, HMT_RESIDENCE, FOREIGN_PERMANENT)
_HMT_AREAS = ("810000", "820000", "830000")
# Catches typed-wrong years, not old people: 18-digit numbers were issued from 1999 to people
# then alive, and DOMAIN.md's own valid example 440524188001010014 is born 1880-01-01.
EARLIEST_BIRTH = date(1850, 1, 1)

_SHAPE_RE = re.compile(r"^[0-9]{17}[0-9X]$")
_HK_MO_RE = re.compile(r"^[HM][0-9]{8}([0-9]{2})?$")
_TW_RE = re.compile(r"^[0-9]{8}$|^[0-9]{10}$")
_PASSPORT_RE = re.compile(r"^E[0-9]{8}$|^E[A-HJ-NP-Z][0-9]{7}$")

_PATTERN_RULES = {
    HK_MO_PERMIT: (_HK_MO_RE, "港澳居民来往内地通行证号码应为字母H或M加8位或10位数字，如H12345678"),
    TW_PERMIT: (_TW_RE, "台湾居民来往大陆通行证号码应为8位或10位数字"),
    PASSPORT: (_PASSPORT_RE, "护照号码应为字母E加8位数字，或字母E加一个字母（不含I、O）再加7位数字"),
}


class InvalidIdNumber(ValidationFailed):
    code = "invalid_id_number"

    def __init__(self, message, field="id_number"):
        super().__init__(message, details={field: [message]})


@dataclass(frozen=True)
class IdDocument:
    id_type: str
    number: str
    birth_date: date | None
    gender: str | None  # "M" / "F"; only 18-character numbers carry it


def checksum_char(first17):
    """The GB 11643 check character for the first 17 digits."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise ValueError("checksum_char needs exactly 17 ASCII digits")
    return _CHECK_CHARS[sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def parse_id(id_type, number, today):
    """Validate `number` as a document of `id_type`; `today` is a date (Beijing) or an aware datetime."""
    if id_type not in ID_TYPE_LABELS:
        raise ValidationFailed("请选择证件类型", code="invalid_id_type",
                               details={"id_type": ["请选择证件类型"]})
    number = normalise_number(number)
    if not number:
        raise InvalidIdNumber("请填写证件号码")
    if id_type in _EIGHTEEN_CHAR_TYPES:
        return _parse_eighteen(id_type, number, _as_date(today))
    pattern, message = _PATTERN_RULES[id_type]
    if not pattern.match(number):
        raise InvalidIdNumber(message)
    return IdDocument(id_type, number, None, None)


def is_valid_resident_id(number, today):
    try:
        parse_id(RESIDENT_ID, number, today)
    except InvalidIdNumber:
        return False
    return True


def normalise_number(number):
    """Drop all whitespace, fold full-width characters (Chinese IMEs) and uppercase."""
    if number is None:
        return ""
    text = unicodedata.normalize("NFKC", str(number))
    return "".join(text.split()).upper()


def _parse_eighteen(id_type, number, today):
    label = ID_TYPE_LABELS[id_type]
    if len(number) != 18:
        if id_type == RESIDENT_ID and len(number) == 15 and number.isdigit():
            raise InvalidIdNumber("15位旧身份证号码已停止使用，请填写18位身份证号码")
        raise InvalidIdNumber(f"{label}号码长度应为18位，当前为{len(number)}位")
    if not _SHAPE_RE.match(number):
        raise InvalidIdNumber(f"{label}号码前17位应为数字，最后一位为数字或X")
    if id_type == HMT_RESIDENCE and number[:6] not in _HMT_AREAS:
        raise InvalidIdNumber("港澳台居民居住证号码应以810000（香港）、820000（澳门）或830000（台湾）开头")
    if id_type == FOREIGN_PERMANENT and number[0] != "9":
        raise InvalidIdNumber("外国人永久居留身份证号码应以9开头")
    birth = _birth_date(label, number[6:14], today)
    if checksum_char(number[:17]) != number[17]:
        raise InvalidIdNumber(f"{label}号码校验位不正确，请逐位核对是否输错")
    gender = "M" if int(number[16]) % 2 else "F"
    return IdDocument(id_type, number, birth, gender)


def _birth_date(label, digits, today):
    shown = f"{digits[:4]}年{digits[4:6]}月{digits[6:]}日"
    try:
        birth = date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        raise InvalidIdNumber(f"{label}号码中的出生日期无效：{shown}不存在，请核对第7至14位") from None
    if birth < EARLIEST_BIRTH:
        raise InvalidIdNumber(f"{label}号码中的出生日期无效：{shown}早于{EARLIEST_BIRTH.year}年，请核对第7至14位")
    if birth > today:
        raise InvalidIdNumber(f"{label}号码中的出生日期无效：{shown}晚于今天，请核对第7至14位")
    return birth


def _as_date(today):
    # A birth date is a Beijing calendar date, so an aware instant is read in Beijing time.
    if isinstance(today, datetime):
        if today.tzinfo is None:
            raise ValueError("parse_id needs a date or an aware datetime")
        return today.astimezone(BEIJING).date()
    return today
