from datetime import datetime, timedelta, timezone

import pytest

from services.contracts.errors import ValidationFailed
from services.notify.domain import triggers
from services.notify.domain.templates import TemplateRegistry

NOW = datetime(2020, 7, 3, 2, 0, tzinfo=timezone.utc)
LONG_ADDRESS = "北京市朝阳区建国路88号SOHO现代城A座1201室（物业前台代收，工作日9:00-18:00）"


def review(decision="rejected", **extra):
    return {"review_id": "rv-1", "application_id": "app-1", "attempt": 1, "decision": decision,
            "opinion": "照片不符合要求", "material_issues": [{"kind": "photo", "reason": "背景有杂物"}],
            "reviewer_id": "s-1", "completed_at": "2020-07-05T16:00:00+08:00", **extra}


def test_sms_to_the_phone_and_a_copy_to_the_form_email_when_there_is_one():
    data = {"submitted_at": "2020-07-03T10:15:00+08:00", "attempt": 2}
    both = triggers.submission_receipt(data, "138 1234 5678", " Li.Si@Example.COM ")
    assert [(i.channel, i.recipient) for i in both] == [("sms", "13812345678"), ("email", "li.si@example.com")]
    assert both[0].context == {"submitted_at": "2020-07-03T10:15:00+08:00", "attempt": 2}
    assert [i.channel for i in triggers.submission_receipt(data, "13812345678", None)] == ["sms"]
    assert [i.channel for i in triggers.submission_receipt(data, "13812345678", "  ")] == ["sms"]
    assert triggers.submission_receipt(data, None, None) == []


def test_only_a_rejection_is_told_by_review_completed():
    assert triggers.rejected(review("approved"), "13812345678", "a@b.cn", None) == []
    [sms, email] = triggers.rejected(review(), "13812345678", "a@b.cn", "2020-07-31T23:59:00+08:00")
    assert sms.kind == email.kind == "rejected"
    assert sms.context == {"opinion": "照片不符合要求", "material_issues": [{"kind": "photo", "reason": "背景有杂物"}],
                           "resubmit_until": "2020-07-31T23:59:00+08:00"}


def test_approved_and_dispatched_take_what_the_templates_need():
    delivery = {"method": "mail", "recipient": "李四", "phone": "13912345678", "address": LONG_ADDRESS,
                "postcode": "100022"}
    [sms] = triggers.approved({"name": "李四", "registration_number": "BJ-1", "delivery": delivery},
                              "13812345678", None)
    assert sms.context == {"name": "李四", "registration_number": "BJ-1", "recipient": "李四", "address": LONG_ADDRESS}
    [sms] = triggers.dispatched({"registration_number": "BJ-1", "carrier": "EMS", "tracking_number": "11",
                                 "dispatched_at": "2020-08-10T09:30:00+08:00", "application_id": "a"},
                                "13812345678", None)
    assert set(sms.context) == {"registration_number", "carrier", "tracking_number", "dispatched_at"}


def test_a_code_states_its_validity_in_whole_minutes():
    intent = triggers.verification_code("13812345678", "604318", "login", NOW + timedelta(seconds=299.5), NOW)
    assert intent.context == {"purpose": "login", "code": "604318", "valid_minutes": 5}
    assert triggers.verification_code("13812345678", "604318", "login", NOW, NOW).context["valid_minutes"] == 1


@pytest.mark.parametrize("phone, code, purpose, expires, field", [
    ("", "604318", "login", NOW, "phone"),
    ("13812345678", "60a318", "login", NOW, "code"),
    ("13812345678", 604318, "login", NOW, "code"),
    ("13812345678", "604318", "hack", NOW, "purpose"),
    ("13812345678", "604318", "login", NOW.replace(tzinfo=None), "expires_at"),
])
def test_a_code_request_that_would_make_a_useless_message_is_refused(phone, code, purpose, expires, field):
    with pytest.raises(ValidationFailed) as refused:
        triggers.verification_code(phone, code, purpose, expires, NOW)
    assert field in refused.value.details


def test_gateway_params_are_strings_as_people_read_them():
    registry = TemplateRegistry.load()
    context = {"opinion": None, "material_issues": [{"kind": "photo", "reason": "背景有杂物"},
                                                    {"kind": "id_card_back", "reason": "模糊"}],
               "resubmit_until": "2020-07-31T23:59:00+08:00"}
    params = triggers.gateway_params(registry.spec("rejected", "sms").placeholders, context)
    assert params == {"material_issues": "两寸免冠照片：背景有杂物；身份证国徽面：模糊", "opinion": "",
                      "resubmit_until": "2020年7月31日 23:59"}
    approved = triggers.gateway_params(registry.spec("approved", "sms").placeholders,
                                       {"name": "李四", "registration_number": "BJ-1", "recipient": "李四",
                                        "address": LONG_ADDRESS})
    assert approved["address"] == "北京市朝阳区建国路8****"  # never more than the text shows
    code = triggers.gateway_params(registry.spec("verification_code", "sms").placeholders,
                                   {"purpose": "login", "code": "604318", "valid_minutes": 5})
    assert code == {"code": "604318", "purpose": "login", "valid_minutes": "5"}


def test_rejection_without_a_deadline_reads_well_on_both_channels():
    registry = TemplateRegistry.load()
    context = {"opinion": "照片不符合要求", "material_issues": [], "resubmit_until": None}
    sms = registry.render("rejected", "sms", context).body
    email = registry.render("rejected", "email", context).body
    assert sms.endswith("审核意见：照片不符合要求。请登录社工人才服务网修改后重新提交。")
    assert "请登录社工人才服务网，根据审核意见修改后再次提交首登记。" in email
    assert "请于" not in sms + email and "None" not in sms + email
    assert registry.spec("rejected", "sms").version == registry.spec("rejected", "email").version == 3
