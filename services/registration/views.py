"""The JSON answers of the registration RPCs (docs/rpc.md): plain dicts, times in Beijing ISO 8601."""
from services.common.clock import BEIJING, iso
from services.common.masking import mask_id_number, mask_name

from .domain import codes, form, states

DECIDED = (states.REJECTED, states.APPROVED, states.DISPATCHED)


def when(value):
    """ISO 8601 for an aware datetime (Beijing offset) or a date; None stays None."""
    if value is None:
        return None
    if hasattr(value, "tzinfo"):
        return iso(value)
    return value.isoformat()


def campaign_view(campaign, now):
    return {
        "id": campaign.id,
        "name": campaign.name,
        "kind": campaign.kind,
        "kind_label": codes.label_of("registration_kind", campaign.kind),
        "region": campaign.region,
        "eligible_exam_years": sorted(campaign.eligible_exam_years),
        "eligible_levels": [c for c, _ in codes.CERT_LEVEL if c in campaign.eligible_levels],
        "opens_at": when(campaign.opens_at),
        "closes_at": when(campaign.closes_at),
        "window_text": campaign.window_text(),
        "delivery_methods": list(campaign.delivery_methods),
        "exclude_local_only": campaign.exclude_local_only,
        "allow_resubmit_after_close": campaign.allow_resubmit_after_close,
        "resubmit_closes_at": when(campaign.resubmit_closes_at),
        "open": campaign.is_open(now),
    }


def decision_view(app):
    """The decision on the current attempt; None while it waits (or before the first submit)."""
    if app.state not in DECIDED or not app.decided_attempt:
        return None
    return {
        "attempt": app.decided_attempt,
        "decision": "rejected" if app.state == states.REJECTED else "approved",
        "opinion": app.review_opinion,
        "material_issues": list(app.material_issues),
        "decided_at": when(app.decided_at),
    }


def application_view(app, updated_at, campaign=None, dispatch=None):
    view = {
        "id": app.id,
        "campaign_id": app.campaign_id,
        "kind": app.kind,
        "state": app.state,
        "editable": app.editable,
        "attempt": app.attempt,
        "form": dict(app.form),
        "locked_fields": list(form.LOCKED_FIELDS),
        "materials": {kind: {"material_id": m.get("material_id"), "ok": bool(m.get("ok")),
                             "issues": list(m.get("issues") or [])} for kind, m in app.materials.items()},
        "decision": decision_view(app),
        "registration_number": app.registration_number,
        "valid_from": when(app.valid_from),
        "valid_until": when(app.valid_until),
        "first_submitted_at": when(app.first_submitted_at),
        "submitted_at": when(app.submitted_at),
        "resubmit_until": None,
        "dispatch": None,
        "updated_at": when(updated_at),
    }
    if campaign is not None and app.state == states.REJECTED:
        view["resubmit_until"] = when(campaign.resubmit_deadline(app.first_submitted_at))
    if dispatch is not None:
        view["dispatch"] = {"carrier": dispatch.carrier, "tracking_number": dispatch.tracking_number,
                            "dispatched_at": when(dispatch.dispatched_at)}
    return view


# The next step an applicant sees beside each application in "我的申请".
NEXT_STEPS = {
    states.DRAFT: "继续填写并提交",
    states.SUBMITTED: "等待审核",
    states.REJECTED: "按审核意见修改后重新提交",
    states.APPROVED: "等待证书寄出",
    states.DISPATCHED: "查看邮寄信息",
}


def application_summary(row, campaign, now):
    """One line of "我的申请": no personal data, only what the list shows."""
    resubmit_until = None
    if row.state == states.REJECTED:
        resubmit_until = campaign.resubmit_deadline(row.first_submitted_at)
    editable = row.state in states.EDITABLE and (
        campaign.is_open(now) if row.state == states.DRAFT else campaign.may_resubmit(now, row.first_submitted_at))
    return {
        "id": row.id, "campaign_id": row.campaign_id, "campaign_name": campaign.name,
        "kind": row.kind, "kind_label": codes.label_of("registration_kind", row.kind),
        "state": row.state, "state_label": codes.label_of("application_state", row.state),
        "attempt": row.attempt, "editable": editable,
        "next_step": NEXT_STEPS[row.state] if editable or row.state not in states.EDITABLE else "登记时间已过，无法继续提交",
        "closes_at": when(campaign.closes_at), "resubmit_until": when(resubmit_until),
        "submitted_at": when(row.submitted_at), "decided_at": when(row.decided_at),
        "registration_number": row.registration_number, "updated_at": when(row.updated_at),
    }


def feedback_view(feedback, name=None, id_number=None):
    return {
        "id": feedback.id,
        "account_id": feedback.account_id,
        "message": feedback.message,
        "name": name,
        "name_masked": mask_name(name),
        "id_number_masked": mask_id_number(id_number),
        "state": feedback.state,
        "note": feedback.note,
        "resolved_by": feedback.resolved_by,
        "created_at": when(feedback.created_at),
        "resolved_at": when(feedback.resolved_at),
    }


def beijing_date(instant):
    return instant.astimezone(BEIJING).date()
