"""Write tables as CSV (UTF-8 with BOM, so Excel shows Chinese) or XLSX (openpyxl, every cell text)."""
import csv
import io

CSV, XLSX = "csv", "xlsx"
CONTENT_TYPES = {
    CSV: "text/csv; charset=utf-8",
    XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def write_table(fmt, header, rows, sheet_title="Sheet1"):
    """bytes of a CSV or XLSX file; cells are strings already made safe (domain.exports.safe_cell)."""
    if fmt == CSV:
        buffer = io.StringIO(newline="")
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(header)
        writer.writerows(rows)
        return ("\ufeff" + buffer.getvalue()).encode("utf-8")
    if fmt == XLSX:
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet(title=sheet_title)
        sheet.append(list(header))
        for row in rows:
            sheet.append(list(row))
        out = io.BytesIO()
        book.save(out)
        return out.getvalue()
    raise ValueError(f"unknown table format {fmt!r}")
