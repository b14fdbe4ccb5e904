"""Parsers of single roster cells: CSV gives strings, openpyxl gives str/int/float/date/None.

Each parser returns the clean value or raises RowError with a Chinese reason an admin can act on.
They share the signature (value, today) so the row parser can loop over them.
"""
import re
import unicodedata
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from . import codes

FIRST_NATIONAL_EXAM_YEAR = 2008

LEVELS = {
    "初级": codes.ASSISTANT, "助理社会工作师": codes.ASSISTANT,
    "中级": codes.INTERMEDIATE, "社会工作师": codes.INTERMEDIATE,
    "高级": codes.SENIOR, "高级社会工作师": codes.SENIOR,
    **{label: code for code, label in codes.CERT_LEVEL},
}
YES, NO = frozenset({"是", "Y", "YES", "TRUE", "1"}), frozenset({"否", "N", "NO", "FALSE", "0"})

MANGLED_RE = re.compile(r"^\d+(\.\d+)?[Ee]\+?\d+$")
EXCEL_TEXT_RE = re.compile(r'^="(.*)"$')  # ="0123": the CSV trick that keeps leading zeros
DATE_RE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
MANGLED_REASON = ("{label}被Excel转换为数字（科学计数法），末尾几位已丢失；"
                  "请将该列设置为文本格式、重新录入后再导入")


class RowError(Exception):
    pass


def _as_text(value):
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return unicodedata.normalize("NFKC", str(value)).strip()


def name(value, today):
    text = _as_text(value)
    if not text:
        raise RowError("姓名为空")
    if len(text) > 50 or any(ch.isdigit() for ch in text):
        raise RowError(f"姓名“{text[:20]}”不正确：不能含数字，最多50个字")
    return text if text.isascii() else "".join(text.split())


def id_type(value, today):
    from services.common.idnumbers import ID_TYPE_LABELS, RESIDENT_ID

    text = _as_text(value)
    if not text:
        return RESIDENT_ID  # the exam authority's files usually omit the column: 居民身份证
    by_label = {label: code for code, label in ID_TYPE_LABELS.items()}
    if text in by_label:
        return by_label[text]
    if text.upper() in ID_TYPE_LABELS:
        return text.upper()
    raise RowError(f"证件类型“{text}”无法识别，应为：{'、'.join(ID_TYPE_LABELS.values())}")


def id_number(kind, value, today):
    from services.common.idnumbers import InvalidIdNumber, parse_id

    if isinstance(value, float):
        raise RowError(MANGLED_REASON.format(label="证件号码"))
    text = digits_cell(value)
    if MANGLED_RE.match(text):
        raise RowError(MANGLED_REASON.format(label="证件号码"))
    try:
        return parse_id(kind, text, today).number
    except InvalidIdNumber as exc:
        raise RowError(exc.message) from None


def level(value, today):
    text = _as_text(value)
    if text not in LEVELS:
        raise RowError(f"级别“{text}”无法识别，应为：初级（助理社会工作师）、中级（社会工作师）或高级")
    return LEVELS[text]


def exam_year(value, today):
    text = _as_text(value).removesuffix("年")
    if not (text.isascii() and text.isdigit()):
        raise RowError(f"考试年度“{text}”不正确，应为4位年份，如2019")
    year = int(text)
    current = today.year
    if not FIRST_NATIONAL_EXAM_YEAR <= year <= current:
        raise RowError(f"考试年度{year}不正确，应在{FIRST_NATIONAL_EXAM_YEAR}至{current}年之间")
    return year


def management_number(value, today):
    if isinstance(value, float):
        raise RowError(MANGLED_REASON.format(label="职业水平证书管理号"))
    text = digits_cell(value)
    if not text:
        raise RowError("职业水平证书管理号为空")
    if MANGLED_RE.match(text):
        raise RowError(MANGLED_REASON.format(label="职业水平证书管理号"))
    if not (text.isascii() and text.isdigit()) or len(text) > 32:
        raise RowError(f"职业水平证书管理号“{text[:32]}”应只含数字（不超过32位），请核对")
    return text  # as given: never parsed, leading zeros kept


def digits_cell(value):
    # Only whitespace is dropped. An int cell is exact: openpyxl gives int only for plain integer
    # text in the file; what Excel mangled arrives as float and is refused by the callers.
    if value is None:
        return ""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    text = "".join(str(value).split())
    match = EXCEL_TEXT_RE.match(text)
    return match.group(1) if match else text


def approval_date(value, today):
    if isinstance(value, datetime):
        day = value.date()
    elif isinstance(value, date):
        day = value
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        raise RowError("批准日期为数字，请将该列设为日期格式，或按2020-03-15的格式填写")
    else:
        day = parse_date(_as_text(value))
    if day > today or day.year < FIRST_NATIONAL_EXAM_YEAR:
        raise RowError(f"批准日期{day.isoformat()}不正确：不能晚于今天，也不能早于{FIRST_NATIONAL_EXAM_YEAR}年")
    return day


def parse_date(text):
    if not text:
        raise RowError("批准日期为空")
    if len(text) == 8 and text.isascii() and text.isdigit():
        text = f"{text[:4]}-{text[4:6]}-{text[6:]}"
    match = DATE_RE.match(text)
    try:
        if match:
            return date(*(int(part) for part in match.groups()))
    except ValueError:
        pass
    raise RowError(f"批准日期“{text}”不正确，请按2020-03-15的格式填写")


def local_only(value, today):
    text = _as_text(value).upper()
    if not text or text in NO:
        return False
    if text in YES:
        return True
    raise RowError(f"本地有效应填“是”或“否”，当前为“{text}”")


def score(title, value):
    if blank(value):
        return None
    if isinstance(value, bool):
        raise RowError(f"{title}应为0至100之间的数字")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise RowError(f"{title}“{_as_text(value)}”应为0至100之间的数字") from None
    if not (number.is_finite() and 0 <= number <= 100):
        raise RowError(f"{title}“{_as_text(value)}”应为0至100之间的数字")
    return number


def blank(value):
    return value is None or (isinstance(value, str) and not value.strip())
