import io
from datetime import date, datetime
from decimal import Decimal

import pytest
from openpyxl import Workbook

from services.contracts.errors import ValidationFailed
from services.registration.domain.roster_import import RosterRow, parse_roster

from .builders import FEMALE_ID, MALE_ID, TODAY

HEADER = "姓名,证件类型,证件号码,级别,考试年度,职业水平证书管理号,批准日期,社会工作综合能力成绩,社会工作实务成绩,本地有效"
GOOD = [
    f"张三,居民身份证,{MALE_ID},初级,2019,0019110000012345,2019-12-20,75,68.5,否",
    f"李梅,,{FEMALE_ID},社会工作师,2019年,0019110000012346,2019/12/20,,,",
    "王五,居民身份证,11010519491231002x,中级,2019,19110000012347,2019年12月20日,60,60,是",
]


def csv_bytes(lines, encoding="utf-8"):
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def only_reasons(report):
    return {(item["row"], item["field"]): item["reason"] for item in report.refused}


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_csv_in_every_encoding_excel_writes(encoding):
    report = parse_roster(csv_bytes([HEADER, *GOOD], encoding), "名单.csv", TODAY)
    assert report.refused == [] and report.duplicates_in_file == []
    first, second, third = report.accepted
    assert first == RosterRow(row=2, name="张三", id_type="RESIDENT_ID", id_number=MALE_ID, level="ASSISTANT",
                              exam_year=2019, management_number="0019110000012345",
                              approval_date=date(2019, 12, 20),
                              scores={"社会工作综合能力成绩": Decimal("75"), "社会工作实务成绩": Decimal("68.5")},
                              local_only=False)
    assert (second.level, second.exam_year, second.id_type, second.scores) == ("INTERMEDIATE", 2019, "RESIDENT_ID", {})
    assert (third.id_number, third.level, third.local_only) == ("11010519491231002X", "INTERMEDIATE", True)


def test_management_numbers_are_kept_exactly_as_given():
    lines = [HEADER, f'张三,,{MALE_ID},初级,2019,="0019110000012345",2019-12-20,,,']
    [row] = parse_roster(csv_bytes(lines), "a.csv", TODAY).accepted
    assert row.management_number == "0019110000012345"


def test_bad_rows_get_a_reason_per_field():
    lines = [
        HEADER,
        ",护照,E1234,高级工程师,1999,1.23457E+17,2030-01-01,101,缺考,也许",
        f"赵六,,{MALE_ID[:-1]}4,初级,2019,12AB,2019-02-30,,,",
        f"钱七,,{FEMALE_ID},初级,2019,0019110000012399,,,,",
    ]
    report = parse_roster(csv_bytes(lines), "a.csv", TODAY)
    assert report.accepted == []
    reasons = only_reasons(report)
    assert set(reasons) == {
        (2, "name"), (2, "id_number"), (2, "level"), (2, "exam_year"), (2, "management_number"),
        (2, "approval_date"), (2, "local_only"), (2, "scores"),
        (3, "id_number"), (3, "management_number"), (3, "approval_date"),
        (4, "approval_date"),
    }
    assert "护照号码" in reasons[(2, "id_number")]
    assert "科学计数法" in reasons[(2, "management_number")]
    assert "校验位" in reasons[(3, "id_number")]
    assert "应只含数字" in reasons[(3, "management_number")]
    assert "2019-02-30" in reasons[(3, "approval_date")]
    assert reasons[(4, "approval_date")] == "批准日期为空"
    assert "不能晚于今天" in reasons[(2, "approval_date")]
    scores = [item for item in report.refused if item["field"] == "scores"]
    assert {item["column"] for item in scores} == {"社会工作综合能力成绩", "社会工作实务成绩"}
    assert all(item["column"] for item in report.refused)


def test_duplicates():
    same = GOOD[0]
    conflicting = GOOD[1].replace("0019110000012346", "0019110000099999")
    shared_number = "孙八,,110101199502102030,初级,2019,0019110000012345,2019-12-20,,,"
    lines = [HEADER, same, GOOD[1], same, conflicting, GOOD[2], shared_number]
    report = parse_roster(csv_bytes(lines), "a.csv", TODAY)
    assert report.duplicates_in_file == [{"row": 4, "duplicate_of": 2, "reason": "与第2行完全相同，已忽略"}]
    assert [row.row for row in report.accepted] == [6]
    reasons = only_reasons(report)
    assert set(reasons) == {(3, "id_number"), (5, "id_number"), (2, "management_number"), (7, "management_number")}
    assert "第3、5行" in reasons[(3, "id_number")]
    assert "第2、7行" in reasons[(7, "management_number")]


def test_same_person_two_levels_is_not_a_duplicate():
    lines = [HEADER, GOOD[0], GOOD[0].replace("初级,2019,0019110000012345", "中级,2020,0020110000000001")]
    assert len(parse_roster(csv_bytes(lines), "a.csv", TODAY).accepted) == 2


def test_blank_lines_extra_columns_and_header_spacing():
    lines = ["序号, 姓 名 ,证件号码,级别,考试年度,*职业水平证书管理号,批准日期,备注", ",,,,,,,",
             f"1,张三,{MALE_ID},初级,2019,0019110000012345,20191220,无"]
    [row] = parse_roster(csv_bytes(lines), "a.csv", TODAY).accepted
    assert (row.row, row.name, row.approval_date) == (3, "张三", date(2019, 12, 20))


@pytest.mark.parametrize("content, needle", [
    (csv_bytes(["姓名,证件号码,级别"]), "缺少必需的列：考试年度、职业水平证书管理号、批准日期"),
    (csv_bytes([HEADER.replace("级别", "证书级别") + ",级别"]), "重复"),
    (b"", "文件为空"),
    (b"\xd0\xcf\x11\xe0" + b"\0" * 100, ".xls"),
    (b"PK\x03\x04broken", "无法读取该XLSX文件"),
    (b"\xff\xfe\x00\xd8\x00\xdc", "无法识别文件编码"),
])
def test_file_level_problems(content, needle):
    with pytest.raises(ValidationFailed) as caught:
        parse_roster(content, "名单", TODAY)
    assert caught.value.code == "roster_file_invalid"
    assert needle in caught.value.message and caught.value.details == {"file": [caught.value.message]}


def xlsx(rows):
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_xlsx_with_text_int_and_date_cells():
    content = xlsx([
        ["姓名", "证件号码", "级别", "考试年度", "职业水平证书管理号", "批准日期", "本地有效"],
        ["张三", MALE_ID, "助理社会工作师", 2019, "0019110000012345", datetime(2019, 12, 20), "否"],
        ["李梅", FEMALE_ID, "中级", 2019.0, 19110000012346, date(2019, 12, 20), None],
    ])
    report = parse_roster(content, "名单.xlsx", TODAY)
    assert report.refused == []
    first, second = report.accepted
    assert (first.management_number, first.approval_date, first.level) == ("0019110000012345", date(2019, 12, 20),
                                                                            "ASSISTANT")
    assert (second.management_number, second.exam_year) == ("19110000012346", 2019)


def test_xlsx_float_mangled_numbers_are_refused():
    content = xlsx([
        ["姓名", "证件号码", "级别", "考试年度", "职业水平证书管理号", "批准日期"],
        ["张三", 1.1010119900307e17, "初级", 2019, 1.23456789012346e17, "2019-12-20"],
        ["李梅", FEMALE_ID, "初级", 2019, "1.23457E+17", 43819],
    ])
    report = parse_roster(content, "名单.xlsx", TODAY)
    assert report.accepted == []
    reasons = only_reasons(report)
    assert set(reasons) == {(2, "id_number"), (2, "management_number"), (3, "management_number"),
                            (3, "approval_date")}
    assert all("科学计数法" in reasons[key] for key in [(2, "id_number"), (2, "management_number"),
                                                  (3, "management_number")])
    assert "日期格式" in reasons[(3, "approval_date")]


def test_today_may_be_an_aware_instant():
    from .builders import INSIDE

    assert len(parse_roster(csv_bytes([HEADER, *GOOD]), "a.csv", INSIDE).accepted) == 3
