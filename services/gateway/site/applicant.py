"""The applicant's pages: log in or register, 实名认证, 我的申请, the form with its four photos,
submit after an explicit confirmation, the decision and 登记历史, 反馈, 操作手册.

Every view has its own URL and works without JavaScript (POST, then redirect to a GET); the
JSON API stays the one place where rules live — these routes call the same services."""
import uuid

from services.contracts.errors import Conflict, DomainError, ValidationFailed
from services.contracts.materials import KIND_LABELS, KINDS, UnknownMaterialKind
from services.contracts.roles import APPLICANT

from .. import auth, device
from . import forms
from .base import PageBase
from .handler import page, redirect

MATERIAL_HINTS = {
    "id_card_front": "有本人照片的一面。JPEG或PNG，不超过1MB，四角完整、文字清晰。",
    "id_card_back": "有国徽的一面（签发机关、有效期限）。JPEG或PNG，不超过1MB。",
    "certificate": "《中华人民共和国社会工作者职业水平证书》照片。JPEG或PNG，不超过1MB，长边不少于800像素。",
    "photo": "两寸免冠照片，底色不限，宽413×高626像素（3.5×5.3厘米），不超过1MB。一寸照（295×413）不符合要求。",
}


class ApplicantPages(PageBase):
    # --- arriving, logging in, registering -------------------------------------------------
    @page("GET", "/")
    def home_page(self, request):
        principal = self._page_principal(request)
        if principal is not None:
            return redirect(self._home_of(principal))
        return self._render(request, "applicant/login.html", next="/applications", form={})

    @page("GET", "/login")
    def login_page(self, request):
        return self._render(request, "applicant/login.html", next=request.args.get("next", ""), form={})

    @page("POST", "/login")
    def login_post(self, request):
        return self._login_flow(request, "applicant/login.html", "login")

    def _login_flow(self, request, template, code_purpose):
        form = self._check_form(request)
        phone = form.get("phone", "").strip()
        shown = {"phone": phone}
        try:
            if form.get("action") in ("send_code", "new_captcha"):
                return self._code_step(request, template, form, code_purpose, shown, next=form.get("next", ""))
            answer = self._call(self.identity.login, phone, password=form.get("password") or None,
                                code=form.get("code", "").strip() or None, client_ip=self._client_ip(request))
        except DomainError as exc:
            return self._refused(request, template, exc, form=shown, next=form.get("next", ""))
        if "pending_token" in answer:  # staff: the second factor next (site/staff_signin.py)
            return self._second_step(request, answer, form.get("next", ""))
        return self._enter(answer, form.get("next", ""))

    @page("GET", "/register")
    def register_page(self, request):
        return self._render(request, "applicant/register.html", form={})

    @page("POST", "/register")
    def register_post(self, request):
        form = self._check_form(request)
        phone = form.get("phone", "").strip()
        shown = {"phone": phone}
        try:
            if form.get("action") in ("send_code", "new_captcha"):
                # Always a registration code, whatever else is filled in (the natural order works).
                return self._code_step(request, "applicant/register.html", form, "register", shown)
            if form.get("password", "") != form.get("password2", ""):
                raise ValidationFailed("两次输入的密码不一致", details={"password2": ["两次输入的密码不一致，请重新输入"]})
            answer = self._call(self.identity.register, phone, form.get("code", "").strip(),
                                form.get("password", ""), self._client_ip(request))
        except DomainError as exc:
            return self._refused(request, "applicant/register.html", exc, form=shown)
        return self._enter(answer, "/identity?m=registered")

    def _code_step(self, request, template, form, purpose, shown, **context):
        """获取验证码 (or 换一张图形验证码) without JavaScript: the same page again, with the outcome."""
        phone = shown["phone"]
        if not phone:
            raise ValidationFailed("请输入手机号", details={"phone": ["请输入手机号"]})
        if form.get("action") == "new_captcha":
            captcha = self._call(self.identity.new_captcha, phone, self._client_ip(request), device.device_of(request))
            return self._render(request, template, form=shown, captcha=captcha, **context)
        sent = {"captcha_id": form.get("captcha_id"), "captcha_answer": form.get("captcha_answer")}
        try:
            answer = self._call(self.identity.send_code, phone, purpose, self._client_ip(request),
                                device.device_of(request), sent)
        except DomainError as exc:
            captcha = (exc.details or {}).get("captcha") if isinstance(exc.details, dict) else None
            return self._refused(request, template, exc, form=shown, captcha=captcha, **context)
        return self._render(request, template, form=shown, message="验证码已发送，5分钟内有效",
                            cooldown=answer.get("cooldown_seconds"), **context)

    def _enter(self, answer, next_path):
        target = next_path if next_path.startswith("/") and not next_path.startswith("//") else ""
        response = redirect(target or self._home_of(answer["principal"]))
        auth.session_cookies(response, answer["token"], secure=self._secure_cookies())
        return response

    def _refused(self, request, template, exc, **context):
        errors = forms.field_errors(exc.details) or {"_form": [exc.message]}
        if "_form" not in errors and exc.message not in sum(errors.values(), []):
            errors = {"_form": [exc.message], **errors}
        headers_status = exc.http_status if 400 <= exc.http_status < 500 else 422
        return self._render(request, template, status=headers_status, errors=errors, **context)

    @page("POST", "/logout")
    def logout_post(self, request):
        self._check_form(request)
        token = request.cookies.get(auth.SESSION_COOKIE)
        if token:
            self._forget_session(token)
            try:
                self._call(self.identity.logout, token)
            except DomainError:
                pass  # already gone: logging out again is fine
        response = redirect("/login?m=logged_out")
        auth.clear_cookies(response)
        return response

    # --- 实名认证 ------------------------------------------------------------------------------
    @page("GET", "/identity")
    def identity_page(self, request):
        principal = self._require_page(request, [APPLICANT])
        return self._render(request, "applicant/identity.html", principal=principal, form={})

    @page("POST", "/identity")
    def identity_post(self, request):
        principal = self._require_page(request, [APPLICANT])
        form = self._check_form(request)
        shown = {"name": form.get("name", "").strip(), "id_type": form.get("id_type", "RESIDENT_ID"),
                 "id_number": form.get("id_number", "").strip()}
        try:
            self._call(self.identity.verify_identity, principal["account_id"], shown["name"], shown["id_type"],
                       shown["id_number"])
        except DomainError as exc:
            return self._refused(request, "applicant/identity.html", exc, principal=principal, form=shown)
        finally:  # the next page reads the verified principal (other gateway copies: the watch)
            self._forget_session(auth.token_of(request)[0])
        return redirect("/applications?m=verified")

    # --- 我的申请 ------------------------------------------------------------------------------
    @page("GET", "/applications")
    def applications_page(self, request, errors=None, status=200):
        principal = self._require_page(request, [APPLICANT])
        if not principal.get("verified"):
            return redirect("/identity")
        mine = self._call(self.registration.list_applications, principal["account_id"])
        taken = {a["campaign_id"] for a in mine}
        campaigns = [c for c in self._call(self.registration.list_campaigns) if c["open"] and c["id"] not in taken]
        return self._render(request, "applicant/applications.html", principal=principal, status=status,
                            applications=mine, campaigns=campaigns, errors=errors)

    @page("POST", "/applications")
    def open_post(self, request):
        principal = self._require_page(request, [APPLICANT])
        form = self._check_form(request)
        try:
            view = self._call(self.registration.open_application, principal["account_id"],
                              form.get("campaign_id", ""))
        except Conflict as exc:
            existing = (exc.details or {}).get("application_id") if isinstance(exc.details, dict) else None
            if existing:  # already applied: go there instead of a dead end
                return redirect(f"/applications/{existing}")
            return self.applications_page(request, errors={"_form": [exc.message]}, status=exc.http_status)
        except DomainError as exc:
            return self.applications_page(request, errors={"_form": [exc.message]}, status=exc.http_status)
        return redirect(f"/applications/{view['id']}")

    # --- the application -----------------------------------------------------------------------
    @page("GET", "/applications/<string:application_id>")
    def application_page(self, request, application_id):
        principal = self._require_page(request, [APPLICANT])
        view = self._call(self.registration.get_application, principal, application_id)
        return self._application(request, principal, view)

    def _application(self, request, principal, view, errors=None, posted=None, status=200):
        spec = self._form_spec()
        values = forms.form_values(view["form"], spec, posted)
        campaign = next((c for c in self._call(self.registration.list_campaigns)
                         if c["id"] == view["campaign_id"]), None)
        return self._render(request, "applicant/application.html", principal=principal, status=status,
                            app=view, spec=spec, values=values, work_rows=forms.work_rows(values),
                            campaign=campaign, errors=errors, kinds=KINDS, kind_labels=KIND_LABELS,
                            hints=MATERIAL_HINTS)

    @page("POST", "/applications/<string:application_id>")
    def application_post(self, request, application_id):
        principal = self._require_page(request, [APPLICANT])
        form = self._check_form(request)
        changes = forms.application_changes(form, self._form_spec())
        try:
            view = self._call(self.registration.save_draft, principal["account_id"], application_id, changes)
        except ValidationFailed as exc:
            view = self._call(self.registration.get_application, principal, application_id)
            return self._application(request, principal, view, errors=forms.field_errors(exc.details)
                                     or {"_form": [exc.message]}, posted=form, status=exc.http_status)
        if form.get("action") == "submit":
            return redirect(f"/applications/{view['id']}/submit")
        return redirect(f"/applications/{view['id']}?m=saved")

    @page("POST", "/applications/<string:application_id>/materials/<string:kind>")
    def material_post(self, request, application_id, kind):
        principal = self._require_page(request, [APPLICANT])
        if kind not in KINDS:
            raise UnknownMaterialKind()
        request.max_content_length = self._upload_limit() + 64 * 1024
        form = self._check_form(request)
        del form  # the CSRF field only; the image is in request.files
        upload = request.files.get("file")
        data = upload.read() if upload is not None else b""
        if not data:
            errors = {f"materials.{kind}": [f"请选择要上传的{KIND_LABELS[kind]}图片"]}
            view = self._call(self.registration.get_application, principal, application_id)
            return self._application(request, principal, view, errors=errors, status=422)
        checked, _view = self._check_material(principal, application_id, kind, data)
        if not checked["verdict"]["ok"]:
            issues = [i["message"] for i in checked["verdict"].get("issues", [])] or ["图片不符合要求，请重新上传"]
            view = self._call(self.registration.get_application, principal, application_id)
            return self._application(request, principal, view, errors={f"materials.{kind}": issues}, status=422)
        return redirect(f"/applications/{application_id}?m=uploaded#m-{kind}")

    # --- submit, with an explicit confirmation ---------------------------------------------------
    @page("GET", "/applications/<string:application_id>/submit")
    def submit_page(self, request, application_id):
        principal = self._require_page(request, [APPLICANT])
        view = self._call(self.registration.get_application, principal, application_id)
        if not view["editable"]:
            return redirect(f"/applications/{application_id}")
        return self._render(request, "applicant/submit.html", principal=principal, app=view,
                            idempotency_key=uuid.uuid4().hex)

    @page("POST", "/applications/<string:application_id>/submit")
    def submit_post(self, request, application_id):
        principal = self._require_page(request, [APPLICANT])
        form = self._check_form(request)
        key = form.get("idempotency_key") or None
        try:
            self._call(self.registration.submit, principal["account_id"], application_id, key)
        except ValidationFailed as exc:
            view = self._call(self.registration.get_application, principal, application_id)
            return self._application(request, principal, view, errors=forms.field_errors(exc.details)
                                     or {"_form": [exc.message]}, status=exc.http_status)
        return redirect(f"/applications/{application_id}?m=submitted")

    @page("GET", "/applications/<string:application_id>/history")
    def history_page(self, request, application_id):
        principal = self._require_page(request, [APPLICANT])
        view = self._call(self.registration.get_application, principal, application_id)
        attempts = self._call(self.registration.history, principal, application_id)
        return self._render(request, "applicant/history.html", principal=principal, app=view,
                            attempts=attempts, kind_labels=KIND_LABELS)

    # --- 反馈 and 操作手册 -------------------------------------------------------------------------
    @page("GET", "/feedback")
    def feedback_page(self, request):
        principal = self._require_page(request, [APPLICANT])
        return self._render(request, "applicant/feedback.html", principal=principal, form={})

    @page("POST", "/feedback")
    def feedback_post(self, request):
        principal = self._require_page(request, [APPLICANT])
        form = self._check_form(request)
        text = form.get("message", "").strip()
        try:
            if not text or len(text) > 2000:
                raise ValidationFailed("请填写反馈内容（不超过2000字）", details={"message": ["请填写反馈内容（不超过2000字）"]})
            self._call(self.registration.file_feedback, principal["account_id"], text)
        except DomainError as exc:
            return self._refused(request, "applicant/feedback.html", exc, principal=principal, form={"message": text})
        return redirect("/applications?m=feedback")

    @page("GET", "/help")
    def help_page(self, request):
        return self._render(request, "applicant/help.html", principal=self._page_principal(request),
                            kind_labels=KIND_LABELS, hints=MATERIAL_HINTS)
