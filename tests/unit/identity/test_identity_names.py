import pytest

from services.common.idnumbers import FOREIGN_PERMANENT, HK_MO_PERMIT, PASSPORT, RESIDENT_ID
from services.contracts.errors import ValidationFailed
from services.identity.domain.names import check_name


def refusal(name, id_type=RESIDENT_ID):
    with pytest.raises(ValidationFailed) as caught:
        check_name(name, id_type)
    assert caught.value.code == "invalid_name"
    assert caught.value.details == {"name": [caught.value.message]}
    return caught.value.message


@pytest.mark.parametrize("name", ["张三", "欧阳娜娜", "阿卜杜热合曼·买买提明", "王䶮", "李〇", "𠇔伟"])
def test_chinese_names_pass_unchanged(name):
    assert check_name(name, RESIDENT_ID) == name


@pytest.mark.parametrize("typed", ["阿依古丽•艾力", "阿依古丽．艾力", "阿依古丽・艾力", "阿依古丽.艾力"])
def test_dot_variants_become_the_middle_dot(typed):
    assert check_name(typed, RESIDENT_ID) == "阿依古丽·艾力"


def test_surrounding_and_inner_spaces_are_dropped():
    assert check_name("  张 三 ", RESIDENT_ID) == "张三"


def test_chinese_names_are_fine_for_every_type():
    assert check_name("陈大文", HK_MO_PERMIT) == "陈大文"
    assert check_name("张三", PASSPORT) == "张三"


def test_empty_name():
    assert refusal("") == "请填写姓名"
    assert refusal(None) == "请填写姓名"
    assert refusal("   ") == "请填写姓名"


def test_length_bounds():
    assert refusal("张") == "姓名至少2个汉字"
    assert check_name("张" * 20, RESIDENT_ID) == "张" * 20
    assert "最多20个字" in refusal("张" * 21)


@pytest.mark.parametrize("name", ["·张三", "张三·", "张··三"])
def test_misplaced_dots(name):
    assert "间隔号" in refusal(name)


def test_bad_characters_are_named():
    message = refusal("张三3")
    assert "“3”" in message and "只能包含汉字" in message
    assert "“!”" in refusal("!!")


def test_latin_names_only_for_foreigners_documents():
    assert check_name("  John  Smith ", PASSPORT) == "John Smith"
    assert check_name("MÜLLER-LÜDENSCHEIDT, Hans J.", FOREIGN_PERMANENT) == "MÜLLER-LÜDENSCHEIDT, Hans J."
    assert check_name("O'Brien", PASSPORT) == "O'Brien"
    assert "外文姓名仅适用于护照和外国人永久居留身份证" in refusal("John Smith", RESIDENT_ID)


def test_latin_rules():
    assert "最多60个字符" in refusal("A" * 61, PASSPORT)
    assert check_name("A" * 60, PASSPORT) == "A" * 60
    assert "“3”" in refusal("John3", PASSPORT)
    assert "至少2个字母" in refusal("J", PASSPORT)
    assert "以字母开头" in refusal("-John", PASSPORT)
