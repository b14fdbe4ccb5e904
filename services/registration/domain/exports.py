"""Export of approved registrations for certificate printing: the columns, and what each role sees.

Admins (who print and mail the certificates) get the full record; reviewers get it masked the way
DOMAIN.md shows personal data (110105********1234, 138****1234, 张*); anyone else gets nothing.
"""
from services.common.masking import mask_id_number, mask_name, mask_phone
from services.contracts.errors import Forbidden
from services.contracts.roles import ADMIN, REVIEWER

from . import codes

FULL, MASKED = "full", "masked"

COLUMNS = (
    ("registration_number", "登记证书编号"),
    ("name", "姓名"),
    ("gender", "性别"),
    ("id_type", "证件类型"),
    ("id_number", "证件号码"),
    ("cert_level", "证书级别"),
    ("management_number", "职业水平证书管理号"),
    ("exam_year", "考试年度"),
    ("approval_date", "批准日期"),
    ("valid_from", "有效期起"),
    ("valid_until", "有效期至"),
    ("service_district", "服务地域"),
    ("employer", "工作单位"),
    ("recipient", "收件人"),
    ("recipient_phone", "收件电话"),
    ("address", "邮寄地址"),
    ("postcode", "邮政编码"),
    ("state", "状态"),
    ("carrier", "快递公司"),
    ("tracking_number", "运单号"),
)
HEADER = tuple(label for _, label in COLUMNS)
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def view_for(roles):
    """FULL or MASKED for these roles; Forbidden when the roles may not export at all."""
    roles = set(roles or ())
    if ADMIN in roles:
        return FULL
    if REVIEWER in roles:
        return MASKED
    raise Forbidden("只有管理人员可以导出登记信息", code="forbidden")


def export_row(record, view):
    """One line of the export. `record`: the application's form plus registration_number,
    valid_from, valid_until (dates or ISO strings), state, carrier, tracking_number."""
    form = record.get("form") or {}
    mailing = form.get("delivery") or {}
    masked = view == MASKED
    address = "".join(_dedupe([mailing.get(k) for k in ("province", "city", "district")]))
    if not masked:
        address += mailing.get("address") or ""
    values = {
        "registration_number": record.get("registration_number"),
        "name": mask_name(form.get("name")) if masked else form.get("name"),
        "gender": codes.label_of("gender", form.get("gender")),
        "id_type": codes.label_of("id_type", form.get("id_type")),
        "id_number": mask_id_number(form.get("id_number")) if masked else form.get("id_number"),
        "cert_level": codes.label_of("cert_level", form.get("cert_level")),
        "management_number": form.get("management_number"),
        "exam_year": form.get("exam_year"),
        "approval_date": form.get("approval_date"),
        "valid_from": record.get("valid_from"),
        "valid_until": record.get("valid_until"),
        "service_district": codes.label_of("service_district", form.get("service_district")),
        "employer": form.get("employer"),
        "recipient": mask_name(mailing.get("recipient")) if masked else mailing.get("recipient"),
        "recipient_phone": mask_phone(mailing.get("phone")) if masked else mailing.get("phone"),
        "address": address,
        "postcode": mailing.get("postcode"),
        "state": codes.label_of("application_state", record.get("state")),
        "carrier": record.get("carrier"),
        "tracking_number": record.get("tracking_number"),
    }
    return [safe_cell(values[key]) for key, _ in COLUMNS]


def safe_cell(value):
    """Text for a spreadsheet cell that Excel will never run as a formula (CSV/formula injection)."""
    if value is None:
        return ""
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def _dedupe(parts):
    out = []
    for part in parts:
        if part and (not out or out[-1] != part):  # 北京市北京市 reads as a typo
            out.append(part)
    return out
