"""Which messages a fact implies, and to whom (pure: event data and contact details in, intents out).

The service asks the owning services for contact details (events carry no full phone number)
and hands them here with the event's data. SMS go to the account's phone (verified by code at
registration); email copies go to the address on the application form, when there is one.
"""
from dataclasses import dataclass, field
from datetime import datetime
from math import ceil

from services.contracts.errors import ValidationFailed
from services.contracts.materials import KIND_LABELS

from .formatting import beijing_time, mask_address

# The purposes identity asks codes for; the templates word each one differently.
CODE_PURPOSES = ("register", "login", "reset_password", "admin_login")



@dataclass(frozen=True)
class Intent:
    """One message to create: a template kind on a channel to a recipient, with its values."""
    kind: str
    channel: str
    recipient: str
    context: dict = field(default_factory=dict)


def _clean(value):
    value = "".join(str(value).split()) if value else ""
    return value or None


def _messages(kind, context, phone, email):
    intents = []
    if _clean(phone):
        intents.append(Intent(kind, "sms", _clean(phone), context))
    if _clean(email):
        intents.append(Intent(kind, "email", _clean(email).lower(), context))
    return intents


def verification_code(phone, code, purpose, expires_at, now):
    """The code SMS; refuses (ValidationFailed) what would make a vague or useless message."""
    errors = {}
    if not _clean(phone):
        errors["phone"] = ["请提供接收验证码的手机号"]
    if not (isinstance(code, str) and code.isdigit() and 4 <= len(code) <= 8):
        errors["code"] = ["验证码应为4到8位数字"]
    if purpose not in CODE_PURPOSES:
        errors["purpose"] = [f"验证码用途应为 {'/'.join(CODE_PURPOSES)} 之一"]
    if not isinstance(expires_at, datetime) or expires_at.tzinfo is None:
        errors["expires_at"] = ["请提供带时区的过期时间（ISO 8601）"]
    if errors:
        raise ValidationFailed("验证码短信参数有误", details=errors)
    minutes = max(1, ceil((expires_at - now).total_seconds() / 60))
    return Intent("verification_code", "sms", _clean(phone),
                  {"purpose": purpose, "code": code, "valid_minutes": minutes})


def account_registered(data, phone):
    return _messages("account_registered", {"phone_masked": data["phone_masked"]}, phone, None)


def submission_receipt(data, phone, email):
    context = {"submitted_at": data["submitted_at"], "attempt": data["attempt"]}
    return _messages("submission_receipt", context, phone, email)


def rejected(data, phone, email, resubmit_until):
    """ReviewCompleted with decision rejected; an approval says nothing (RegistrationCompleted follows)."""
    if data["decision"] != "rejected":
        return []
    context = {"opinion": data.get("opinion"),
               "material_issues": [{"kind": i["kind"], "reason": i["reason"]} for i in data["material_issues"]],
               "resubmit_until": resubmit_until or None}
    return _messages("rejected", context, phone, email)


def approved(data, phone, email):
    delivery = data["delivery"]
    context = {"name": data["name"], "registration_number": data["registration_number"],
               "recipient": delivery["recipient"], "address": delivery["address"]}
    return _messages("approved", context, phone, email)


def dispatched(data, phone, email):
    context = {key: data[key] for key in ("registration_number", "carrier", "tracking_number", "dispatched_at")}
    return _messages("dispatched", context, phone, email)


def _param(name, value):
    if value is None:
        return ""
    if name == "address":
        return mask_address(value)  # the text masks it; a provider template must not show more
    if name == "material_issues":
        return "；".join(f"{KIND_LABELS[i['kind']]}：{i['reason']}" for i in value)
    if isinstance(value, datetime) or name.endswith("_at") or name.endswith("_until"):
        return beijing_time(value)
    return str(value)


def gateway_params(placeholders, context):
    """The template's values as strings, for SMS gateways that fill in their own approved template."""
    return {name: _param(name, context.get(name)) for name in sorted(placeholders)}
