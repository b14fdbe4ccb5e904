"""Request and response bodies of the HTTP API; the OpenAPI document is generated from these."""
from marshmallow import EXCLUDE, RAISE, Schema, fields, validate

import services.common.validation  # noqa: F401 — Chinese messages for every schema
from services.contracts.materials import KINDS

PHONE = validate.Regexp(r"^1[3-9]\d{9}$", error="手机号应为11位中国大陆手机号，例如13800138000")
CODE = validate.Regexp(r"^\d{6}$", error="验证码应为6位数字")


class Strict(Schema):
    class Meta:
        unknown = RAISE


class SmsCodeRequest(Strict):
    phone = fields.String(required=True, validate=PHONE, metadata={"description": "手机号"})
    purpose = fields.String(required=True, validate=validate.OneOf(
        ["register", "login", "reset_password", "admin_login"], error="用途应为 register、login、reset_password 或 admin_login"))


class SmsCodeAnswer(Schema):
    cooldown_seconds = fields.Integer()
    expires_in_seconds = fields.Integer()


class AccountRequest(Strict):
    phone = fields.String(required=True, validate=PHONE)
    code = fields.String(required=True, validate=CODE)
    password = fields.String(required=True, validate=validate.Length(max=128))


class SessionRequest(Strict):
    phone = fields.String(required=True, validate=PHONE)
    password = fields.String(validate=validate.Length(max=128))
    code = fields.String(validate=CODE)


class Principal(Schema):
    account_id = fields.String()
    roles = fields.List(fields.String())
    verified = fields.Boolean()
    verification_level = fields.String(allow_none=True)
    name_masked = fields.String(allow_none=True)
    id_number_masked = fields.String(allow_none=True)
    phone_masked = fields.String()


class SessionAnswer(Schema):
    account_id = fields.String()
    token = fields.String(metadata={"description": "Bearer token; browsers use the HttpOnly cookie instead"})
    principal = fields.Nested(Principal)


class IdentityRequest(Strict):
    name = fields.String(required=True, validate=validate.Length(min=1, max=60))
    id_type = fields.String(load_default="RESIDENT_ID")
    id_number = fields.String(required=True, validate=validate.Length(min=1, max=40))


class IdentityAnswer(Schema):
    level = fields.String()
    name_masked = fields.String()
    id_number_masked = fields.String()


class PasswordChangeRequest(Strict):
    old_password = fields.String(required=True)
    new_password = fields.String(required=True, validate=validate.Length(max=128))


class PasswordResetRequest(Strict):
    phone = fields.String(required=True, validate=PHONE)
    code = fields.String(required=True, validate=CODE)
    new_password = fields.String(required=True, validate=validate.Length(max=128))


class OpenApplicationRequest(Strict):
    campaign_id = fields.String(required=True)


class Material(Schema):
    material_id = fields.String(allow_none=True)
    ok = fields.Boolean()
    issues = fields.List(fields.Dict())


class ApplicationSummary(Schema):
    """One line of 我的申请: no personal data."""
    id = fields.String()
    campaign_id = fields.String()
    campaign_name = fields.String()
    kind = fields.String()
    kind_label = fields.String()
    state = fields.String()
    state_label = fields.String()
    attempt = fields.Integer()
    editable = fields.Boolean()
    next_step = fields.String(metadata={"description": "下一步，如“继续填写并提交”“按审核意见修改后重新提交”"})
    closes_at = fields.String(allow_none=True)
    resubmit_until = fields.String(allow_none=True)
    submitted_at = fields.String(allow_none=True)
    decided_at = fields.String(allow_none=True)
    registration_number = fields.String(allow_none=True)
    updated_at = fields.String()


class Application(Schema):
    id = fields.String()
    campaign_id = fields.String()
    state = fields.String(metadata={"description": "DRAFT, SUBMITTED, REJECTED, APPROVED"})
    attempt = fields.Integer()
    form = fields.Dict()
    locked_fields = fields.List(fields.String())
    materials = fields.Dict(keys=fields.String(), values=fields.Nested(Material))
    decision = fields.Dict(allow_none=True)
    registration_number = fields.String(allow_none=True)
    valid_from = fields.String(allow_none=True)
    valid_until = fields.String(allow_none=True)
    updated_at = fields.String()


class FormChanges(Schema):
    """Any subset of the editable form fields (see GET /code-tables for code values)."""
    class Meta:
        unknown = EXCLUDE  # the registration service refuses unknown and locked fields itself


class MaterialVerdict(Schema):
    material_id = fields.String(allow_none=True)
    verdict = fields.Dict()
    application = fields.Nested(Application, allow_none=True)


class DecisionRequest(Strict):
    decision = fields.String(required=True, validate=validate.OneOf(["approved", "rejected"],
                                                                    error="审核结论应为 approved 或 rejected"))
    opinion = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))
    material_issues = fields.List(fields.Nested(type("MaterialIssue", (Strict,), {
        "kind": fields.String(required=True, validate=validate.OneOf(
            KINDS, error="材料类型无效")),
        "reason": fields.String(required=True, validate=validate.Length(min=1, max=500)),
    })), load_default=list)


class Task(Schema):
    id = fields.String()
    application_id = fields.String()
    attempt = fields.Integer()
    state = fields.String()
    claimed_by = fields.String(allow_none=True)


class DispatchRequest(Strict):
    carrier = fields.String(required=True, validate=validate.Length(min=1, max=40))
    tracking_number = fields.String(required=True, validate=validate.Length(min=4, max=40))


class Error(Schema):
    code = fields.String()
    message = fields.String(metadata={"description": "中文，说明问题与修改方法"})
    details = fields.Raw(allow_none=True)


class ErrorBody(Schema):
    error = fields.Nested(Error)
