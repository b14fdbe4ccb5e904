from datetime import datetime, timezone

import pytest

from services.notify.domain.formatting import beijing_time, mask_address, sms_segments
from services.notify.domain.templates import (
    CHANNELS,
    KINDS,
    MissingPlaceholders,
    TemplateDeclarationError,
    TemplateRegistry,
    UnknownTemplate,
)

LONG_NAME = "买买提·艾力·阿不都热合曼"
LONG_ADDRESS = "北京市朝阳区建国路88号SOHO现代城A座1201室（物业前台代收，工作日9:00-18:00）"

CONTEXTS = {
    "verification_code": {"purpose": "register", "code": "604318", "valid_minutes": 5},
    "account_registered": {"phone_masked": "138****1234"},
    "submission_receipt": {"submitted_at": "2020-07-03T10:15:00.123+08:00", "attempt": 1},
    "approved": {"name": LONG_NAME, "registration_number": "BJ2020-SG-000123", "recipient": LONG_NAME,
                 "address": LONG_ADDRESS},
    "rejected": {
        "opinion": "两寸照片不符合要求，身份证反面不清晰",
        "material_issues": [{"kind": "photo", "reason": "照片背景有杂物，请上传免冠正面照"},
                            {"kind": "id_card_back", "reason": "图片模糊，看不清有效期"}],
        "resubmit_until": datetime(2020, 7, 31, 15, 59, tzinfo=timezone.utc),
    },
    "dispatched": {"registration_number": "BJ2020-SG-000123", "carrier": "中国邮政EMS",
                   "tracking_number": "1187654321098", "dispatched_at": "2020-08-10T09:30:00+08:00"},
}


@pytest.fixture(scope="module")
def registry():
    return TemplateRegistry.load()


def render_all(registry):
    return {(kind, channel): registry.render(kind, channel, CONTEXTS[kind])
            for kind in KINDS for channel in CHANNELS}


def test_every_kind_renders_on_every_channel_with_version_and_length(registry):
    for (kind, channel), message in render_all(registry).items():
        assert message.template == kind
        assert message.version >= 1
        assert "{{" not in message.body and "None" not in message.body
        if channel == "sms":
            assert message.subject is None
            assert message.body.startswith("【北京社会工作者协会】")
            assert "\n" not in message.body
            assert message.segments == sms_segments(message.body) >= 1
        else:
            assert message.subject and "\n" not in message.subject
            assert message.body.endswith("（本邮件由系统自动发送，请勿直接回复）")


@pytest.mark.parametrize("purpose, words", [
    ("register", "注册"), ("login", "登录"), ("reset_password", "重置"), ("admin_login", "工作人员登录"),
])
@pytest.mark.parametrize("channel", CHANNELS)
def test_verification_code_wording_per_purpose(registry, purpose, words, channel):
    message = registry.render("verification_code", channel, {"purpose": purpose, "code": "604318",
                                                             "valid_minutes": 5})
    assert words in message.body
    assert "604318" in message.body and "5分钟内有效" in message.body and "请勿泄露" in message.body
    if channel == "sms":
        assert message.segments == 1, message.body  # a code must never arrive in pieces


def test_unknown_purpose_fails_rather_than_sending_a_vague_code(registry):
    with pytest.raises(MissingPlaceholders):
        registry.render("verification_code", "sms", {"purpose": "hack", "code": "1", "valid_minutes": 5})


def test_submission_receipt_uses_the_notice_wording(registry):
    for channel in CHANNELS:
        body = registry.render("submission_receipt", channel, CONTEXTS["submission_receipt"]).body
        assert "您的登记申请表已提交，请耐心等待审核结果" in body
        assert "2020年7月3日 10:15" in body
    again = registry.render("submission_receipt", "sms", {**CONTEXTS["submission_receipt"], "attempt": 2})
    assert "第2次提交" in again.body


def test_approved_names_the_recipient_and_masks_the_address(registry):
    for channel in CHANNELS:
        body = registry.render("approved", channel, CONTEXTS["approved"]).body
        assert LONG_NAME in body and "BJ2020-SG-000123" in body
        assert "北京市朝阳区建国路" in body
        assert "88号" not in body and "1201" not in body and "****" in body
    sms = registry.render("approved", "sms", CONTEXTS["approved"])
    assert sms.segments == 2 and sms.length > 70


def test_rejected_lists_opinion_reasons_and_deadline_in_beijing_time(registry):
    sms = registry.render("rejected", "sms", CONTEXTS["rejected"])
    email = registry.render("rejected", "email", CONTEXTS["rejected"])
    for body in (sms.body, email.body):
        assert "两寸照片不符合要求" in body
        assert "照片背景有杂物，请上传免冠正面照" in body and "图片模糊，看不清有效期" in body
        assert "身份证反面" in body and "两寸免冠照片" in body
        assert "2020年7月31日 23:59（北京时间）" in body
    assert "1. 两寸免冠照片照片" not in email.body and "1. 两寸免冠照片：" in email.body
    assert sms.segments >= 2


def test_rejected_without_opinion_or_issues(registry):
    context = {**CONTEXTS["rejected"], "opinion": None, "material_issues": []}
    assert "审核意见：无" in registry.render("rejected", "email", context).body
    assert "审核意见" not in registry.render("rejected", "sms", context).body


def test_rejected_issue_without_reason_raises(registry):
    context = {**CONTEXTS["rejected"], "material_issues": [{"kind": "photo"}]}
    with pytest.raises(MissingPlaceholders):
        registry.render("rejected", "sms", context)


def test_dispatched_names_carrier_and_tracking_number(registry):
    for channel in CHANNELS:
        body = registry.render("dispatched", channel, CONTEXTS["dispatched"]).body
        assert "中国邮政EMS" in body and "1187654321098" in body


def test_missing_context_key_raises_naming_it(registry):
    with pytest.raises(MissingPlaceholders, match="tracking_number"):
        registry.render("dispatched", "sms", {"registration_number": "x", "carrier": "EMS"})


def test_unknown_template(registry):
    with pytest.raises(UnknownTemplate):
        registry.render("birthday", "sms", {})
    with pytest.raises(UnknownTemplate):
        registry.render("approved", "fax", {})


def test_sms_signature_is_configurable():
    for registry in (TemplateRegistry.load(sms_signature="【测试签名】"),
                     TemplateRegistry.from_config({"NOTIFY_SMS_SIGNATURE": "【测试签名】"})):
        body = registry.render("account_registered", "sms", CONTEXTS["account_registered"]).body
        assert body.startswith("【测试签名】您已成功注册")
    default = TemplateRegistry.from_config({}).render("account_registered", "sms", CONTEXTS["account_registered"])
    assert default.body.startswith("【北京社会工作者协会】")


def test_worst_case_rejection_sms_length_is_reported(registry):
    issues = [{"kind": kind, "reason": "图片模糊不清，请在光线充足处重新拍摄并上传"}
              for kind in ("id_card_front", "id_card_back", "certificate", "photo")]
    message = registry.render("rejected", "sms", {**CONTEXTS["rejected"], "material_issues": issues})
    assert message.length > 200 and message.segments == -(-message.length // 67)


def test_catalogue_lists_versions(registry):
    assert ("approved", "sms", 1) in registry.catalogue()
    assert len(registry.catalogue()) == len(KINDS) * len(CHANNELS)


# --- load-time checks -------------------------------------------------------------------------

SMS = "{#-\nversion: 2\nplaceholders: code\n-#}\n验证码{{ code }}"
EMAIL = "{#-\nversion: 1\nplaceholders: code\n-#}\n{% block subject %}主题{% endblock %}{% block body %}{{ code }}{% endblock %}"


def load(**sources):
    return TemplateRegistry.from_sources({name.replace("__", "."): text for name, text in sources.items()},
                                         required_kinds=("code",))


def test_minimal_sources_load_and_render():
    registry = load(code__sms__j2=SMS, code__email__j2=EMAIL)
    assert registry.render("code", "sms", {"code": "1"}).version == 2
    assert registry.render("code", "email", {"code": "1"}).subject == "主题"


@pytest.mark.parametrize("sms, message", [
    (SMS.replace("{{ code }}", "{{ code }}{{ cod }}"), "使用了但未声明：cod"),
    (SMS.replace("placeholders: code", "placeholders: code, name"), "声明了但未使用：name"),
    (SMS.replace("version: 2\n", ""), "版本号"),
    (SMS.replace("version: 2", "version: two"), "版本号"),
    (SMS.replace("placeholders: code\n", ""), "placeholders"),
    ("验证码{{ code }}", "声明注释"),
    (SMS + "{% if %}", "语法错误"),
    (SMS + '{% include "x.j2" %}', "不能引用"),
    (SMS + "{% block subject %}{% endblock %}", "不应定义 block"),
])
def test_bad_sms_template_fails_at_load(sms, message):
    with pytest.raises(TemplateDeclarationError, match=message):
        load(code__sms__j2=sms, code__email__j2=EMAIL)


def test_email_template_needs_subject_and_body_blocks():
    no_subject = EMAIL.replace("{% block subject %}主题{% endblock %}", "")
    with pytest.raises(TemplateDeclarationError, match="subject 和 body"):
        load(code__sms__j2=SMS, code__email__j2=no_subject)


def test_missing_template_and_bad_file_name_fail_at_load():
    with pytest.raises(TemplateDeclarationError, match="code.email.j2"):
        load(code__sms__j2=SMS)
    with pytest.raises(TemplateDeclarationError, match="不符合"):
        load(code__sms__j2=SMS, code__email__j2=EMAIL, code__fax__j2=SMS)


def test_load_reads_a_directory_and_checks_it(tmp_path):
    (tmp_path / "code.sms.j2").write_text(SMS, encoding="utf-8")
    (tmp_path / "code.email.j2").write_text(EMAIL.replace("{{ code }}", "{{ code }}{{ typo }}"),
                                            encoding="utf-8")
    with pytest.raises(TemplateDeclarationError, match="code.email.j2.*typo"):
        TemplateRegistry.load(tmp_path, required_kinds=("code",))
    with pytest.raises(TemplateDeclarationError, match="不存在"):
        TemplateRegistry.load(tmp_path / "nowhere")


# --- formatting -------------------------------------------------------------------------------

def test_beijing_time_formats_utc_and_iso_strings():
    assert beijing_time(datetime(2020, 7, 31, 15, 59, tzinfo=timezone.utc)) == "2020年7月31日 23:59"
    assert beijing_time("2020-07-01T00:05:00+08:00") == "2020年7月1日 00:05"
    with pytest.raises(ValueError):
        beijing_time(datetime(2020, 7, 31, 15, 59))


@pytest.mark.parametrize("address, expected", [
    ("北京市朝阳区建国路88号SOHO现代城A座1201室", "北京市朝阳区建国路8****"),
    ("北京市海淀区中关村大街1号院小区3号楼", "北京市海淀区中关村大****"),
    ("河北省廊坊市三河市燕郊镇迎宾路", "河北省廊坊市三河市燕****"),  # a third stays hidden
    ("朝阳区1号", "朝阳区1****"),
    ("某地", "某****"),
    ("", ""),
])
def test_mask_address(address, expected):
    assert mask_address(address) == expected


@pytest.mark.parametrize("length, segments", [(0, 0), (1, 1), (70, 1), (71, 2), (134, 2), (135, 3)])
def test_sms_segments(length, segments):
    assert sms_segments("字" * length) == segments
