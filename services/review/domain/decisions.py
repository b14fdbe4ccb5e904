"""What a reviewer's decision must carry, and the reasons reviewers pick most.

A refusal must say why: a rejection needs an opinion; each material problem names
its material and a reason the applicant can act on. Pure: plain values in, ValidationFailed out.
"""
from services.contracts.errors import ValidationFailed
from services.contracts.materials import KIND_LABELS, KINDS
from services.contracts.states import DECISION_APPROVED, DECISION_REJECTED

DECISIONS = (DECISION_APPROVED, DECISION_REJECTED)
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
