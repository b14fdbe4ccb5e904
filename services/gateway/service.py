"""The gateway: the HTTP JSON API (`/api/v1`) in front of the services. It owns nothing durable.

Each route: parse and validate input (400/422 here), find the principal, check the role, call
one or two services by RPC (with a deadline: 503 when a service does not answer), shape JSON.
"""
import base64
import logging

import eventlet
from amqp.exceptions import AMQPError
from nameko.exceptions import RemoteError
from nameko.web.handlers import http
from werkzeug.wrappers import Response

from services.common import metrics, spreadsheets
from services.common.providers import Config
from services.common.timer import timer
from services.common.validation import load
from services.contracts.errors import DomainError, NotFound, Unauthenticated, Unavailable, ValidationFailed
from services.contracts.materials import KIND_LABELS, KINDS, UnknownMaterialKind
from services.contracts.roles import ADMIN, APPLICANT, ROLES, STAFF_ROLES

from . import assets, auth, device, openapi, uploads
from . import schemas as s
from .peers import peer
from .principals import PrincipalCache, Principals
from .site.admin import AdminPages
from .site.applicant import ApplicantPages
from .site.review import ReviewPages
from .site.staff_signin import StaffSigninPages
from .web import (
    API_HEADERS,
    BROKER_ERRORS,
    api,
    deprecated,
    error_response,
    json_response,
    read_json,
    response_for_exception,
)

STAFF = tuple(sorted(STAFF_ROLES))
ANYONE = ROLES  # any signed-in account
READERS = (APPLICANT, *STAFF)  # an applicant their own application, staff any (audited)
V1 = "/api/v1"
log = logging.getLogger(__name__)
FEEDBACK_PATHS = ("自 1.1 版起请改用 /api/v1/feedback 与 /api/v1/admin/feedback（反馈：考试合格信息缺失或有误，"
                  "不是对审核结论的申诉）；旧路径仍可用，应答带 Deprecation 头与 Link 头（指向新路径）。")


class GatewayService(ApplicantPages, StaffSigninPages, ReviewPages, AdminPages):
    name = "gateway"
    config = Config()
    identity = peer("identity")
    identity_watch = peer("identity", expires=PrincipalCache.TRUST)  # the looks of the session watch
    registration = peer("registration")
    review = peer("review")
    notify = peer("notify")
    principals = Principals()

    # --- plumbing -----------------------------------------------------------------------
    def _call(self, fn, *args, **kwargs):
        # eventlet.Timeout is a BaseException that nameko's worker would not catch (the request
        # would hang): it becomes a refusal with its 503 here.
        try:
            with eventlet.Timeout(float(self.config.get("RPC_TIMEOUT", 15))):
                return fn(*args, **kwargs)
        except eventlet.Timeout:
            raise Unavailable("服务暂时不可用，请稍后再试") from None

    def _principal(self, request):
        """The caller, refused unless it has one of the roles its route declares in @api(roles=...)."""
        roles = getattr(request, "api_roles", None)
        token, via_cookie = auth.token_of(request)
        if not token:
            raise auth.unauthenticated()
        if via_cookie and request.method not in auth.SAFE_METHODS:
            auth.check_csrf(request, self._csrf_secret())
        principal = self._authenticate(token, request)
        auth.require(principal, roles)
        return principal

    def _authenticate(self, token, request):
        """identity's answer for the token, kept and watched (services/gateway/principals.py): a
        write is answered from memory only while the watch is live. Asked together with the other
        requests waiting meanwhile (AuthBatch): one RPC for many under load."""
        return self.principals.get(token, self._ask_identity, fresh=request.method not in auth.SAFE_METHODS)

    @timer("AUTH_WATCH_SECONDS", 0.25, eager=True)
    def look_at_sessions(self):
        """Which accounts' sessions changed since the last look: kept principals of theirs are dropped."""
        was_live = self.principals.watched()
        try:
            with eventlet.Timeout(self.principals.TRUST, Unavailable("identity 未及时回答")):
                self.principals.look(self.identity_watch.principal_changes)
        except (Unavailable, RemoteError, OSError, AMQPError, *BROKER_ERRORS) as exc:  # each request asks identity meanwhile
            if was_live:
                log.warning("session watch lapsed (%s): principals are asked of identity until it answers again",
                            exc)
            return
        if not was_live:
            log.info("session watch live: kept principals answer for up to %g s", self.principals.watched_seconds)

    def _ask_identity(self, token):
        return self.principals.batch.principal(token, self._authenticate_many)

    def _authenticate_many(self, tokens):
        try:
            return self._call(self.identity.authenticate_many, tokens)
        except RemoteError as exc:
            if exc.exc_type != "MethodNotFound":
                raise
        answers = []  # an identity from before authenticate_many (mid-upgrade): one call each
        for token in tokens:
            try:
                answers.append({"principal": self._call(self.identity.authenticate, token)})
            except Unauthenticated as exc:
                answers.append({"refused": {"code": exc.code, "message": exc.message}})
        return answers

    def _forget_session(self, token):
        self.principals.forget(token)

    def _client_ip(self, request):
        from .client_address import from_request  # the proxy-aware logic lives beside, not in this class
        return from_request(request, self.config.get("TRUSTED_PROXIES", ""))

    def _csrf_secret(self):
        return self.config.get("CSRF_SECRET") or ""

    def _secure_cookies(self):
        return self.config.get("APP_ENV") == "production"

    def _logged_in(self, answer, status):
        # A script that uses the cookie sends this token back in X-CSRF-Token.
        answer = {**answer, "csrf_token": auth.csrf_token(self._csrf_secret(), answer["token"])}
        response = json_response(answer, status=status)
        auth.session_cookies(response, answer["token"], secure=self._secure_cookies())
        return response

    # --- identity -------------------------------------------------------------------------
    @api("POST", f"{V1}/sms-codes", body=s.SmsCodeRequest, response=s.SmsCodeAnswer, status=202,
         headers=s.DeviceHeader, summary="发送短信验证码", tags=["identity"],
         responses={422: ({"application/json": {"anyOf": [s.CaptchaErrorBody, {"$ref": "#/components/schemas/ErrorBody"}]}},
                          "输入有误；或图形验证码不正确、已过期、已使用（details.captcha 为新的一张）"),
                    429: (s.ErrorBody, "过于频繁（details.retry_after 秒后再试），或 code 为 captcha_required："
                                       "先完成 details.captcha 中的图形验证码（或等待 wait_seconds 秒）")},
         description="同一手机号按“客户端”（地址 + 设备标识）分别限额，限额表见 docs/signin.md。")
    def send_code(self, request):
        body = read_json(request, s.SmsCodeRequest())
        captcha = {"captcha_id": body.get("captcha_id"), "captcha_answer": body.get("captcha_answer")}
        try:
            answer = self._call(self.identity.send_code, body["phone"], body["purpose"], self._client_ip(request),
                                device.device_of(request), captcha)
            return device.remember(request, json_response(answer, status=202), self._secure_cookies())
        except DomainError as exc:  # a refusal still gives the browser its device cookie
            return device.remember(request, response_for_exception(exc), self._secure_cookies())

    @api("POST", f"{V1}/captchas", body=s.CaptchaRequest, response=s.Captcha, status=201, headers=s.DeviceHeader,
         summary="换一张图形验证码（与手机号和客户端绑定）", tags=["identity"])
    def new_captcha(self, request):
        body = read_json(request, s.CaptchaRequest())
        answer = self._call(self.identity.new_captcha, body["phone"], self._client_ip(request),
                            device.device_of(request))
        return device.remember(request, json_response(answer, status=201), self._secure_cookies())

    @api("POST", f"{V1}/accounts", body=s.AccountRequest, response=s.SessionAnswer, status=201,
         summary="注册账号（手机号+短信验证码+密码）", tags=["identity"])
    def register(self, request):
        body = read_json(request, s.AccountRequest())
        answer = self._call(self.identity.register, body["phone"], body["code"], body["password"],
                            self._client_ip(request))
        return self._logged_in(answer, 201)

    @api("POST", f"{V1}/sessions", body=s.SessionRequest, response=s.SessionAnswer, status=201,
         responses={202: (s.PendingAnswer, "工作人员：密码正确，下一步提交动态验证码（second_factor=totp，"
                                           "POST /api/v1/sessions/second-factor）或先设置身份验证器（enrol）")},
         summary="登录（申请人：密码或短信验证码；工作人员：密码，再动态验证码）", tags=["identity"])
    def login(self, request):
        body = read_json(request, s.SessionRequest())
        if not body.get("password") and not body.get("code"):
            raise ValidationFailed("请输入密码或短信验证码", details={"password": ["请输入密码或短信验证码"]})
        answer = self._call(self.identity.login, body["phone"], password=body.get("password"),
                            code=body.get("code"), client_ip=self._client_ip(request))
        if "pending_token" in answer:
            return json_response(answer, status=202)
        return self._logged_in(answer, 201)

    @api("POST", f"{V1}/sessions/second-factor", body=s.SecondFactorRequest, response=s.SessionAnswer, status=201,
         summary="工作人员登录第二步：动态验证码或恢复码", tags=["identity"])
    def login_second_factor(self, request):
        body = read_json(request, s.SecondFactorRequest())
        return self._logged_in(self._call(self.identity.complete_login, body["pending_token"], body["code"]), 201)

    @api("POST", f"{V1}/second-factor/enrolment", body=s.EnrolmentRequest, response=s.EnrolmentAnswer,
         summary="工作人员首次登录：取得身份验证器密钥（二维码内容）", tags=["identity"])
    def begin_enrolment(self, request):
        body = read_json(request, s.EnrolmentRequest())
        return json_response(self._call(self.identity.begin_enrolment, body["pending_token"]))

    @api("POST", f"{V1}/second-factor/enrolment/confirm", body=s.SecondFactorRequest, response=s.EnrolledAnswer,
         status=201, summary="工作人员首次登录：用第一个动态验证码确认设置，取得会话和10个恢复码", tags=["identity"])
    def confirm_enrolment(self, request):
        body = read_json(request, s.SecondFactorRequest())
        return self._logged_in(self._call(self.identity.confirm_enrolment, body["pending_token"], body["code"]), 201)

    @api("DELETE", f"{V1}/sessions/current", status=204, summary="退出登录", roles=ANYONE, tags=["identity"])
    def logout(self, request):
        self._principal(request)
        token, _ = auth.token_of(request)
        self._forget_session(token)
        self._call(self.identity.logout, token)
        response = Response(status=204)
        auth.clear_cookies(response)
        return response

    @api("GET", f"{V1}/me", response=s.Principal, summary="当前用户", roles=ANYONE, tags=["identity"])
    def me(self, request):
        return json_response(self._principal(request))

    @api("POST", f"{V1}/me/identity", body=s.IdentityRequest, response=s.IdentityAnswer,
         summary="实名认证", roles=[APPLICANT], tags=["identity"])
    def verify_identity(self, request):
        principal = self._principal(request)
        body = read_json(request, s.IdentityRequest())
        try:
            answer = self._call(self.identity.verify_identity, principal["account_id"], body["name"],
                                body["id_type"], body["id_number"])
        finally:  # the next request reads the verified principal (other gateway copies: the watch)
            self._forget_session(auth.token_of(request)[0])
        return json_response(answer)

    @api("POST", f"{V1}/me/password", body=s.PasswordChangeRequest, response=s.Ok, summary="修改密码（所有会话随之失效）",
         roles=ANYONE, tags=["identity"])
    def change_password(self, request):
        self._principal(request)
        body = read_json(request, s.PasswordChangeRequest())
        token, _ = auth.token_of(request)
        try:
            return json_response(self._call(self.identity.change_password, token, body["old_password"],
                                            body["new_password"]))
        finally:  # every session of the account ended: this copy forgets at once, the others by the watch
            self._forget_session(token)

    @api("POST", f"{V1}/password-resets", body=s.PasswordResetRequest, response=s.Ok,
         summary="通过短信验证码重置密码", tags=["identity"])
    def reset_password(self, request):
        body = read_json(request, s.PasswordResetRequest())
        return json_response(self._call(self.identity.reset_password, body["phone"], body["code"],
                                        body["new_password"]))

    # --- registration -----------------------------------------------------------------------
    @api("GET", f"{V1}/campaigns", response=s.Campaign(many=True), summary="登记批次", tags=["registration"])
    def campaigns(self, request):
        return json_response(self._call(self.registration.list_campaigns))

    @api("GET", f"{V1}/code-tables", response={"application/json": s.CODE_TABLES}, tags=["registration"],
         summary="代码表（民族、政治面貌、学历、服务地域…）：{表名: [{code, label}]}")
    def code_tables(self, request):
        return json_response(self._call(self.registration.code_tables))

    @api("GET", f"{V1}/applications", response=s.ApplicationSummary(many=True), summary="我的申请（状态与下一步）",
         roles=[APPLICANT], tags=["registration"])
    def my_applications(self, request):
        principal = self._principal(request)
        return json_response(self._call(self.registration.list_applications, principal["account_id"]))

    @api("POST", f"{V1}/applications", body=s.OpenApplicationRequest, response=s.Application, status=201,
         summary="首登记：打开申请（自动关联考试合格信息）", roles=[APPLICANT], tags=["registration"])
    def open_application(self, request):
        principal = self._principal(request)
        body = read_json(request, s.OpenApplicationRequest())
        view = self._call(self.registration.open_application, principal["account_id"], body["campaign_id"])
        return json_response(view, status=201)

    @api("GET", f"{V1}/applications/<string:application_id>", response=s.Application,
         summary="查看申请", roles=READERS, tags=["registration"])
    def get_application(self, request, application_id):
        principal = self._principal(request)
        return json_response(self._call(self.registration.get_application, principal, application_id))

    @api("PATCH", f"{V1}/applications/<string:application_id>", body="FormChanges", response=s.Application,
         summary="保存（草稿，可部分填写）", roles=[APPLICANT], tags=["registration"])
    def save_draft(self, request, application_id):
        principal = self._principal(request)
        changes = read_json(request)
        if not isinstance(changes, dict):
            raise ValidationFailed("请求内容应为JSON对象", details={"_schema": ["请求内容应为JSON对象"]})
        return json_response(self._call(self.registration.save_draft, principal["account_id"],
                                        application_id, changes))

    @api("PUT", f"{V1}/applications/<string:application_id>/materials/<string:kind>",
         body={"multipart/form-data": s.MaterialUpload, "image/jpeg": s.BINARY, "image/png": s.BINARY,
               "application/octet-stream": s.BINARY},
         response=s.MaterialVerdict, responses={422: ({"application/json": {"anyOf": [
             s.MaterialVerdict, {"$ref": "#/components/schemas/ErrorBody"}]}}, "图片未通过检查（verdict.issues 说明原因），或请求有误")},
         summary="上传材料图片（JPEG/PNG，≤1MB），当场检查", roles=[APPLICANT], tags=["registration"],
         description="图片可用 multipart 的 file 字段上传，也可直接作为请求体（Content-Type: image/jpeg 或 image/png）。")
    def put_material(self, request, application_id, kind):
        principal = self._principal(request)
        if kind not in KINDS:
            raise UnknownMaterialKind()
        limit = self._upload_limit()
        if request.content_length is not None and request.content_length > limit + 64 * 1024:
            # Refused before the body is read: the client learns at once and nothing is stored.
            size = request.content_length / 1024 / 1024
            return error_response(413, "too_large",
                                  f"{KIND_LABELS[kind]}图片为{size:.1f}MB，超过1MB的上限，请压缩或降低分辨率后重新上传")
        request.max_content_length = limit + 64 * 1024
        checked, view = self._check_material(principal, application_id, kind, _upload_bytes(request))
        status = 200 if checked["verdict"]["ok"] else 422
        return json_response({**checked, "application": view}, status=status)

    def _upload_limit(self):
        return int(self.config.get("MAX_UPLOAD_BYTES", 1024 * 1024))

    def _check_material(self, principal, application_id, kind, data):
        """Check the image on the spot (review) and attach it when it passes (registration)."""
        content = base64.b64encode(data).decode()
        # Refuse early when the application cannot take a material (not owner, submitted, ...).
        self._call(self.registration.get_application, principal, application_id)
        checked = self._call(self.review.check_material, principal["account_id"], application_id, kind, content)
        view = None
        if checked["material_id"]:
            view = self._call(self.registration.attach_material, principal["account_id"], application_id,
                              kind, checked["material_id"])
        return checked, view

    @api("GET", f"{V1}/applications/<string:application_id>/materials/<string:kind>", query=s.MaterialQuery,
         response={"image/jpeg": s.BINARY, "image/png": s.BINARY},
         summary="查看已上传的材料图片（本人或审核人员）", roles=READERS, tags=["registration"])
    def get_material(self, request, application_id, kind):
        principal = self._principal(request)
        view = self._call(self.registration.get_application, principal, application_id)
        material = (view.get("materials") or {}).get(kind)
        if not material or not material.get("material_id"):
            raise NotFound("尚未上传该材料", code="material_not_found")
        variant = load(s.MaterialQuery(), request.args.to_dict())["variant"]
        blob = self._call(self.review.fetch_material, material["material_id"], principal, variant)
        return Response(base64.b64decode(blob["content_b64"]), mimetype=blob["content_type"],
                        headers={**API_HEADERS, "Content-Disposition": f'inline; filename="{kind}.jpg"'})

    @api("POST", f"{V1}/applications/<string:application_id>/submit", response=s.Application, headers=s.IdempotencyHeader,
         summary="提交申请（提交后不可修改；Idempotency-Key 防止重复提交）", roles=[APPLICANT], tags=["registration"])
    def submit(self, request, application_id):
        principal = self._principal(request)
        key = _idempotency_key(request)
        return json_response(self._call(self.registration.submit, principal["account_id"], application_id, key))

    @api("GET", f"{V1}/applications/<string:application_id>/history", response=s.HistoryEntry(many=True),
         summary="登记历史：每次提交的表单与审核结论", roles=READERS, tags=["registration"])
    def history(self, request, application_id):
        principal = self._principal(request)
        return json_response(self._call(self.registration.history, principal, application_id))

    # --- review ---------------------------------------------------------------------------
    @api("GET", f"{V1}/review/tasks", query=s.TaskFilters, response=s.Task(many=True), summary="审核任务队列（提交最早的在前）",
         roles=STAFF, tags=["review"])
    def tasks(self, request):
        principal = self._principal(request)
        filters = load(s.TaskFilters(), request.args.to_dict())
        return json_response(self._call(self.review.list_tasks, principal, filters))

    @api("GET", f"{V1}/review/tasks/<string:task_id>", response=s.TaskDetail, summary="审核任务详情（材料与检查结果）",
         roles=STAFF, tags=["review"])
    def task(self, request, task_id):
        principal = self._principal(request)
        return json_response(self._call(self.review.get_task, principal, task_id))

    @api("GET", f"{V1}/review/tasks/<string:task_id>/materials/<string:kind>", query=s.MaterialQuery,
         response={"image/jpeg": s.BINARY, "image/png": s.BINARY},
         summary="审核任务提交时的材料图片（该次提交的，不是申请人后来重新上传的）", roles=STAFF, tags=["review"])
    def task_material(self, request, task_id, kind):
        principal = self._principal(request)
        variant = load(s.MaterialQuery(), request.args.to_dict())["variant"]
        blob = self._call(self.review.task_material, principal, task_id, kind, variant)
        return Response(base64.b64decode(blob["content_b64"]), mimetype=blob["content_type"],
                        headers={**API_HEADERS, "Content-Disposition": f'inline; filename="{kind}.jpg"'})

    @api("POST", f"{V1}/review/tasks/<string:task_id>/claim", response=s.Task, summary="领取任务", roles=STAFF,
         tags=["review"])
    def claim(self, request, task_id):
        principal = self._principal(request)
        return json_response(self._call(self.review.claim, principal, task_id))

    @api("POST", f"{V1}/review/tasks/<string:task_id>/release", response=s.Task, summary="释放任务", roles=STAFF,
         tags=["review"])
    def release(self, request, task_id):
        principal = self._principal(request)
        return json_response(self._call(self.review.release, principal, task_id))

    @api("POST", f"{V1}/review/tasks/<string:task_id>/decision", body=s.DecisionRequest, response=s.Task,
         headers=s.IdempotencyHeader,
         summary="审核决定（通过/不通过，附意见与材料问题）", roles=STAFF, tags=["review"])
    def decide(self, request, task_id):
        principal = self._principal(request)
        body = read_json(request, s.DecisionRequest())
        key = _idempotency_key(request)
        return json_response(self._call(self.review.decide, principal, task_id, body["decision"],
                                        body["opinion"], body["material_issues"], key))

    @api("GET", f"{V1}/review/reasons", response=s.CommonReason(many=True), summary="常见不通过原因", roles=STAFF,
         tags=["review"])
    def common_reasons(self, request):
        self._principal(request)
        return json_response(self._call(self.review.common_reasons))

    @api("GET", f"{V1}/review/figures", response=s.Figures, summary="审核统计：待审、最久等待、每人每日审结、审结中位时长",
         roles=STAFF, tags=["review"])
    def figures(self, request):
        principal = self._principal(request)
        return json_response(self._call(self.review.figures, principal))

    # --- admin ----------------------------------------------------------------------------
    @api("POST", f"{V1}/admin/applications/<string:application_id>/dispatch", body=s.DispatchRequest,
         response=s.Application,
         summary="登记邮寄信息（快递公司、运单号）", roles=[ADMIN], tags=["admin"])
    def dispatch(self, request, application_id):
        principal = self._principal(request)
        body = read_json(request, s.DispatchRequest())
        return json_response(self._call(self.registration.record_dispatch, principal, application_id,
                                        body["carrier"], body["tracking_number"]))

    @api("POST", f"{V1}/admin/campaigns", body="CampaignRequest", response=s.Campaign, summary="创建登记批次",
         roles=[ADMIN], tags=["admin"], status=201)
    def create_campaign(self, request):
        principal = self._principal(request)
        body = read_json(request)
        return json_response(self._call(self.registration.create_campaign, principal, body), status=201)

    @api("POST", f"{V1}/admin/roster", body={"multipart/form-data": s.RosterUpload, "text/csv": s.BINARY,
                                            uploads.XLSX: s.BINARY, "application/octet-stream": s.BINARY},
         headers=s.RosterFilenameHeader, response=s.RosterImportAnswer, roles=[ADMIN], tags=["admin"],
         summary="导入考试合格名单（CSV 或 XLSX，逐行报告）",
         description="文件可用 multipart 的 file 字段上传，也可直接作为请求体，原始文件名放在 X-Filename 请求头中"
                     "（中文文件名按 RFC 5987 写作 UTF-8''%E5%90%8D%E5%8D%95.xlsx，或直接百分号编码）。")
    def import_roster(self, request):
        principal = self._principal(request)
        request.max_content_length = int(self.config.get("MAX_ROSTER_BYTES", 20 * 1024 * 1024))
        if request.mimetype == "multipart/form-data":
            upload = request.files.get("file")
            if upload is None:
                raise ValidationFailed("请选择名单文件", details={"file": ["请选择名单文件"]})
            filename, data = upload.filename or "roster.csv", upload.read()
        else:
            header = load(s.RosterFilenameHeader(), dict(request.headers)).get("filename")
            filename, data = uploads.header_filename(header) or "roster.csv", request.get_data()
        content = base64.b64encode(data).decode()
        return json_response(self._call(self.registration.import_roster, principal, filename, content))

    @api("GET", f"{V1}/admin/reports", response=s.Report, summary="统计：按状态、服务地域、级别", roles=[ADMIN],
         tags=["admin"])
    def report(self, request):
        principal = self._principal(request)
        return json_response(self._call(self.registration.report, principal))

    @api("GET", f"{V1}/admin/exports/approved", query=s.ExportQuery,
         response={"text/csv": s.BINARY, uploads.XLSX: s.BINARY},
         summary="导出已通过登记（xlsx 或 csv，按角色脱敏，留审计）", roles=STAFF, tags=["admin"])
    def export_approved(self, request):
        principal = self._principal(request)
        query = load(s.ExportQuery(), request.args.to_dict())
        campaign_id = query.get("campaign_id")
        started = self._call(self.registration.start_export, principal, query["format"], campaign_id)
        size = int(self.config.get("EXPORT_PAGE_SIZE", 500))

        def rows():  # read while the file is sent: one page in memory, however many registrations
            after = None
            while True:
                page = self._call(self.registration.export_page, principal, campaign_id, after, size)
                yield from page["rows"]
                if (after := page["next"]) is None:
                    return

        body = spreadsheets.stream_table(started["format"], started["header"], rows(), started["sheet"])
        return Response(body, mimetype=started["content_type"].split(";")[0], headers={
            **API_HEADERS, "Content-Disposition": f"attachment; filename={started['filename']}"})

    @api("GET", f"{V1}/admin/feedback", query=s.FeedbackQuery, response=s.Feedback(many=True), summary="反馈列表",
         roles=[ADMIN], tags=["admin"])
    def list_feedback(self, request):
        principal = self._principal(request)
        state = load(s.FeedbackQuery(), request.args.to_dict()).get("state")
        return json_response(self._call(self.registration.list_feedback, principal, state))

    @api("POST", f"{V1}/admin/feedback/<string:feedback_id>/resolve", body=s.ResolveRequest, response=s.Feedback,
         summary="处理反馈", roles=[ADMIN], tags=["admin"])
    def resolve_feedback(self, request, feedback_id):
        principal = self._principal(request)
        note = read_json(request, s.ResolveRequest())["note"]
        return json_response(self._call(self.registration.resolve_feedback, principal, feedback_id, note))

    @api("GET", f"{V1}/admin/notifications", query=s.NotificationQuery, response=s.Notification(many=True),
         summary="通知发送记录（待发、失败）", roles=[ADMIN], tags=["admin"])
    def notifications(self, request):
        self._principal(request)
        state = load(s.NotificationQuery(), request.args.to_dict()).get("state")
        return json_response(self._call(self.notify.list_notifications, state))

    @api("POST", f"{V1}/admin/notifications/<string:notification_id>/resend", response=s.Resent,
         summary="重新发送通知", roles=[ADMIN], tags=["admin"])
    def resend(self, request, notification_id):
        self._principal(request)
        return json_response(self._call(self.notify.resend, notification_id))

    @api("POST", f"{V1}/feedback", body=s.FeedbackRequest, response=s.FeedbackFiled,
         summary="反馈：考试合格信息缺失或有误", roles=[APPLICANT], tags=["registration"], status=201)
    def file_feedback(self, request):
        principal = self._principal(request)
        message = read_json(request, s.FeedbackRequest())["message"]
        return json_response(self._call(self.registration.file_feedback, principal["account_id"], message),
                             status=201)

    # The paths before 1.1 (/appeals): the same operations, kept for clients written against them.
    @api("POST", f"{V1}/appeals", body=s.FeedbackRequest, response=s.FeedbackFiled, deprecated=FEEDBACK_PATHS,
         summary="（已弃用）同 POST /api/v1/feedback", roles=[APPLICANT], tags=["registration"], status=201)
    def file_feedback_old_path(self, request):
        return deprecated(self.file_feedback(request), f"{V1}/feedback")

    @api("GET", f"{V1}/admin/appeals", query=s.FeedbackQuery, response=s.Feedback(many=True),
         deprecated=FEEDBACK_PATHS, summary="（已弃用）同 GET /api/v1/admin/feedback", roles=[ADMIN], tags=["admin"])
    def list_feedback_old_path(self, request):
        return deprecated(self.list_feedback(request), f"{V1}/admin/feedback")

    @api("POST", f"{V1}/admin/appeals/<string:feedback_id>/resolve", body=s.ResolveRequest, response=s.Feedback,
         deprecated=FEEDBACK_PATHS, summary="（已弃用）同 POST /api/v1/admin/feedback/{feedback_id}/resolve",
         roles=[ADMIN], tags=["admin"])
    def resolve_feedback_old_path(self, request, feedback_id):
        return deprecated(self.resolve_feedback(request, feedback_id), f"{V1}/admin/feedback/{feedback_id}/resolve")

    # --- pages (services/gateway/site) -------------------------------------------------------
    @http("GET", "/static/<path:path>")
    def static_file(self, request, path):
        return assets.file(path)

    # --- operations -------------------------------------------------------------------------
    @api("GET", "/health", response=s.Health, responses={503: (s.Health, "有服务不可用（services 中为 unavailable）")},
         summary="健康检查（各服务）", tags=["ops"])
    def health(self, request):
        services = {}
        for name in ("identity", "registration", "review", "notify"):
            try:
                with eventlet.Timeout(3):
                    services[name] = getattr(self, name).health()["status"]
            except BaseException:  # noqa: BLE001 — Timeout is a BaseException
                services[name] = "unavailable"
        ok = all(v == "ok" for v in services.values())
        return json_response({"status": "ok" if ok else "degraded", "services": services},
                             status=200 if ok else 503)

    @api("GET", "/metrics", response={"text/plain": {"type": "string"}}, summary="Prometheus 指标", tags=["ops"])
    def metrics(self, request):
        parts = [metrics.render()]
        for name in ("identity", "registration", "review", "notify"):
            try:
                with eventlet.Timeout(3):
                    parts.append(getattr(self, name).metrics())
            except BaseException:  # noqa: BLE001
                parts.append(f"# {name}: unavailable\n")
        return Response("".join(parts), mimetype="text/plain; version=0.0.4")

    @api("GET", f"{V1}/openapi.json", response={"application/json": {"type": "object"}}, summary="本文档",
         tags=["ops"])
    def openapi_document(self, request):
        return json_response(openapi.document(type(self)))

    @api("GET,POST,PUT,PATCH,DELETE", f"{V1}/<path:rest>", summary="未知路径")
    def unknown(self, request, rest):
        return error_response(404, "not_found", "没有这个接口，请检查地址")


def _upload_bytes(request):
    """The image: a multipart `file` field, or the raw body (what a phone's fetch(PUT, file) sends)."""
    if request.mimetype == "multipart/form-data":
        upload = request.files.get("file")
        if upload is None:
            raise ValidationFailed("请选择要上传的图片", details={"file": ["请选择要上传的图片"]})
        return upload.read()
    return request.get_data()


def _idempotency_key(request):
    return load(s.IdempotencyHeader(), dict(request.headers)).get("idempotency_key")

