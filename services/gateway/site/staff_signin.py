"""Staff sign-in pages: /staff/login (password, then the TOTP code or a recovery code) and
/staff/2fa (first login: the QR code, the secret in text, a first code; then the recovery codes once).

Between the two steps the pending token rides in the `mfa` cookie (HttpOnly, SameSite=Strict,
path /staff, 10 minutes), never in a URL or a form. The QR code is an inline SVG (segno): no
request leaves the site and the CSP (img-src 'self' data:) holds.
"""
import segno

from services.contracts.errors import DomainError, Unauthenticated

from .. import auth
from .handler import page, redirect

MFA_COOKIE = "mfa"
MFA_PATH = "/staff"
STEP_EXPIRED = "登录步骤已超时，请重新输入手机号和密码"


class StaffSigninPages:
    @page("GET", "/staff/login")
    def staff_login_page(self, request):
        return self._render(request, "applicant/staff_login.html", next=request.args.get("next", ""), form={})

    @page("POST", "/staff/login")
    def staff_login_post(self, request):
        if request.form.get("action") != "second_factor":
            return self._login_flow(request, "applicant/staff_login.html", "admin_login")
        form = self._check_form(request)
        try:
            answer = self._call(self.identity.complete_login, self._pending(request), form.get("code", "").strip())
        except DomainError as exc:
            return self._second_step_refused(request, exc, "totp", form.get("next", ""))
        return self._signed_in(self._enter(answer, form.get("next", "")))

    def _second_step(self, request, answer, next_path):
        """After a correct staff password: the TOTP step, or enrolment at the first login."""
        if answer["second_factor"] == "enrol":
            response = redirect("/staff/2fa" + (f"?next={next_path}" if next_path.startswith("/") else ""))
        else:
            response = self._render(request, "applicant/staff_login.html", stage="totp", next=next_path, form={})
        response.set_cookie(MFA_COOKIE, answer["pending_token"], max_age=answer.get("expires_in_seconds", 600),
                            httponly=True, samesite="Strict", secure=self._secure_cookies(), path=MFA_PATH)
        return response

    @page("GET", "/staff/2fa")
    def enrolment_page(self, request):
        try:
            shown = self._call(self.identity.begin_enrolment, self._pending(request))
        except DomainError as exc:
            return self._second_step_refused(request, exc, None, request.args.get("next", ""))
        return self._enrolment(request, shown, request.args.get("next", ""))

    @page("POST", "/staff/2fa")
    def enrolment_post(self, request):
        form = self._check_form(request)
        next_path = form.get("next", "")
        try:
            pending = self._pending(request)
            answer = self._call(self.identity.confirm_enrolment, pending, form.get("code", "").strip())
        except DomainError as exc:
            if isinstance(exc, Unauthenticated) or exc.code == "second_factor_enrolment_stale":
                return self._second_step_refused(request, exc, None, next_path)
            shown = self._call(self.identity.begin_enrolment, pending)
            errors = {"_form": [exc.message], "code": [exc.message]}
            return self._enrolment(request, shown, next_path, errors=errors, status=exc.http_status)
        target = next_path if next_path.startswith("/") and not next_path.startswith("//") else \
            self._home_of(answer["principal"])
        response = self._render(request, "applicant/staff_recovery.html", principal=answer["principal"],
                                codes=answer["recovery_codes"], target=target)
        auth.session_cookies(response, answer["token"], secure=self._secure_cookies())
        return self._signed_in(response)

    def _enrolment(self, request, shown, next_path, errors=None, status=200):
        qr = segno.make(shown["otpauth_uri"], error="m").svg_data_uri(scale=5, dark="#000", light="#fff")
        grouped = " ".join(shown["secret"][i:i + 4] for i in range(0, len(shown["secret"]), 4))
        return self._render(request, "applicant/staff_2fa.html", qr=qr, secret=grouped, next=next_path,
                            errors=errors, status=status)

    def _pending(self, request):
        token = request.cookies.get(MFA_COOKIE)
        if not token:
            raise Unauthenticated(STEP_EXPIRED, code="second_factor_expired")
        return token

    def _second_step_refused(self, request, exc, stage, next_path):
        """A wrong code stays on the step; an expired step goes back to the password."""
        if isinstance(exc, Unauthenticated) or exc.code in ("account_locked", "second_factor_enrolment_stale",
                                                            "second_factor_enrolled"):
            response = self._refused(request, "applicant/staff_login.html", exc, next=next_path, form={})
            response.delete_cookie(MFA_COOKIE, path=MFA_PATH)
            return response
        return self._refused(request, "applicant/staff_login.html", exc, stage=stage, next=next_path, form={})

    @staticmethod
    def _signed_in(response):
        response.delete_cookie(MFA_COOKIE, path=MFA_PATH)
        return response
