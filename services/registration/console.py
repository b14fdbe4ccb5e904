"""The admin console's questions and commands beyond handlers.py: edit a campaign's window and
deadlines, the report with its chart series, applications waiting for mailing, and the auditor's
view of this service's audit log. Same form as handlers.py: repositories through the unit of work."""
import dataclasses

from services.common.masking import mask_name
from services.common.validation import load

from . import handlers, views
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
    "resolve_feedback": "处理反馈",
    "resolve_appeal": "处理反馈（更名前的记录）",  # the audit log is append-only: older entries keep the old code
}


# -- campaigns -------------------------------------------------------------------------------------

def update_campaign(uow, principal, campaign_id, changes, now):
    """New name, window or resubmission deadline; the domain checks the result as a whole."""
    handlers.require_admin(principal)
    body = load(CampaignUpdate(), changes or {})
    before = uow.campaigns.get(campaign_id)
    after = dataclasses.replace(before, **body)  # __post_init__ parses Beijing times and validates
    uow.campaigns.save(after)
    changed = {key: [_shown(getattr(before, key)), _shown(getattr(after, key))] for key in body
               if getattr(before, key) != getattr(after, key)}
    handlers.audit(uow, principal, "update_campaign", now, after.id, changed=changed)
    return views.campaign_view(after, now)


def _shown(value):
    return views.when(value) if hasattr(value, "isoformat") else value


# -- the report ------------------------------------------------------------------------------------

def report(uow, principal, campaign_id=None):
    """handlers.report plus the series the console charts: submissions per Beijing day (first
    submissions and resubmissions) and rejection reasons per material, most frequent first."""
    answer = handlers.report(uow, principal, campaign_id)
    per_day = [{"day": day, "count": n, "first": n - again, "resubmissions": again}
               for day, n, again in uow.submissions.per_day(campaign_id)]
    # The reasons are counted as stored: spelled by domain/report.reason_key when the rejection was kept.
    rejections, groups = uow.decisions.rejection_reasons(campaign_id)
    return {**answer, "submissions_per_day": per_day, "rejections": rejections,
            "rejection_reasons": [{"kind": kind, "reason": reason, "count": n}
                                  for kind, reason, n in sorted(groups, key=lambda g: (-g[2], g[0], g[1]))]}


# -- mailing ---------------------------------------------------------------------------------------

def awaiting_dispatch(uow, principal, limit=50):
    """Approved applications whose certificate is not mailed yet, longest waiting first (masked names)."""
    handlers.require_admin(principal)
    limit = max(1, min(int(limit or 50), DISPATCH_LIST_MAX))
    total, apps = uow.applications.awaiting_dispatch(limit)
    items = [{"application_id": app.id, "campaign_id": app.campaign_id,
              "registration_number": app.registration_number, "name_masked": mask_name(app.form.get("name")),
              "district_code": app.form.get("service_district"), "cert_level": app.form.get("cert_level"),
              "decided_at": views.when(app.decided_at)} for app in apps]
    return {"total": total, "applications": items}


# -- the audit log, for the auditor ----------------------------------------------------------------

def audit_entries(uow, principal, filters):
    """This service's audit entries matching the filters (services.common.audit), newest first."""
    return uow.audit.entries(principal, filters, SOURCE, ACTION_LABELS)
