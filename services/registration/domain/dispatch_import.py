"""Mailing records (证书寄送) from a CSV or XLSX file: which application went with which carrier
under which tracking number. Pure: the file's bytes in, rows and refusals out.

A row names the application by its id (申请编号) or by its registration number (登记证书编号).
"""
import re
import unicodedata
from dataclasses import dataclass, field

from services.contracts.errors import ValidationFailed

from . import roster_cells
from .roster_import import read_rows

HEADERS = {
    "申请编号": "application_id", "application_id": "application_id",
    "登记证书编号": "registration_number", "登记编号": "registration_number",
    "registration_number": "registration_number",
    "快递公司": "carrier", "承运商": "carrier", "carrier": "carrier",
    "运单号": "tracking_number", "快递单号": "tracking_number", "邮件号": "tracking_number",
    "tracking_number": "tracking_number",
}
LABELS = {"application_id": "申请编号", "registration_number": "登记证书编号", "carrier": "快递公司",
          "tracking_number": "运单号"}
TRACKING_RE = re.compile(r"^[0-9A-Za-z-]{4,40}$")


@dataclass(frozen=True)
class DispatchRow:
    row: int
    carrier: str
    tracking_number: str
    application_id: str | None = None
    registration_number: str | None = None


@dataclass
class DispatchFile:
    rows: list = field(default_factory=list)
    refused: list = field(default_factory=list)  # {"row", "field", "reason"}


def parse_dispatches(content, filename):
    rows = read_rows(content, filename)
    header_at = next((i for i, (_, cells) in enumerate(rows)
                      if not all(roster_cells.blank(c) for c in cells)), None)
    if header_at is None:
        _file_error("文件为空，请确认选择了正确的寄送信息文件")
    columns = {}
    for index, cell in enumerate(rows[header_at][1]):
        key = HEADERS.get(_header(cell))
        if key and key not in columns:
            columns[key] = index
    if "carrier" not in columns or "tracking_number" not in columns or not (
            "application_id" in columns or "registration_number" in columns):
        _file_error("表头应包含：申请编号或登记证书编号、快递公司、运单号")
    result = DispatchFile()
    seen = {}
    for number, cells in rows[header_at + 1:]:
        if all(roster_cells.blank(c) for c in cells):
            continue
        values = {key: _text(cells[i] if i < len(cells) else None) for key, i in columns.items()}
        problems = []
        if not values.get("application_id") and not values.get("registration_number"):
            problems.append(("registration_number", "请填写申请编号或登记证书编号"))
        if not values.get("carrier"):
            problems.append(("carrier", "快递公司为空"))
        elif len(values["carrier"]) > 40:
            problems.append(("carrier", "快递公司名称最多40个字"))
        if not TRACKING_RE.match(values.get("tracking_number") or ""):
            problems.append(("tracking_number", "运单号应为4至40位字母或数字"))
        target = values.get("application_id") or values.get("registration_number")
        if not problems and target in seen:
            problems.append(("registration_number", f"与第{seen[target]}行是同一份申请，请只保留一行"))
        if problems:
            result.refused.extend({"row": number, "field": key, "reason": reason} for key, reason in problems)
            continue
        seen[target] = number
        result.rows.append(DispatchRow(row=number, carrier=values["carrier"],
                                       tracking_number=values["tracking_number"],
                                       application_id=values.get("application_id") or None,
                                       registration_number=values.get("registration_number") or None))
    return result


def _header(cell):
    text = unicodedata.normalize("NFKC", str(cell)) if cell is not None else ""
    return "".join(text.split()).replace("*", "")


def _text(value):
    if value is None:
        return ""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)  # a tracking number Excel kept as an integer
    return unicodedata.normalize("NFKC", str(value)).strip()


def _file_error(message):
    raise ValidationFailed(message, code="dispatch_file_invalid", details={"file": [message]})
