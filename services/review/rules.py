"""Pure rules of the review queue: who may act, what a decision must carry, leases and figures.

No nameko, no eventlet, no database: everything takes plain values (and `now`) and returns plain
values or raises a services.contracts.errors.DomainError. (It sits beside `domain/` rather than in it
only because `domain/` holds the material checks and is kept by their author.)
"""
import statistics
from collections import Counter
from datetime import timedelta

from services.common import clock
from services.contracts.errors import Forbidden, Unauthenticated, ValidationFailed
from services.contracts.materials import KIND_LABELS, KINDS

STAFF_ROLES = ("reviewer", "admin")
DECISIONS = ("approved", "rejected")
OPINION_MAX = 2000
REASON_MAX = 500
KEY_MIN, KEY_MAX = 8, 100

# Reasons reviewers pick most; free text is always allowed beside them. `kinds`: where it applies.
_ID_CARDS = ("id_card_front", "id_card_back")
COMMON_REASONS = (
    {"code": "unclear", "reason": "照片不清晰", "kinds": list(KINDS)},
    {"code": "wrong_side", "reason": "上传了身份证错误的一面", "kinds": list(_ID_CARDS)},
    {"code": "wrong_size", "reason": "照片尺寸不符", "kinds": ["photo"]},
    {"code": "obscured", "reason": "证件信息被遮挡", "kinds": [*_ID_CARDS, "certificate"]},
    {"code": "not_own", "reason": "非本人证件", "kinds": [*_ID_CARDS, "certificate"]},
    {"code": "glare", "reason": "照片反光，关键信息无法辨认", "kinds": list(KINDS)},
    {"code": "incomplete", "reason": "证件未拍摄完整", "kinds": [*_ID_CARDS, "certificate"]},
    {"code": "wrong_document", "reason": "上传的材料与要求不符", "kinds": list(KINDS)},
    {"code": "id_expired", "reason": "身份证已过有效期", "kinds": ["id_card_back"]},
    {"code": "not_portrait", "reason": "照片不是本人近期免冠正面照", "kinds": ["photo"]},
)


def principal_of(principal):
    """(account_id, roles) of an identity.authenticate answer; Unauthenticated when it is not one."""
    if not isinstance(principal, dict) or not isinstance(principal.get("account_id"), str) \
            or not principal["account_id"]:
        raise Unauthenticated("请先登录", code="unauthenticated")
    roles = principal.get("roles") or []
    return principal["account_id"], tuple(r for r in roles if isinstance(r, str))


def is_staff(roles):
    return any(role in STAFF_ROLES for role in roles)


def require_staff(principal):
    account_id, roles = principal_of(principal)
    if not is_staff(roles):
        raise Forbidden("只有审核人员可以查看和处理审核任务", code="staff_only")
    return account_id, roles


def forbid_own_application(task_account_id, reviewer_id):
    if task_account_id == reviewer_id:
        raise Forbidden("不能审核本人提交的申请，请交由其他审核人员处理", code="own_application")


def clean_decision(decision, opinion, material_issues, idempotency_key):
    """Validated (decision, opinion, material_issues, key), or ValidationFailed naming every problem."""
    errors = {}
    if decision not in DECISIONS:
        errors["decision"] = ["审核结论应为 approved（通过）或 rejected（不通过）"]
    if opinion is not None and not isinstance(opinion, str):
        errors["opinion"] = ["审核意见应为文本"]
        opinion = None
    opinion = (opinion or "").strip() or None
    if opinion and len(opinion) > OPINION_MAX:
        errors["opinion"] = [f"审核意见不超过{OPINION_MAX}字，当前为{len(opinion)}字"]
    if decision == "rejected" and not opinion:
        errors["opinion"] = ["不通过时必须填写审核意见，说明申请人需要修改什么"]
    issues, issue_errors = _clean_issues(material_issues)
    if issue_errors:
        errors["material_issues"] = issue_errors
    elif decision == "approved" and issues:
        errors["material_issues"] = ["审核通过时不应填写材料问题；如材料有问题，请选择不通过"]
    if idempotency_key is not None and (not isinstance(idempotency_key, str)
                                        or not KEY_MIN <= len(idempotency_key) <= KEY_MAX):
        errors["Idempotency-Key"] = [f"长度应为{KEY_MIN}到{KEY_MAX}个字符"]
    if errors:
        raise ValidationFailed("审核决定填写有误，请按提示修改", code="validation_failed", details=errors)
    return decision, opinion, issues, idempotency_key


def _clean_issues(material_issues):
    if material_issues is None:
        return [], []
    if not isinstance(material_issues, list):
        return [], ["材料问题应为列表，每项包含 kind（材料类型）和 reason（原因）"]
    issues, errors = [], []
    for n, item in enumerate(material_issues, start=1):
        kind = item.get("kind") if isinstance(item, dict) else None
        reason = item.get("reason") if isinstance(item, dict) else None
        reason = reason.strip() if isinstance(reason, str) else ""
        if kind not in KIND_LABELS:
            errors.append(f"第{n}项的材料类型无效，应为 {'、'.join(KINDS)} 之一")
        elif not reason:
            errors.append(f"第{n}项（{KIND_LABELS[kind]}）请选择常见原因或填写具体原因")
        elif len(reason) > REASON_MAX:
            errors.append(f"第{n}项（{KIND_LABELS[kind]}）的原因不超过{REASON_MAX}字")
        else:
            issues.append({"kind": kind, "reason": reason})
    return issues, errors


# --- leases ----------------------------------------------------------------------------------

def lease_until(now, lease_seconds):
    return now + timedelta(seconds=lease_seconds)


def claim_active(state, lease_expires_at, now):
    return state == "claimed" and lease_expires_at is not None and lease_expires_at > now


def effective_state(state, lease_expires_at, now):
    """An expired claim is pending again: anyone may claim it."""
    if state == "claimed" and not claim_active(state, lease_expires_at, now):
        return "pending"
    return state


# --- figures ---------------------------------------------------------------------------------

def decided_per_reviewer_per_day(decisions):
    """decisions: [(reviewer_id, decided_at)] → [{"reviewer_id", "day" (Beijing), "decided"}], newest day first."""
    counts = Counter((reviewer, at.astimezone(clock.BEIJING).date().isoformat()) for reviewer, at in decisions)
    return [{"reviewer_id": reviewer, "day": day, "decided": n}
            for (reviewer, day), n in sorted(counts.items(), key=lambda kv: (kv[0][1], kv[0][0]), reverse=True)]


def median_seconds(pairs):
    """pairs: [(submitted_at, decided_at)] → median seconds from submission to decision (None if none)."""
    durations = [(decided - submitted).total_seconds() for submitted, decided in pairs]
    return round(statistics.median(durations), 3) if durations else None
