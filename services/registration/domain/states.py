"""The application (登记申请) state machine: ONE transition table and a pure aggregate.

    DRAFT ──submit──▶ SUBMITTED ──review_approved──▶ APPROVED ──dispatch──▶ DISPATCHED
      ▲ save_draft,      │
      │ attach_material  └──review_rejected──▶ REJECTED ──submit (attempt+1)──▶ SUBMITTED
                                               ▲ save_draft, attach_material (editable again)

`attempt` counts submissions (1, 2, …) and travels in ApplicationSubmitted and ReviewCompleted,
so a decision that arrives for an older attempt is recognised and ignored (EVENTS.md, order).
Invariant: the state is SUBMITTED exactly when `attempt > decided_attempt`.
"""
from dataclasses import dataclass, field
from datetime import date, datetime

from services.contracts.errors import Conflict, ValidationFailed
from services.contracts.states import APPLICATION_STATES as STATES  # noqa: F401 — re-exported
from services.contracts.states import APPROVED, DISPATCHED, DRAFT, REJECTED, SUBMITTED  # noqa: F401

from . import codes, events
from .form import check_submittable, merge_draft, validate_draft
from .numbers import registration_validity

COMMANDS = ("save_draft", "attach_material", "submit", "review_approved", "review_rejected", "dispatch")
DECISIONS = ("review_approved", "review_rejected")
EDITABLE = frozenset({DRAFT, REJECTED})

# (state, command) → next state. Anything not listed is refused.
TRANSITIONS = {
    (DRAFT, "save_draft"): DRAFT,
    (DRAFT, "attach_material"): DRAFT,
    (DRAFT, "submit"): SUBMITTED,
    (SUBMITTED, "review_approved"): APPROVED,
    (SUBMITTED, "review_rejected"): REJECTED,
    (REJECTED, "save_draft"): REJECTED,  # stays REJECTED so the page keeps showing the opinion
    (REJECTED, "attach_material"): REJECTED,
    (REJECTED, "submit"): SUBMITTED,
    (APPROVED, "dispatch"): DISPATCHED,
}

_REFUSED_IN = {
    DRAFT: "申请尚未提交，不能进行此操作",
    SUBMITTED: "申请已提交，等待审核期间不可修改",
    APPROVED: "申请已审核通过，登记已完成，不可再修改",
    REJECTED: "申请审核未通过，需申请人修改后重新提交，不能进行此操作",
    DISPATCHED: "证书已寄出，申请不可再修改",
}
_NOT_APPROVED = "申请尚未审核通过，不能登记证书寄送"
_REFUSED = {
    (SUBMITTED, "submit"): "申请已提交，请勿重复提交，请耐心等待审核结果",
    (APPROVED, "submit"): "申请已审核通过，无需再次提交",
    (DRAFT, "dispatch"): _NOT_APPROVED,
    (SUBMITTED, "dispatch"): _NOT_APPROVED,
    (REJECTED, "dispatch"): _NOT_APPROVED,
    (DISPATCHED, "dispatch"): "证书寄送信息已登记，请勿重复登记",
}


def _refuse(state, command):
    message = _REFUSED.get((state, command), _REFUSED_IN[state])
    raise Conflict(message, code="invalid_transition", details={"state": state, "command": command})


@dataclass
class Application:
    id: str
    campaign_id: str
    account_id: str
    kind: str = codes.FIRST
    state: str = DRAFT
    attempt: int = 0  # submissions so far
    decided_attempt: int = 0  # the last attempt a reviewer decided
    form: dict = field(default_factory=dict)
    # material kind → {"material_id", "ok": bool, "issues": [{"code", "message"}]}
    materials: dict = field(default_factory=dict)
    first_submitted_at: datetime | None = None
    submitted_at: datetime | None = None
    decided_at: datetime | None = None
    review_opinion: str | None = None
    material_issues: list = field(default_factory=list)
    registration_number: str | None = None
    valid_from: date | None = None
    valid_until: date | None = None
    carrier: str | None = None
    tracking_number: str | None = None
    dispatched_at: datetime | None = None
    updated_at: datetime | None = None  # set by the repository when stored; the page shows it

    @property
    def editable(self):
        return self.state in EDITABLE

    def apply(self, command, **kwargs):
        """Run one command; return the domain events it caused (possibly none) or raise."""
        if command not in COMMANDS:
            raise ValueError(f"unknown command {command!r}")
        if command in DECISIONS and self._is_stale(kwargs["attempt"]):
            return []
        target = TRANSITIONS.get((self.state, command))
        if target is None:
            _refuse(self.state, command)
        produced = getattr(self, f"_{command}")(**kwargs)
        self.state = target
        return produced

    def accepts_decision(self, attempt):
        """True when a decision on `attempt` would change this application; False for a repeat or an
        older attempt (ignore it); Conflict for an attempt not submitted yet (retry later)."""
        return not self._is_stale(attempt)

    def _is_stale(self, attempt):
        # At-least-once delivery: the same ReviewCompleted may come twice, and a decision on
        # attempt 1 may arrive after attempt 2 was submitted. The first decision per attempt stands.
        if attempt <= self.decided_attempt or attempt < self.attempt:
            return True
        if attempt > self.attempt:
            raise Conflict("审核结果对应的提交尚不存在，请稍后重试", code="invalid_transition",
                           details={"attempt": attempt, "current_attempt": self.attempt})
        return False

    # -- commands; guards raise before any attribute changes ---------------------------------

    def _save_draft(self, data, campaign, now):
        cleaned = validate_draft(data, campaign.delivery_methods)
        self.form = merge_draft(self.form, cleaned)
        return []

    def _attach_material(self, kind, material_id, ok, issues=(), now=None):
        if kind not in codes.codes_of("material_kind"):
            raise ValidationFailed("材料类型不正确", details={"kind": ["材料类型不正确，请刷新页面后重新上传"]})
        self.materials = {**self.materials, kind: {
            "material_id": material_id, "ok": bool(ok), "issues": [dict(issue) for issue in issues]}}
        return []

    def _submit(self, campaign, now):
        if campaign.id != self.campaign_id:
            raise ValueError("submit with another campaign's rules")
        if self.state == DRAFT and not campaign.is_open(now):
            raise Conflict(f"本次登记时间为{campaign.window_text()}（北京时间），当前不在登记时间内，无法提交",
                           code="campaign_closed")
        if self.state == REJECTED and not campaign.may_resubmit(now, self.first_submitted_at):
            raise Conflict(f"本次登记时间为{campaign.window_text()}（北京时间），登记已结束，无法重新提交",
                           code="campaign_closed")
        check_submittable(self.form, self.materials, campaign.delivery_methods)
        self.attempt += 1
        self.first_submitted_at = self.first_submitted_at or now
        self.submitted_at = now
        return [events.ApplicationSubmitted(
            application_id=self.id, campaign_id=self.campaign_id, account_id=self.account_id,
            kind=self.kind, attempt=self.attempt, cert_level=self.form.get("cert_level"),
            exam_year=self.form.get("exam_year"), district_code=self.form.get("service_district"),
            material_ids={kind: m["material_id"] for kind, m in self.materials.items()},
            submitted_at=now)]

    def _review_approved(self, attempt, registration_number, now):
        if not registration_number:
            raise ValueError("an approval needs a registration number")
        self.decided_attempt, self.decided_at = attempt, now
        self.review_opinion, self.material_issues = None, []
        self.registration_number = registration_number
        self.valid_from, self.valid_until = registration_validity(now)
        form = self.form
        return [events.RegistrationCompleted(
            application_id=self.id, registration_number=registration_number, name=form.get("name"),
            id_type=form.get("id_type"), id_number=form.get("id_number"),
            cert_level=form.get("cert_level"), management_number=form.get("management_number"),
            valid_from=self.valid_from, valid_until=self.valid_until,
            mailing=_mailing_for_event(form.get("delivery") or {}), approved_at=now)]

    def _review_rejected(self, attempt, opinion, now, material_issues=()):
        opinion = (opinion or "").strip()
        issues = [{"kind": i["kind"], "reason": i["reason"]} for i in material_issues]
        if not opinion and not issues:
            # The authority must give its reason when it refuses (民发〔2009〕44号).
            raise ValidationFailed("审核不通过时请填写审核意见", code="opinion_required",
                                   details={"opinion": ["审核不通过时请填写审核意见，说明需要修改的内容"]})
        self.decided_attempt, self.decided_at = attempt, now
        self.review_opinion, self.material_issues = opinion, issues
        # A refused photo must be uploaded again before the next submit.
        materials = dict(self.materials)
        for issue in issues:
            if issue["kind"] in materials:
                materials[issue["kind"]] = {**materials[issue["kind"]], "ok": False, "issues": [
                    {"code": "review_rejected", "message": f"审核意见：{issue['reason']}"}]}
        self.materials = materials
        return [events.ApplicationRejected(application_id=self.id, attempt=attempt, opinion=opinion,
                                           material_issues=issues, rejected_at=now)]

    def _dispatch(self, carrier, tracking_number, now):
        carrier, tracking_number = (carrier or "").strip(), (tracking_number or "").strip()
        errors = {}
        if not carrier:
            errors["carrier"] = ["请填写快递公司"]
        if not tracking_number:
            errors["tracking_number"] = ["请填写快递单号"]
        if errors:
            raise ValidationFailed("请填写寄送信息", details=errors)
        self.carrier, self.tracking_number, self.dispatched_at = carrier, tracking_number, now
        return [events.CertificateDispatched(
            application_id=self.id, registration_number=self.registration_number, carrier=carrier,
            tracking_number=tracking_number, dispatched_at=now)]


def _mailing_for_event(mailing):
    parts = []
    for key in ("province", "city", "district", "address"):
        part = mailing.get(key) or ""
        if part and part != (parts[-1] if parts else None):  # 北京市北京市 reads as a typo
            parts.append(part)
    address = "".join(parts)
    return {"method": mailing.get("method") or "", "recipient": mailing.get("recipient") or "",
            "phone": mailing.get("phone") or "", "address": address,
            "postcode": mailing.get("postcode") or ""}
