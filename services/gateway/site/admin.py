"""The admin console (/admin/): campaigns, roster import, 反馈, mailing, reports with charts, exports,
staff accounts, notifications — and, apart from it, the auditor's audit log (/admin/audit).

三员分立 (services/contracts/roles.py): the system admin does the registration work here; staff
accounts are the security admin's (an admin may add reviewers); the audit log is the auditor's
alone, and the auditor sees nothing else. Every view has its own URL and works without
JavaScript: a form posts, then redirects to a GET (an upload's row report is the answer itself).
"""
import base64
from collections import Counter
from datetime import datetime
from urllib.parse import urlencode

from services.common import audit_query
from services.common.clock import BEIJING
from services.contracts.errors import DomainError, NotFound, ValidationFailed
from services.contracts.materials import KIND_LABELS
from services.contracts.notifications import STATE_LABELS as NOTIFICATION_STATE_LABELS
from services.contracts.roles import ADMIN, AUDITOR, ROLE_LABELS, SECURITY_ADMIN, STAFF_ACCOUNT_ROLES
from services.contracts.states import FEEDBACK_OPEN, FEEDBACK_STATE_LABELS, FEEDBACK_STATES

from . import charts, forms
from .base import PageBase
from .handler import page, redirect

AUDIT_SOURCES = ("identity", "registration", "review")
CARRIERS = ("中国邮政EMS", "顺丰速运", "京东物流", "中通快递", "圆通速递")
MAX_SHOWN_REASONS = 12
CAMPAIGN_FIELDS = ("name", "opens_at", "closes_at", "allow_resubmit_after_close", "resubmit_closes_at")


def local_input(value):
    """An ISO instant → the value of an <input type=datetime-local> in Beijing time."""
    if not value:
        return ""
    return datetime.fromisoformat(value).astimezone(BEIJING).strftime("%Y-%m-%dT%H:%M")


def _int_list(text):
    try:
        return [int(part) for part in text.replace("，", ",").replace(" ", ",").split(",") if part.strip()]
    except ValueError:
        raise ValidationFailed("考试年度应为4位年份，多个用逗号分隔，如2019",
                               details={"eligible_exam_years": ["考试年度应为4位年份，多个用逗号分隔，如2019"]}) from None


class AdminPages(PageBase):
    def _admin(self, request):
        return self._require_page(request, [ADMIN])

    def _upload(self, request, limit_key, default):
        request.max_content_length = int(self.config.get(limit_key, default))
        form = self._check_form(request)
        upload = request.files.get("file")
        data = upload.read() if upload is not None else b""
        if not data:
            raise ValidationFailed("请选择文件", details={"file": ["请选择要上传的CSV或XLSX文件"]})
        return form, upload.filename or "upload.csv", base64.b64encode(data).decode()

    # --- 概览 ----------------------------------------------------------------------------------
    @page("GET", "/admin/")
    def admin_home(self, request):
        principal = self._require_page(request, [ADMIN, SECURITY_ADMIN, AUDITOR])
        roles = set(principal.get("roles", []))
        if ADMIN not in roles:
            return redirect("/admin/audit" if AUDITOR in roles else "/admin/staff")
        report = self._call(self.registration.report, principal)
        waiting = self._call(self.registration.awaiting_dispatch, principal, 1)
        feedback = self._call(self.registration.list_feedback, principal, FEEDBACK_OPEN)
        figures = self._call(self.review.figures, principal)
        return self._render(request, "admin/home.html", principal=principal, report=report,
                            awaiting=waiting["total"], open_feedback=len(feedback), figures=figures)

    # --- 登记批次 --------------------------------------------------------------------------------
    @page("GET", "/admin/campaigns")
    def campaigns_page(self, request):
        principal = self._admin(request)
        return self._render(request, "admin/campaigns.html", principal=principal,
                            campaigns=self._call(self.registration.list_campaigns))

    @page("GET", "/admin/campaigns/new")
    def campaign_new_page(self, request):
        principal = self._admin(request)
        form = {"kind": "FIRST", "eligible_levels": ["ASSISTANT", "INTERMEDIATE"], "delivery_methods": ["MAIL"],
                "exclude_local_only": True}
        return self._render(request, "admin/campaign_new.html", principal=principal, form=form)

    @page("POST", "/admin/campaigns")
    def campaign_create_post(self, request):
        principal = self._admin(request)
        posted = self._check_form(request)
        form = {"id": posted.get("id", "").strip(), "name": posted.get("name", "").strip(),
                "kind": posted.get("kind", ""), "eligible_exam_years": posted.get("eligible_exam_years", ""),
                "eligible_levels": posted.getlist("eligible_levels"), "opens_at": posted.get("opens_at", ""),
                "closes_at": posted.get("closes_at", ""), "delivery_methods": posted.getlist("delivery_methods"),
                "exclude_local_only": posted.get("exclude_local_only") == "yes",
                "allow_resubmit_after_close": posted.get("allow_resubmit_after_close") == "yes",
                "resubmit_closes_at": posted.get("resubmit_closes_at", "")}
        try:
            data = {**form, "eligible_exam_years": _int_list(form["eligible_exam_years"]),
                    "resubmit_closes_at": form["resubmit_closes_at"] or None}
            if not data["id"]:
                del data["id"]
            self._call(self.registration.create_campaign, principal, data)
        except DomainError as exc:
            return self._refused_page(request, "admin/campaign_new.html", exc, principal=principal, form=form)
        return redirect("/admin/campaigns?m=created")

    @page("GET", "/admin/campaigns/<string:campaign_id>")
    def campaign_edit_page(self, request, campaign_id):
        principal = self._admin(request)
        campaign = self._campaign(campaign_id)
        return self._render(request, "admin/campaign_edit.html", principal=principal, campaign=campaign,
                            form=self._campaign_form(campaign))

    @page("POST", "/admin/campaigns/<string:campaign_id>")
    def campaign_edit_post(self, request, campaign_id):
        principal = self._admin(request)
        posted = self._check_form(request)
        campaign = self._campaign(campaign_id)
        form = {"name": posted.get("name", "").strip(), "opens_at": posted.get("opens_at", ""),
                "closes_at": posted.get("closes_at", ""),
                "allow_resubmit_after_close": posted.get("allow_resubmit_after_close") == "yes",
                "resubmit_closes_at": posted.get("resubmit_closes_at", "")}
        try:
            self._call(self.registration.update_campaign, principal, campaign_id,
                       {**form, "resubmit_closes_at": form["resubmit_closes_at"] or None})
        except DomainError as exc:
            return self._refused_page(request, "admin/campaign_edit.html", exc, principal=principal,
                                      campaign=campaign, form=form)
        return redirect(f"/admin/campaigns/{campaign_id}?m=campaign_saved")

    def _campaign(self, campaign_id):
        found = next((c for c in self._call(self.registration.list_campaigns) if c["id"] == campaign_id), None)
        if found is None:
            raise NotFound("登记批次不存在", code="campaign_not_found")
        return found

    @staticmethod
    def _campaign_form(campaign):
        return {"name": campaign["name"], "opens_at": local_input(campaign["opens_at"]),
                "closes_at": local_input(campaign["closes_at"]),
                "allow_resubmit_after_close": campaign["allow_resubmit_after_close"],
                "resubmit_closes_at": local_input(campaign["resubmit_closes_at"])}

    def _refused_page(self, request, template, exc, **context):
        errors = forms.field_errors(exc.details) or {"_form": [exc.message]}
        if "_form" not in errors and exc.message not in sum(errors.values(), []):
            errors = {"_form": [exc.message], **errors}
        status = exc.http_status if 400 <= exc.http_status < 500 else 422
        return self._render(request, template, status=status, errors=errors, **context)

    # --- 名单导入 --------------------------------------------------------------------------------
    @page("GET", "/admin/roster")
    def roster_page(self, request):
        return self._render(request, "admin/roster.html", principal=self._admin(request), report=None)

    @page("POST", "/admin/roster")
    def roster_post(self, request):
        principal = self._admin(request)
        try:
            _, filename, content = self._upload(request, "MAX_ROSTER_BYTES", 20 * 1024 * 1024)
            report = self._call(self.registration.import_roster, principal, filename, content)
        except DomainError as exc:
            return self._refused_page(request, "admin/roster.html", exc, principal=principal, report=None)
        return self._render(request, "admin/roster.html", principal=principal, report=report, filename=filename)

    # --- 反馈 ------------------------------------------------------------------------------------
    @page("GET", "/admin/feedback")
    def feedback_queue_page(self, request, errors=None, status=200):
        principal = self._admin(request)
        state = request.args.get("state", FEEDBACK_OPEN)
        state = state if state in FEEDBACK_STATES else FEEDBACK_OPEN
        feedback = self._call(self.registration.list_feedback, principal, state)
        return self._render(request, "admin/feedback.html", principal=principal, feedback=feedback, state=state,
                            open_state=FEEDBACK_OPEN, state_labels=FEEDBACK_STATE_LABELS, errors=errors, status=status)

    @page("POST", "/admin/feedback/<string:feedback_id>/resolve")
    def feedback_resolve_post(self, request, feedback_id):
        principal = self._admin(request)
        form = self._check_form(request)
        note = form.get("note", "").strip()
        try:
            if not note:
                raise ValidationFailed("请填写处理说明", details={f"note.{feedback_id}": ["请填写处理说明（申请人会看到）"]})
            self._call(self.registration.resolve_feedback, principal, feedback_id, note)
        except DomainError as exc:
            errors = forms.field_errors(exc.details) or {"_form": [exc.message]}
            return self.feedback_queue_page(request, errors=errors, status=exc.http_status)
        return redirect("/admin/feedback?m=resolved")

    # --- 证书寄送 --------------------------------------------------------------------------------
    @page("GET", "/admin/dispatch")
    def dispatch_page(self, request, errors=None, status=200, report=None, posted=None):
        principal = self._admin(request)
        waiting = self._call(self.registration.awaiting_dispatch, principal, 50)
        return self._render(request, "admin/dispatch.html", principal=principal, waiting=waiting, errors=errors,
                            status=status, report=report, posted=posted or {}, carriers=CARRIERS)

    @page("POST", "/admin/dispatch/<string:application_id>")
    def dispatch_post(self, request, application_id):
        principal = self._admin(request)
        form = self._check_form(request)
        carrier, number = form.get("carrier", "").strip(), form.get("tracking_number", "").strip()
        try:
            if not carrier or not number:
                raise ValidationFailed("请填写快递公司和运单号", details={
                    **({f"carrier.{application_id}": ["请填写快递公司"]} if not carrier else {}),
                    **({f"tracking_number.{application_id}": ["请填写运单号"]} if not number else {})})
            self._call(self.registration.record_dispatch, principal, application_id, carrier, number)
        except DomainError as exc:
            errors = forms.field_errors(exc.details)
            errors = {k if "." in k else f"{k}.{application_id}": v for k, v in errors.items()} \
                or {f"tracking_number.{application_id}": [exc.message]}
            if not isinstance(exc, ValidationFailed):  # a refusal of the whole row: said at the top too
                errors = {"_form": [exc.message], **errors}
            return self.dispatch_page(request, errors=errors, status=exc.http_status,
                                      posted={application_id: {"carrier": carrier, "tracking_number": number}})
        return redirect("/admin/dispatch?m=dispatched")

    @page("POST", "/admin/dispatch/import")
    def dispatch_import_post(self, request):
        principal = self._admin(request)
        try:
            _, filename, content = self._upload(request, "MAX_ROSTER_BYTES", 20 * 1024 * 1024)
            report = self._call(self.registration.import_dispatches, principal, filename, content)
        except DomainError as exc:
            errors = forms.field_errors(exc.details) or {"_form": [exc.message]}
            return self.dispatch_page(request, errors=errors, status=exc.http_status)
        return self.dispatch_page(request, report=report)

    # --- 统计报表 --------------------------------------------------------------------------------
    @page("GET", "/admin/reports")
    def reports_page(self, request):
        principal = self._admin(request)
        campaigns = self._call(self.registration.list_campaigns)
        campaign_id = request.args.get("campaign_id") or None
        if campaign_id not in {c["id"] for c in campaigns}:
            campaign_id = None
        report = self._call(self.registration.report, principal, campaign_id)
        figures = self._call(self.review.figures, principal)
        staff = self._staff_names(principal)
        return self._render(request, "admin/reports.html", principal=principal, report=report, figures=figures,
                            campaigns=campaigns, campaign_id=campaign_id,
                            **self._charts(report, figures, staff))

    def _charts(self, report, figures, staff):
        labels = self._labels()
        per_day = [(d["day"], f"{int(d['day'][5:7])}/{int(d['day'][8:])}", d["count"])
                   for d in report["submissions_per_day"]]
        states = [(code, label, report["by_state"].get(code, 0)) for code, label in labels["application_state"].items()]
        reasons = [(f"{r['kind']}:{r['reason']}", f"{KIND_LABELS.get(r['kind'], '其他')}·{r['reason']}", r["count"])
                   for r in report["rejection_reasons"][:MAX_SHOWN_REASONS]]
        hidden = report["rejection_reasons"][MAX_SHOWN_REASONS:]
        decided = Counter()
        for row in figures["decided_per_reviewer_per_day"]:
            decided[row["reviewer_id"]] += row["decided"]
        throughput = [(rid, staff.get(rid, rid[:8]), n) for rid, n in decided.most_common()]
        return {
            "per_day_chart": charts.columns("chart-per-day", "每日提交数（含重新提交）", per_day),
            "states_chart": charts.bars("chart-states", "各状态申请数", states),
            "reasons_chart": charts.bars("chart-reasons", "不通过原因（按材料）", reasons, unit="次"),
            "throughput_chart": charts.bars("chart-throughput", f"审核员审结数（近{figures['window_days']}天）",
                                            throughput),
            "per_day": per_day, "states": states, "reasons": reasons, "throughput": throughput,
            "hidden_reasons": (len(hidden), sum(r["count"] for r in hidden)),
        }

    def _staff_names(self, principal):
        """account id → "审核员 138****0000" (masked), for charts and the audit log."""
        try:
            listed = self._call(self.identity.list_staff, principal)["staff"]
        except DomainError:
            return {}
        return {s["account_id"]: f"{'、'.join(ROLE_LABELS.get(r, r) for r in s['roles'])} {s['phone_masked']}"
                for s in listed}

    # --- 数据导出 --------------------------------------------------------------------------------
    @page("GET", "/admin/exports")
    def exports_page(self, request):
        principal = self._admin(request)
        return self._render(request, "admin/exports.html", principal=principal,
                            campaigns=self._call(self.registration.list_campaigns))

    # --- 工作人员 --------------------------------------------------------------------------------
    @page("GET", "/admin/staff")
    def staff_page(self, request, errors=None, status=200, form=None):
        principal = self._require_page(request, [ADMIN, SECURITY_ADMIN])
        listed = self._call(self.identity.list_staff, principal)
        return self._render(request, "admin/staff.html", principal=principal, staff=listed["staff"],
                            creatable=listed["creatable_roles"], role_labels=ROLE_LABELS, errors=errors,
                            may_reset=listed.get("may_reset_second_factor"), status=status, form=form or {})

    @page("POST", "/admin/staff/<string:account_id>/reset-2fa")
    def staff_reset_second_factor_post(self, request, account_id):
        """The security admin clears a lost authenticator: the person enrols again at the next login."""
        principal = self._require_page(request, [SECURITY_ADMIN])
        self._check_form(request)
        self._call(self.identity.reset_second_factor, principal, account_id)
        return redirect("/admin/staff?m=second_factor_reset")

    @page("POST", "/admin/staff")
    def staff_create_post(self, request):
        principal = self._require_page(request, [ADMIN, SECURITY_ADMIN])
        posted = self._check_form(request)
        form = {"phone": posted.get("phone", "").strip(), "role": posted.get("role", "")}
        try:
            if form["role"] not in STAFF_ACCOUNT_ROLES:
                raise ValidationFailed("请选择角色", details={"role": ["请选择角色"]})
            if posted.get("password", "") != posted.get("password2", ""):
                raise ValidationFailed("两次输入的密码不一致", details={"password2": ["两次输入的密码不一致，请重新输入"]})
            self._call(self.identity.create_staff, form["phone"], form["role"], posted.get("password", ""), principal)
        except DomainError as exc:
            errors = forms.field_errors(exc.details) or {"_form": [exc.message]}
            if "_form" not in errors and exc.message not in sum(errors.values(), []):
                errors = {"_form": [exc.message], **errors}
            return self.staff_page(request, errors=errors, status=exc.http_status, form=form)
        return redirect("/admin/staff?m=staff_created")

    # --- 通知 ------------------------------------------------------------------------------------
    @page("GET", "/admin/notifications")
    def notifications_page(self, request, errors=None, status=200):
        principal = self._admin(request)
        state = request.args.get("state") or None
        state = state if state in NOTIFICATION_STATE_LABELS else None
        rows = self._call(self.notify.list_notifications, state)
        return self._render(request, "admin/notifications.html", principal=principal, rows=rows, state=state,
                            state_labels=NOTIFICATION_STATE_LABELS, errors=errors, status=status)

    @page("POST", "/admin/notifications/<string:notification_id>/resend")
    def notification_resend_post(self, request, notification_id):
        self._admin(request)
        self._check_form(request)
        try:
            self._call(self.notify.resend, notification_id)
        except DomainError as exc:
            return self.notifications_page(request, errors={"_form": [exc.message]}, status=exc.http_status)
        return redirect("/admin/notifications?m=resent")

    # --- 审计日志（审计员） ------------------------------------------------------------------------
    @page("GET", "/admin/audit")
    def audit_page(self, request):
        principal = self._require_page(request, [AUDITOR])
        args = request.args
        filters = {k: args.get(k, "").strip() for k in ("application_id", "actor", "action", "date_from", "date_to")}
        previous = _cursor_from(args.get("page", ""))
        limit = audit_query.DEFAULT_LIMIT
        pages, actions, errors = {}, {}, None
        try:
            for source in AUDIT_SOURCES:
                position = previous.get(source)
                ask = {**{k: v for k, v in filters.items() if v}, "limit": limit + 1}
                if position:
                    ask.update(before_at=position[0], before_id=position[1])
                answer = self._call(getattr(self, source).audit_entries, principal, ask)
                pages[source], actions = answer["entries"], {**actions, **answer["actions"]}
        except ValidationFailed as exc:
            errors = {(k if k in filters else "_form"): v for k, v in forms.field_errors(exc.details).items()} \
                or {"_form": [exc.message]}
            pages = {}
        entries, cursor = audit_query.merge(pages, limit, previous)
        next_link = None
        if cursor:
            query = {**{k: v for k, v in filters.items() if v}, "page": _cursor_text(cursor)}
            next_link = "/admin/audit?" + urlencode(query)
        return self._render(request, "admin/audit.html", principal=principal, entries=entries, filters=filters,
                            actions=actions, errors=errors, next_link=next_link, first_page=not previous,
                            staff=self._staff_names(principal), kind_labels=KIND_LABELS,
                            status=422 if errors else 200)


def _cursor_text(cursor):
    """{source: (at, id)} → "registration~<at>~<id>,review~<at>~<id>" for the next page's URL."""
    return ",".join(f"{source}~{at}~{n}" for source, (at, n) in sorted(cursor.items()))


def _cursor_from(text):
    cursor = {}
    for part in (text or "").split(","):
        bits = part.split("~")
        if len(bits) == 3 and bits[0] in AUDIT_SOURCES and bits[2].isdigit():
            cursor[bits[0]] = (bits[1], int(bits[2]))
    return cursor
