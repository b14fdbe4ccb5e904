"""The reviewers' workbench (/review/): the queue with filters, counts per state and the reviewer's
own figures; claim, release and "下一个任务"; the task page with the form as submitted (the locked
roster data beside what the applicant typed) and the four photos side by side with the automatic
findings; approve, or reject with per-material reasons.

Every look at personal data goes through an RPC that audits it: review.get_task (task.viewed),
registration.history (view_history) and the material API the <img> tags load (material.viewed).
The queue itself carries no personal data. Pages work without JavaScript; static/review.js adds
zoom and rotate, and the keyboard shortcuts listed on the page.
"""
import time
import uuid
from urllib.parse import quote, urlencode

from services.contracts.errors import Conflict, Unauthenticated, ValidationFailed
from services.contracts.materials import KIND_LABELS, KINDS
from services.contracts.roles import STAFF_ROLES
from services.contracts.states import CLAIMED, DECIDED, PENDING, SUPERSEDED

from . import forms
from .base import PageBase
from .handler import Redirect, page, redirect

STAFF = tuple(sorted(STAFF_ROLES))
REASONS_TTL = 300  # seconds; the common reasons change only with a deploy
_reasons_cache = {"at": 0.0, "reasons": None}

# The queue's state tabs: a code of list_tasks' `state` filter and its label (None: the task_state
# code table's label).
QUEUE_STATES = (("open", "全部未审结"), (PENDING, None), ("mine", "我领取的"), (CLAIMED, None), (DECIDED, None),
                (SUPERSEDED, None), ("all", "全部"))
WAITING = (("", "不限"), ("3600", "超过1小时"), ("86400", "超过1天"), ("259200", "超过3天"), ("604800", "超过7天"))

# Keyboard shortcuts: (keys, what the page shows, what it does, the action review.js binds them to).
# The page lists them and review.js reads them from there: one list.
TASK_SHORTCUTS = (
    ("a A", "A", "通过（按两次确认）", "approve"),
    ("r R", "R", "不通过：跳到当前照片的不通过原因", "reject"),
    ("n N", "N", "下一个任务", "next"),
    ("c C", "C", "领取本任务", "claim"),
    ("1 2 3 4", "1–4", "选择第1–4张照片", "select"),
    ("+ =", "+", "放大当前照片", "zoom-in"),
    ("-", "−", "缩小当前照片", "zoom-out"),
    ("[", "[", "当前照片向左旋转", "rotate-left"),
    ("]", "]", "当前照片向右旋转", "rotate-right"),
    ("0", "0", "当前照片复位", "reset"),
    ("Escape", "Esc", "取消“通过”确认，离开输入框", "escape"),
)
QUEUE_SHORTCUTS = (("n N", "N", "领取并打开下一个任务", "next"),)


def waited(seconds):
    """How long a task has waited, as people say it: "45分钟", "5小时20分钟", "3天2小时"."""
    if seconds is None:
        return ""
    minutes = int(seconds) // 60
    if minutes < 60:
        return f"{max(minutes, 0)}分钟"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}小时{minutes}分钟" if minutes else f"{hours}小时"
    days, hours = divmod(hours, 24)
    return f"{days}天{hours}小时" if hours else f"{days}天"


QUEUE_PAGE = 50  # tasks a queue page lists; the next page starts after its last task (keyset)


def _queue_filters(args):
    """(filters for the RPCs, what the filter form shows) from the query string; unknown values fall
    back to the defaults rather than failing (a bookmark from an older page still opens)."""
    states = [code for code, _ in QUEUE_STATES]
    shown = {"campaign": args.get("campaign", ""), "state": args.get("state", "open"),
             "waiting": args.get("waiting", "")}
    if shown["state"] not in states:
        shown["state"] = "open"
    if shown["waiting"] not in [code for code, _ in WAITING]:
        shown["waiting"] = ""
    filters = {"state": shown["state"], "limit": QUEUE_PAGE}
    if args.get("after"):
        filters["after"] = args["after"]
    if shown["campaign"]:
        filters["campaign_id"] = shown["campaign"]
    if shown["waiting"]:
        filters["min_waiting_seconds"] = int(shown["waiting"])
    return filters, shown


def _query(**params):
    """A query string of the non-empty params ("" when there is none)."""
    params = {k: v for k, v in params.items() if v}
    return "?" + urlencode(params) if params else ""


def _my_figures(figures, reviewer_id):
    mine = [row for row in figures.get("decided_per_reviewer_per_day", []) if row["reviewer_id"] == reviewer_id]
    return {"today": (figures.get("decided_today") or {}).get(reviewer_id, 0),
            "window": sum(row["decided"] for row in mine), "window_days": figures.get("window_days")}


class ReviewPages(PageBase):
    # --- plumbing ----------------------------------------------------------------------------
    def _staff_page(self, request):
        """The staff principal; a visitor who is not logged in goes to the staff login, and back."""
        try:
            return self._require_page(request, STAFF)
        except Unauthenticated:
            target = request.full_path.rstrip("?")
            raise Redirect("/staff/login?next=" + quote(target if target.startswith("/review") else "/review/",
                                                          safe="/")) from None

    def _common_reasons(self):
        if _reasons_cache["reasons"] is None or time.monotonic() - _reasons_cache["at"] > REASONS_TTL:
            _reasons_cache["reasons"] = self._call(self.review.common_reasons)
            _reasons_cache["at"] = time.monotonic()
        return _reasons_cache["reasons"]

    def _campaign_names(self):
        return {c["id"]: c["name"] for c in self._call(self.registration.list_campaigns)}

    # --- the queue ---------------------------------------------------------------------------
    @page("GET", "/review")
    def review_root(self, request):
        return redirect("/review/")

    @page("GET", "/review/")
    def review_queue(self, request, errors=None, status=200):
        principal = self._staff_page(request)
        filters, shown = _queue_filters(request.args)
        try:  # one round trip: the tasks, the tabs' counts and the figures
            answer = self._call(self.review.queue_page, principal, filters)
            tasks, counts, figures = answer["tasks"], answer["counts"], answer["figures"]
        except ValidationFailed as exc:
            tasks, counts = [], {}
            errors, status = {"_form": [exc.message, *sum(forms.field_errors(exc.details).values(), [])]}, 422
            figures = self._call(self.review.figures, principal)
        campaigns = self._campaign_names()
        tab = {"campaign": shown["campaign"], "waiting": shown["waiting"]}
        return self._render(
            request, "review/queue.html", principal=principal, status=status, errors=errors, tasks=tasks,
            counts=counts, figures=figures, mine=_my_figures(figures, principal["account_id"]),
            campaigns=campaigns, shown=shown, states=QUEUE_STATES, waiting_options=WAITING, waited=waited,
            tab_query=lambda state: _query(state=state if state != "open" else "", **tab),
            task_query=_query(campaign=shown["campaign"]), shortcuts=QUEUE_SHORTCUTS,
            first_page=_query(state=shown["state"] if shown["state"] != "open" else "", **tab)
            if "after" in filters else None,
            next_page=_query(state=shown["state"] if shown["state"] != "open" else "", after=tasks[-1]["id"], **tab)
            if len(tasks) == QUEUE_PAGE else None,
            clear_query=_query(state=shown["state"] if shown["state"] != "open" else ""))

    @page("POST", "/review/next")
    def review_next(self, request):
        principal = self._staff_page(request)
        form = self._check_form(request)
        campaign = form.get("campaign", "")
        return self._go_next(principal, campaign, form.get("skip") or None, "claimed")

    def _go_next(self, principal, campaign, skip, message):
        task = self._call(self.review.claim_next, principal, {"campaign_id": campaign} if campaign else {}, skip)
        if task is None:
            return redirect("/review/" + _query(m="no_task" if message == "claimed" else message, campaign=campaign))
        return redirect(f"/review/tasks/{task['id']}" + _query(m=message, campaign=campaign))

    # --- one task ------------------------------------------------------------------------------
    @page("GET", "/review/tasks/<string:task_id>")
    def review_task(self, request, task_id):
        principal = self._staff_page(request)
        return self._task_page(request, principal, task_id)

    def _task_page(self, request, principal, task_id, errors=None, posted=None, status=200):
        task = self._call(self.review.get_task, principal, task_id)
        attempts = self._call(self.registration.history, principal, task["application_id"])
        this = next((a for a in attempts if a["attempt"] == task["attempt"]), None)
        if this is not None:
            submitted = this["snapshot"]["form"]
        else:  # no snapshot (should not happen): the application as it is now
            submitted = self._call(self.registration.get_application, principal, task["application_id"])["form"]
        earlier = [a for a in attempts if a["attempt"] < task["attempt"] and a.get("decision")]
        me = principal["account_id"]
        holding = task["state"] == CLAIMED and task["claimed_by"] == me
        reasons = self._common_reasons()
        campaign = request.args.get("campaign", "") if posted is None else posted.get("campaign", "")
        return self._render(
            request, "review/task.html", principal=principal, status=status, errors=errors, task=task,
            form=submitted, spec=self._form_spec(), earlier=earlier, holding=holding, me=me,
            campaign_name=self._campaign_names().get(task["campaign_id"], ""), campaign=campaign,
            kinds=KINDS, kind_labels=KIND_LABELS,
            reasons={kind: [r for r in reasons if kind in r["kinds"]] for kind in KINDS},
            posted=_posted_decision(posted), idempotency_key=(posted or {}).get("idempotency_key") or uuid.uuid4().hex,
            waited=waited, shortcuts=TASK_SHORTCUTS)

    @page("POST", "/review/tasks/<string:task_id>/claim")
    def review_claim(self, request, task_id):
        principal = self._staff_page(request)
        form = self._check_form(request)
        campaign = form.get("campaign", "")
        try:
            self._call(self.review.claim, principal, task_id)
        except Conflict as exc:
            if form.get("from") == "queue":
                return self._queue_refused(request, exc)
            return self._task_page(request, principal, task_id, errors={"_form": [exc.message]},
                                   posted={"campaign": campaign}, status=exc.http_status)
        return redirect(f"/review/tasks/{task_id}" + _query(m="claimed", campaign=campaign))

    @page("POST", "/review/tasks/<string:task_id>/release")
    def review_release(self, request, task_id):
        principal = self._staff_page(request)
        form = self._check_form(request)
        try:
            self._call(self.review.release, principal, task_id)
        except Conflict as exc:
            return self._queue_refused(request, exc)
        return redirect("/review/" + _query(m="released", campaign=form.get("campaign", "")))

    def _queue_refused(self, request, exc):
        # The queue as it is now, with the reason on top (a POST answered with the GET's page).
        return self.review_queue(request, errors={"_form": [exc.message]}, status=exc.http_status)

    @page("POST", "/review/tasks/<string:task_id>/decision")
    def review_decide(self, request, task_id):
        principal = self._staff_page(request)
        form = self._check_form(request)
        decision = form.get("decision", "")
        reasons = {r["code"]: r["reason"] for r in self._common_reasons()}
        try:
            issues = _material_issues(form, reasons)
            self._call(self.review.decide, principal, task_id, decision, form.get("opinion", ""), issues,
                       form.get("idempotency_key") or None)
        except (ValidationFailed, Conflict) as exc:
            errors = _decision_errors(exc)
            return self._task_page(request, principal, task_id, errors=errors, posted=form, status=exc.http_status)
        campaign = form.get("campaign", "")
        if form.get("then") == "next":
            return self._go_next(principal, campaign, task_id, "decided")
        return redirect("/review/" + _query(m="decided", campaign=campaign))


def _material_issues(form, reasons):
    """[{kind, reason}] from the checkboxes `reason.<kind>` (common reason codes) and the free text
    `reason_text.<kind>`: one entry per reason, so reports can count them."""
    issues = []
    for kind in KINDS:
        for code in form.getlist(f"reason.{kind}"):
            if code not in reasons:
                raise ValidationFailed("不通过原因已更新，请刷新页面后重新选择",
                                       details={f"reason.{kind}": ["原因不在常见原因列表中，请刷新页面后重新选择"]})
            issues.append({"kind": kind, "reason": reasons[code]})
        text = form.get(f"reason_text.{kind}", "").strip()
        if text:
            issues.append({"kind": kind, "reason": text})
    return issues


def _decision_errors(exc):
    if isinstance(exc, Conflict) or not isinstance(exc.details, dict):
        return {"_form": [exc.message]}
    errors = {}
    for key, messages in forms.field_errors(exc.details).items():
        errors.setdefault("_form" if key in ("Idempotency-Key", "decision") else key, []).extend(messages)
    return errors or {"_form": [exc.message]}


def _posted_decision(form):
    """What the decision form shows again after a refusal (nothing on a fresh page)."""
    if not form or "decision" not in form:
        return {"reasons": {}, "texts": {}, "opinion": "", "then": True}
    return {"reasons": {kind: form.getlist(f"reason.{kind}") for kind in KINDS},
            "texts": {kind: form.get(f"reason_text.{kind}", "") for kind in KINDS},
            "opinion": form.get("opinion", ""), "then": form.get("then") == "next"}
