"""The registration service layer: one function per command or event.

Each takes a unit of work and plain values (the time, the answers already fetched from peer
services). It reaches the data only through the unit of work's repositories (`uow.applications`,
`uow.campaigns`, `uow.roster`, … — repository.py, which also encrypts) and writes events with
`uow.publish`; no nameko, no SQL, no RPC, so the CLI calls them directly and the unit tests run them
on a fake unit of work. The rules live in `domain/`; here they are loaded, applied and stored.
"""
import base64
import binascii
import dataclasses
import logging
import uuid
from collections import Counter
from datetime import datetime, timedelta

from prometheus_client import Gauge

from services.common import spreadsheets
from services.common.metrics import REGISTRY
from services.common.validation import load
from services.contracts.errors import Conflict, Forbidden, NotFound, TooManyRequests, ValidationFailed
from services.contracts.events import new_event
from services.contracts.roles import ADMIN, STAFF_ROLES
from services.contracts.states import FEEDBACK_OPEN, FEEDBACK_RESOLVED

from . import views
from .domain import (
    campaigns,
    codes,
    dispatch_import,
    eligibility,
    exports,
    form,
    numbers,
    roster_import,
    states,
)
from .domain.records import Decision, Dispatch, Feedback, RosterRecord, Submission
from .schemas import CampaignRequest

log = logging.getLogger(__name__)

STUCK_GAUGE = Gauge("registration_applications_stuck",
                    "Applications submitted and still undecided after the watchdog bound (WATCHDOG_STUCK_DAYS)",
                    ["service"], registry=REGISTRY)

STAFF = STAFF_ROLES
MAX_OPEN_FEEDBACK = 3
MAX_FEEDBACK_LENGTH = 2000
APPLICATION_NOT_FOUND = "申请不存在，请从“登记历史”重新进入"
DEMO_CAMPAIGN_ID = "demo-open-now"
# A small demo roster (valid check characters; the numbers of DOMAIN.md's examples).
DEMO_ROSTER = (
    ("张三", "11010519491231002X", "INTERMEDIATE", "20191100000012345"),
    ("李四", "440524188001010014", "ASSISTANT", "20191100000012346"),
    ("王五", "360426199101010071", "INTERMEDIATE", "20191100000012347"),
)


# -- who may do what -------------------------------------------------------------------------------

def roles_of(principal):
    return set((principal or {}).get("roles") or ())


def require_admin(principal):
    if ADMIN not in roles_of(principal):
        raise Forbidden("只有管理员可以进行此操作", code="forbidden")


def is_staff(principal):
    return bool(roles_of(principal) & set(STAFF))


def audit(uow, principal, action, at, subject=None, application_id=None, **detail):
    """Who did what to whom and when — never the personal data itself."""
    principal = principal or {}
    uow.audit.record(str(principal.get("account_id") or "system"), action, at, roles=sorted(roles_of(principal)),
                     subject=subject, application_id=application_id, details=detail)


def _publish(uow, produced):
    """Write the public ones of these domain events to the outbox; returns the messages written."""
    published = []
    for event in produced:
        if event.public:
            published.append(new_event(event.type, event.subject, event.data(), time=event.occurred_at))
            uow.publish(published[-1])
    return published


# -- campaigns -------------------------------------------------------------------------------------

def code_tables():
    return codes.all_tables()


def create_campaign(uow, principal, data, now):
    require_admin(principal)
    body = load(CampaignRequest(), data)
    campaign = campaigns.Campaign(id=body.pop("id", None) or uuid.uuid4().hex[:12], **body)
    if uow.campaigns.exists(campaign.id):
        raise Conflict(f"登记批次编号{campaign.id}已存在", code="campaign_exists")
    uow.campaigns.add(campaign, now)
    uow.sequences.ensure(campaign_year(campaign))
    audit(uow, principal, "create_campaign", now, campaign.id)
    return views.campaign_view(campaign, now)


def list_campaigns(uow, now):
    return [views.campaign_view(campaign, now) for campaign in uow.campaigns.all()]


def campaign_year(campaign):
    return views.beijing_date(campaign.opens_at).year


# -- the applicant's application -------------------------------------------------------------------

def open_application(uow, identity, account_id, campaign_id, now):
    """`identity`: the answer of identity.identity_of (adapters.peers), with `verified`."""
    campaign = uow.campaigns.get(campaign_id)
    person = {"account_id": account_id, "verified": identity.get("verified"), "name": identity.get("name"),
              "id_type": identity.get("id_type"), "id_number": identity.get("id_number")}
    records = []
    if person["verified"]:
        records = uow.roster.records_of(person["id_type"], person["id_number"])
    record = eligibility.pick_roster_record(records, campaign)
    eligibility.check_can_open(person, record, campaign, uow.applications.of_account(account_id), now)
    app = states.Application(id=str(uuid.uuid4()), campaign_id=campaign.id, account_id=account_id,
                             kind=campaign.kind, form=eligibility.prefill(record, identity, now))
    uow.applications.add(app, now)
    return views.application_view(app, app.updated_at, campaign)


def list_applications(uow, account_id, now):
    """The applicant's own applications, newest first, each with its state and next step."""
    campaigns = {}
    answer = []
    for app in uow.applications.of_account(account_id):
        if app.campaign_id not in campaigns:
            campaigns[app.campaign_id] = uow.campaigns.get(app.campaign_id)
        answer.append(views.application_summary(app, campaigns[app.campaign_id], now))
    return answer


def form_spec():
    return form.spec()


def get_application(uow, principal, application_id, now):
    return _view(uow, _readable_application(uow, principal, application_id, now, "view_application"))


def _application(uow, application_id, lock=False):
    app = uow.applications.get(application_id, lock)
    if app is None:
        raise NotFound(APPLICATION_NOT_FOUND, code="application_not_found")
    return app


def _own_application(uow, account_id, application_id, lock=False):
    """The applicant's own application; anyone else's reads as missing (its existence is not revealed)."""
    app = uow.applications.get(application_id, lock)
    if app is None or app.account_id != account_id:
        raise NotFound(APPLICATION_NOT_FOUND, code="application_not_found")
    return app


def _readable_application(uow, principal, application_id, now, action):
    """What a principal may read: staff any application (the read audited as `action`), applicants their own."""
    principal = principal or {}
    if not is_staff(principal):
        return _own_application(uow, principal.get("account_id"), application_id)
    app = _application(uow, application_id)
    audit(uow, principal, action, now, app.id, application_id=app.id)
    return app


def _view(uow, app):
    campaign = uow.campaigns.get(app.campaign_id)
    dispatch = uow.dispatches.of_application(app.id) if app.state == states.DISPATCHED else None
    return views.application_view(app, app.updated_at, campaign, dispatch)


def _change(uow, app, command, now, **kwargs):
    """Apply one command to a (locked) application, store it, publish its events; returns the events."""
    produced = app.apply(command, now=now, **kwargs)
    uow.applications.save(app, now)
    return _publish(uow, produced)


def save_draft(uow, account_id, application_id, changes, now):
    app = _own_application(uow, account_id, application_id, lock=True)
    campaign = uow.campaigns.get(app.campaign_id)
    _change(uow, app, "save_draft", now, data=changes, campaign=campaign)
    return views.application_view(app, app.updated_at, campaign)


def check_material_kind(kind):
    if kind not in codes.codes_of("material_kind"):
        labels = "、".join(f"{code}（{label}）" for code, label in codes.MATERIAL_KIND)
        raise ValidationFailed(f"材料类型不正确，应为{labels}", code="unknown_material_kind",
                               details={"kind": ["材料类型不正确，请刷新页面后重新上传"]})


def attach_material(uow, account_id, application_id, kind, material, now):
    """`material`: review's material_info answer for the material being attached."""
    check_material_kind(kind)
    app = _own_application(uow, account_id, application_id, lock=True)
    if (material.get("account_id") != account_id or material.get("application_id") != app.id
            or material.get("kind") != kind):
        raise Forbidden("该材料不属于本申请的这一项，请在本页面重新上传", code="material_mismatch")
    campaign = uow.campaigns.get(app.campaign_id)
    _change(uow, app, "attach_material", now, kind=kind, material_id=material["material_id"],
            ok=bool(material.get("ok")), issues=material.get("issues") or [])
    return views.application_view(app, app.updated_at, campaign)


def submit(uow, account_id, application_id, idempotency_key, now):
    """Submit once: the same key answers what it answered the first time; a repeat without a key
    while the application waits for review is a Conflict (409)."""
    app = _own_application(uow, account_id, application_id, lock=True)
    if idempotency_key:
        earlier = uow.submissions.by_key(account_id, idempotency_key)
        if earlier is not None:
            if earlier.application_id != app.id:
                raise Conflict("该提交请求编号（Idempotency-Key）已用于另一份申请，请刷新页面后重试",
                               code="idempotency_key_reused")
            return earlier.answer
    campaign = uow.campaigns.get(app.campaign_id)
    published = _change(uow, app, "submit", now, campaign=campaign)
    answer = views.application_view(app, app.updated_at, campaign)
    uow.submissions.add(Submission(
        application_id=app.id, account_id=account_id, attempt=app.attempt, idempotency_key=idempotency_key,
        form=app.form, materials=app.materials, answer=answer, event_id=published[-1]["id"], submitted_at=now))
    return answer


def history(uow, principal, application_id, now):
    """登记历史: every attempt with its snapshot and the decision on it, oldest first."""
    app = _readable_application(uow, principal, application_id, now, "view_history")
    decisions = {d.attempt: d for d in uow.decisions.of_application(app.id)}
    entries = []
    for sub in uow.submissions.of_application(app.id):
        decision = decisions.get(sub.attempt)
        entries.append({
            "attempt": sub.attempt,
            "snapshot": {"form": sub.form, "materials": sub.materials},
            "submitted_at": views.when(sub.submitted_at),
            "decision": decision.decision if decision else None,
            "opinion": decision.opinion if decision else None,
            "material_issues": list(decision.material_issues or []) if decision else [],
            "decided_at": views.when(decision.decided_at) if decision else None,
        })
    return entries


def contact_of(uow, application_id):
    """For notify: how to reach the applicant and, after a rejection, until when they may resubmit."""
    return _contact(_application(uow, application_id), uow.campaigns.get)


def contacts_of(uow, application_ids):
    """contact_of of several applications in one unit of work (notify asks once for the events that
    arrived together): {application id: contact}. An unknown id is left out rather than refusing
    the others, so notify fails only the event that names it."""
    campaigns = {}

    def campaign_of(campaign_id):
        if campaign_id not in campaigns:
            campaigns[campaign_id] = uow.campaigns.get(campaign_id)
        return campaigns[campaign_id]

    found = {}
    for application_id in dict.fromkeys(application_ids):
        app = uow.applications.get(application_id)
        if app is not None:
            found[application_id] = _contact(app, campaign_of)
    return found


def _contact(app, campaign_of):
    campaign = campaign_of(app.campaign_id)
    return {
        "account_id": app.account_id,
        "name": app.form.get("name"),
        "mobile": app.form.get("mobile"),
        "email": app.form.get("email"),
        "mailing": app.form.get("delivery"),
        "resubmit_until": views.when(campaign.resubmit_deadline(app.first_submitted_at)),
    }


# -- decisions (ReviewCompleted) -------------------------------------------------------------------

def on_review_completed(uow, event, number_format, now):
    """Apply a reviewer's decision once; a repeat or a decision on an older attempt changes nothing.
    Returns what happened: "approved", "rejected" or "ignored"."""
    data = event["data"]
    app = uow.applications.get(data["application_id"], lock=True)
    if app is None:
        # Not ours (yet?): raising retries it and then dead-letters it, where an operator sees it.
        raise NotFound(f"ReviewCompleted for unknown application {data['application_id']}")
    attempt = data["attempt"]
    if not app.accepts_decision(attempt):
        log.info("ignored ReviewCompleted %s: attempt %s of %s already decided or superseded (now %s)",
                 event["id"], attempt, app.id, app.attempt)
        return "ignored"
    decided_at = _instant(data.get("completed_at")) or now
    if data["decision"] == "approved":
        year = campaign_year(uow.campaigns.get(app.campaign_id))
        number = numbers.format_registration_number(number_format, year, uow.sequences.next(year))
        _change(uow, app, "review_approved", decided_at, attempt=attempt, registration_number=number)
    else:
        _change(uow, app, "review_rejected", decided_at, attempt=attempt, opinion=data.get("opinion"),
                material_issues=data.get("material_issues") or [])
    uow.decisions.add(Decision(
        application_id=app.id, attempt=attempt, decision=data["decision"], opinion=data.get("opinion"),
        material_issues=list(data.get("material_issues") or []), review_id=data["review_id"],
        reviewer_id=data["reviewer_id"], event_id=event["id"], decided_at=decided_at))
    return data["decision"]


def _instant(text):
    try:
        value = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return None
    return value if value.tzinfo is not None else None


# -- mailing ---------------------------------------------------------------------------------------

def record_dispatch(uow, principal, application_id, carrier, tracking_number, now):
    require_admin(principal)
    app = _application(uow, application_id, lock=True)
    _change(uow, app, "dispatch", now, carrier=carrier, tracking_number=tracking_number)
    dispatch = Dispatch(application_id=app.id, registration_number=app.registration_number,
                        carrier=app.carrier, tracking_number=app.tracking_number,
                        recorded_by=str(principal.get("account_id")), dispatched_at=now)
    audit(uow, principal, "record_dispatch", now, app.id, application_id=app.id)
    uow.dispatches.add(dispatch)
    campaign = uow.campaigns.get(app.campaign_id)
    return views.application_view(app, app.updated_at, campaign, dispatch)


def import_dispatches(uow_factory, principal, filename, content, now):
    """A mailing list file: each row in its own unit of work, so one bad row never undoes the others.
    Returns {"dispatched", "refused": [{"row", "field", "reason"}]}."""
    require_admin(principal)
    parsed = dispatch_import.parse_dispatches(content, filename)
    refused, dispatched = list(parsed.refused), 0
    for item in parsed.rows:
        try:
            with uow_factory() as uow:
                application_id = item.application_id or _application_by_number(uow, item.registration_number)
                record_dispatch(uow, principal, application_id, item.carrier, item.tracking_number, now)
            dispatched += 1
        except (Conflict, NotFound, ValidationFailed) as exc:
            refused.append({"row": item.row, "field": "registration_number", "reason": exc.message})
    refused.sort(key=lambda r: r["row"])
    return {"dispatched": dispatched, "refused": refused}


def _application_by_number(uow, registration_number):
    found = uow.applications.id_by_number(registration_number)
    if found is None:
        raise NotFound(f"登记证书编号{registration_number}不存在，请核对", code="application_not_found")
    return found


# -- the exam roster -------------------------------------------------------------------------------

def decode_upload(content_b64, what="文件"):
    try:
        return base64.b64decode(content_b64 or "", validate=True)
    except (binascii.Error, ValueError, TypeError):
        raise ValidationFailed(f"{what}内容无法读取，请重新上传", code="bad_upload",
                               details={"file": [f"{what}内容无法读取，请重新上传"]}) from None


def import_roster(uow, principal, filename, content, now):
    """Upsert the valid rows of a roster file on (person, level, exam year); report every row.

    accepted: new records; updated: records whose content changed; unchanged: identical re-imports;
    refused: [{"row", "field", "column", "reason"}]; duplicates_in_file: identical repeats dropped.
    """
    require_admin(principal)
    parsed = roster_import.parse_roster(content, filename, now)
    source = (filename or "")[:200]
    rows = [(row, RosterRecord(
        name=row.name, id_type=row.id_type, id_number=row.id_number, level=row.level, exam_year=row.exam_year,
        management_number=row.management_number, approval_date=row.approval_date, local_only=row.local_only,
        scores={title: str(score) for title, score in row.scores.items()}, source_file=source))
        for row in parsed.accepted]
    stored = uow.roster.matching(record for _, record in rows)
    existing = {record.key: record for record in stored}
    by_number = {record.management_number: record for record in stored}
    refused = list(parsed.refused)
    counts = {"accepted": 0, "updated": 0, "unchanged": 0}
    for row, incoming in rows:
        record = existing.get(incoming.key)
        owner = by_number.get(incoming.management_number)
        if owner is not None and owner is not record:
            refused.append({"row": row.row, "field": "management_number", "column": "职业水平证书管理号",
                            "reason": f"职业水平证书管理号{row.management_number}已属于名单中的另一条记录，请核对"})
            continue
        if record is None:
            uow.roster.add(incoming, now)
            existing[incoming.key] = record = incoming
            counts["accepted"] += 1
        elif _roster_changed(record, incoming):
            by_number.pop(record.management_number, None)
            for key in _ROSTER_CONTENT:
                setattr(record, key, getattr(incoming, key))
            record.source_file = source
            uow.roster.update(record, now)
            counts["updated"] += 1
        else:
            counts["unchanged"] += 1
        by_number[incoming.management_number] = record
    refused.sort(key=lambda item: item["row"])
    audit(uow, principal, "import_roster", now, source, refused=len(refused),
          duplicates=len(parsed.duplicates_in_file), **counts)
    return {**counts, "refused": refused, "duplicates_in_file": parsed.duplicates_in_file}


# What a re-import may change in a record (its key — person, level, year — stays).
_ROSTER_CONTENT = ("name", "id_type", "management_number", "approval_date", "local_only", "scores")


def _roster_changed(record, incoming):
    return any(getattr(record, key) != getattr(incoming, key) for key in _ROSTER_CONTENT)


# -- feedback (反馈: on the roster data, not an appeal against a decision) ---------------------------
# The error codes appeal_not_found, appeal_resolved and too_many_appeals are public and keep their
# names (docs/http-api.md, "Versions").

def file_feedback(uow, account_id, message, identity, now):
    """`identity`: identity_of's answer (may be unverified); what staff need to find the person."""
    message = (message or "").strip() if isinstance(message, str) else ""
    if not message or len(message) > MAX_FEEDBACK_LENGTH:
        text = f"请填写反馈内容（不超过{MAX_FEEDBACK_LENGTH}字）"
        raise ValidationFailed(text, details={"message": [text]})
    open_count = uow.feedback.count_open(account_id)
    if open_count >= MAX_OPEN_FEEDBACK:
        raise TooManyRequests(f"您已有{open_count}条反馈正在处理，请耐心等待工作人员回复", code="too_many_appeals")
    verified = bool(identity.get("verified"))
    feedback = Feedback(id=str(uuid.uuid4()), account_id=account_id, message=message, state=FEEDBACK_OPEN,
                        created_at=now, name=identity.get("name") if verified else None,
                        id_number=identity.get("id_number") if verified else None, verified=verified)
    uow.feedback.add(feedback)
    return {"id": feedback.id, "state": feedback.state}


def list_feedback(uow, principal, state=None):
    require_admin(principal)
    return [_feedback_view(feedback) for feedback in uow.feedback.list(state)]


def resolve_feedback(uow, principal, feedback_id, note, now):
    require_admin(principal)
    feedback = uow.feedback.get(feedback_id)
    if feedback is None:
        raise NotFound("反馈不存在", code="appeal_not_found")
    if feedback.state != FEEDBACK_OPEN:
        raise Conflict("该反馈已处理", code="appeal_resolved")
    note = (note or "").strip() if isinstance(note, str) else ""
    if not note:
        raise ValidationFailed("请填写处理说明，申请人会看到", details={"note": ["请填写处理说明"]})
    feedback.state, feedback.note, feedback.resolved_at = FEEDBACK_RESOLVED, note[:2000], now
    feedback.resolved_by = str(principal.get("account_id"))
    uow.feedback.save(feedback)
    audit(uow, principal, "resolve_feedback", now, feedback.id)
    return _feedback_view(feedback)


def _feedback_view(feedback):
    return views.feedback_view(feedback, feedback.name, feedback.id_number)


# -- reports, exports, watchdog --------------------------------------------------------------------

def report(uow, principal, campaign_id=None):
    require_admin(principal)
    by = {"by_state": Counter(), "by_district": Counter(), "by_level": Counter()}
    for (state, district, level), n in uow.applications.counts(campaign_id).items():
        for view, key in (("by_state", state), ("by_district", district), ("by_level", level)):
            by[view][key if key is not None else "UNSPECIFIED"] += n
    by = {view: dict(counts) for view, counts in by.items()}
    return {"campaign_id": campaign_id, "total": sum(by["by_state"].values()), **by}


# An export is read a page at a time, so its size never weighs on one process: the gateway streams
# `start_export` + `export_page`s to the browser; `export_approved` assembles a whole file for RPC callers.
EXPORT_PAGE = 500
EXPORT_SHEET = "登记证书"


def start_export(uow, principal, fmt, now, campaign_id=None):
    """Check who asks and for what, audit the export, and say what the file will be (not its rows).
    Admins see everything, reviewers a masked copy."""
    view = exports.view_for(roles_of(principal))
    fmt = (fmt or "").lower()
    if fmt not in spreadsheets.CONTENT_TYPES:
        raise ValidationFailed("导出格式应为csv或xlsx", details={"fmt": ["导出格式应为csv或xlsx"]})
    rows = uow.applications.count_approved(campaign_id)
    stamp = now.astimezone(views.BEIJING).strftime("%Y%m%d%H%M%S")
    filename = f"registrations-{stamp}.{fmt}"
    audit(uow, principal, "export_approved", now, campaign_id, format=fmt, rows=rows, view=view,
          filename=filename)
    return {"filename": filename, "content_type": spreadsheets.CONTENT_TYPES[fmt], "rows": rows, "view": view,
            "format": fmt, "header": list(exports.HEADER), "sheet": EXPORT_SHEET}


def export_page(uow, principal, campaign_id=None, after=None, limit=EXPORT_PAGE):
    """Approved (and mailed) registrations after registration number `after`, as export lines for the
    caller's view; `next` is the cursor of the following page, None after the last."""
    view = exports.view_for(roles_of(principal))
    if after is not None and not isinstance(after, str):
        raise ValidationFailed("分页位置无效", details={"after": ["应为文本"]})
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= EXPORT_PAGE:
        raise ValidationFailed("每页条数无效", details={"limit": [f"应为 1 到 {EXPORT_PAGE} 之间的整数"]})
    apps = uow.applications.approved_page(campaign_id, after, limit)
    dispatches = uow.dispatches.of_applications([app.id for app in apps])
    lines = []
    for app in apps:
        dispatch = dispatches.get(app.id)
        lines.append(exports.export_row({
            "form": app.form, "registration_number": app.registration_number, "valid_from": app.valid_from,
            "valid_until": app.valid_until, "state": app.state,
            "carrier": dispatch.carrier if dispatch else None,
            "tracking_number": dispatch.tracking_number if dispatch else None}, view))
    return {"rows": lines, "next": apps[-1].registration_number if len(apps) == limit else None}


def export_approved(uow, principal, fmt, now, campaign_id=None):
    """The whole export as one file, base64 (RPC callers; the gateway streams pages instead)."""
    started = start_export(uow, principal, fmt, now, campaign_id)

    def lines():
        after = None
        while True:
            page = export_page(uow, principal, campaign_id, after)
            yield from page["rows"]
            if (after := page["next"]) is None:
                return

    content = spreadsheets.write_table(started["format"], started["header"], lines(), started["sheet"])
    return {key: started[key] for key in ("filename", "content_type", "rows", "view")} | {
        "content_b64": base64.b64encode(content).decode()}


def stuck_applications(uow, days, now, service="registration"):
    """Submitted and still undecided for longer than `days` days, oldest first; sets the gauge."""
    if isinstance(days, bool) or not isinstance(days, (int, float)) or days < 0:
        raise ValidationFailed("天数应为不小于0的数字", details={"days": ["天数应为不小于0的数字"]})
    rows = uow.applications.waiting_since(now - timedelta(days=days))
    STUCK_GAUGE.labels(service).set(len(rows))
    return {"days": days, "count": len(rows), "applications": [
        {"application_id": r.id, "campaign_id": r.campaign_id, "attempt": r.attempt,
         "district_code": r.district_code, "submitted_at": views.when(r.submitted_at),
         "days_waiting": round((now - r.submitted_at).total_seconds() / 86400, 1)} for r in rows]}


# -- seeds -----------------------------------------------------------------------------------------

def seed_2020(uow, now):
    """The 2020 Beijing first registration exactly as the notice states it (idempotent)."""
    campaign = campaigns.beijing_2020_first_registration()
    created = not uow.campaigns.exists(campaign.id)
    if created:
        uow.campaigns.add(campaign, now)
    uow.sequences.ensure(campaign_year(campaign))
    return {"campaign": views.campaign_view(campaign, now), "created": created}


def seed_demo(uow, now):
    """A campaign open now (yesterday to 60 days on, Beijing time) and a small roster; idempotent,
    and a demo campaign whose window has passed is moved to around now again."""
    local = now.astimezone(views.BEIJING).replace(tzinfo=None, microsecond=0, second=0, minute=0)
    campaign = campaigns.Campaign(
        id=DEMO_CAMPAIGN_ID, name="演示：社会工作者职业水平证书首次登记（开放中）", kind=codes.FIRST,
        eligible_exam_years=frozenset({now.astimezone(views.BEIJING).year - 1, 2019}),
        eligible_levels=frozenset({codes.ASSISTANT, codes.INTERMEDIATE}),
        opens_at=(local - timedelta(days=1)).isoformat(), closes_at=(local + timedelta(days=60)).isoformat(),
        delivery_methods=(codes.MAIL,), exclude_local_only=True, allow_resubmit_after_close=True)
    created = not uow.campaigns.exists(DEMO_CAMPAIGN_ID)
    if created:
        uow.campaigns.add(campaign, now)
    else:
        stored = uow.campaigns.get(DEMO_CAMPAIGN_ID)
        if not stored.is_open(now):
            uow.campaigns.save(dataclasses.replace(stored, opens_at=campaign.opens_at, closes_at=campaign.closes_at))
    uow.sequences.ensure(campaign_year(campaign))
    demo = [RosterRecord(name=name, id_type="RESIDENT_ID", id_number=id_number, level=level, exam_year=2019,
                         management_number=management_number, approval_date=datetime(2019, 12, 20).date(),
                         source_file="seed-demo") for name, id_number, level, management_number in DEMO_ROSTER]
    stored_keys = {record.key for record in uow.roster.matching(demo)}
    added = 0
    for record in demo:
        if record.key not in stored_keys:
            uow.roster.add(record, now)
            added += 1
    return {"campaign_id": DEMO_CAMPAIGN_ID, "campaign_created": created, "roster_added": added}
