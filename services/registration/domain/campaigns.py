"""Registration campaigns (登记批次): windows and eligibility as data an admin creates.

Windows are stated in Beijing time (the notice: "2020年7月1日-2020年7月31日") and stored as aware
UTC instants, half-open: open from `opens_at` inclusive until `closes_at` exclusive, so
"7月31日24:00" is stored as 2020-07-31T16:00:00Z and that instant is already closed.
"""
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from services.common.clock import BEIJING
from services.contracts.errors import ValidationFailed

from . import codes

BEIJING_REGION = "110000"


def beijing_time(year, month, day, hour=0, minute=0):
    """A Beijing wall-clock time as an aware UTC instant; hour 24 means the end of that day."""
    extra = timedelta(0)
    if hour == 24 and minute == 0:
        hour, extra = 0, timedelta(days=1)
    local = datetime(year, month, day, hour, minute, tzinfo=BEIJING) + extra
    return local.astimezone(timezone.utc)


def parse_beijing(text):
    """"2020-07-31T24:00" or "2020-07-01 00:00" (Beijing wall clock, as admins type it) → aware UTC."""
    text = text.strip().replace(" ", "T")
    end_of_day = text.endswith("T24:00") or text.endswith("T24:00:00")
    if end_of_day:
        text = text.split("T")[0] + "T00:00"
    local = datetime.fromisoformat(text)
    if local.tzinfo is None:
        local = local.replace(tzinfo=BEIJING)
    return (local + timedelta(days=1) if end_of_day else local).astimezone(timezone.utc)


def _as_utc(value, field):
    # A naive value is Beijing wall-clock time: that is how admins and notices state windows.
    if isinstance(value, str):
        try:
            value = parse_beijing(value)
        except ValueError:
            value = None
    if not isinstance(value, datetime):
        raise ValidationFailed("时间格式有误，请按2020-07-01T00:00（北京时间）填写",
                               details={field: ["请按2020-07-01T00:00的格式填写北京时间"]})
    if value.tzinfo is None:
        value = value.replace(tzinfo=BEIJING)
    return value.astimezone(timezone.utc)


def _require_aware(now):
    if now.tzinfo is None:
        raise ValueError("campaign rules need an aware datetime")
    return now


@dataclass(frozen=True)
class Campaign:
    id: str
    name: str
    kind: str
    eligible_exam_years: frozenset
    eligible_levels: frozenset
    opens_at: datetime
    closes_at: datetime
    delivery_methods: tuple
    region: str = BEIJING_REGION
    exclude_local_only: bool = True
    # Applications first submitted inside the window may be resubmitted after a rejection even
    # when the window has closed (a rejection on 31 July would otherwise be final).
    allow_resubmit_after_close: bool = False
    resubmit_closes_at: datetime | None = None  # None: no end for such resubmissions

    def __post_init__(self):
        set_ = object.__setattr__  # frozen: normalise once, here
        set_(self, "opens_at", _as_utc(self.opens_at, "opens_at"))
        set_(self, "closes_at", _as_utc(self.closes_at, "closes_at"))
        if self.resubmit_closes_at is not None:
            set_(self, "resubmit_closes_at", _as_utc(self.resubmit_closes_at, "resubmit_closes_at"))
        set_(self, "eligible_exam_years", frozenset(self.eligible_exam_years))
        set_(self, "eligible_levels", frozenset(self.eligible_levels))
        set_(self, "delivery_methods", tuple(self.delivery_methods))
        errors = self._errors()
        if errors:
            raise ValidationFailed("登记批次设置有误，请按提示修改", details=errors)

    def _errors(self):
        errors = {}
        if not (self.name or "").strip():
            errors["name"] = ["请填写批次名称"]
        if self.kind not in codes.codes_of("registration_kind"):
            errors["kind"] = ["请选择登记类型（首次登记、再登记、补登记或补证）"]
        if self.closes_at <= self.opens_at:
            errors["closes_at"] = ["结束时间应晚于开始时间"]
        if self.resubmit_closes_at is not None and self.resubmit_closes_at < self.closes_at:
            errors["resubmit_closes_at"] = ["重新提交截止时间不应早于登记结束时间"]
        if not self.eligible_exam_years or not all(
                isinstance(y, int) and not isinstance(y, bool) for y in self.eligible_exam_years):
            errors["eligible_exam_years"] = ["请至少填写一个考试年度（如2019）"]
        if not self.eligible_levels or not self.eligible_levels <= codes.codes_of("cert_level"):
            errors["eligible_levels"] = ["请至少选择一个证书级别（初级、中级或高级）"]
        if not self.delivery_methods or not set(self.delivery_methods) <= codes.codes_of("delivery_method"):
            errors["delivery_methods"] = ["请至少选择一种取证方式（邮寄或自取）"]
        return errors

    def is_open(self, now):
        return self.opens_at <= _require_aware(now) < self.closes_at

    def may_resubmit(self, now, first_submitted_at):
        """After a rejection: inside the window always; after it only when the campaign allows
        it and the application was first submitted inside the window."""
        if self.is_open(now):
            return True
        if not self.allow_resubmit_after_close or first_submitted_at is None:
            return False
        if not self.is_open(_require_aware(first_submitted_at)) or now < self.opens_at:
            return False
        return self.resubmit_closes_at is None or now < self.resubmit_closes_at

    def resubmit_deadline(self, first_submitted_at):
        """Until when a rejected application may be resubmitted (None: no end), for the pages and notify."""
        inside = first_submitted_at is not None and self.is_open(first_submitted_at)
        if self.allow_resubmit_after_close and inside:
            return self.resubmit_closes_at
        return self.closes_at

    def window_text(self):
        """The window in Beijing time as people read it: 2020年7月1日00:00至2020年7月31日24:00."""
        return f"{_beijing_text(self.opens_at, start=True)}至{_beijing_text(self.closes_at, start=False)}"


def _beijing_text(instant, start):
    local = instant.astimezone(BEIJING)
    if not start and (local.hour, local.minute) == (0, 0):
        # An exclusive midnight end reads as 24:00 of the day before, as the notice writes it.
        day = local - timedelta(days=1)
        return f"{day.year}年{day.month}月{day.day}日24:00"
    return f"{local.year}年{local.month}月{local.day}日{local:%H:%M}"


def beijing_2020_first_registration():
    """The 2020 Beijing first registration, exactly as the notice of 2020-06-29 states it."""
    return Campaign(
        id="bj-2020-first",
        name="2020年北京市社会工作者职业水平证书首次登记",
        kind=codes.FIRST,
        region=BEIJING_REGION,
        eligible_exam_years=frozenset({2019}),
        eligible_levels=frozenset({codes.ASSISTANT, codes.INTERMEDIATE}),
        opens_at=beijing_time(2020, 7, 1),
        closes_at=beijing_time(2020, 7, 31, 24),
        delivery_methods=(codes.MAIL,),  # self-pickup suspended because of the epidemic
        exclude_local_only=True,
        # The notice: after a rejection, fix and resubmit "在登记日期内", i.e. inside the window.
        allow_resubmit_after_close=False,
    )
