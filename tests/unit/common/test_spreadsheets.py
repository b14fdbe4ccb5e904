"""Tables written as they stream: the same file whole or in pieces, and pieces as the rows come."""
import csv
import io

from openpyxl import load_workbook

from services.common import spreadsheets

HEADER = ["姓名", "登记证书编号"]


def rows(n):
    return ([f"张{i}", f"京社登2020{i:06d}"] for i in range(n))


def test_csv_streams_in_pieces_with_a_bom_for_excel():
    pieces = list(spreadsheets.stream_table("csv", HEADER, rows(5000)))
    assert len(pieces) > 1 and all(len(p) <= 2 * spreadsheets.CHUNK for p in pieces)
    whole = b"".join(pieces)
    assert whole.startswith("\ufeff".encode()) and whole == spreadsheets.write_table("csv", HEADER, rows(5000))
    table = list(csv.reader(io.StringIO(whole.decode("utf-8-sig"))))
    assert table[0] == HEADER and table[-1] == ["张4999", "京社登2020004999"] and len(table) == 5001


def test_csv_pulls_rows_only_as_it_goes():
    pulled = []

    def counted():
        for row in rows(10000):
            pulled.append(row)
            yield row

    stream = spreadsheets.stream_table("csv", HEADER, counted())
    next(stream)
    assert 0 < len(pulled) < 10000  # the first piece left before the last row was read


def test_xlsx_is_a_workbook_excel_opens_with_every_row():
    book = load_workbook(io.BytesIO(spreadsheets.write_table("xlsx", HEADER, rows(1200), "登记证书")))
    sheet = book["登记证书"]
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0] == HEADER and values[-1] == ["张1199", "京社登2020001199"] and len(values) == 1201


def test_an_unknown_format_is_refused():
    import pytest
    with pytest.raises(ValueError):
        list(spreadsheets.stream_table("pdf", HEADER, rows(1)))
