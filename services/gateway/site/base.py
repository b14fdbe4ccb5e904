"""What every page needs: who is logged in, the CSRF token, labels, the association's contacts.

A mixin of GatewayService, so pages call the services through the same `_call` (deadline, 503)
as the JSON API does.
"""
import time
import uuid

from services.common.validation import refuse_nul
from services.contracts.errors import Unauthenticated
from services.contracts.roles import ADMIN, APPLICANT, AUDITOR, REVIEWER, SECURITY_ADMIN

from .. import auth, device
from .handler import Redirect
from .render import html

TABLES_TTL = 300  # seconds; code tables change only with a deploy
_tables_cache = {"at": 0.0, "tables": None, "spec": None}

# Where each role lands after login (a person with several roles gets the first that applies).
HOMES = ((ADMIN, "/admin/"), (SECURITY_ADMIN, "/admin/staff"), (AUDITOR, "/admin/audit"), (REVIEWER, "/review/"),
         (APPLICANT, "/applications"))

# Short messages after a redirect (?m=...): fixed texts, never personal data in a URL.
MESSAGES = {
    "saved": "已保存。您可以稍后回来继续填写。",
    "submitted": "您的登记申请表已提交，请耐心等待审核结果...",
    "verified": "实名认证成功",
    "registered": "注册成功，请先完成实名认证",
    "logged_out": "您已安全退出",
    "code_sent": "验证码已发送，5分钟内有效",
    "uploaded": "材料已上传并通过检查",
    "feedback": "反馈已提交，工作人员核实后会与您联系",
    "claimed": "已领取任务",
    "released": "已释放任务",
    "decided": "审核结果已提交",
    "no_task": "暂无待审核任务",
    "created": "已创建",
    "resolved": "已处理",
    "dispatched": "已登记邮寄信息",
    "resent": "已重新发送",
    "campaign_saved": "登记批次已保存",
    "staff_created": "工作人员账号已创建，请将初始密码当面或通过安全渠道转交本人；本人首次登录时设置身份验证器",
    "second_factor_reset": "已重置二次验证，该工作人员的登录已全部退出，下次登录时需重新设置身份验证器",
}


class PageBase:
    def _page_principal(self, request):
        """The logged-in principal, or None (a stale cookie is the same as none)."""
        token = request.cookies.get(auth.SESSION_COOKIE)
        if not token:
            return None
        try:
            return self._authenticate(token, request)
        except Unauthenticated:
            return None

    def _require_page(self, request, roles=None):
        principal = self._page_principal(request)
        if principal is None:
            raise auth.unauthenticated()
        auth.require(principal, roles)
        return principal

    def _check_form(self, request):
        """The posted form, after the CSRF check (403 page when it fails)."""
        form = request.form
        auth.check_csrf(request, self._csrf_secret(), form)
        refuse_nul(form.to_dict())
        return form

    def _tables(self):
        if _tables_cache["tables"] is None or time.monotonic() - _tables_cache["at"] > TABLES_TTL:
            _tables_cache["tables"] = self._call(self.registration.code_tables)
            _tables_cache["spec"] = self._call(self.registration.form_spec)
            _tables_cache["at"] = time.monotonic()
        return _tables_cache["tables"]

    def _form_spec(self):
        self._tables()
        return _tables_cache["spec"]

    def _labels(self):
        return {name: {row["code"]: row["label"] for row in rows} for name, rows in self._tables().items()}

    def _contact(self):
        get = self.config.get
        return {"association": get("ASSOCIATION_NAME", "北京社会工作者协会"),
                "person": get("ASSOCIATION_CONTACT", "刘主任"),
                "email": get("ASSOCIATION_EMAIL", "bjshgzzxh@163.com"),
                "hotline": get("TECH_SUPPORT_PHONE", "4000121860")}

    def _render(self, request, template, principal=None, status=200, **context):
        """Render with the common context; a browser without any binding gets a pre-session cookie."""
        binding = auth.binding_of(request)
        new_binding = None
        if not binding:
            new_binding = binding = uuid.uuid4().hex + uuid.uuid4().hex
        context = {"principal": principal, "csrf": auth.csrf_token(self._csrf_secret(), binding),
                   "contact": self._contact(), "labels": self._labels(), "tables": self._tables(), "path": request.path,
                   "message": MESSAGES.get(request.args.get("m", "")),
                   "staff_sms_fallback": bool(self.config.get("STAFF_SMS_FALLBACK_ROLES")), **context}
        response = html(template, context, status=status)
        if new_binding:
            response.set_cookie(auth.PRE_SESSION_COOKIE, new_binding, httponly=True, samesite="Lax",
                                secure=self._secure_cookies(), path="/")
        return device.remember(request, response, self._secure_cookies())

    @staticmethod
    def _home_of(principal):
        roles = set(principal.get("roles", []))
        for role, home in HOMES:
            if role in roles:
                return home
        return "/"

    @staticmethod
    def _go(location):
        raise Redirect(location)
