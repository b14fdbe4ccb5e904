"""Requests the registration service checks itself (admin input): marshmallow with Chinese messages.
The rules of a campaign (window order, known codes) are the domain's (domain/campaigns.py)."""
from marshmallow import RAISE, Schema, fields, validate

import services.common.validation  # noqa: F401 — Chinese messages for every schema

from .domain.campaigns import BEIJING_REGION


class CampaignRequest(Schema):
    """POST /admin/campaigns. opens_at/closes_at: Beijing wall-clock, e.g. 2020-07-01T00:00 and
    2020-07-31T24:00 (24:00 is the end of that day)."""
    class Meta:
        unknown = RAISE

    id = fields.String(validate=validate.Regexp(r"^[A-Za-z0-9_-]{1,40}$",
                                                error="批次编号只能包含字母、数字、-和_，最多40个字符"))
    name = fields.String(required=True, validate=validate.Length(min=1, max=120, error="批次名称为1至120个字"))
    kind = fields.String(required=True)
    region = fields.String(load_default=BEIJING_REGION, validate=validate.Regexp(r"^\d{6}$",
                                                                                  error="地区代码应为6位数字"))
    eligible_exam_years = fields.List(fields.Integer(strict=True), required=True)
    eligible_levels = fields.List(fields.String(), required=True)
    opens_at = fields.String(required=True)
    closes_at = fields.String(required=True)
    delivery_methods = fields.List(fields.String(), required=True)
    exclude_local_only = fields.Boolean(load_default=True)
    allow_resubmit_after_close = fields.Boolean(load_default=False)
    resubmit_closes_at = fields.String(load_default=None, allow_none=True)


class CampaignUpdate(Schema):
    """Changes to a campaign's window and deadlines (the admin console's edit form). Eligibility
    and the kind stay as created: applications were opened and checked against them."""
    class Meta:
        unknown = RAISE

    name = fields.String(validate=validate.Length(min=1, max=120, error="批次名称为1至120个字"))
    opens_at = fields.String()
    closes_at = fields.String()
    allow_resubmit_after_close = fields.Boolean()
    resubmit_closes_at = fields.String(allow_none=True)
