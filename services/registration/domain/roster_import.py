"""Import of the exam roster (考试合格人员名单) from the exam authority's CSV or XLSX files.

Pure: takes the file's bytes, returns an ImportReport; storing the rows is the adapter's job.
Row numbers are the spreadsheet's own (the header is usually row 1), so an admin can find them.

Management numbers (职业水平证书管理号) and ID numbers are opaque digit strings: kept exactly as
given, leading zeros included. Excel turns long digit strings into floats (1.23457E+17) and loses
the last digits; such values are refused with a reason rather than guessed back.
"""
import csv
import io
import unicodedata
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime

from services.common.clock import BEIJING
from services.contracts.errors import ValidationFailed

from . import roster_cells

# header (as written by people, spaces and "*" removed) → field
HEADERS = {
    "姓名": "name",
    "证件类型": "id_type",
    "证件号码": "id_number", "身份证号": "id_number", "身份证号码": "id_number",
    "级别": "level", "证书级别": "level",
    "考试年度": "exam_year", "考试年份": "exam_year",
    "职业水平证书管理号": "management_number", "证书管理号": "management_number", "管理号": "management_number",
    "批准日期": "approval_date",
    "本地有效": "local_only",
}
REQUIRED = ("name", "id_number", "level", "exam_year", "management_number", "approval_date")
COLUMN_LABELS = {"name": "姓名", "id_type": "证件类型", "id_number": "证件号码", "level": "级别",
                 "exam_year": "考试年度", "management_number": "职业水平证书管理号",
                 "approval_date": "批准日期", "local_only": "本地有效"}


@dataclass(frozen=True)
class RosterRow:
    row: int
    name: str
    id_type: str
    id_number: str
    level: str
    exam_year: int
    management_number: str
    approval_date: date
    scores: dict = field(default_factory=dict)  # column header → Decimal
    local_only: bool = False  # passed on the locally valid line (三区三州)

    def same_record(self, other):
        return {**self.__dict__, "row": 0} == {**other.__dict__, "row": 0}


@dataclass
class ImportReport:
    accepted: list = field(default_factory=list)
    refused: list = field(default_factory=list)  # {"row", "field", "column", "reason"}
    duplicates_in_file: list = field(default_factory=list)  # {"row", "duplicate_of", "reason"}


def parse_roster(content, filename, today):
    """Parse a roster file (bytes). File-level problems raise ValidationFailed; row problems are reported."""
    today = _as_date(today)
    rows = _read_rows(content, filename or "")
    header_at, header = _find_header(rows)
    columns = _map_columns(header)
    report = ImportReport()
    candidates = []
    for row_number, cells in rows[header_at + 1:]:
        if all(roster_cells.blank(c) for c in cells):
            continue
        row, problems = _parse_row(row_number, cells, columns, today)
        if problems:
            report.refused.extend(problems)
        else:
            candidates.append(row)
    _resolve_duplicates(candidates, report)
    return report


# -- reading ---------------------------------------------------------------------------------------

def read_rows(content, filename):
    """[(row number, [cells])] of a CSV (UTF-8, UTF-8 with BOM or GBK) or XLSX file; other
    tabular imports (the mailing list) read their files the same way."""
    return _read_rows(content, filename or "")


def _read_rows(content, filename):
    if content[:4] == b"\xd0\xcf\x11\xe0" or filename.lower().endswith(".xls"):
        _file_error("不支持旧版Excel（.xls）文件，请在Excel中另存为.xlsx或CSV后再导入")
    if content[:4] == b"PK\x03\x04" or filename.lower().endswith(".xlsx"):
        return _read_xlsx(content)
    return _read_csv(content)


def _read_csv(content):
    for encoding in ("utf-8-sig", "gb18030"):  # UTF-8 (with or without BOM), then GBK from Excel
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        _file_error("无法识别文件编码，请将文件另存为UTF-8或GBK编码的CSV后再导入")
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        return [(n, row) for n, row in enumerate(reader, start=1)]
    except csv.Error as exc:
        _file_error(f"CSV文件格式有误（{exc}），请检查引号是否成对")


def _read_xlsx(content):
    from openpyxl import load_workbook  # only the import path pays for openpyxl

    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError):
        _file_error("无法读取该XLSX文件，请确认文件未损坏，或另存为CSV后再导入")
    try:
        sheet = book.worksheets[0]
        return [(n, list(row)) for n, row in enumerate(sheet.iter_rows(values_only=True), start=1)]
    finally:
        book.close()


def _find_header(rows):
    for index, (_, cells) in enumerate(rows):
        if not all(roster_cells.blank(c) for c in cells):
            return index, cells
    _file_error("文件为空，请确认选择了正确的名单文件")


def _map_columns(header):
    columns, seen, scores = {}, {}, []
    for index, cell in enumerate(header):
        title = _header_text(cell)
        if not title:
            continue
        key = HEADERS.get(title)
        if key is None and "成绩" in title:
            scores.append((index, title))
            continue
        if key is None:
            continue  # extra columns (序号, 备注…) are ignored
        if key in seen:
            _file_error(f"表头“{title}”与“{seen[key]}”重复，请只保留一列")
        columns[key], seen[key] = index, title
    missing = [COLUMN_LABELS[key] for key in REQUIRED if key not in columns]
    if missing:
        _file_error(f"缺少必需的列：{'、'.join(missing)}。表头应包含：姓名、证件类型（可选）、证件号码、级别、"
                    "考试年度、职业水平证书管理号、批准日期，以及可选的各科成绩和本地有效")
    columns["scores"] = scores
    return columns


def _header_text(cell):
    text = unicodedata.normalize("NFKC", str(cell)) if cell is not None else ""
    return "".join(text.split()).replace("*", "")


# -- one row ----------------------------------------------------------------------------------------

def _parse_row(row_number, cells, columns, today):
    def cell(key):
        index = columns.get(key)
        return cells[index] if index is not None and index < len(cells) else None

    values, problems = {}, []
    parsers = (("name", roster_cells.name), ("id_type", roster_cells.id_type), ("level", roster_cells.level),
               ("exam_year", roster_cells.exam_year), ("management_number", roster_cells.management_number),
               ("approval_date", roster_cells.approval_date), ("local_only", roster_cells.local_only))
    for key, parse in parsers:
        try:
            values[key] = parse(cell(key), today)
        except roster_cells.RowError as exc:
            problems.append(_problem(row_number, key, str(exc)))
    if "id_type" in values:  # the number's rules depend on the type
        try:
            values["id_number"] = roster_cells.id_number(values["id_type"], cell("id_number"), today)
        except roster_cells.RowError as exc:
            problems.append(_problem(row_number, "id_number", str(exc)))
    scores = {}
    for index, title in columns["scores"]:
        try:
            score = roster_cells.score(title, cells[index] if index < len(cells) else None)
        except roster_cells.RowError as exc:
            problems.append({"row": row_number, "field": "scores", "column": title, "reason": str(exc)})
            continue
        if score is not None:
            scores[title] = score
    if problems:
        return None, problems
    return RosterRow(row=row_number, scores=scores, **values), []


def _problem(row_number, key, reason):
    return {"row": row_number, "field": key, "column": COLUMN_LABELS[key], "reason": reason}


# -- duplicates ------------------------------------------------------------------------------------

def _resolve_duplicates(candidates, report):
    """Identical repeats are dropped and reported; conflicting ones are all refused, since we cannot
    tell which line is right. One management number belongs to one record."""
    groups = {}
    for row in candidates:
        groups.setdefault((row.id_type, row.id_number, row.level), []).append(row)
    survivors = []
    for rows in groups.values():
        first = rows[0]
        if all(first.same_record(other) for other in rows[1:]):
            survivors.append(first)
            report.duplicates_in_file.extend(
                {"row": other.row, "duplicate_of": first.row, "reason": f"与第{first.row}行完全相同，已忽略"}
                for other in rows[1:])
        else:
            listed = "、".join(str(r.row) for r in rows)
            report.refused.extend(_problem(r.row, "id_number", f"第{listed}行是同一人同一级别的记录，但内容不一致，"
                                                               "请核对后只保留一行") for r in rows)
    by_number = {}
    for row in survivors:
        by_number.setdefault(row.management_number, []).append(row)
    for rows in by_number.values():
        if len(rows) == 1:
            report.accepted.append(rows[0])
            continue
        listed = "、".join(str(r.row) for r in rows)
        report.refused.extend(_problem(r.row, "management_number", f"第{listed}行的职业水平证书管理号相同，"
                                                                   "一个管理号只属于一条记录，请核对") for r in rows)
    report.accepted.sort(key=lambda row: row.row)
    report.refused.sort(key=lambda item: item["row"])


def _file_error(message):
    raise ValidationFailed(message, code="roster_file_invalid", details={"file": [message]})


def _as_date(today):
    # Dates in the roster are Beijing calendar dates.
    if isinstance(today, datetime):
        if today.tzinfo is None:
            raise ValueError("parse_roster needs a date or an aware datetime")
        return today.astimezone(BEIJING).date()
    return today
