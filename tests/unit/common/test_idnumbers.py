from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.common import idnumbers
from services.common.idnumbers import (
    FOREIGN_PERMANENT,
    HK_MO_PERMIT,
    HMT_RESIDENCE,
    PASSPORT,
    RESIDENT_ID,
    TW_PERMIT,
    IdDocument,
    InvalidIdNumber,
    checksum_char,
    is_valid_resident_id,
    parse_id,
)
from services.contracts.errors import ValidationFailed

TODAY = date(2020, 7, 15)


def build(first17):
    return first17 + checksum_char(first17)


def message_of(id_type, number, today=TODAY):
    with pytest.raises(InvalidIdNumber) as caught:
        parse_id(id_type, number, today)
    error = caught.value
    assert error.code == "invalid_id_number"
    assert error.details == {"id_number": [error.message]}
    return error.message


@pytest.mark.parametrize("number, birth, gender", [
    ("11010519491231002X", date(1949, 12, 31), "F"),
    ("440524188001010014", date(1880, 1, 1), "M"),
    ("360426199101010071", date(1991, 1, 1), "M"),
])
def test_domain_vectors_are_valid(number, birth, gender):
    assert parse_id(RESIDENT_ID, number, TODAY) == IdDocument(RESIDENT_ID, number, birth, gender)
    assert is_valid_resident_id(number, TODAY)


def test_domain_vector_with_wrong_check_character_is_refused():
    assert "校验位不正确" in message_of(RESIDENT_ID, "360426199101010072")
    assert not is_valid_resident_id("360426199101010072", TODAY)


def test_invalid_id_number_is_a_validation_failure():
    assert issubclass(InvalidIdNumber, ValidationFailed)
    assert InvalidIdNumber("x").http_status == 422


def test_lowercase_x_spaces_and_full_width_are_normalised():
    assert parse_id(RESIDENT_ID, " 110105 19491231 002x ", TODAY).number == "11010519491231002X"
    assert parse_id(RESIDENT_ID, "１１０１０５１９４９１２３１００２ｘ", TODAY).number == "11010519491231002X"


@pytest.mark.parametrize("area", ["110103", "110104", "000000", "999999"])
def test_retired_or_unknown_area_codes_are_accepted(area):
    number = build(area + "19800101123")
    assert parse_id(RESIDENT_ID, number, TODAY).number == number


def test_length_message_says_expected_and_actual():
    assert message_of(RESIDENT_ID, "1101051949123100") == "居民身份证号码长度应为18位，当前为16位"
    assert "15位旧身份证" in message_of(RESIDENT_ID, "110105491231002")


def test_letters_inside_are_refused():
    assert "前17位应为数字" in message_of(RESIDENT_ID, "11010519491231A02X")


def test_empty_number_is_refused():
    assert message_of(RESIDENT_ID, "  ") == "请填写证件号码"
    assert message_of(RESIDENT_ID, None) == "请填写证件号码"


@pytest.mark.parametrize("birth", ["20190230", "20191301", "20190000", "19000229"])
def test_impossible_birth_dates_are_refused(birth):
    message = message_of(RESIDENT_ID, build("110105" + birth + "123"))
    assert "出生日期无效" in message and "不存在" in message


def test_leap_day_is_a_real_date():
    assert parse_id(RESIDENT_ID, build("11010520000229123"), TODAY).birth_date == date(2000, 2, 29)


def test_future_birth_date_is_refused():
    assert "晚于今天" in message_of(RESIDENT_ID, build("11010520200716123"))
    assert parse_id(RESIDENT_ID, build("11010520200715123"), TODAY).birth_date == TODAY


def test_implausibly_early_birth_is_refused():
    # The bound sits below DOMAIN.md's 1880 example (see EARLIEST_BIRTH).
    assert "早于1850年" in message_of(RESIDENT_ID, build("11010518491231123"))
    assert message_of(RESIDENT_ID, build("11010509800101123")).startswith("居民身份证号码中的出生日期无效")
    assert parse_id(RESIDENT_ID, build("11010518991231123"), TODAY).birth_date == date(1899, 12, 31)


def test_non_ascii_digits_are_refused_not_crashed():
    assert "前17位应为数字" in message_of(RESIDENT_ID, "11010519491231002" + "\u0660")
    assert "前17位应为数字" in message_of(RESIDENT_ID, "\u0661" + "1010519491231002X")


def test_today_may_be_an_aware_instant_read_in_beijing_time():
    # 2020-07-15 17:00 UTC is already 07-16 in Beijing: someone born on 07-16 is born "today".
    instant = datetime(2020, 7, 15, 17, 0, tzinfo=timezone.utc)
    assert parse_id(RESIDENT_ID, build("11010520200716123"), instant).birth_date == date(2020, 7, 16)
    with pytest.raises(ValueError):
        parse_id(RESIDENT_ID, build("11010520200716123"), datetime(2020, 7, 15))


def test_gender_comes_from_the_17th_digit():
    assert parse_id(RESIDENT_ID, build("11010519800101121"), TODAY).gender == "M"
    assert parse_id(RESIDENT_ID, build("11010519800101128"), TODAY).gender == "F"
    assert parse_id(RESIDENT_ID, build("11010519800101120"), TODAY).gender == "F"


def test_hmt_residence_needs_its_area_codes():
    for area in ("810000", "820000", "830000"):
        assert parse_id(HMT_RESIDENCE, build(area + "19800101123"), TODAY).gender == "M"
    assert "810000" in message_of(HMT_RESIDENCE, "11010519491231002X")


def test_foreign_permanent_card_starts_with_9_and_uses_the_checksum():
    number = build("93615619800101123")
    assert parse_id(FOREIGN_PERMANENT, number, TODAY).birth_date == date(1980, 1, 1)
    assert "以9开头" in message_of(FOREIGN_PERMANENT, "11010519491231002X")
    wrong = number[:17] + ("0" if number[17] != "0" else "1")
    assert "校验位不正确" in message_of(FOREIGN_PERMANENT, wrong)


@pytest.mark.parametrize("id_type, good, bad", [
    (HK_MO_PERMIT, ["H12345678", "M1234567801", "h12345678"], ["H1234567", "K12345678", "H123456789"]),
    (TW_PERMIT, ["12345678", "1234567890"], ["123456789", "T1234567", "1234567"]),
    (PASSPORT, ["E12345678", "EA1234567", "ej1234567"], ["EI1234567", "EO1234567", "G12345678", "E1234567"]),
])
def test_pattern_types(id_type, good, bad):
    for number in good:
        document = parse_id(id_type, number, TODAY)
        assert document.number == number.upper()
        assert document.birth_date is None and document.gender is None
    for number in bad:
        assert idnumbers.ID_TYPE_LABELS[id_type][:2] in message_of(id_type, number)


def test_unknown_type_is_refused_on_the_type_field():
    with pytest.raises(ValidationFailed) as caught:
        parse_id("DRIVING_LICENCE", "11010519491231002X", TODAY)
    assert caught.value.code == "invalid_id_type"
    assert "id_type" in caught.value.details


def test_checksum_char_needs_17_digits():
    assert checksum_char("11010519491231002") == "X"
    for bad in ("1101051949123100", "1101051949123100A", "１１０１０５１９４９１２３１００２"):
        with pytest.raises(ValueError):
            checksum_char(bad)


def test_labels_cover_every_type():
    assert set(idnumbers.ID_TYPE_LABELS) == {
        RESIDENT_ID, HMT_RESIDENCE, HK_MO_PERMIT, TW_PERMIT, PASSPORT, FOREIGN_PERMANENT}


@given(area=st.text(alphabet="0123456789", min_size=6, max_size=6),
       birth=st.dates(min_value=idnumbers.EARLIEST_BIRTH, max_value=TODAY),
       sequence=st.integers(min_value=0, max_value=999))
def test_any_17_digits_with_a_valid_date_and_computed_check_char_parse(area, birth, sequence):
    first17 = f"{area}{birth:%Y%m%d}{sequence:03d}"
    document = parse_id(RESIDENT_ID, build(first17), TODAY)
    assert document.birth_date == birth
    assert document.gender == ("M" if sequence % 2 else "F")


@given(st.text(alphabet="0123456789", min_size=17, max_size=17))
def test_changing_one_digit_always_breaks_the_check_character(first17):
    number = build(first17)
    position = int(first17[0]) % 17
    changed = first17[:position] + str((int(first17[position]) + 1) % 10) + first17[position + 1:]
    assert checksum_char(changed) != number[17]


def test_yesterday_is_fine():
    birth = TODAY - timedelta(days=1)
    assert parse_id(RESIDENT_ID, build(f"110105{birth:%Y%m%d}123"), TODAY).birth_date == birth
