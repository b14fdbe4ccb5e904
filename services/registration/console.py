"""The admin console's questions and commands beyond handlers.py: edit a campaign's window and
deadlines, the report with its chart series, applications waiting for mailing, and the auditor's
view of this service's audit log. No nameko here, as in handlers.py."""
import dataclasses
from collections import Counter

from sqlalchemy import case, func, select

from services.common import audit as platform_audit
from services.common.masking import mask_name
from services.common.validation import load

from . import handlers, models, repository, views
from .domain import states
from .schemas import CampaignUpdate

SOURCE = "registration"
DISPATCH_LIST_MAX = 200
# What each audited action means, as the auditor reads it (codes as handlers.audit writes them).
ACTION_LABELS = {
    "view_application": "查看申请",
    "view_history": "查看登记历史",
    "record_dispatch": "登记证书邮寄",
    "create_campaign": "创建登记批次",
    "update_campaign": "修改登记批次时间",
    "import_roster": "导入考试合格名单",
    "export_approved": "导出已通过登记",
    "resolve_appeal": "处理反馈",
}


# -- campaigns -------------------------------------------------------------------------------------

def update_campaign(uow, principal, campaign_id, changes, now):
    """New name, window or resubmission deadline; the domain checks the result as a whole."""
    handlers.require_admin(principal)
    body = load(CampaignUpdate(), changes or {})
    row = repository.campaign_row(uow.session, campaign_id)
    before = repository.campaign_to_domain(row)
    after = dataclasses.replace(before, **body)  # __post_init__ parses Beijing times and validates
    row.name, row.opens_at, row.closes_at = after.name, after.opens_at, after.closes_at
    row.allow_resubmit_after_close, row.resubmit_closes_at = after.allow_resubmit_after_close, \
        after.resubmit_closes_at
    changed = {key: [_shown(getattr(before, key)), _shown(getattr(after, key))] for key in body
               if getattr(before, key) != getattr(after, key)}
    handlers.audit(uow, principal, "update_campaign", now, row.id, changed=changed)
    uow.session.flush()
    return views.campaign_view(after, now)


def _shown(value):
    return views.when(value) if hasattr(value, "isoformat") else value


# -- the report ------------------------------------------------------------------------------------

def _beijing_day(column, dialect):
    """The Beijing calendar day of a UTC instant, computed by the database (China keeps no DST)."""
    if dialect == "sqlite":
        return func.date(column, "+8 hours")
    return func.to_char(func.timezone("Asia/Shanghai", column), "YYYY-MM-DD")


def report(uow, principal, campaign_id=None):
    """handlers.report plus the series the console charts: submissions per Beijing day (first
    submissions and resubmissions) and rejection reasons per material, most frequent first."""
    answer = handlers.report(uow, principal, campaign_id)
    session = uow.session
    sub, dec = models.Submission, models.Decision
    day = _beijing_day(sub.submitted_at, session.get_bind().dialect.name).label("day")
    query = select(day, func.count(), func.sum(case((sub.attempt > 1, 1), else_=0))).group_by(day)
    reasons_query = select(dec.material_issues, dec.opinion).where(dec.decision == "rejected")
    if campaign_id:
        query = query.join(models.Application, models.Application.id == sub.application_id).where(
            models.Application.campaign_id == campaign_id)
        reasons_query = reasons_query.join(models.Application, models.Application.id == dec.application_id) \
            .where(models.Application.campaign_id == campaign_id)
    per_day = [{"day": str(d), "count": n, "first": n - int(r or 0), "resubmissions": int(r or 0)}
               for d, n, r in session.execute(query.order_by(day)).all()]
    reasons = Counter()
    rejections = 0
    for issues, _opinion in session.execute(reasons_query):
        rejections += 1
        for issue in issues or ():
            reasons[(issue.get("kind") or "", (issue.get("reason") or "").strip() or "未说明原因")] += 1
    return {**answer, "submissions_per_day": per_day, "rejections": rejections,
            "rejection_reasons": [{"kind": kind, "reason": reason, "count": n}
                                  for (kind, reason), n in sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))]}


# -- mailing ---------------------------------------------------------------------------------------

def awaiting_dispatch(uow, cipher, principal, limit=50):
    """Approved applications whose certificate is not mailed yet, longest waiting first (masked names)."""
    handlers.require_admin(principal)
    limit = max(1, min(int(limit or 50), DISPATCH_LIST_MAX))
    app = models.Application
    rows = uow.session.scalars(select(app).where(app.state == states.APPROVED)
                               .order_by(app.decided_at, app.id).limit(limit)).all()
    total = uow.session.scalar(select(func.count()).select_from(app).where(app.state == states.APPROVED))
    items = []
    for row in rows:
        form = repository.application_to_domain(cipher, row).form
        items.append({"application_id": row.id, "campaign_id": row.campaign_id,
                      "registration_number": row.registration_number, "name_masked": mask_name(form.get("name")),
                      "district_code": row.district_code, "cert_level": row.cert_level,
                      "decided_at": views.when(row.decided_at)})
    return {"total": total, "applications": items}


# -- the audit log, for the auditor ----------------------------------------------------------------

def audit_entries(uow, principal, filters):
    """This service's audit entries matching the filters (services.common.audit), newest first."""
    return platform_audit.entries(uow.session, principal, filters, SOURCE, ACTION_LABELS)
