"""The caller's device id: X-Device-Id (API clients) or the `dev` cookie, minted on first use.

Random, HttpOnly, SameSite=Lax, Secure under HTTPS, kept two years: with the address it makes the
client the SMS limits count per (services/contracts/devices.py, docs/signin.md).
"""
import secrets

from services.contracts.devices import DEVICE_COOKIE, DEVICE_HEADER, DEVICE_ID
from services.contracts.errors import ValidationFailed

MAX_AGE = 2 * 365 * 24 * 3600


def device_of(request):
    """This request's device id; a browser without a valid cookie gets one minted (see remember)."""
    header = request.headers.get(DEVICE_HEADER)
    if header is not None:
        if not DEVICE_ID.match(header):
            raise ValidationFailed("X-Device-Id 应为16到64个字母、数字、“-”或“_”", code="invalid_device_id",
                                   http_status=400, details={DEVICE_HEADER: ["格式无效"]})
        return header
    cookie = request.cookies.get(DEVICE_COOKIE)
    if cookie and DEVICE_ID.match(cookie):
        return cookie
    if not hasattr(request, "minted_device"):
        request.minted_device = secrets.token_urlsafe(24)
    return request.minted_device


def remember(request, response, secure):
    """Set the cookie when this request had none (the id minted by device_of, or a new one)."""
    if request.headers.get(DEVICE_HEADER) is not None:
        return response
    cookie = request.cookies.get(DEVICE_COOKIE)
    if cookie and DEVICE_ID.match(cookie):
        return response
    response.set_cookie(DEVICE_COOKIE, device_of(request), max_age=MAX_AGE, httponly=True, samesite="Lax",
                        secure=secure, path="/")
    return response
