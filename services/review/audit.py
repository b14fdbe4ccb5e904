"""The auditor's view of review's append-only audit log: who looked at or decided which
application, filtered and paged (services.common.audit_query). No nameko, as in handlers.py.

An entry names a task ("task:<id>"), a material ("material:<id>") or an application
("application:<id>"); the application of a task or material is in its details, and a filter by
application finds the entries of its tasks and materials through their indexed subjects."""
from sqlalchemy import and_, or_, select

from services.common import audit_query, clock
from services.contracts.errors import Forbidden
from services.contracts.roles import AUDITOR

from . import repository
from .domain import access
from .models import AuditEntry, Material

SOURCE = "review"
ACTION_LABELS = {
    "task.viewed": "查看审核任务",
    "task.claimed": "领取审核任务",
    "task.released": "释放审核任务",
    "task.decided": "作出审核决定",
    "task.superseded": "任务被重新提交取代",
    "material.viewed": "查看材料图片",
    "material.checks_viewed": "查看材料检查记录",
    "material.purged": "清除到期材料",
}


def _subjects_of(session, application_id):
    tasks = repository.ids_of_application(session, application_id)
    materials = session.scalars(select(Material.id).where(Material.application_id == application_id)).all()
    return ([f"task:{t}" for t in tasks] + [f"material:{m}" for m in materials]
            + [f"application:{application_id}"])


def _application_of(entry):
    if entry.subject.startswith("application:"):
        return entry.subject.split(":", 1)[1]
    return (entry.details or {}).get("application_id")


def audit_entries(ctx, principal, filters):
    _, roles = access.principal_of(principal)
    if AUDITOR not in roles:
        raise Forbidden("只有审计员可以查看审计日志", code="auditor_only")
    q = audit_query.parse(filters)
    query = select(AuditEntry)
    with ctx.uow() as uow:
        s = uow.session
        if q.application_id:
            query = query.where(AuditEntry.subject.in_(_subjects_of(s, q.application_id)))
        if q.actor:
            query = query.where(AuditEntry.actor == q.actor)
        if q.action:
            query = query.where(AuditEntry.action == q.action)
        if q.since:
            query = query.where(AuditEntry.at >= q.since)
        if q.until:
            query = query.where(AuditEntry.at < q.until)
        if q.before:
            at, last_id = q.before
            query = query.where(or_(AuditEntry.at < at, and_(AuditEntry.at == at, AuditEntry.id < last_id)))
        rows = s.scalars(query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(q.limit)).all()
        entries = [{
            "source": SOURCE, "id": row.id, "at": clock.iso(row.at), "actor": row.actor,
            "roles": list((row.details or {}).get("roles") or []), "action": row.action,
            "action_label": ACTION_LABELS.get(row.action, row.action), "subject": row.subject,
            "application_id": _application_of(row), "detail": dict(row.details or {})} for row in rows]
    return {"source": SOURCE, "actions": ACTION_LABELS, "entries": entries}
