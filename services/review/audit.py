"""The auditor's view of review's append-only audit log: who looked at or decided which
application, filtered and paged by the platform (services.common.audit). No nameko, as in handlers.py.

An entry names a task ("task:<id>"), a material ("material:<id>") or an application
("application:<id>") as its subject, and the application concerned in its `application_id`."""
from services.common import audit

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


def audit_entries(ctx, principal, filters):
    with ctx.uow() as uow:
        return audit.entries(uow.session, principal, filters, SOURCE, ACTION_LABELS)
