"""The review service layer: one function per command or event, over units of work and adapters.

No nameko here. Each function takes a `Context`: how to open a unit of work, the image store,
the settings, and how to run CPU-heavy work off the event loop (`eventlet.tpool.execute` in the
service, inline elsewhere). The rules live in `domain/` (the task lifecycle in `domain/tasks.py`);
the task rows and queries in `repository.py`. Kept here:

- Pillow and AES work (check, re-encode, thumbnail, encrypt, write) happen in one offloaded call,
  before the unit of work opens; the unit of work only records the result.
- Every state change of a task is a transition of the domain model stored by compare-and-set
  (`repository.apply`): two reviewers racing for one task change one row; the other is refused.
- Staff looks at tasks and materials, claims, releases and decisions go to the append-only audit
  log in the same transaction as the change (or before the image leaves the service).
- ReviewCompleted is written to the outbox in the decision's transaction.
"""
import base64
import binascii
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable
from uuid import uuid4

from sqlalchemy import or_, select

from services.common import audit as platform_audit
from services.common import clock
from services.contracts.errors import NotFound, ValidationFailed
from services.contracts.events import new_event
from services.contracts.materials import KIND_SUBJECTS, KINDS, PURGEABLE_KINDS, UnknownMaterialKind

from . import repository
from .adapters.face_detector import shared_detector
from .adapters.storage import MaterialStore
from .domain import access, decisions, duplicates
from .domain import figures as figures_rules
from .domain import materials as checks
from .domain.phash import bands, hamming
from .domain.sniff import identify
from .domain.tasks import CLAIMED, DECIDED, PENDING, SUPERSEDED, Task
from .domain.thresholds import DEFAULT as DEFAULT_THRESHOLDS
from .models import Material, MaterialFingerprint
from .settings import ReviewSettings

log = logging.getLogger("services.review")

TASK_FILTERS = ("campaign_id", "district", "level", "state", "min_waiting_seconds", "limit")
MINE = repository.MINE
STATE_FILTERS = ("open", "all", MINE, PENDING, CLAIMED, DECIDED, SUPERSEDED)


def _inline(fn, *args, **kwargs):
    return fn(*args, **kwargs)


@dataclass
class Context:
    uow: Callable[[], Any]  # () -> services.common.db.UnitOfWork
    store: MaterialStore
    settings: ReviewSettings = field(default_factory=ReviewSettings)
    offload: Callable = _inline  # eventlet.tpool.execute in the service
    consumer: str = "review"  # the name first_time() records processed events under
    detector: Any = None  # domain.faces.FaceDetector; None: the shared Haar detector
    thresholds: Any = DEFAULT_THRESHOLDS  # domain.thresholds.ContentThresholds


def audit(session, actor, action, subject, details=None, at=None, roles=()):
    """One entry in the audit log; the application concerned is named in the details or the subject."""
    details = details or {}
    application_id = details.get("application_id")
    if subject.startswith("application:"):
        application_id = subject.split(":", 1)[1]
    platform_audit.record(session, actor, action, at, roles=roles, subject=subject,
                          application_id=application_id, details=details)


# --- materials ---------------------------------------------------------------------------------

@dataclass
class Prepared:
    verdict: checks.Verdict
    files: Any = None  # adapters.storage.StoredFiles when stored
    content_type: str | None = None
    width: int | None = None
    height: int | None = None
    inspection: Any = None  # domain.content.Inspection: findings and fingerprints


def _human_size(n):
    return f"{n / (1024 * 1024):.1f}MB" if n >= 100 * 1024 else f"{n / 1024:.0f}KB"


def _too_large(kind, size, limit, content_b64):
    """The verdict of an upload refused on its size alone: nothing of it is decoded."""
    try:
        fmt = identify(base64.b64decode(content_b64[:64])).format
    except (binascii.Error, ValueError):
        fmt = None
    return checks.Verdict(kind=kind, ok=False, size_bytes=size, format=fmt, issues=[checks.Issue(
        "too_large", f"{KIND_SUBJECTS[kind]}文件大小为{_human_size(size)}，超过{_human_size(limit)}的上限，"
                     "请压缩或用手机“编辑→调整大小”后重新上传")])


def inspect_upload(kind, data, policy, detector=None, thresholds=DEFAULT_THRESHOLDS):
    """Every check on the bytes, content checks included: (verdict, inspection). CPU-heavy."""
    return checks.check_upload(kind, data, detector or shared_detector(), policy, thresholds)


def store_upload(store, kind, data, verdict, policy, thumbnail_side, inspection=None):
    """Re-encode (no EXIF, nothing appended), thumbnail, encrypt and store an accepted upload."""
    try:
        image, content_type, width, height = checks.reencode(kind, data, policy)
        thumb = checks.thumbnail(image, thumbnail_side, policy)
    except checks.MaterialRejected as rejected:  # the checks passed, the safety gates did not
        verdict.ok = False
        verdict.issues += rejected.issues
        return Prepared(verdict, inspection=inspection)
    return Prepared(verdict, store.put(kind, image, thumb), content_type, width, height, inspection)


def prepare_upload(store, kind, data, policy, thumbnail_side, detector=None, thresholds=DEFAULT_THRESHOLDS):
    """Check and, when accepted, store (no look at other uploads: check_material adds that).

    CPU-heavy and blocking: the service runs it through eventlet.tpool.
    """
    verdict, inspection = inspect_upload(kind, data, policy, detector, thresholds)
    if not verdict.ok:
        return Prepared(verdict, inspection=inspection)
    return store_upload(store, kind, data, verdict, policy, thumbnail_side, inspection)


def _current_image_hashes(session, account_id, application_id, kind):
    """[(kind, image hash)] of the application's newest accepted upload of each other kind."""
    rows = session.execute(
        select(Material.kind, Material.created_at, MaterialFingerprint.hash)
        .join(MaterialFingerprint, MaterialFingerprint.material_id == Material.id)
        .where(Material.application_id == application_id, Material.account_id == account_id,
               Material.ok.is_(True), Material.kind != kind, MaterialFingerprint.region == duplicates.IMAGE)
        .order_by(Material.created_at, Material.id)).all()
    newest = {}
    for other_kind, _, value in rows:
        newest[other_kind] = value
    return sorted(newest.items())


def _fingerprint_rows(material_id, account_id, application_id, kind, fingerprints, now):
    for region, value in sorted((fingerprints or {}).items()):
        b = bands(value, duplicates.INDEX_BANDS)
        yield MaterialFingerprint(material_id=material_id, account_id=account_id, application_id=application_id,
                                  kind=kind, region=region, hash=value, band0=b[0], band1=b[1], band2=b[2],
                                  band3=b[3], created_at=now)


def _require_id(value, field_name, label):
    if not isinstance(value, str) or not value.strip() or len(value) > 64:
        raise ValidationFailed(f"{label}无效", code="validation_failed", details={field_name: [f"{label}无效"]})
    return value


def check_material(ctx, account_id, application_id, kind, content_b64):
    """{"material_id" (None when refused), "verdict"}; the refusal is recorded, no image kept."""
    _require_id(account_id, "account_id", "账号")
    _require_id(application_id, "application_id", "申请编号")
    if kind not in KINDS:
        raise UnknownMaterialKind()
    if not isinstance(content_b64, str):
        raise ValidationFailed("图片内容应为base64文本", details={"content_b64": ["图片内容应为base64文本"]})
    limit = ctx.settings.max_upload_bytes
    size = len(content_b64) * 3 // 4 - content_b64[-2:].count("=")
    if size > limit:  # refused before decoding anything
        prepared = Prepared(_too_large(kind, size, limit, content_b64))
    else:
        try:
            data = base64.b64decode(content_b64, validate=True)
        except (binascii.Error, ValueError):
            raise ValidationFailed("图片内容不是有效的base64编码，请重新上传",
                                   details={"content_b64": ["不是有效的base64编码"]}) from None
        prepared = _checked_and_stored(ctx, account_id, application_id, kind, data, checks.CheckPolicy(max_bytes=limit))
    verdict = prepared.verdict.to_dict()
    material_id = str(uuid4())
    files = prepared.files
    now = clock.now()
    with ctx.uow() as uow:
        uow.session.add(Material(
            id=material_id, account_id=account_id, application_id=application_id, kind=kind,
            ok=files is not None, sha256=files and files.sha256, path=files and files.path,
            thumb_path=files and files.thumb_path, content_type=prepared.content_type,
            width=prepared.width, height=prepared.height, verdict=verdict, created_at=now))
        if files is not None and prepared.inspection is not None:
            uow.session.add_all(_fingerprint_rows(material_id, account_id, application_id, kind,
                                                  prepared.inspection.fingerprints, now))
    if files is None:
        log.info("material refused: %s %s", kind, ",".join(i["code"] for i in verdict["issues"]))
    return {"material_id": material_id if files is not None else None, "verdict": verdict}


def _checked_and_stored(ctx, account_id, application_id, kind, data, policy):
    """Checks off the event loop; then, for an upload that passed, the same picture already in
    another slot of this application (a read, its own unit of work); then storing it."""
    verdict, inspection = ctx.offload(inspect_upload, kind, data, policy, ctx.detector, ctx.thresholds)
    if not verdict.ok or inspection is None:
        return Prepared(verdict, inspection=inspection)
    image_hash = inspection.fingerprints.get(duplicates.IMAGE)
    if image_hash:
        with ctx.uow() as uow:
            others = _current_image_hashes(uow.session, account_id, application_id, kind)
        verdict.add_findings(duplicates.same_application_findings(kind, image_hash, others, ctx.thresholds))
        if not verdict.ok:
            return Prepared(verdict, inspection=inspection)
    return ctx.offload(store_upload, ctx.store, kind, data, verdict, policy, ctx.settings.thumbnail_side, inspection)


def _material(session, material_id):
    if not isinstance(material_id, str):
        return None
    return session.get(Material, material_id)


def material_info(ctx, material_id):
    with ctx.uow() as uow:
        m = _material(uow.session, material_id)
        if m is None or not m.ok:
            raise NotFound("材料不存在，请重新上传", code="material_not_found")
        return {"material_id": m.id, "application_id": m.application_id, "account_id": m.account_id,
                "kind": m.kind, "ok": m.ok, "issues": m.verdict.get("issues", []),
                "checks": m.verdict.get("checks", []), "purged": m.purged_at is not None}


def fetch_material(ctx, material_id, principal, variant="image"):
    """The image (or its thumbnail) for its owner or staff; anyone else learns nothing (NotFound).

    Every staff look is written to the audit log before the bytes leave the service.
    """
    account_id, roles = access.principal_of(principal)
    staff = access.is_staff(roles)
    if variant not in ("image", "thumbnail"):
        raise ValidationFailed("variant 应为 image 或 thumbnail", details={"variant": ["应为 image 或 thumbnail"]})
    with ctx.uow() as uow:
        m = _material(uow.session, material_id)
        if m is None or m.path is None or not (staff or m.account_id == account_id):
            raise NotFound("材料不存在或无权查看", code="material_not_found")
        if m.purged_at is not None:
            raise NotFound("该材料图片已按保存期限删除（检查记录仍保留）", code="material_purged")
        if staff:
            audit(uow.session, account_id, "material.viewed", f"material:{m.id}",
                  {"kind": m.kind, "application_id": m.application_id, "owner": m.account_id,
                   "variant": variant}, roles=roles)
        path = m.thumb_path if variant == "thumbnail" else m.path
        kind, content_type = m.kind, m.content_type or "image/jpeg"
    try:
        data = ctx.offload(ctx.store.read, path, kind)
    except FileNotFoundError:
        log.error("material %s: file missing from the store", material_id)
        raise NotFound("该材料图片文件缺失，请联系管理员或重新上传", code="material_missing") from None
    return {"content_type": content_type, "content_b64": base64.b64encode(data).decode()}


def material_checks(ctx, principal, application_id):
    """Every upload checked for an application, refused ones too: "why was my photo refused"."""
    account_id, roles = access.principal_of(principal)
    staff = access.is_staff(roles)
    with ctx.uow() as uow:
        query = select(Material).where(Material.application_id == application_id)
        if not staff:
            query = query.where(Material.account_id == account_id)
        rows = uow.session.scalars(query.order_by(Material.created_at, Material.id)).all()
        if staff:
            audit(uow.session, account_id, "material.checks_viewed", f"application:{application_id}",
                  {"count": len(rows)}, roles=roles)
        return [{"check_id": m.id, "material_id": m.id if m.ok else None, "kind": m.kind, "ok": m.ok,
                 "issues": m.verdict.get("issues", []), "checks": m.verdict.get("checks", []),
                 "width": m.width, "height": m.height,
                 "format": m.verdict.get("format"), "created_at": clock.iso(m.created_at),
                 "purged": m.purged_at is not None} for m in rows]


# --- review tasks ------------------------------------------------------------------------------

def _iso(value):
    return clock.iso(value) if value is not None else None


def task_view(task, now, viewer_id=None):
    state = task.effective_state(now)
    active = state == CLAIMED
    return {
        "id": task.id, "application_id": task.application_id, "attempt": task.attempt, "state": state,
        "claimed_by": task.claimed_by if active or task.state == DECIDED else None,
        "claim_expires_at": _iso(task.lease_expires_at) if active else None,
        "campaign_id": task.campaign_id, "application_kind": task.application_kind,
        "cert_level": task.cert_level, "exam_year": task.exam_year, "district_code": task.district_code,
        "material_ids": dict(task.material_ids or {}),
        "submitted_at": _iso(task.submitted_at),
        "waiting_seconds": max(0, int(((task.decided_at or task.superseded_at or now)
                                       - task.submitted_at).total_seconds())),
        "own_application": viewer_id is not None and viewer_id == task.account_id,
        "review_id": task.review_id, "decision": task.decision, "opinion": task.opinion,
        "material_issues": list(task.material_issues or []), "decided_by": task.decided_by,
        "decided_at": _iso(task.decided_at),
    }


def _submitted_at(value):
    try:
        moment = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        moment = None
    if moment is None or moment.tzinfo is None:
        raise ValueError(f"submitted_at is not an ISO datetime with offset: {value!r}")
    return moment


def on_application_submitted(ctx, event):
    """One task per (application, attempt), whatever the redeliveries; a newer attempt supersedes
    the open task of an older one (and an older attempt arriving late is born superseded)."""
    data = event["data"]
    application_id, attempt = data["application_id"], data["attempt"]
    now = clock.now()
    with ctx.uow() as uow:
        if not uow.first_time(event, ctx.consumer):
            return None
        s = uow.session
        repository.lock_application(s, application_id)
        existing = repository.id_of(s, application_id, attempt)
        if existing:  # the same submission published again under another event id
            log.info("task for %s attempt %s exists already", application_id, attempt)
            return existing
        task = Task.submitted(
            repository.newest_attempt(s, application_id), now,
            id=str(uuid4()), application_id=application_id, attempt=attempt, account_id=data["account_id"],
            campaign_id=data["campaign_id"], application_kind=data["kind"], cert_level=data["cert_level"],
            exam_year=data["exam_year"], district_code=data["district_code"],
            material_ids=dict(data["material_ids"]), submitted_at=_submitted_at(data["submitted_at"]))
        repository.add(s, task)
        if task.state != SUPERSEDED:
            for older in repository.open_ids_before(s, application_id, attempt):
                _, superseded = repository.apply(s, older, lambda t: t.supersede(now))
                if superseded:
                    audit(s, "system", "task.superseded", f"task:{older}",
                          {"application_id": application_id, "by_attempt": attempt}, now)
        return task.id


def _clean_filters(filters, max_limit):
    if filters is None:
        filters = {}
    if not isinstance(filters, dict):
        raise ValidationFailed("筛选条件应为对象", details={"filters": ["应为对象"]})
    errors = {}
    unknown = sorted(set(filters) - set(TASK_FILTERS))
    if unknown:
        errors.update({key: [f"不支持的筛选条件，可用：{'、'.join(TASK_FILTERS)}"] for key in unknown})
    clean = {key: filters[key] for key in TASK_FILTERS if filters.get(key) not in (None, "")}
    for key in ("campaign_id", "district", "level"):
        if key in clean and not isinstance(clean[key], str):
            errors[key] = ["应为文本"]
    state = clean.setdefault("state", "open")
    if state not in STATE_FILTERS:
        errors["state"] = [f"状态应为 {'、'.join(STATE_FILTERS)} 之一"]
    for key, default, top in (("min_waiting_seconds", 0, 10 ** 9), ("limit", max_limit, max_limit)):
        try:
            clean[key] = int(clean.get(key, default))
            if not 0 <= clean[key] <= top or (key == "limit" and clean[key] < 1):
                raise ValueError
        except (TypeError, ValueError):
            errors[key] = [f"应为 {1 if key == 'limit' else 0} 到 {top} 之间的整数"]
    if errors:
        raise ValidationFailed("筛选条件有误，请按提示修改", details=errors)
    return clean


def list_tasks(ctx, principal, filters=None):
    """Staff queue, oldest submission first. Filters: campaign_id, district, level, state (open by
    default: pending and claimed; or pending, claimed, mine, decided, superseded, all),
    min_waiting_seconds, limit."""
    reviewer_id, _ = access.require_staff(principal)
    f = _clean_filters(filters, ctx.settings.list_limit)
    now = clock.now()
    with ctx.uow() as uow:
        return [task_view(t, now, reviewer_id) for t in repository.queue(uow.session, f, now, reviewer_id)]


def _other_account_flags(session, material, thresholds):
    """Flags for a photo or ID-front portrait that other accounts uploaded too (never who)."""
    if material.kind not in duplicates.CROSS_ACCOUNT_KINDS or not material.ok:
        return []
    mine = session.scalar(select(MaterialFingerprint.hash).where(
        MaterialFingerprint.material_id == material.id, MaterialFingerprint.region == duplicates.PORTRAIT))
    if not mine:
        return []
    probes = duplicates.probe_values(mine)
    columns = (MaterialFingerprint.band0, MaterialFingerprint.band1, MaterialFingerprint.band2,
               MaterialFingerprint.band3)
    rows = session.execute(select(MaterialFingerprint.account_id, MaterialFingerprint.hash).where(
        MaterialFingerprint.region == duplicates.PORTRAIT, MaterialFingerprint.kind == material.kind,
        MaterialFingerprint.account_id != material.account_id,
        or_(*(column.in_(values) for column, values in zip(columns, probes, strict=True))))).all()
    nearest = {}
    for account, value in rows:
        distance = hamming(mine, value)
        nearest[account] = min(distance, nearest.get(account, distance))
    flag = duplicates.other_account_flag(material.kind, list(nearest.values()), thresholds)
    return [flag] if flag else []


def _materials_of(session, task, thresholds=DEFAULT_THRESHOLDS):
    ids = [i for i in (task.material_ids or {}).values() if isinstance(i, str)]
    found = {m.id: m for m in session.scalars(select(Material).where(Material.id.in_(ids))).all()} if ids else {}
    out = {}
    for kind, material_id in (task.material_ids or {}).items():
        m = found.get(material_id)
        out[kind] = {"material_id": material_id, "found": m is not None,
                     # an id the applicant did not upload themselves is worth a second look
                     "uploaded_by_applicant": bool(m and m.account_id == task.account_id),
                     "ok": m.ok if m else None,
                     "issues": m.verdict.get("issues", []) if m else [],
                     "width": m.width if m else None, "height": m.height if m else None,
                     "content_type": m.content_type if m else None,
                     "sharpness": m.verdict.get("sharpness") if m else None,
                     # what is in the picture (face, ID side, duplicates), as checked at upload
                     "checks": m.verdict.get("checks", []) if m else [],
                     "flags": _other_account_flags(session, m, thresholds) if m else [],
                     "purged": bool(m and m.purged_at is not None)}
    return out


def task_material(ctx, principal, task_id, kind, variant="image"):
    """The image a task was submitted with (its attempt's, not the application's newest): what the
    reviewer of an older attempt must see. Staff only; the look is audited by fetch_material."""
    access.require_staff(principal)
    if kind not in KINDS:
        raise UnknownMaterialKind()
    with ctx.uow() as uow:
        material_id = (repository.get(uow.session, task_id).material_ids or {}).get(kind)
    if not isinstance(material_id, str):
        raise NotFound("该任务没有这项材料", code="material_not_found")
    return fetch_material(ctx, material_id, principal, variant)


def get_task(ctx, principal, task_id):
    """The task with its materials' ids and verdicts; audited; a look by the claimant renews the lease."""
    reviewer_id, roles = access.require_staff(principal)
    now = clock.now()
    with ctx.uow() as uow:
        s = uow.session
        task, _ = repository.apply(s, task_id, lambda t: t.renew(reviewer_id, now, ctx.settings.claim_lease_seconds))
        audit(s, reviewer_id, "task.viewed", f"task:{task.id}",
              {"application_id": task.application_id, "attempt": task.attempt}, now, roles)
        return {**task_view(task, now, reviewer_id), "materials": _materials_of(s, task, ctx.thresholds)}


def claim_details(task, **more):
    """What the audit log keeps of a claim."""
    return {"application_id": task.application_id, "attempt": task.attempt,
            "lease_expires_at": _iso(task.lease_expires_at), **more}


def claim(ctx, principal, task_id):
    """Claim a pending task (or one whose claim lapsed); claiming your own live claim renews it."""
    reviewer_id, roles = access.require_staff(principal)
    now = clock.now()
    with ctx.uow() as uow:
        s = uow.session
        task, previous = repository.apply(
            s, task_id, lambda t: t.claim(reviewer_id, now, ctx.settings.claim_lease_seconds))
        audit(s, reviewer_id, "task.claimed", f"task:{task.id}", claim_details(
            task, previous_claimant=previous if previous != reviewer_id else None,
            renewed=previous == reviewer_id), now, roles)
        return task_view(task, now, reviewer_id)


def release(ctx, principal, task_id):
    """Give a claimed task back to the queue: its claimant (or an admin) only."""
    reviewer_id, roles = access.require_staff(principal)
    now = clock.now()
    with ctx.uow() as uow:
        s = uow.session
        task, claimant = repository.apply(s, task_id, lambda t: t.release(reviewer_id, roles))
        audit(s, reviewer_id, "task.released", f"task:{task.id}",
              {"application_id": task.application_id, "attempt": task.attempt, "claimant": claimant}, now, roles)
        return task_view(task, now, reviewer_id)


def decide(ctx, principal, task_id, decision, opinion=None, material_issues=None, idempotency_key=None):
    """Approve or reject a task you hold: once. Publishes ReviewCompleted in the same transaction.
    The same decision sent again with its Idempotency-Key answers the same and changes nothing."""
    reviewer_id, roles = access.require_staff(principal)
    decision, opinion, issues, key = decisions.clean_decision(decision, opinion, material_issues, idempotency_key)
    now = clock.now()
    with ctx.uow() as uow:
        s = uow.session
        task, decided = repository.apply(
            s, task_id, lambda t: t.decide(reviewer_id, decision, opinion, issues, key, now, str(uuid4())))
        if decided:
            audit(s, reviewer_id, "task.decided", f"task:{task.id}",
                  {"application_id": task.application_id, "attempt": task.attempt, "review_id": task.review_id,
                   "decision": decision, "opinion": opinion, "material_issues": issues}, now, roles)
            uow.publish(new_event("ReviewCompleted", task.application_id, {
                "review_id": task.review_id, "application_id": task.application_id, "attempt": task.attempt,
                "decision": decision, "opinion": opinion, "material_issues": issues,
                "reviewer_id": reviewer_id, "completed_at": clock.iso(now)}, time=now))
        return task_view(task, now, reviewer_id)


def common_reasons():
    return [dict(reason) for reason in decisions.COMMON_REASONS]


# --- figures -----------------------------------------------------------------------------------

def figures_snapshot(ctx):
    """Reviewer figures without the audience check (the metrics RPC uses it)."""
    now = clock.now()
    since = now - timedelta(days=ctx.settings.figures_window_days)
    with ctx.uow() as uow:
        groups, closed_counts, decided, median = repository.figures_counts(uow.session, since, now)
    opened = figures_rules.open_counts(groups, now)
    by_state = {PENDING: opened["by_state"].get(PENDING, 0), CLAIMED: opened["by_state"].get(CLAIMED, 0),
                DECIDED: closed_counts.get(DECIDED, 0), SUPERSEDED: closed_counts.get(SUPERSEDED, 0)}
    today = now.astimezone(clock.BEIJING).date().isoformat()
    per_day = figures_rules.decided_per_reviewer_per_day(decided)
    return {
        "pending": by_state[PENDING],
        "claimed": by_state[CLAIMED],
        "open": opened["open"],
        "oldest_waiting_seconds": opened["oldest_waiting_seconds"],
        "decided_per_reviewer_per_day": per_day,
        "decided_today": {row["reviewer_id"]: row["decided"] for row in per_day if row["day"] == today},
        "median_seconds_to_decision": median,
        "window_days": ctx.settings.figures_window_days,
        "counts": {"by_state": by_state, "open_by_campaign": opened["by_campaign"],
                   "open_by_district": opened["by_district"], "open_by_level": opened["by_level"]},
        "as_of": clock.iso(now),
    }


def figures(ctx, principal):
    access.require_staff(principal)
    return figures_snapshot(ctx)


# --- retention ---------------------------------------------------------------------------------

def purge_materials(ctx, older_than_days, now=None):
    """Remove ID-card and certificate image files (and thumbnails) of applications approved more
    than `older_than_days` ago; rows and verdicts stay, `purged_at` says when the files went.

    Files are deleted after the commit (a failed commit leaves them, never the reverse), and only
    when no unpurged material still points at the same content-addressed file.
    """
    if not isinstance(older_than_days, int) or older_than_days < 0:
        raise ValidationFailed("保存天数应为不小于0的整数", details={"older_than_days": ["应为不小于0的整数"]})
    now = now or clock.now()
    cutoff = now - timedelta(days=older_than_days)
    with ctx.uow() as uow:
        s = uow.session
        # Several copies run the scheduled purge: each takes rows no other copy holds (PostgreSQL).
        victims = s.scalars(select(Material).where(
            Material.application_id.in_(repository.approved_before(cutoff)), Material.kind.in_(PURGEABLE_KINDS),
            Material.purged_at.is_(None), Material.path.is_not(None)).with_for_update(skip_locked=True)).all()
        paths = set()
        for m in victims:
            m.purged_at = now
            paths.update(p for p in (m.path, m.thumb_path) if p)
            audit(s, "system", "material.purged", f"material:{m.id}",
                  {"kind": m.kind, "application_id": m.application_id, "older_than_days": older_than_days}, now)
        s.flush()
        still_used = set()
        if paths:
            for path, thumb in s.execute(select(Material.path, Material.thumb_path).where(
                    Material.purged_at.is_(None), or_(Material.path.in_(paths), Material.thumb_path.in_(paths)))):
                still_used.update((path, thumb))
    removed = sum(1 for path in sorted(paths - still_used) if ctx.store.remove(path))
    return {"purged": len(victims), "files_removed": removed, "cutoff": clock.iso(cutoff)}
