import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.contracts.errors import ValidationFailed
from services.registration.domain import form
from services.registration.domain.form import merge_draft, missing_for_submit, validate_draft

from .builders import FEMALE_ID, MALE_ID, accepted_materials, complete_form, editable_fields, locked_fields

MAIL = ["MAIL"]
_CJK = re.compile(r"[\u4e00-\u9fff]")


def refused(data, allowed=MAIL):
    with pytest.raises(ValidationFailed) as caught:
        validate_draft(data, allowed)
    return caught.value


class TestDraft:
    def test_a_complete_editable_form_is_accepted_as_is(self):
        assert validate_draft(editable_fields(), MAIL) == editable_fields()

    def test_a_draft_may_be_half_filled(self):
        assert validate_draft({"major": "社会工作"}, MAIL) == {"major": "社会工作"}
        assert validate_draft({}, MAIL) == {}

    def test_blank_values_clear_a_field(self):
        cleaned = validate_draft({"major": "  ", "service_fields": [], "delivery": {"postcode": ""}}, MAIL)
        assert cleaned == {"major": None, "service_fields": None, "delivery": {"postcode": None}}

    def test_values_are_normalised(self):
        cleaned = validate_draft({"mobile": " 13812345678 ", "graduated_on": "2015年7月",
                                  "years_in_social_work": "5",
                                  "service_fields": ["CHARITY", "CHARITY", "OTHER"]}, MAIL)
        assert cleaned == {"mobile": "13812345678", "graduated_on": "2015-07", "years_in_social_work": 5,
                           "service_fields": ["CHARITY", "OTHER"]}

    @pytest.mark.parametrize("field", sorted(form.LOCKED_FIELDS))
    def test_every_locked_field_is_refused(self, field):
        error = refused({"major": "社会工作", field: locked_fields()[field]})
        assert error.code == "locked_field"
        assert error.message == "身份证号、证书管理号等信息由系统关联，不可修改"
        assert error.details == {field: [form.LOCKED_MESSAGE]}

    def test_unknown_fields_are_refused(self):
        error = refused({"hobby": "读书"})
        assert error.code == "validation_failed"
        assert error.details == {"hobby": ["表单中没有此项，请刷新页面后重新填写"]}

    def test_not_a_mapping(self):
        assert refused(["major"]).code == "validation_failed"

    @pytest.mark.parametrize("field, value, needle", [
        ("mobile", "12812345678", "手机号码应为1开头的11位数字"),
        ("mobile", "1381234567", "手机号码"),
        ("email", "zhangsan@", "电子邮箱格式不正确"),
        ("ethnicity", "57", "请从列表中选择民族"),
        ("political_status", "14", "请从列表中选择政治面貌"),
        ("education", "博士后", "请从列表中选择学历"),
        ("employer_category", "个体户", "请从列表中选择单位类别"),
        ("service_district", "110103", "请从列表中选择服务地域"),
        ("service_fields", ["社会救助"], "服务领域中有无效选项"),
        ("service_fields", "CHARITY", "可多选"),
        ("years_in_social_work", 61, "0至60之间的整数"),
        ("years_in_social_work", -1, "0至60之间的整数"),
        ("years_in_social_work", 2.5, "0至60之间的整数"),
        ("years_in_social_work", True, "0至60之间的整数"),
        ("graduated_on", "2015-13", "月份应在1至12之间"),
        ("graduated_on", "去年", "如2015-07"),
        ("major", "社" * 51, "最多50个字，当前51个字"),
        ("major", "社会\n工作", "换行"),
        ("attestation", "true", "勾选"),
        ("consent_sensitive", 1, "勾选"),
        ("delivery", "邮寄", "取证方式及邮寄信息格式有误"),
        ("work_history", {"start": "2012-01"}, "工作经历格式有误"),
    ])
    def test_each_bad_value_gets_a_chinese_reason(self, field, value, needle):
        details = refused({field: value}).details
        assert list(details) == [field]
        assert needle in details[field][0]

    def test_nested_errors_are_flat_paths(self):
        details = refused({
            "delivery": {"method": "MAIL", "postcode": "10001", "phone": "12345", "floor": 3},
            "work_history": [{"start": "2012-01", "end": "2013-01", "employer": "甲", "role": "乙"},
                             {"start": "2019-05", "end": "2018-01"}, {"start": "2019-01", "end": "至今"}],
        }).details
        assert set(details) == {"delivery.postcode", "delivery.phone", "delivery.floor",
                                "work_history.1.end", "work_history.2.end"}
        assert "早于开始时间" in details["work_history.1.end"][0]
        assert "不支持“至今”" in details["work_history.2.end"][0]

    def test_landline_recipient_phone(self):
        assert validate_draft({"delivery": {"phone": "010-12345678"}}, MAIL) == {
            "delivery": {"phone": "010-12345678"}}

    def test_delivery_method_must_be_offered_by_the_campaign(self):
        details = refused({"delivery": {"method": "PICKUP"}}).details
        assert details == {"delivery.method": ["本次登记仅支持邮寄方式领取证书，请选择邮寄"]}
        assert validate_draft({"delivery": {"method": "PICKUP"}}, ["MAIL", "PICKUP"])

    def test_all_problems_come_at_once(self):
        details = refused({"mobile": "1", "email": "x", "delivery": {"method": "PICKUP"}}).details
        assert set(details) == {"mobile", "email", "delivery.method"}

    def test_too_many_work_periods(self):
        period = {"start": "2012-01", "end": "2013-01", "employer": "甲", "role": "乙"}
        assert "最多填写20段" in refused({"work_history": [period] * 21}).details["work_history"][0]


class TestMerge:
    def test_fields_replace_none_clears_delivery_merges(self):
        stored = {**locked_fields(), "major": "社会学", "delivery": {"method": "MAIL", "postcode": "100010"}}
        merged = merge_draft(stored, {"major": None, "delivery": {"postcode": None, "city": "北京市"}})
        assert "major" not in merged
        assert merged["delivery"] == {"method": "MAIL", "city": "北京市"}
        assert merged["id_number"] == MALE_ID
        assert stored["major"] == "社会学"  # the input is not mutated


class TestSubmit:
    def test_a_complete_application_lacks_nothing(self):
        assert missing_for_submit(complete_form(), accepted_materials(), MAIL) == {}

    def test_work_history_is_optional(self):
        data = complete_form()
        del data["work_history"]
        assert missing_for_submit(data, accepted_materials(), MAIL) == {}

    def test_an_empty_form_lists_every_item(self):
        missing = missing_for_submit(locked_fields(), {}, MAIL)
        expected = {key for key in form.EDITABLE_FIELDS if key not in ("work_history", "delivery")}
        expected |= {f"delivery.{key}" for key in ("method",) + form.MAIL_FIELDS}
        expected |= {f"materials.{kind}" for kind in ("id_card_front", "id_card_back", "certificate", "photo")}
        assert set(missing) == expected
        assert missing["attestation"] == ["请勾选“我保证上述所填信息均真实有效”后再提交"]
        assert "敏感个人信息" in missing["consent_sensitive"][0]
        assert missing["materials.photo"][0].startswith("请上传两寸免冠照片")
        assert missing["ethnicity"] == ["请选择民族"] and missing["major"] == ["请填写所学专业"]

    def test_unticked_boxes_block(self):
        data = {**complete_form(), "attestation": False, "consent_sensitive": False}
        assert set(missing_for_submit(data, accepted_materials(), MAIL)) == {"attestation", "consent_sensitive"}

    def test_refused_material_names_the_reason(self):
        materials = accepted_materials()
        materials["photo"] = {"material_id": "m9", "ok": False, "issues": [
            {"code": "photo_size", "message": "照片宽高应为413×626像素，当前为295×413"}]}
        assert missing_for_submit(complete_form(), materials, MAIL) == {
            "materials.photo": ["两寸免冠照片未通过检查：照片宽高应为413×626像素，当前为295×413。请重新上传"]}

    def test_invalid_stored_values_are_listed(self):
        data = {**complete_form(), "mobile": "123", "service_fields": []}
        missing = missing_for_submit(data, accepted_materials(), MAIL)
        assert set(missing) == {"mobile", "service_fields"}
        assert missing["service_fields"] == ["请选择服务领域"]

    def test_incomplete_work_period(self):
        data = {**complete_form(), "work_history": [{"start": "2012-01", "employer": "甲"}]}
        missing = missing_for_submit(data, accepted_materials(), MAIL)
        assert set(missing) == {"work_history.0.end", "work_history.0.role"}
        assert missing["work_history.0.end"] == ["请填写第1段工作经历的结束时间，或删除这段经历"]

    def test_delivery_method_no_longer_offered(self):
        data = complete_form()
        data["delivery"] = {**data["delivery"], "method": "PICKUP"}
        assert set(missing_for_submit(data, accepted_materials(), MAIL)) == {"delivery.method"}
        assert missing_for_submit(data, accepted_materials(), ["MAIL", "PICKUP"]) == {}

    def test_pickup_needs_no_address(self):
        data = complete_form()
        data["delivery"] = {"method": "PICKUP"}
        assert missing_for_submit(data, accepted_materials(), ["PICKUP"]) == {}

    def test_gender_must_agree_with_the_id(self):
        data = {**complete_form(), **locked_fields(FEMALE_ID, "M", "1985-06-15")}
        missing = missing_for_submit(data, accepted_materials(), MAIL)
        assert list(missing) == ["gender"]
        assert "第17位奇数为男" in missing["gender"][0]

    def test_birth_date_must_agree_with_the_id(self):
        data = {**complete_form(), "birth_date": "1990-03-08"}
        assert list(missing_for_submit(data, accepted_materials(), MAIL)) == ["birth_date"]

    def test_missing_locked_data_points_to_the_fix(self):
        data = complete_form()
        del data["management_number"]
        missing = missing_for_submit(data, accepted_materials(), MAIL)
        assert list(missing) == ["management_number"]
        assert "提交反馈" in missing["management_number"][0]

    def test_documents_without_birth_date_need_no_gender(self):
        data = {**complete_form(), "id_type": "PASSPORT", "id_number": "E12345678"}
        del data["gender"], data["birth_date"]
        assert missing_for_submit(data, accepted_materials(), MAIL) == {}

    def test_check_submittable_raises_with_the_list(self):
        with pytest.raises(ValidationFailed) as caught:
            form.check_submittable({**complete_form(), "attestation": False}, accepted_materials(), MAIL)
        assert caught.value.code == "incomplete_application"
        assert list(caught.value.details) == ["attestation"]
        assert form.check_submittable(complete_form(), accepted_materials(), MAIL) is None


def test_every_field_documents_its_chinese_label():
    for name, field in form.ApplicationFormSchema().fields.items():
        assert field.metadata["label"], name
    assert form.FIELD_LABELS["management_number"] == "职业水平证书管理号"
    assert form.FIELD_LABELS["service_district"] == "服务地域"


_json = st.recursive(
    st.none() | st.booleans() | st.integers(-10, 100) | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6)


@settings(max_examples=300)
@given(st.dictionaries(st.sampled_from(form.EDITABLE_FIELDS + ("extra",)), _json, max_size=4))
def test_any_input_is_cleaned_or_refused_in_chinese(data):
    try:
        validate_draft(data, MAIL)
    except ValidationFailed as error:
        for messages in error.details.values():
            assert all(_CJK.search(message) for message in messages), error.details
