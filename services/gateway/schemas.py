"""Request and response bodies, query strings and headers of the HTTP API. The OpenAPI document is
generated from these (services/gateway/openapi.py) and the routes validate with the same ones.

Requests are strict: an unknown field is refused. Answers list every field they carry today and
admit more (`additionalProperties`): a client ignores fields it does not know, so a service can add
one without breaking anybody. Times are ISO 8601 strings with the Beijing offset.
"""
from marshmallow import EXCLUDE, INCLUDE, RAISE, Schema, fields, validate

import services.common.validation  # noqa: F401 — Chinese messages for every schema
from services.contracts import states
from services.contracts.materials import KINDS
from services.contracts.notifications import STATES as NOTIFICATION_STATES

PHONE = validate.Regexp(r"^1[3-9]\d{9}$", error="手机号应为11位中国大陆手机号，例如13800138000")
CODE = validate.Regexp(r"^\d{6}$", error="验证码应为6位数字")
BINARY = {"type": "string", "format": "binary"}  # a raw body (an image, a spreadsheet) in the document


class Strict(Schema):
    class Meta:
        unknown = RAISE


class Query(Schema):
    """A query string or a set of headers: other keys (a cache-buster, a proxy's header) are ignored."""
    class Meta:
        unknown = EXCLUDE


class Answer(Schema):
    """A response body: the fields below, and any a later version adds."""
    class Meta:
        unknown = INCLUDE


def _nullable_text(**kwargs):
    return fields.String(allow_none=True, **kwargs)


def _binary(description):
    return fields.Raw(required=True, metadata={"type": "string", "format": "binary", "description": description})


# --- identity ------------------------------------------------------------------------------------

class SmsCodeRequest(Strict):
    phone = fields.String(required=True, validate=PHONE, metadata={"description": "手机号"})
    purpose = fields.String(required=True, validate=validate.OneOf(
        ["register", "login", "reset_password", "admin_login"], error="用途应为 register、login、reset_password 或 admin_login"))
    captcha_id = fields.String(validate=validate.Length(max=32), metadata={
        "description": "图形验证码编号：上次应答为 captcha_required 等时 error.details.captcha.captcha_id"})
    captcha_answer = fields.String(allow_none=True, validate=validate.Length(max=16), metadata={
        "description": "图形验证码的答案；不方便识别图片时留空，在 wait_seconds 秒后与 captcha_id 一起再次请求"})


class CaptchaRequest(Strict):
    phone = fields.String(required=True, validate=PHONE, metadata={"description": "要获取短信验证码的手机号"})


class Captcha(Answer):
    captcha_id = fields.String(required=True)
    image = fields.String(required=True, metadata={"description": "PNG 图片的 data: URL（可直接作为 img 的 src）"})
    wait_seconds = fields.Integer(required=True, metadata={
        "description": "不识别图片的替代方式：等待这么多秒后，不填答案、只带 captcha_id 即可获取短信验证码"})


class CaptchaErrorDetails(Answer):
    captcha = fields.Nested(Captcha, required=True)
    captcha_answer = fields.List(fields.String())


class CaptchaError(Answer):
    code = fields.String(required=True, metadata={
        "description": "captcha_required、captcha_wrong、captcha_expired 或 captcha_used"})
    message = fields.String(required=True)
    details = fields.Nested(CaptchaErrorDetails, required=True)


class CaptchaErrorBody(Answer):
    error = fields.Nested(CaptchaError, required=True)


class DeviceHeader(Query):
    device_id = fields.String(data_key="X-Device-Id", validate=validate.Regexp(
        r"^[A-Za-z0-9_-]{16,64}$", error="应为16到64个字母、数字、“-”或“_”"), metadata={
        "description": "API 客户端的设备标识（随机生成并长期保存）；与客户端地址一起决定短信验证码的限额。"
                       "浏览器不带此头，使用网关设置的 HttpOnly Cookie dev"})


class SmsCodeAnswer(Answer):
    cooldown_seconds = fields.Integer(metadata={"description": "多少秒后可再次获取"})
    expires_in_seconds = fields.Integer(metadata={"description": "短信验证码有效秒数"})


class AccountRequest(Strict):
    phone = fields.String(required=True, validate=PHONE)
    code = fields.String(required=True, validate=CODE)
    password = fields.String(required=True, validate=validate.Length(max=128))


class SessionRequest(Strict):
    phone = fields.String(required=True, validate=PHONE)
    password = fields.String(validate=validate.Length(max=128), metadata={"description": "密码；申请人可只用短信验证码登录"})
    code = fields.String(validate=CODE, metadata={"description": "短信验证码；管理员等员工角色须与密码同时提供"})


class PendingAnswer(Answer):
    account_id = fields.String()
    second_factor = fields.String(metadata={"description": "totp：再提交动态验证码；enrol：首次登录，先设置身份验证器"})
    pending_token = fields.String(metadata={"description": "第二步的凭证，10分钟内有效"})
    expires_in_seconds = fields.Integer()


class SecondFactorRequest(Strict):
    pending_token = fields.String(required=True, validate=validate.Length(min=1, max=200))
    code = fields.String(required=True, validate=validate.Length(min=1, max=20), metadata={
        "description": "身份验证器中的6位动态验证码，或一个恢复码（形如 abcd-efgh，每个只能用一次）"})


class EnrolmentRequest(Strict):
    pending_token = fields.String(required=True, validate=validate.Length(min=1, max=200))


class EnrolmentAnswer(Answer):
    secret = fields.String(metadata={"description": "TOTP 密钥（Base32），供手动输入身份验证器"})
    otpauth_uri = fields.String(metadata={"description": "otpauth:// 链接，即二维码的内容"})


class Principal(Answer):
    account_id = fields.String()
    roles = fields.List(fields.String(), metadata={"description": "applicant、reviewer、admin、security_admin、auditor"})
    verified = fields.Boolean()
    verification_level = _nullable_text()
    name_masked = _nullable_text()
    id_number_masked = _nullable_text()
    phone_masked = _nullable_text()


class SessionAnswer(Answer):
    account_id = fields.String()
    token = fields.String(metadata={"description": "Bearer token（Authorization: Bearer <token>）；浏览器改用 HttpOnly Cookie"})
    csrf_token = fields.String(metadata={"description": "用 Cookie 调用改变状态的接口时，放在 X-CSRF-Token 请求头中"})
    principal = fields.Nested(Principal)


class EnrolledAnswer(SessionAnswer):
    recovery_codes = fields.List(fields.String(), metadata={"description": "10个恢复码，只显示这一次，请妥善保存"})


class IdentityRequest(Strict):
    name = fields.String(required=True, validate=validate.Length(min=1, max=60))
    id_type = fields.String(load_default="RESIDENT_ID", metadata={"description": "证件类型代码（代码表 id_type）"})
    id_number = fields.String(required=True, validate=validate.Length(min=1, max=40))


class IdentityAnswer(Answer):
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


class Ok(Answer):
    ok = fields.Boolean(required=True)


# --- registration ----------------------------------------------------------------------------------

class Campaign(Answer):
    id = fields.String()
    name = fields.String()
    kind = fields.String(metadata={"description": "代码表 registration_kind"})
    kind_label = fields.String()
    region = fields.String()
    eligible_exam_years = fields.List(fields.Integer())
    eligible_levels = fields.List(fields.String(), metadata={"description": "代码表 cert_level"})
    opens_at = fields.String()
    closes_at = fields.String()
    window_text = fields.String()
    delivery_methods = fields.List(fields.String(), metadata={"description": "代码表 delivery_method"})
    exclude_local_only = fields.Boolean()
    allow_resubmit_after_close = fields.Boolean()
    resubmit_closes_at = _nullable_text()
    open = fields.Boolean(metadata={"description": "现在是否在登记时间内"})


class CodeEntry(Answer):
    code = fields.String()
    label = fields.String()


CODE_TABLES = fields.Dict(keys=fields.String(), values=fields.List(fields.Nested(CodeEntry)))


class OpenApplicationRequest(Strict):
    campaign_id = fields.String(required=True)


class Issue(Answer):
    code = fields.String()
    message = fields.String(metadata={"description": "中文，说明问题与修改方法"})


class Material(Answer):
    material_id = _nullable_text()
    ok = fields.Boolean()
    issues = fields.List(fields.Nested(Issue))


class MaterialIssue(Strict):
    kind = fields.String(required=True, validate=validate.OneOf(KINDS, error="材料类型无效"))
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))


class Decision(Answer):
    attempt = fields.Integer()
    decision = fields.String(validate=validate.OneOf([states.DECISION_APPROVED, states.DECISION_REJECTED]))
    opinion = _nullable_text()
    material_issues = fields.List(fields.Dict())
    decided_at = _nullable_text()


class Dispatch(Answer):
    carrier = fields.String()
    tracking_number = fields.String()
    dispatched_at = _nullable_text()


class ApplicationSummary(Answer):
    """One line of 我的申请: no personal data."""
    id = fields.String()
    campaign_id = fields.String()
    campaign_name = fields.String()
    kind = fields.String()
    kind_label = fields.String()
    state = fields.String(validate=validate.OneOf(states.APPLICATION_STATES))
    state_label = fields.String()
    attempt = fields.Integer()
    editable = fields.Boolean()
    next_step = fields.String(metadata={"description": "下一步，如“继续填写并提交”“按审核意见修改后重新提交”"})
    closes_at = _nullable_text()
    resubmit_until = _nullable_text()
    submitted_at = _nullable_text()
    decided_at = _nullable_text()
    registration_number = _nullable_text()
    updated_at = fields.String()


class Application(Answer):
    id = fields.String()
    campaign_id = fields.String()
    kind = fields.String()
    state = fields.String(validate=validate.OneOf(states.APPLICATION_STATES))
    editable = fields.Boolean()
    attempt = fields.Integer()
    form = fields.Dict(metadata={"description": "表单（字段见 FormChanges，另有系统关联的 locked_fields）"})
    locked_fields = fields.List(fields.String())
    materials = fields.Dict(keys=fields.String(), values=fields.Nested(Material))
    decision = fields.Nested(Decision, allow_none=True)
    registration_number = _nullable_text()
    valid_from = _nullable_text()
    valid_until = _nullable_text()
    first_submitted_at = _nullable_text()
    submitted_at = _nullable_text()
    resubmit_until = _nullable_text()
    dispatch = fields.Nested(Dispatch, allow_none=True)
    updated_at = fields.String()


class HistoryEntry(Answer):
    attempt = fields.Integer()
    snapshot = fields.Dict(metadata={"description": "{form, materials}：该次提交时的表单与材料"})
    submitted_at = _nullable_text()
    decision = _nullable_text()
    opinion = _nullable_text()
    material_issues = fields.List(fields.Dict())
    decided_at = _nullable_text()


class MaterialUpload(Strict):
    file = _binary("JPEG 或 PNG 图片，≤1MB")


class MaterialVerdict(Answer):
    material_id = _nullable_text(required=True, metadata={"description": "未通过检查时为 null"})
    verdict = fields.Dict(required=True, metadata={"description": "{kind, ok, issues[{code, message}], width, height, format, sharpness}"})
    application = fields.Nested(Application, allow_none=True)


class MaterialQuery(Query):
    variant = fields.String(load_default="image", validate=validate.OneOf(
        ["image", "thumbnail"], error="variant 应为 image 或 thumbnail"))


class IdempotencyHeader(Query):
    idempotency_key = fields.String(data_key="Idempotency-Key", validate=validate.Length(
        min=8, max=100, error="长度应为8到100个字符"), metadata={
        "description": "8–100个字符；同一个键重复提交只生效一次，返回同样的结果"})


def _required_text(message, max_length, description):
    """A required string that is not blank, with one Chinese message for every way to get it wrong."""
    return fields.String(required=True, validate=[validate.Regexp(r"\S", error=message),
                                                  validate.Length(max=max_length, error=message)],
                         error_messages={"required": message, "null": message, "invalid": message},
                         metadata={"description": description})


class FeedbackRequest(Strict):
    message = _required_text("请填写反馈内容（不超过2000字）", 2000, "反馈内容：考试合格信息缺失或有误的情况（不超过2000字）")


class FeedbackFiled(Answer):
    id = fields.String()
    state = fields.String()


# --- review -----------------------------------------------------------------------------------------

class DecisionRequest(Strict):
    decision = fields.String(required=True, validate=validate.OneOf(["approved", "rejected"],
                                                                    error="审核结论应为 approved 或 rejected"))
    opinion = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))
    material_issues = fields.List(fields.Nested(MaterialIssue), load_default=list)


class Task(Answer):
    id = fields.String()
    application_id = fields.String()
    attempt = fields.Integer()
    state = fields.String(validate=validate.OneOf(states.TASK_STATES))
    claimed_by = _nullable_text()
    claim_expires_at = _nullable_text()
    campaign_id = _nullable_text()
    application_kind = _nullable_text()
    cert_level = _nullable_text()
    exam_year = fields.Integer(allow_none=True)
    district_code = _nullable_text()
    material_ids = fields.Dict(keys=fields.String(), values=fields.String(allow_none=True))
    submitted_at = _nullable_text()
    waiting_seconds = fields.Integer()
    own_application = fields.Boolean(metadata={"description": "是否为审核人员本人的申请（应回避）"})
    review_id = _nullable_text()
    decision = _nullable_text()
    opinion = _nullable_text()
    material_issues = fields.List(fields.Dict())
    decided_by = _nullable_text()
    decided_at = _nullable_text()


class TaskMaterial(Answer):
    material_id = _nullable_text()
    found = fields.Boolean()
    uploaded_by_applicant = fields.Boolean()
    ok = fields.Boolean(allow_none=True)
    issues = fields.List(fields.Dict())
    width = fields.Integer(allow_none=True)
    height = fields.Integer(allow_none=True)
    content_type = _nullable_text()
    sharpness = fields.Float(allow_none=True)
    purged = fields.Boolean()


class TaskDetail(Task):
    materials = fields.Dict(keys=fields.String(), values=fields.Nested(TaskMaterial))


class TaskFilters(Query):
    campaign_id = fields.String(metadata={"description": "登记批次"})
    district = fields.String(metadata={"description": "服务地域代码（代码表 service_district）"})
    level = fields.String(metadata={"description": "证书级别代码（代码表 cert_level）"})
    state = fields.String(validate=validate.OneOf(("open", "all", *states.TASK_STATES),
                                                  error="状态应为 open、all、pending、claimed、decided 或 superseded"),
                          metadata={"description": "默认 open（待审核与审核中）"})
    min_waiting_seconds = fields.Integer(validate=validate.Range(min=0, max=10 ** 9, error="应为0到10亿之间的整数"),
                                         metadata={"description": "只看已等待至少这么多秒的任务"})
    limit = fields.Integer(validate=validate.Range(min=1, max=1000, error="应为1到1000之间的整数"),
                           metadata={"description": "最多返回多少条（不超过服务的上限）"})
    after = fields.String(metadata={"description": "下一页：上一页最后一个任务的 id（按提交时间排序的键集分页）"})


class CommonReason(Answer):
    code = fields.String()
    reason = fields.String()
    kinds = fields.List(fields.String())


class Figures(Answer):
    pending = fields.Integer()
    claimed = fields.Integer()
    open = fields.Integer()
    oldest_waiting_seconds = fields.Float(allow_none=True)
    decided_per_reviewer_per_day = fields.List(fields.Dict())
    decided_today = fields.Dict(keys=fields.String(), values=fields.Integer())
    median_seconds_to_decision = fields.Float(allow_none=True)
    window_days = fields.Integer()
    counts = fields.Dict()
    as_of = fields.String()


# --- admin ------------------------------------------------------------------------------------------

class DispatchRequest(Strict):
    carrier = fields.String(required=True, validate=validate.Length(min=1, max=40))
    tracking_number = fields.String(required=True, validate=validate.Length(min=4, max=40))


class RosterUpload(Strict):
    file = _binary("CSV（UTF-8 或 GB18030）或 XLSX 名单文件")


class RosterFilenameHeader(Query):
    filename = fields.String(data_key="X-Filename", metadata={"description": (
        "原始文件名（决定按 CSV 还是 XLSX 读取）。请求头只能是 ASCII：中文文件名请按 RFC 5987 写成 "
        "UTF-8''%E5%90%8D%E5%8D%95.xlsx，或直接百分号编码 %E5%90%8D%E5%8D%95.xlsx")})


class RefusedRow(Answer):
    row = fields.Integer(allow_none=True)
    field = _nullable_text()
    column = _nullable_text()
    reason = fields.String()


class RosterImportAnswer(Answer):
    accepted = fields.Integer()
    updated = fields.Integer()
    unchanged = fields.Integer()
    duplicates_in_file = fields.Integer()
    refused = fields.List(fields.Nested(RefusedRow))


class Report(Answer):
    campaign_id = _nullable_text()
    total = fields.Integer()
    by_state = fields.Dict(keys=fields.String(), values=fields.Integer())
    by_district = fields.Dict(keys=fields.String(), values=fields.Integer())
    by_level = fields.Dict(keys=fields.String(), values=fields.Integer())
    submissions_per_day = fields.List(fields.Dict())
    rejections = fields.Integer()
    rejection_reasons = fields.List(fields.Dict())


class ExportQuery(Query):
    format = fields.String(load_default="xlsx", validate=validate.OneOf(["xlsx", "csv"], error="导出格式应为 xlsx 或 csv"))
    campaign_id = fields.String(metadata={"description": "只导出这个登记批次"})


class Feedback(Answer):
    id = fields.String()
    account_id = fields.String()
    message = fields.String()
    name = _nullable_text(metadata={"description": "实名认证的姓名（管理员可见）"})
    name_masked = _nullable_text()
    id_number_masked = _nullable_text()
    state = fields.String()
    note = _nullable_text()
    resolved_by = _nullable_text()
    created_at = _nullable_text()
    resolved_at = _nullable_text()


class FeedbackQuery(Query):
    state = fields.String(validate=validate.OneOf(states.FEEDBACK_STATES, error="状态应为 OPEN（待处理）或 RESOLVED（已处理）"))


class ResolveRequest(Strict):
    note = _required_text("请填写处理说明（不超过2000字）", 2000, "处理说明，申请人会看到（不超过2000字）")


class DeliveryAttempt(Answer):
    number = fields.Integer()
    started_at = _nullable_text()
    finished_at = _nullable_text()
    outcome = _nullable_text()
    provider_answer = _nullable_text()
    provider_message_id = _nullable_text()


class Notification(Answer):
    id = fields.String()
    kind = fields.String()
    kind_label = fields.String()
    channel = fields.String()
    channel_label = fields.String()
    template = _nullable_text()
    template_version = fields.Raw(allow_none=True)
    recipient_masked = _nullable_text()
    subject = _nullable_text()
    state = fields.String(validate=validate.OneOf(NOTIFICATION_STATES))
    state_label = fields.String()
    attempts = fields.Integer()
    next_attempt_at = _nullable_text()
    release_at = _nullable_text()
    expires_at = _nullable_text()
    cause_event_id = _nullable_text()
    cause_event_type = _nullable_text()
    resend_of = _nullable_text()
    provider_message_id = _nullable_text()
    failure_reason = _nullable_text()
    created_at = _nullable_text()
    updated_at = _nullable_text()
    finished_at = _nullable_text()
    delivery_attempts = fields.List(fields.Nested(DeliveryAttempt))


class NotificationQuery(Query):
    state = fields.String(validate=validate.OneOf(NOTIFICATION_STATES, error="状态应为 queued、sending、delivered 或 failed"),
                          metadata={"description": "默认：待发、发送中与失败的"})


class Resent(Answer):
    notification_id = fields.String()
    resend_of = fields.String()
    state = fields.String()


# --- operations and errors ----------------------------------------------------------------------------

class Health(Answer):
    status = fields.String(validate=validate.OneOf(["ok", "degraded"]))
    services = fields.Dict(keys=fields.String(), values=fields.String())


class Error(Answer):
    code = fields.String(required=True, metadata={"description": "稳定的英文代码，如 validation_failed"})
    message = fields.String(required=True, metadata={"description": "中文，说明问题与修改方法"})
    details = fields.Raw(allow_none=True, metadata={"description": "校验错误时为 {字段: [中文说明]}"})


class ErrorBody(Answer):
    error = fields.Nested(Error, required=True)
