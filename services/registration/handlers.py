"""The registration service layer: one function per command or event.

Each takes a unit of work (`uow.session`, `uow.publish`), the cipher and plain values (the time,
the answers already fetched from peer services); no nameko, no RPC, so the CLI and the tests call
them directly. The rules live in `domain/`; here they are loaded, applied and stored.
"""
import base64
import binascii
import logging
import uuid
from datetime import datetime, timedelta

from prometheus_client import Gauge
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from services.common import audit as platform_audit
from services.common.metrics import REGISTRY
from services.common.validation import load
from services.contracts.errors import Conflict, Forbidden, NotFound, TooManyRequests, ValidationFailed
from services.contracts.events import new_event
from services.contracts.roles import STAFF_ROLES

from . import models, repository, views
from .adapters import spreadsheets
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
from .schemas import CampaignRequest

log = logging.getLogger(__name__)

STUCK_GAUGE = Gauge("registration_applications_stuck",
                    "Applications submitted and still undecided after the watchdog bound (WATCHDOG_STUCK_DAYS)",
                    ["service"], registry=REGISTRY)

STAFF = STAFF_ROLES
MAX_OPEN_APPEALS = 3
MAX_APPEAL_LENGTH = 2000
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
    if "admin" not in roles_of(principal):
        raise Forbidden("只有管理员可以进行此操作", code="forbidden")


def is_staff(principal):
    return bool(roles_of(principal) & set(STAFF))


def audit(uow, principal, action, at, subject=None, application_id=None, **details):
    """Who did what to whom and when — never the personal data itself."""
    principal = principal or {}
    platform_audit.record(uow.session, str(principal.get("account_id") or platform_audit.SYSTEM), action, at,
                          roles=roles_of(principal), subject=subject, application_id=application_id,
                          details=details)


def _publish(uow, produced):
    for event in produced:
        if event.public:
            uow.publish(new_event(event.type, event.subject, event.data(), time=event.occurred_at))


def _flush(uow, conflict_message, code):
    """Flush, turning a unique-constraint or version clash (a concurrent request won) into Conflict."""
    try:
        uow.session.flush()
    except (IntegrityError, StaleDataError):
        raise Conflict(conflict_message, code=code) from None


# -- campaigns -------------------------------------------------------------------------------------

def code_tables():
    return codes.all_tables()


def create_campaign(uow, principal, data, now):
    require_admin(principal)
    body = load(CampaignRequest(), data)
    campaign = campaigns.Campaign(id=body.pop("id", None) or uuid.uuid4().hex[:12], **body)
    if uow.session.get(models.Campaign, campaign.id) is not None:
        raise Conflict(f"登记批次编号{campaign.id}已存在", code="campaign_exists")
    uow.session.add(repository.campaign_from_domain(campaign, now))
    repository.ensure_sequence(uow.session, campaign_year(campaign))
    audit(uow, principal, "create_campaign", now, campaign.id)
    _flush(uow, f"登记批次编号{campaign.id}已存在", "campaign_exists")
    return views.campaign_view(campaign, now)


def list_campaigns(uow, now):
    rows = uow.session.scalars(select(models.Campaign).order_by(models.Campaign.opens_at.desc())).all()
    return [views.campaign_view(repository.campaign_to_domain(row), now) for row in rows]


def campaign_year(campaign):
    return views.beijing_date(campaign.opens_at).year


# -- the applicant's application -------------------------------------------------------------------

def open_application(uow, cipher, identity, account_id, campaign_id, now):
    """`identity`: the answer of identity.identity_of (adapters.peers), with `verified`."""
    session = uow.session
    campaign = repository.load_campaign(session, campaign_id)
    person = {"account_id": account_id, "verified": identity.get("verified"), "name": identity.get("name"),
              "id_type": identity.get("id_type"), "id_number": identity.get("id_number")}
    records = []
    if person["verified"]:
        records = repository.roster_records_of(session, cipher, person["id_type"], person["id_number"])
    record = eligibility.pick_roster_record(records, campaign)
    existing = [{"id": i, "campaign_id": c, "state": s} for i, c, s in session.execute(
        select(models.Application.id, models.Application.campaign_id, models.Application.state)
        .where(models.Application.account_id == account_id)).all()]
    eligibility.check_can_open(person, record, campaign, existing, now)
    app = states.Application(id=str(uuid.uuid4()), campaign_id=campaign.id, account_id=account_id,
                             kind=campaign.kind, form=eligibility.prefill(record, identity, now))
    row = repository.store_application(cipher, None, app, now)
    session.add(row)
    _flush(uow, "您在本次登记中已有申请，请在“登记历史”中继续填写或查看审核结果", "already_applied")
    return views.application_view(app, row.updated_at, campaign)


def list_applications(uow, account_id, now):
    """The applicant's own applications, newest first, each with its state and next step."""
    rows = uow.session.scalars(select(models.Application).where(models.Application.account_id == account_id)
                               .order_by(models.Application.created_at.desc())).all()
    campaigns = {}
    answer = []
    for row in rows:
        if row.campaign_id not in campaigns:
            campaigns[row.campaign_id] = repository.load_campaign(uow.session, row.campaign_id)
        answer.append(views.application_summary(row, campaigns[row.campaign_id], now))
    return answer


def form_spec():
    return form.spec()


def get_application(uow, cipher, principal, application_id, now):
    row = _readable_application(uow, principal, application_id, now, "view_application")
    return _view(uow, cipher, row)


def _readable_application(uow, principal, application_id, now, action):
    """The row a principal may read: staff any (the read audited as `action`), applicants their own."""
    principal = principal or {}
    if not is_staff(principal):
        return repository.own_application_row(uow.session, principal.get("account_id"), application_id)
    row = repository.application_row(uow.session, application_id)
    if row is None:
        raise NotFound(repository.APPLICATION_NOT_FOUND, code="application_not_found")
    audit(uow, principal, action, now, row.id, application_id=row.id)
    return row


def _view(uow, cipher, row, app=None):
    app = app or repository.application_to_domain(cipher, row)
    campaign = repository.load_campaign(uow.session, row.campaign_id)
    dispatch = repository.dispatch_of(uow.session, row.id) if app.state == states.DISPATCHED else None
    return views.application_view(app, row.updated_at, campaign, dispatch)


def _change(uow, cipher, row, command, now, **kwargs):
    """Apply one command to a locked row's aggregate, store it, publish its events; (app, events)."""
    app = repository.application_to_domain(cipher, row)
    produced = app.apply(command, now=now, **kwargs)
    repository.store_application(cipher, row, app, now)
    _flush(uow, "申请刚刚被其他操作修改，请刷新页面后重试", "concurrent_change")
    _publish(uow, produced)
    return app, produced


def save_draft(uow, cipher, account_id, application_id, changes, now):
    row = repository.own_application_row(uow.session, account_id, application_id, lock=True)
    campaign = repository.load_campaign(uow.session, row.campaign_id)
    app, _ = _change(uow, cipher, row, "save_draft", now, data=changes, campaign=campaign)
    return views.application_view(app, row.updated_at, campaign)


def check_material_kind(kind):
    if kind not in codes.codes_of("material_kind"):
        labels = "、".join(f"{code}（{label}）" for code, label in codes.MATERIAL_KIND)
        raise ValidationFailed(f"材料类型不正确，应为{labels}", code="unknown_material_kind",
                               details={"kind": ["材料类型不正确，请刷新页面后重新上传"]})


def attach_material(uow, cipher, account_id, application_id, kind, material, now):
    """`material`: review's material_info answer for the material being attached."""
    check_material_kind(kind)
    row = repository.own_application_row(uow.session, account_id, application_id, lock=True)
    if (material.get("account_id") != account_id or material.get("application_id") != row.id
            or material.get("kind") != kind):
        raise Forbidden("该材料不属于本申请的这一项，请在本页面重新上传", code="material_mismatch")
    campaign = repository.load_campaign(uow.session, row.campaign_id)
    app, _ = _change(uow, cipher, row, "attach_material", now, kind=kind, material_id=material["material_id"],
                     ok=bool(material.get("ok")), issues=material.get("issues") or [])
    return views.application_view(app, row.updated_at, campaign)


def submit(uow, cipher, account_id, application_id, idempotency_key, now):
    """Submit once: the same key answers what it answered the first time; a repeat without a key
    while the application waits for review is a Conflict (409)."""
    session = uow.session
    row = repository.own_application_row(session, account_id, application_id, lock=True)
    if idempotency_key:
        earlier = session.scalars(select(models.Submission).where(
            models.Submission.account_id == account_id,
            models.Submission.idempotency_key == idempotency_key)).first()
        if earlier is not None:
            if earlier.application_id != row.id:
                raise Conflict("该提交请求编号（Idempotency-Key）已用于另一份申请，请刷新页面后重试",
                               code="idempotency_key_reused")
            return repository.unseal(cipher, earlier.answer_enc, "submission.answer")
    campaign = repository.load_campaign(session, row.campaign_id)
    app, produced = _change(uow, cipher, row, "submit", now, campaign=campaign)
    answer = views.application_view(app, row.updated_at, campaign)
    public, personal = repository.split_form(app.form)
    session.add(models.Submission(
        application_id=row.id, account_id=account_id, attempt=app.attempt, idempotency_key=idempotency_key,
        form=public, personal_enc=repository.seal(cipher, personal, "submission.personal"),
        materials=app.materials, answer_enc=repository.seal(cipher, answer, "submission.answer"),
        event_id=uow.events[-1]["id"], submitted_at=now))
    _flush(uow, "申请已提交，请勿重复提交，请耐心等待审核结果", "already_submitted")
    return answer


def history(uow, cipher, principal, application_id, now):
    """登记历史: every attempt with its snapshot and the decision on it, oldest first."""
    session = uow.session
    row = _readable_application(uow, principal, application_id, now, "view_history")
    decisions = {d.attempt: d for d in session.scalars(
        select(models.Decision).where(models.Decision.application_id == row.id))}
    entries = []
    for sub in session.scalars(select(models.Submission).where(models.Submission.application_id == row.id)
                               .order_by(models.Submission.attempt)):
        decision = decisions.get(sub.attempt)
        form = {**sub.form, **repository.unseal(cipher, sub.personal_enc, "submission.personal")}
        entries.append({
            "attempt": sub.attempt,
            "snapshot": {"form": form, "materials": sub.materials},
            "submitted_at": views.when(sub.submitted_at),
            "decision": decision.decision if decision else None,
            "opinion": decision.opinion if decision else None,
            "material_issues": list(decision.material_issues or []) if decision else [],
            "decided_at": views.when(decision.decided_at) if decision else None,
        })
    return entries


def contact_of(uow, cipher, application_id):
    """For notify: how to reach the applicant and, after a rejection, until when they may resubmit."""
    row = repository.application_row(uow.session, application_id)
    if row is None:
        raise NotFound(repository.APPLICATION_NOT_FOUND, code="application_not_found")
    app = repository.application_to_domain(cipher, row)
    campaign = repository.load_campaign(uow.session, row.campaign_id)
    return {
        "account_id": row.account_id,
        "name": app.form.get("name"),
        "mobile": app.form.get("mobile"),
        "email": app.form.get("email"),
        "delivery": app.form.get("delivery"),
        "resubmit_until": views.when(campaign.resubmit_deadline(app.first_submitted_at)),
    }


# -- decisions (ReviewCompleted) -------------------------------------------------------------------

def on_review_completed(uow, cipher, event, number_format, now):
    """Apply a reviewer's decision once; a repeat or a decision on an older attempt changes nothing.
    Returns what happened: "approved", "rejected" or "ignored"."""
    data = event["data"]
    row = repository.application_row(uow.session, data["application_id"], lock=True)
    if row is None:
        # Not ours (yet?): raising retries it and then dead-letters it, where an operator sees it.
        raise NotFound(f"ReviewCompleted for unknown application {data['application_id']}")
    app = repository.application_to_domain(cipher, row)
    attempt = data["attempt"]
    if not app.accepts_decision(attempt):
        log.info("ignored ReviewCompleted %s: attempt %s of %s already decided or superseded (now %s)",
                 event["id"], attempt, row.id, app.attempt)
        return "ignored"
    decided_at = _instant(data.get("completed_at")) or now
    if data["decision"] == "approved":
        campaign = repository.load_campaign(uow.session, row.campaign_id)
        year = campaign_year(campaign)
        number = numbers.format_registration_number(number_format, year,
                                                    repository.next_sequence(uow.session, year))
        _change(uow, cipher, row, "review_approved", decided_at, attempt=attempt, registration_number=number)
    else:
        _change(uow, cipher, row, "review_rejected", decided_at, attempt=attempt, opinion=data.get("opinion"),
                material_issues=data.get("material_issues") or [])
    uow.session.add(models.Decision(
        application_id=row.id, attempt=attempt, decision=data["decision"], opinion=data.get("opinion"),
        material_issues=list(data.get("material_issues") or []), review_id=data["review_id"],
        reviewer_id=data["reviewer_id"], event_id=event["id"], decided_at=decided_at))
    uow.session.flush()
    return data["decision"]


def _instant(text):
    try:
        value = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return None
    return value if value.tzinfo is not None else None


# -- mailing ---------------------------------------------------------------------------------------

def record_dispatch(uow, cipher, principal, application_id, carrier, tracking_number, now):
    require_admin(principal)
    row = repository.application_row(uow.session, application_id, lock=True)
    if row is None:
        raise NotFound(repository.APPLICATION_NOT_FOUND, code="application_not_found")
    app, _ = _change(uow, cipher, row, "dispatch", now, carrier=carrier, tracking_number=tracking_number)
    dispatch = models.Dispatch(application_id=row.id, registration_number=app.registration_number,
                               carrier=app.carrier, tracking_number=app.tracking_number,
                               recorded_by=str(principal.get("account_id")), dispatched_at=now)
    uow.session.add(dispatch)
    audit(uow, principal, "record_dispatch", now, row.id, application_id=row.id)
    _flush(uow, "证书寄送信息已登记，请勿重复登记", "already_dispatched")
    campaign = repository.load_campaign(uow.session, row.campaign_id)
    return views.application_view(app, row.updated_at, campaign, dispatch)


def import_dispatches(uow_factory, cipher, principal, filename, content, now):
    """A mailing list file: each row in its own unit of work, so one bad row never undoes the others.
    Returns {"dispatched", "refused": [{"row", "field", "reason"}]}."""
    require_admin(principal)
    parsed = dispatch_import.parse_dispatches(content, filename)
    refused, dispatched = list(parsed.refused), 0
    for item in parsed.rows:
        try:
            with uow_factory() as uow:
                application_id = item.application_id or _application_by_number(uow, item.registration_number)
                record_dispatch(uow, cipher, principal, application_id, item.carrier, item.tracking_number, now)
            dispatched += 1
        except (Conflict, NotFound, ValidationFailed) as exc:
            refused.append({"row": item.row, "field": "registration_number", "reason": exc.message})
    refused.sort(key=lambda r: r["row"])
    return {"dispatched": dispatched, "refused": refused}


def _application_by_number(uow, registration_number):
    found = uow.session.scalars(select(models.Application.id).where(
        models.Application.registration_number == registration_number)).first()
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


def import_roster(uow, cipher, principal, filename, content, now):
    """Upsert the valid rows of a roster file on (person, level, exam year); report every row.

    accepted: new records; updated: records whose content changed; unchanged: identical re-imports;
    refused: [{"row", "field", "column", "reason"}]; duplicates_in_file: identical repeats dropped.
    """
    require_admin(principal)
    parsed = roster_import.parse_roster(content, filename, now)
    session = uow.session
    rows = [(row, repository.roster_index(cipher, row.id_type, row.id_number)) for row in parsed.accepted]
    existing, by_number = {}, {}
    for chunk in _chunks(rows, 500):
        for record in session.scalars(select(models.RosterRecord).where(
                models.RosterRecord.id_number_index.in_({index for _, index in chunk}))):
            existing[(record.id_number_index, record.level, record.exam_year)] = record
        for record in session.scalars(select(models.RosterRecord).where(
                models.RosterRecord.management_number.in_({row.management_number for row, _ in chunk}))):
            by_number[record.management_number] = record
    refused = list(parsed.refused)
    counts = {"accepted": 0, "updated": 0, "unchanged": 0}
    for row, index in rows:
        record = existing.get((index, row.level, row.exam_year))
        owner = by_number.get(row.management_number)
        if owner is not None and owner is not record:
            refused.append({"row": row.row, "field": "management_number", "column": "职业水平证书管理号",
                            "reason": f"职业水平证书管理号{row.management_number}已属于名单中的另一条记录，请核对"})
            continue
        values = {"id_type": row.id_type, "management_number": row.management_number,
                  "approval_date": row.approval_date, "local_only": row.local_only,
                  "scores": {title: str(score) for title, score in row.scores.items()}}
        if record is None:
            record = models.RosterRecord(
                id_number_index=index, id_number_enc=cipher.encrypt(row.id_number, "roster.id_number"),
                name_enc=cipher.encrypt(row.name, "roster.name"), level=row.level, exam_year=row.exam_year,
                source_file=(filename or "")[:200], imported_at=now, updated_at=now, **values)
            session.add(record)
            existing[(index, row.level, row.exam_year)] = record
            counts["accepted"] += 1
        elif _roster_changed(cipher, record, row, values):
            by_number.pop(record.management_number, None)
            for key, value in values.items():
                setattr(record, key, value)
            record.name_enc = cipher.encrypt(row.name, "roster.name")
            record.source_file, record.updated_at = (filename or "")[:200], now
            counts["updated"] += 1
        else:
            counts["unchanged"] += 1
        by_number[row.management_number] = record
    session.flush()
    refused.sort(key=lambda item: item["row"])
    audit(uow, principal, "import_roster", now, (filename or "")[:200], refused=len(refused),
          duplicates=len(parsed.duplicates_in_file), **counts)
    return {**counts, "refused": refused, "duplicates_in_file": parsed.duplicates_in_file}


def _roster_changed(cipher, record, row, values):
    if cipher.decrypt(record.name_enc, "roster.name") != row.name:
        return True
    return any(getattr(record, key) != value for key, value in values.items())


def _chunks(items, size):
    for start in range(0, len(items), size):
        yield items[start:start + size]


# -- appeals (反馈) ---------------------------------------------------------------------------------

def file_appeal(uow, cipher, account_id, message, identity, now):
    """`identity`: identity_of's answer (may be unverified); what staff need to find the person."""
    message = (message or "").strip() if isinstance(message, str) else ""
    if not message or len(message) > MAX_APPEAL_LENGTH:
        text = f"请填写反馈内容（不超过{MAX_APPEAL_LENGTH}字）"
        raise ValidationFailed(text, details={"message": [text]})
    open_count = uow.session.scalar(select(func.count()).select_from(models.Appeal).where(
        models.Appeal.account_id == account_id, models.Appeal.state == "OPEN"))
    if open_count >= MAX_OPEN_APPEALS:
        raise TooManyRequests(f"您已有{open_count}条反馈正在处理，请耐心等待工作人员回复", code="too_many_appeals")
    verified = identity.get("verified")
    appeal = models.Appeal(
        id=str(uuid.uuid4()), account_id=account_id, message=message, state="OPEN", created_at=now,
        name_enc=cipher.encrypt(identity.get("name"), "appeal.name") if verified else None,
        id_number_enc=cipher.encrypt(identity.get("id_number"), "appeal.id_number") if verified else None)
    uow.session.add(appeal)
    return {"id": appeal.id, "state": appeal.state}


def list_appeals(uow, cipher, principal, state=None):
    require_admin(principal)
    query = select(models.Appeal).order_by(models.Appeal.created_at)
    if state:
        query = query.where(models.Appeal.state == state)
    return [_appeal_view(cipher, appeal) for appeal in uow.session.scalars(query)]


def resolve_appeal(uow, cipher, principal, appeal_id, note, now):
    require_admin(principal)
    appeal = uow.session.get(models.Appeal, str(appeal_id))
    if appeal is None:
        raise NotFound("反馈不存在", code="appeal_not_found")
    if appeal.state != "OPEN":
        raise Conflict("该反馈已处理", code="appeal_resolved")
    note = (note or "").strip() if isinstance(note, str) else ""
    if not note:
        raise ValidationFailed("请填写处理说明，申请人会看到", details={"note": ["请填写处理说明"]})
    appeal.state, appeal.note, appeal.resolved_at = "RESOLVED", note[:2000], now
    appeal.resolved_by = str(principal.get("account_id"))
    audit(uow, principal, "resolve_appeal", now, appeal.id)
    return _appeal_view(cipher, appeal)


def _appeal_view(cipher, appeal):
    return views.appeal_view(appeal, cipher.decrypt(appeal.name_enc, "appeal.name"),
                             cipher.decrypt(appeal.id_number_enc, "appeal.id_number"))


# -- reports, exports, watchdog --------------------------------------------------------------------

def report(uow, principal, campaign_id=None):
    require_admin(principal)
    app = models.Application

    def counts(column):
        query = select(column, func.count()).group_by(column)
        if campaign_id:
            query = query.where(app.campaign_id == campaign_id)
        return {key if key is not None else "UNSPECIFIED": n for key, n in uow.session.execute(query).all()}

    by_state = counts(app.state)
    return {"campaign_id": campaign_id, "total": sum(by_state.values()), "by_state": by_state,
            "by_district": counts(app.district_code), "by_level": counts(app.cert_level)}


def export_approved(uow, cipher, principal, fmt, now, campaign_id=None):
    """Approved (and mailed) registrations for certificate printing, as CSV or XLSX, base64.
    Admins see everything, reviewers a masked copy; every export is audited."""
    view = exports.view_for(roles_of(principal))
    fmt = (fmt or "").lower()
    if fmt not in spreadsheets.CONTENT_TYPES:
        raise ValidationFailed("导出格式应为csv或xlsx", details={"fmt": ["导出格式应为csv或xlsx"]})
    query = select(models.Application).where(
        models.Application.state.in_((states.APPROVED, states.DISPATCHED))).order_by(
        models.Application.registration_number)
    if campaign_id:
        query = query.where(models.Application.campaign_id == campaign_id)
    dispatches = {d.application_id: d for d in uow.session.scalars(select(models.Dispatch))}
    lines = []
    for row in uow.session.scalars(query):
        app = repository.application_to_domain(cipher, row)
        dispatch = dispatches.get(row.id)
        lines.append(exports.export_row({
            "form": app.form, "registration_number": app.registration_number, "valid_from": app.valid_from,
            "valid_until": app.valid_until, "state": app.state,
            "carrier": dispatch.carrier if dispatch else None,
            "tracking_number": dispatch.tracking_number if dispatch else None}, view))
    content = spreadsheets.write_table(fmt, exports.HEADER, lines, sheet_title="登记证书")
    stamp = now.astimezone(views.BEIJING).strftime("%Y%m%d%H%M%S")
    filename = f"registrations-{stamp}.{fmt}"
    audit(uow, principal, "export_approved", now, campaign_id, format=fmt, rows=len(lines), view=view,
          filename=filename)
    return {"filename": filename, "content_type": spreadsheets.CONTENT_TYPES[fmt], "rows": len(lines),
            "view": view, "content_b64": base64.b64encode(content).decode()}


def stuck_applications(uow, days, now, service="registration"):
    """Submitted and still undecided for longer than `days` days, oldest first; sets the gauge."""
    if isinstance(days, bool) or not isinstance(days, (int, float)) or days < 0:
        raise ValidationFailed("天数应为不小于0的数字", details={"days": ["天数应为不小于0的数字"]})
    bound = now - timedelta(days=days)
    app = models.Application
    rows = uow.session.execute(
        select(app.id, app.campaign_id, app.attempt, app.submitted_at, app.district_code)
        .where(app.state == states.SUBMITTED, app.submitted_at < bound).order_by(app.submitted_at)).all()
    STUCK_GAUGE.labels(service).set(len(rows))
    return {"days": days, "count": len(rows), "applications": [
        {"application_id": r.id, "campaign_id": r.campaign_id, "attempt": r.attempt,
         "district_code": r.district_code, "submitted_at": views.when(r.submitted_at),
         "days_waiting": round((now - r.submitted_at).total_seconds() / 86400, 1)} for r in rows]}


# -- seeds -----------------------------------------------------------------------------------------

def seed_2020(uow, now):
    """The 2020 Beijing first registration exactly as the notice states it (idempotent)."""
    campaign = campaigns.beijing_2020_first_registration()
    created = uow.session.get(models.Campaign, campaign.id) is None
    if created:
        uow.session.add(repository.campaign_from_domain(campaign, now))
    repository.ensure_sequence(uow.session, campaign_year(campaign))
    return {"campaign": views.campaign_view(campaign, now), "created": created}


def seed_demo(uow, cipher, now):
    """A campaign open now (yesterday to 60 days on, Beijing time) and a small roster; idempotent,
    and a demo campaign whose window has passed is moved to around now again."""
    session = uow.session
    local = now.astimezone(views.BEIJING).replace(tzinfo=None, microsecond=0, second=0, minute=0)
    campaign = campaigns.Campaign(
        id=DEMO_CAMPAIGN_ID, name="演示：社会工作者职业水平证书首次登记（开放中）", kind=codes.FIRST,
        eligible_exam_years=frozenset({now.astimezone(views.BEIJING).year - 1, 2019}),
        eligible_levels=frozenset({codes.ASSISTANT, codes.INTERMEDIATE}),
        opens_at=(local - timedelta(days=1)).isoformat(), closes_at=(local + timedelta(days=60)).isoformat(),
        delivery_methods=(codes.MAIL,), exclude_local_only=True, allow_resubmit_after_close=True)
    row = session.get(models.Campaign, DEMO_CAMPAIGN_ID)
    created = row is None
    if created:
        session.add(repository.campaign_from_domain(campaign, now))
    elif not repository.campaign_to_domain(row).is_open(now):
        row.opens_at, row.closes_at = campaign.opens_at, campaign.closes_at
    repository.ensure_sequence(session, campaign_year(campaign))
    added = 0
    for name, id_number, level, management_number in DEMO_ROSTER:
        index = repository.roster_index(cipher, "RESIDENT_ID", id_number)
        found = session.scalars(select(models.RosterRecord).where(
            models.RosterRecord.id_number_index == index, models.RosterRecord.level == level,
            models.RosterRecord.exam_year == 2019)).first()
        if found is None:
            session.add(models.RosterRecord(
                id_type="RESIDENT_ID", id_number_enc=cipher.encrypt(id_number, "roster.id_number"),
                id_number_index=index, name_enc=cipher.encrypt(name, "roster.name"), level=level,
                exam_year=2019, management_number=management_number,
                approval_date=datetime(2019, 12, 20).date(), local_only=False, scores={},
                source_file="seed-demo", imported_at=now, updated_at=now))
            added += 1
    return {"campaign_id": DEMO_CAMPAIGN_ID, "campaign_created": created, "roster_added": added}
