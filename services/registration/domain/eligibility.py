"""May this person open an application in this campaign? And the pre-filled form if so.

The checks run in a fixed order and the first failure is the answer, so an applicant always
sees the one thing to do next (verify first, then the roster, then the campaign's rules).

`principal`, `roster_record` and applications may be objects or mappings with these names:
- principal: account_id, verified (bool), name (the verified real name), id_type, id_number
- roster record: name, id_type, id_number, level, exam_year, management_number, approval_date,
  local_only (see roster_import.RosterRow)
- application: campaign_id, state (see states.Application)
"""
import unicodedata

from services.contracts.errors import Conflict, Forbidden

from . import codes
from .states import APPROVED, DISPATCHED

# Every state blocks a second application: active ones are continued, approved ones are done.
_DONE = frozenset({APPROVED, DISPATCHED})
_DOT_VARIANTS = "•．・‧･.‧"


def check_can_open(principal, roster_record, campaign, existing_applications, now):
    """Return None when the principal may open an application; raise the first reason otherwise."""
    if not _get(principal, "verified"):
        _forbid("identity_not_verified", "请先完成实名认证，再办理社会工作者登记")
    if roster_record is None or not _same_document(principal, roster_record):
        _forbid("roster_not_found",
                "未找到与您证件号码对应的考试合格记录。如您已通过社会工作者职业水平考试，"
                "请提交反馈（附证书照片），工作人员核实后将补录记录")
    if normalise_name(_get(principal, "name")) != normalise_name(_get(roster_record, "name")):
        _forbid("roster_name_mismatch",
                "实名认证的姓名与考试合格记录中的姓名不一致，请提交反馈，工作人员核实后将更正记录")
    year, level = _get(roster_record, "exam_year"), _get(roster_record, "level")
    if year not in campaign.eligible_exam_years:
        years = "、".join(f"{y}年" for y in sorted(campaign.eligible_exam_years))
        _forbid("not_eligible_year", f"本次登记仅限{years}度考试合格人员，您的考试年度为{year}年，"
                                     "请关注后续登记（如补登记）通知")
    if level not in campaign.eligible_levels:
        allowed = "、".join(codes.label_of("cert_level", lv) for lv in _ordered_levels(campaign.eligible_levels))
        _forbid("not_eligible_level", f"本次登记仅限{allowed}，您的证书级别为"
                                      f"{codes.label_of('cert_level', level) or level}")
    if campaign.exclude_local_only and _get(roster_record, "local_only"):
        _forbid("local_only_excluded", "您的考试成绩按本地有效合格标准认定（仅限当地有效），"
                                       "不在本次登记范围内，请向取得证书所在地的民政部门咨询")
    if not campaign.is_open(now):
        _forbid("campaign_closed", f"本次登记时间为{campaign.window_text()}（北京时间），当前不在登记时间内")
    for application in existing_applications:
        if _get(application, "campaign_id") != campaign.id:
            continue
        if _get(application, "state") in _DONE:
            message = "您在本次登记中的申请已审核通过，无需再次申请"
        else:
            message = "您在本次登记中已有申请，请在“我的申请”中继续填写或查看审核结果"
        # The id lets a page take the applicant straight to it instead of a dead end.
        raise Conflict(message, code="already_applied",
                       details={"application_id": _get(application, "id")})
    return None


def pick_roster_record(records, campaign):
    """The one roster record of a person that decides a campaign: an eligible one when there is
    one (the higher level, then the later exam year), else the closest, so the refusal names the
    rule that really stops this person. None when there are no records."""
    levels = [code for code, _ in codes.CERT_LEVEL]

    def rank(record):
        year, level = _get(record, "exam_year"), _get(record, "level")
        return (year in campaign.eligible_exam_years, level in campaign.eligible_levels,
                not (campaign.exclude_local_only and _get(record, "local_only")),
                levels.index(level) if level in levels else -1, year or 0)

    return max(records, key=rank, default=None)


def prefill(roster_record, identity, today):
    """The locked fields of a new form: identity from real-name verification, the rest from the roster.

    `today` (a Beijing date or an aware datetime) is what `parse_id` checks the birth date against.
    """
    from services.common.idnumbers import parse_id  # owned by common; kept lazy on purpose

    document = parse_id(_get(identity, "id_type"), _get(identity, "id_number"), today)
    approval = _get(roster_record, "approval_date")
    form = {
        "name": _get(identity, "name"),
        "id_type": document.id_type,
        "id_number": document.number,
        "management_number": _get(roster_record, "management_number"),
        "cert_level": _get(roster_record, "level"),
        "exam_year": _get(roster_record, "exam_year"),
        "approval_date": approval.isoformat() if hasattr(approval, "isoformat") else approval,
        "gender": document.gender,
        "birth_date": document.birth_date.isoformat() if document.birth_date else None,
    }
    return {key: value for key, value in form.items() if value is not None}


def normalise_name(name):
    """Compare names as people mean them: full-width forms, spaces and the many "·" lookalikes fold."""
    text = unicodedata.normalize("NFKC", name or "")
    for variant in _DOT_VARIANTS:
        text = text.replace(variant, "·")
    return " ".join(text.split()).casefold() if text.isascii() else "".join(text.split())


def _same_document(principal, record):
    from services.common.idnumbers import normalise_number

    return (_get(principal, "id_type") == _get(record, "id_type")
            and normalise_number(_get(principal, "id_number")) == normalise_number(_get(record, "id_number")))


def _ordered_levels(levels):
    return [code for code, _ in codes.CERT_LEVEL if code in levels]


def _forbid(code, message):
    raise Forbidden(message, code=code)


def _get(obj, name):
    if isinstance(obj, dict):
        return obj.get(name)
    return getattr(obj, name, None)
