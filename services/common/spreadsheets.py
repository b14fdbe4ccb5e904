"""Write tables as CSV (UTF-8 with BOM, so Excel shows Chinese) or XLSX (openpyxl, every cell text).

`stream_table` yields the file in pieces as the rows come, so an export of any size holds one page of
rows in memory: CSV line by line; XLSX through openpyxl's write-only mode (rows go to a temporary file)
and then the finished file read back in chunks.
"""
import csv
import io
import tempfile

CSV, XLSX = "csv", "xlsx"
CONTENT_TYPES = {
    CSV: "text/csv; charset=utf-8",
    XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
CHUNK = 64 * 1024


def stream_table(fmt, header, rows, sheet_title="Sheet1"):
    """The bytes of a CSV or XLSX file, in pieces; cells are strings already made safe (exports.safe_cell)."""
    if fmt == CSV:
        return _csv(header, rows)
    if fmt == XLSX:
        return _xlsx(header, rows, sheet_title)
    raise ValueError(f"unknown table format {fmt!r}")


def write_table(fmt, header, rows, sheet_title="Sheet1"):
    """The whole file as bytes (small tables, RPC answers)."""
    return b"".join(stream_table(fmt, header, rows, sheet_title))


def _csv(header, rows):
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write("\ufeff")
    writer.writerow(header)
    for row in rows:
        writer.writerow(row)
        if buffer.tell() >= CHUNK:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def _xlsx(header, rows, sheet_title):
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=sheet_title)
    sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    with tempfile.TemporaryFile() as out:
        book.save(out)
        out.seek(0)
        while chunk := out.read(CHUNK):
            yield chunk
