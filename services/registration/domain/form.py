"""The application form 《北京市社会工作者登记申请表》 and its two checks.

- `validate_draft` checks what the applicant sends on "保存": each field given must be valid,
  nothing must be missing (a draft may be half-filled), locked and unknown fields are refused.
- `missing_for_submit` lists, for "提交", EVERY item still missing or wrong, including the
  attestation, the separate consent and the four materials, so the page can show them all at once.

Error details are flat: `{"delivery.postcode": [...], "work_history.0.end": [...],
"materials.photo": [...]}` — one key per input the applicant has to fix.
"""
from marshmallow import RAISE, Schema, ValidationError, pre_load, validates_schema

from services.contracts.errors import ValidationFailed

from . import codes
from .formfields import Code, CodeList, Flag, Month, Nested, NestedList, Text, WholeNumber

MOBILE_PATTERN = r"^1[3-9]\d{9}$"
# Recipients may give a landline: 010-12345678, 01012345678, 0731-1234567.
PHONE_PATTERN = r"^1[3-9]\d{9}$|^0\d{2,3}-?\d{7,8}$"
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[A-Za-z0-9-]{2,}$"
POSTCODE_PATTERN = r"^\d{6}$"

LOCKED_MESSAGE = "身份证号、证书管理号等信息由系统关联，不可修改"

# Locked fields: filled from the exam roster and the verified identity, never by the applicant.
LOCKED_FIELDS = {
    "name": "姓名",
    "id_type": "证件类型",
    "id_number": "证件号码",
    "management_number": "职业水平证书管理号",
    "cert_level": "证书级别",
    "exam_year": "考试年度",
    "approval_date": "批准日期",
    "gender": "性别",
    "birth_date": "出生日期",
}
# Only documents with an 18-character GB 11643 number carry a birth date and sex.
LOCKED_FROM_ID = ("gender", "birth_date")

ATTESTATION_TEXT = "我保证上述所填信息均真实有效"
CONSENT_TEXT = "我同意为办理社会工作者登记处理本人身份证和职业水平证书照片等敏感个人信息"


class _FormSchema(Schema):
    class Meta:
        unknown = RAISE

    error_messages = {
        "unknown": "表单中没有此项，请刷新页面后重新填写",
        "type": "表单数据格式有误，请刷新页面后重试",
    }

    @pre_load
    def _blank_is_none(self, data, **kwargs):
        # Empty inputs mean "not filled yet"; keeping them as None lets drafts clear a field.
        if not isinstance(data, dict):
            return data
        cleaned = {}
        for key, value in data.items():
            if isinstance(value, str) and not value.strip():
                value = None
            elif isinstance(value, (list, tuple)) and not value:
                value = None
            cleaned[key] = value
        return cleaned


class MailingSchema(_FormSchema):
    """取证方式及邮寄信息: how the certificate reaches its holder (the form's public key is `delivery`)."""
    method = Code("取证方式", "delivery_method")
    recipient = Text("收件人", 50)
    phone = Text("收件电话", 20, PHONE_PATTERN, "收件电话应为11位手机号或带区号的固定电话（如010-12345678）")
    province = Text("省（自治区、直辖市）", 20)
    city = Text("市", 30)
    district = Text("区（县）", 30)
    address = Text("详细地址", 200)
    postcode = Text("邮政编码", 6, POSTCODE_PATTERN, "邮政编码应为6位数字，如100005")


class WorkHistorySchema(_FormSchema):
    """工作经历, one period."""
    start = Month("开始时间")
    end = Month("结束时间")
    employer = Text("工作单位", 100)
    role = Text("职务/岗位", 50)

    @validates_schema
    def _end_not_before_start(self, data, **kwargs):
        start, end = data.get("start"), data.get("end")
        if start and end and end < start:  # "YYYY-MM" strings sort as months do
            raise ValidationError(f"结束时间{end}早于开始时间{start}，请检查", field_name="end")


class ApplicationFormSchema(_FormSchema):
    """The editable part of 《北京市社会工作者登记申请表》."""
    ethnicity = Code("民族", "ethnicity")
    political_status = Code("政治面貌", "political_status")
    education = Code("学历", "education")
    major = Text("所学专业", 50)
    graduated_from = Text("毕业院校", 100)
    graduated_on = Month("毕业时间")
    employer = Text("工作单位", 100)
    employer_category = Code("单位类别", "employer_category")
    position = Text("职务/岗位", 50)
    years_in_social_work = WholeNumber("从事社会工作年限", 0, 60, "（年）")
    service_district = Code("服务地域", "service_district")
    service_fields = CodeList("服务领域", "service_field")
    work_history = NestedList(WorkHistorySchema, "工作经历", max_items=20)
    mobile = Text("手机号码", 11, MOBILE_PATTERN, "手机号码应为1开头的11位数字，如13812345678")
    email = Text("电子邮箱", 100, EMAIL_PATTERN, "电子邮箱格式不正确，应类似name@example.com")
    delivery = Nested(MailingSchema, "取证方式及邮寄信息")
    attestation = Flag("承诺", metadata={"text": ATTESTATION_TEXT})
    consent_sensitive = Flag("敏感个人信息处理同意", metadata={"text": CONSENT_TEXT})


# One instance for every load: its hooks keep no state, and building one (deep copies of every field,
# nested schemas included) cost more than checking a form with it (bench_submit's profile).
FORM_SCHEMA = ApplicationFormSchema()
EDITABLE_FIELDS = tuple(ApplicationFormSchema().fields)
OPTIONAL_FIELDS = frozenset({"work_history"})
FIELD_LABELS = {
    **LOCKED_FIELDS,
    **{name: field.metadata["label"] for name, field in ApplicationFormSchema().fields.items()},
}
MAILING_LABELS = {name: f.metadata["label"] for name, f in MailingSchema().fields.items()}
WORK_HISTORY_LABELS = {name: f.metadata["label"] for name, f in WorkHistorySchema().fields.items()}
MAIL_FIELDS = ("recipient", "phone", "province", "city", "district", "address", "postcode")


def validate_draft(data, allowed_methods):
    """Check a "保存" request; return the cleaned fields given (None = cleared) or raise ValidationFailed."""
    if not isinstance(data, dict):
        raise ValidationFailed("表单数据格式有误，请刷新页面后重试", details={"_form": ["表单数据格式有误"]})
    locked = [key for key in data if key in LOCKED_FIELDS]
    if locked:
        raise ValidationFailed(LOCKED_MESSAGE, code="locked_field",
                               details={key: [LOCKED_MESSAGE] for key in locked})
    errors = _mailing_method_errors(data, allowed_methods)
    try:
        cleaned = FORM_SCHEMA.load(data, partial=True)
    except ValidationError as exc:
        errors = {**_flatten(exc.messages), **errors}
    if errors:
        raise ValidationFailed("表单填写有误，请按提示修改", details=errors)
    return cleaned


def merge_draft(form, cleaned):
    """The stored form after a saved draft: fields replace, the mailing (`delivery`) merges key by key,
    None clears."""
    merged = dict(form)
    for key, value in cleaned.items():
        if key == "delivery" and value is not None:
            mailing = {**(merged.get("delivery") or {}), **value}
            value = {k: v for k, v in mailing.items() if v is not None} or None
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


def missing_for_submit(form, materials, allowed_methods):
    """Everything that stops a submit, as {field: [Chinese message]}; {} when the form can go.

    `materials` maps a material kind to {"material_id", "ok": bool, "issues": [{"code", "message"}]},
    the verdict of review's material check (docs/rpc.md).
    """
    errors = {}

    def add(key, message):
        errors.setdefault(key, []).append(message)

    for key, label in LOCKED_FIELDS.items():
        if key in LOCKED_FROM_ID and not _has_birth_and_sex(form.get("id_number")):
            continue
        if _blank(form.get(key)):
            add(key, f"系统未能关联{label}，请退出后重新进入登记页面；仍有问题请提交反馈")
    for key, message in _id_agreement_errors(form).items():
        add(key, message)

    editable = {key: value for key, value in form.items() if key not in LOCKED_FIELDS}
    try:
        FORM_SCHEMA.load(editable, partial=True)
    except ValidationError as exc:
        for key, messages in _flatten(exc.messages).items():
            for message in messages:
                add(key, message)
    for key, messages in _mailing_method_errors(form, allowed_methods).items():
        add(key, messages[0])

    for key in EDITABLE_FIELDS:
        if key in OPTIONAL_FIELDS or key in ("delivery", "attestation", "consent_sensitive"):
            continue
        if _blank(form.get(key)) and key not in errors:
            add(key, _please_fill(key))
    _missing_mailing(form.get("delivery"), add)
    _missing_work_history(form.get("work_history"), add)
    if form.get("attestation") is not True:
        add("attestation", f"请勾选“{ATTESTATION_TEXT}”后再提交")
    if form.get("consent_sensitive") is not True:
        add("consent_sensitive", "请阅读并勾选同意处理身份证和职业水平证书照片等敏感个人信息后再提交")
    _missing_materials(materials or {}, add)
    return errors


def check_submittable(form, materials, allowed_methods):
    """Raise ValidationFailed(code="incomplete_application") listing every problem, or return None."""
    missing = missing_for_submit(form, materials, allowed_methods)
    if missing:
        raise ValidationFailed(f"申请还有{len(missing)}项未填写或有误，请按提示修改后再提交",
                               code="incomplete_application", details=missing)


def _please_fill(key):
    field = ApplicationFormSchema().fields[key]
    if isinstance(field, (Code, CodeList)):
        return f"请选择{FIELD_LABELS[key]}"
    return f"请填写{FIELD_LABELS[key]}"


def _missing_mailing(mailing, add):
    if not isinstance(mailing, dict) or _blank(mailing.get("method")):
        add("delivery.method", "请选择取证方式")
        mailing = mailing if isinstance(mailing, dict) else {}
    if mailing.get("method") == codes.PICKUP:
        return  # collected in person: no address needed
    for key in MAIL_FIELDS:
        if _blank(mailing.get(key)):
            add(f"delivery.{key}", f"请填写{MAILING_LABELS[key]}")


def _missing_work_history(history, add):
    if not isinstance(history, list):
        return
    for index, period in enumerate(history):
        period = period if isinstance(period, dict) else {}
        for key, label in WORK_HISTORY_LABELS.items():
            if _blank(period.get(key)):
                add(f"work_history.{index}.{key}",
                    f"请填写第{index + 1}段工作经历的{label}，或删除这段经历")


def _missing_materials(materials, add):
    for kind, label in codes.MATERIAL_KIND:
        material = materials.get(kind)
        if not material:
            add(f"materials.{kind}", f"请上传{label}图片（不超过1MB，清晰完整）")
        elif not material.get("ok"):
            reason = "；".join(issue["message"] for issue in material.get("issues") or []) or "图片不符合要求"
            add(f"materials.{kind}", f"{label}未通过检查：{reason}。请重新上传")


def _mailing_method_errors(form, allowed):
    mailing = form.get("delivery")
    method = mailing.get("method") if isinstance(mailing, dict) else None
    # Unknown codes are the schema's to report; this only refuses a method the campaign does not offer.
    if not isinstance(method, str) or method not in codes.codes_of("delivery_method") or method in allowed:
        return {}
    labels = "或".join(codes.label_of("delivery_method", m) for m in allowed) or "（无）"
    return {"delivery.method": [f"本次登记仅支持{labels}方式领取证书，请选择{labels}"]}


def _has_birth_and_sex(id_number):
    return isinstance(id_number, str) and len(id_number) == 18


def _id_agreement_errors(form):
    # The ID was validated at real-name verification; this only catches a form out of step with it.
    id_number = form.get("id_number")
    if not _has_birth_and_sex(id_number) or not id_number[6:17].isdigit():
        return {}
    errors = {}
    expected = "M" if int(id_number[16]) % 2 else "F"
    gender = form.get("gender")
    if gender and gender != expected:
        errors["gender"] = "性别与身份证号码不一致（第17位奇数为男、偶数为女），请提交反馈，由工作人员核实更正"
    birth = f"{id_number[6:10]}-{id_number[10:12]}-{id_number[12:14]}"
    if form.get("birth_date") and form.get("birth_date") != birth:
        errors["birth_date"] = "出生日期与身份证号码不一致，请提交反馈，由工作人员核实更正"
    return errors


def _blank(value):
    return value is None or value == "" or value == [] or value == {}


def _flatten(messages, prefix=""):
    flat = {}
    for key, value in messages.items():
        path = prefix if key == "_schema" and prefix else (f"{prefix}.{key}" if prefix else str(key))
        if isinstance(value, dict):
            for sub, msgs in _flatten(value, path).items():
                flat.setdefault(sub, []).extend(msgs)
        else:
            flat.setdefault(path, []).extend(value)
    return flat


# Which code table holds the label of a locked field's value (the page shows 男, not "M").
LOCKED_TABLES = {"id_type": "id_type", "cert_level": "cert_level", "gender": "gender"}


def spec():
    """The form as data, in display order, for pages and clients: each field's name, Chinese label,
    type, code table, limits and whether submit needs it. One source: the schema above."""
    def describe(name, field):
        kind = {Text: "text", Month: "month", Code: "code", CodeList: "codes", WholeNumber: "number",
                Flag: "flag"}.get(type(field), "group")
        item = {"name": name, "label": field.metadata["label"], "type": kind,
                "required": name not in OPTIONAL_FIELDS,
                "table": field.metadata.get("code_table"), "max_length": field.metadata.get("maxLength"),
                "minimum": field.metadata.get("minimum"), "maximum": field.metadata.get("maximum"),
                "text": field.metadata.get("text")}
        if kind == "group":
            many = isinstance(field, NestedList)
            inner = field.inner.nested if many else field.nested
            item.update(type="list" if many else "object", max_items=getattr(field, "max_items", None),
                        fields=[describe(n, f) for n, f in inner().fields.items()])
        return item
    return {"locked": [{"name": n, "label": lbl, "table": LOCKED_TABLES.get(n)} for n, lbl in LOCKED_FIELDS.items()],
            "fields": [describe(n, f) for n, f in ApplicationFormSchema().fields.items()]}
