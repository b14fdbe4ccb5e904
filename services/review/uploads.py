"""The review service layer for uploads: checking and storing a material, showing it, purging it.

Pillow and AES work (check, re-encode, thumbnail, encrypt, write) happens in offloaded calls
(`offload`: eventlet.tpool.execute in the service, inline elsewhere) before a unit of work opens;
the unit of work only records the result, through `uow.materials` and `uow.audit`. Functions that
need more than one unit of work (or work after the commit) take the factory, `uow_factory`.
Every staff look is written to the audit log before the bytes leave the service.
"""
import base64
import binascii
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from uuid import uuid4

from services.common import clock
from services.common.offload import inline
from services.contracts.errors import NotFound, ValidationFailed
from services.contracts.materials import KIND_SUBJECTS, KINDS, PURGEABLE_KINDS, UnknownMaterialKind

from . import audit
from .adapters.face_detector import shared_detector
from .domain import access, duplicates
from .domain import materials as checks
from .domain.records import Material
from .domain.sniff import identify
from .domain.thresholds import DEFAULT as DEFAULT_THRESHOLDS

log = logging.getLogger("services.review")


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


def _require_id(value, field_name, label):
    if not isinstance(value, str) or not value.strip() or len(value) > 64:
        raise ValidationFailed(f"{label}无效", code="validation_failed", details={field_name: [f"{label}无效"]})
    return value


def check_material(uow_factory, store, account_id, application_id, kind, content_b64, settings, now,
                   offload=inline, detector=None, thresholds=DEFAULT_THRESHOLDS):
    """{"material_id" (None when refused), "verdict"}; the refusal is recorded, no image kept.
    `settings`: ReviewSettings (the upload limit, the thumbnail's side)."""
    _require_id(account_id, "account_id", "账号")
    _require_id(application_id, "application_id", "申请编号")
    if kind not in KINDS:
        raise UnknownMaterialKind()
    if not isinstance(content_b64, str):
        raise ValidationFailed("图片内容应为base64文本", details={"content_b64": ["图片内容应为base64文本"]})
    limit = settings.max_upload_bytes
    size = len(content_b64) * 3 // 4 - content_b64[-2:].count("=")
    if size > limit:  # refused before decoding anything
        prepared = Prepared(_too_large(kind, size, limit, content_b64))
    else:
        try:
            data = base64.b64decode(content_b64, validate=True)
        except (binascii.Error, ValueError):
            raise ValidationFailed("图片内容不是有效的base64编码，请重新上传",
                                   details={"content_b64": ["不是有效的base64编码"]}) from None
        policy = checks.CheckPolicy(max_bytes=limit)
        prepared = _checked_and_stored(uow_factory, store, account_id, application_id, kind, data, policy,
                                       settings.thumbnail_side, offload, detector, thresholds)
    verdict = prepared.verdict.to_dict()
    files = prepared.files
    material = Material(
        id=str(uuid4()), account_id=account_id, application_id=application_id, kind=kind, ok=files is not None,
        verdict=verdict, created_at=now, sha256=files and files.sha256, path=files and files.path,
        thumb_path=files and files.thumb_path, content_type=prepared.content_type, width=prepared.width,
        height=prepared.height)
    fingerprints = prepared.inspection.fingerprints if files is not None and prepared.inspection else None
    with uow_factory() as uow:
        uow.materials.add(material, fingerprints)
    if files is None:
        log.info("material refused: %s %s", kind, ",".join(i["code"] for i in verdict["issues"]))
    return {"material_id": material.id if files is not None else None, "verdict": verdict}


def _checked_and_stored(uow_factory, store, account_id, application_id, kind, data, policy, thumbnail_side,
                        offload, detector, thresholds):
    """Checks off the event loop; then, for an upload that passed, the same picture already in
    another slot of this application (a read, its own unit of work); then storing it."""
    verdict, inspection = offload(inspect_upload, kind, data, policy, detector, thresholds)
    if not verdict.ok or inspection is None:
        return Prepared(verdict, inspection=inspection)
    image_hash = inspection.fingerprints.get(duplicates.IMAGE)
    if image_hash:
        with uow_factory() as uow:
            others = uow.materials.image_hashes(account_id, application_id, kind)
        verdict.add_findings(duplicates.same_application_findings(kind, image_hash, others, thresholds))
        if not verdict.ok:
            return Prepared(verdict, inspection=inspection)
    return offload(store_upload, store, kind, data, verdict, policy, thumbnail_side, inspection)


def material_info(uow, material_id):
    m = uow.materials.get(material_id)
    if m is None or not m.ok:
        raise NotFound("材料不存在，请重新上传", code="material_not_found")
    return {"material_id": m.id, "application_id": m.application_id, "account_id": m.account_id,
            "kind": m.kind, "ok": m.ok, "issues": m.verdict.get("issues", []),
            "checks": m.verdict.get("checks", []), "purged": m.purged_at is not None}


def fetch_material(uow_factory, store, material_id, principal, variant, now, offload=inline):
    """The image (or its thumbnail) for its owner or staff; anyone else learns nothing (NotFound).

    Every staff look is written to the audit log before the bytes leave the service.
    """
    account_id, roles = access.principal_of(principal)
    staff = access.is_staff(roles)
    if variant not in ("image", "thumbnail"):
        raise ValidationFailed("variant 应为 image 或 thumbnail", details={"variant": ["应为 image 或 thumbnail"]})
    with uow_factory() as uow:
        m = uow.materials.get(material_id)
        if m is None or m.path is None or not (staff or m.account_id == account_id):
            raise NotFound("材料不存在或无权查看", code="material_not_found")
        if m.purged_at is not None:
            raise NotFound("该材料图片已按保存期限删除（检查记录仍保留）", code="material_purged")
        if staff:
            audit.record(uow, account_id, "material.viewed", f"material:{m.id}",
                         {"kind": m.kind, "application_id": m.application_id, "owner": m.account_id,
                          "variant": variant}, now, roles)
    path = m.thumb_path if variant == "thumbnail" else m.path
    try:
        data = offload(store.read, path, m.kind)
    except FileNotFoundError:
        log.error("material %s: file missing from the store", material_id)
        raise NotFound("该材料图片文件缺失，请联系管理员或重新上传", code="material_missing") from None
    return {"content_type": m.content_type or "image/jpeg", "content_b64": base64.b64encode(data).decode()}


def material_checks(uow, principal, application_id, now):
    """Every upload checked for an application, refused ones too: "why was my photo refused"."""
    account_id, roles = access.principal_of(principal)
    staff = access.is_staff(roles)
    found = uow.materials.of_application(application_id, None if staff else account_id)
    if staff:
        audit.record(uow, account_id, "material.checks_viewed", f"application:{application_id}",
                     {"count": len(found)}, now, roles)
    return [{"check_id": m.id, "material_id": m.id if m.ok else None, "kind": m.kind, "ok": m.ok,
             "issues": m.verdict.get("issues", []), "checks": m.verdict.get("checks", []),
             "width": m.width, "height": m.height,
             "format": m.verdict.get("format"), "created_at": clock.iso(m.created_at),
             "purged": m.purged_at is not None} for m in found]


def task_material(uow_factory, store, principal, task_id, kind, variant, now, offload=inline):
    """The image a task was submitted with (its attempt's, not the application's newest): what the
    reviewer of an older attempt must see. Staff only; the look is audited by fetch_material."""
    access.require_staff(principal)
    if kind not in KINDS:
        raise UnknownMaterialKind()
    with uow_factory() as uow:
        material_id = (uow.tasks.get(task_id).material_ids or {}).get(kind)
    if not isinstance(material_id, str):
        raise NotFound("该任务没有这项材料", code="material_not_found")
    return fetch_material(uow_factory, store, material_id, principal, variant, now, offload)


def purge_materials(uow_factory, store, older_than_days, now):
    """Remove ID-card and certificate image files (and thumbnails) of applications approved more
    than `older_than_days` ago; rows and verdicts stay, `purged_at` says when the files went.

    Files are deleted after the commit (a failed commit leaves them, never the reverse), and only
    when no unpurged material still points at the same content-addressed file.
    """
    if not isinstance(older_than_days, int) or older_than_days < 0:
        raise ValidationFailed("保存天数应为不小于0的整数", details={"older_than_days": ["应为不小于0的整数"]})
    cutoff = now - timedelta(days=older_than_days)
    with uow_factory() as uow:
        victims = uow.materials.purge_due(cutoff, PURGEABLE_KINDS)
        uow.materials.mark_purged([m.id for m in victims], now)
        paths = set()
        for m in victims:
            paths.update(p for p in (m.path, m.thumb_path) if p)
            audit.record(uow, "system", "material.purged", f"material:{m.id}",
                         {"kind": m.kind, "application_id": m.application_id, "older_than_days": older_than_days},
                         now)
        still_used = uow.materials.paths_in_use(paths)
    removed = sum(1 for path in sorted(paths - still_used) if store.remove(path))
    return {"purged": len(victims), "files_removed": removed, "cutoff": clock.iso(cutoff)}
