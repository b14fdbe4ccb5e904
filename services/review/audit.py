"""Review's part of the platform's append-only audit log (services.common.audit), reached through
`uow.audit`: who looked at or decided which application, and the auditor's view of it.

An entry names a task ("task:<id>"), a material ("material:<id>") or an application
("application:<id>") as its subject, and the application concerned in its `application_id`."""
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


def record(uow, actor, action, subject, details=None, at=None, roles=()):
    """One entry in this unit of work; the application concerned is named in the details or the subject."""
    details = details or {}
    application_id = details.get("application_id")
    if subject.startswith("application:"):
        application_id = subject.split(":", 1)[1]
    uow.audit.record(actor, action, at, roles=roles, subject=subject, application_id=application_id,
                     details=details)


def audit_entries(uow, principal, filters):
    return uow.audit.entries(principal, filters, SOURCE, ACTION_LABELS)
