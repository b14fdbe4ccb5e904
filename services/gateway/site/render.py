"""Rendering: one Jinja environment for every page, with the filters pages use to show codes as
Chinese labels and times as Beijing wall-clock text."""
import os
from datetime import datetime
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, select_autoescape
from werkzeug.wrappers import Response

from services.contracts import roles

TEMPLATES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "templates")
BEIJING = ZoneInfo("Asia/Shanghai")

# No inline script or style anywhere: the CSP forbids both, and nothing loads from outside.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' blob: data:; style-src 'self'; "
                               "script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}
PERSONAL = {"Cache-Control": "no-store"}  # pages with personal data are never cached


def beijing(value, with_time=True):
    """'2020-07-03T10:15:00+08:00' → '2020年7月3日 10:15' (Beijing time); dates → '2020年7月3日'."""
    if not value:
        return ""
    try:
        instant = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    if instant.tzinfo is not None:
        instant = instant.astimezone(BEIJING)
    text = f"{instant.year}年{instant.month}月{instant.day}日"
    if with_time and "T" in str(value):
        text += f" {instant.hour:02d}:{instant.minute:02d}"
    return text


def field_id(key):
    """The id of the input an error key names: "delivery.postcode" → "f-delivery-postcode"."""
    return "f-" + str(key).replace(".", "-").replace("_", "-")


def _environment():
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["beijing"] = beijing
    env.filters["beijing_date"] = lambda v: beijing(v, with_time=False)
    env.filters["field_id"] = field_id
    env.globals["role"] = roles  # {{ role.ADMIN }}: the codes of services.contracts.roles, not literals
    return env


ENV = _environment()


def html(template, context, status=200, headers=None):
    body = ENV.get_template(template).render(**context)
    return Response(body, status=status, mimetype="text/html",
                    headers={**SECURITY_HEADERS, **PERSONAL, **(headers or {})})
