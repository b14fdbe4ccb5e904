import pytest

from services.contracts.errors import ValidationFailed
from services.identity.domain.passwords import PasswordHasher, check_strength

PHONE = "13812345678"
ID_NUMBER = "11010519491231002X"


def problems(password, phone=None, id_number=None):
    with pytest.raises(ValidationFailed) as caught:
        check_strength(password, phone=phone, id_number=id_number)
    error = caught.value
    assert error.code == "weak_password"
    assert error.message == "密码不符合要求：" + "；".join(error.details["password"])
    return error.details["password"]


@pytest.mark.parametrize("password", ["Abcdef12", "abcdef1!", "ABCDEF1!", "Ab!Ab!Ab", "Sh0rt pw"])
def test_three_classes_of_eight_or_more_pass(password):
    check_strength(password, phone=PHONE, id_number=ID_NUMBER)


def test_too_short_says_how_long_it_is():
    assert problems("Ab1!") == ["长度至少8位（当前4位）"]


def test_too_long():
    assert problems("Ab1!" * 17) == ["长度最多64位（当前68位）"]
    check_strength("Ab1!" * 16)


def test_missing_classes_are_listed():
    assert problems("abcdefgh") == ["还需包含大写字母、数字、符号中的至少2类（需在小写字母、大写字母、数字、符号中至少包含3类）"]
    assert problems("abcdefg1") == ["还需包含大写字母、符号中的至少1类（需在小写字母、大写字母、数字、符号中至少包含3类）"]


def test_every_problem_is_listed_at_once():
    assert len(problems("abc")) == 2
    assert problems("", None, None)[0] == "长度至少8位（当前0位）"
    assert problems(None)[0] == "长度至少8位（当前0位）"


def test_non_ascii_is_refused():
    assert problems("Abcdef1！")[0].startswith("只能使用英文字母、数字和英文符号")
    assert problems("密码Abcdef1")[0].startswith("只能使用英文字母")


def test_phone_and_id_number_are_refused():
    assert problems(f"Ab!{PHONE}", phone=PHONE) == ["不能包含手机号"]
    assert problems(f"x!{ID_NUMBER.lower()}", id_number=ID_NUMBER) == ["不能包含证件号码"]
    assert problems("Pass!31002x", id_number=ID_NUMBER) == ["不能包含证件号码的后6位"]


def test_long_digit_runs_are_refused_even_without_context():
    # A management number or someone else's phone: 11+ digits in a row.
    assert problems("Ab!12345678901")[0].startswith("不能包含11位及以上的连续数字")
    check_strength("Ab!1234567890")


@pytest.fixture(scope="module")
def cheap():
    return PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


def test_hash_and_verify(cheap):
    stored = cheap.hash("Correct horse 1")
    assert stored.startswith("$argon2id$")
    assert cheap.verify(stored, "Correct horse 1")
    assert not cheap.verify(stored, "Correct horse 2")
    assert cheap.hash("Correct horse 1") != stored  # salted


def test_malformed_stored_hash_is_a_mismatch(cheap):
    assert not cheap.verify("not a hash", "x")
    assert not cheap.verify("$argon2id$v=19$m=8,t=1,p=1$broken", "x")


def test_needs_rehash_when_parameters_change(cheap):
    stored = cheap.hash("pw")
    assert not cheap.needs_rehash(stored)
    assert PasswordHasher(time_cost=2, memory_cost=8, parallelism=1).needs_rehash(stored)


def test_dummy_verify_is_always_false(cheap):
    assert cheap.dummy_verify("anything") is False


def test_default_parameters_are_explicit():
    hasher = PasswordHasher()
    assert (hasher.time_cost, hasher.memory_cost, hasher.parallelism) == (2, 19456, 1)
    assert "m=19456KiB" in hasher.describe()
    assert "$m=19456,t=2,p=1$" in hasher.hash("pw")
