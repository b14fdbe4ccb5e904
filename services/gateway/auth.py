"""Who is calling: a Bearer token (API clients) or the HttpOnly session cookie (browsers, with CSRF).

Browsers get two cookies at login: `sid` (HttpOnly, SameSite=Strict) and `csrf` (readable by the
page's script). A state-changing request authenticated by cookie must echo `csrf` in the
X-CSRF-Token header (double submit): another site can make the browser send the cookie, but
cannot read it to forge the header.
"""
import hmac
import secrets

from services.contracts.errors import Forbidden, Unauthenticated

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
SESSION_COOKIE = "sid"
CSRF_COOKIE = "csrf"


def token_of(request):
    """(token, via_cookie) or (None, False)."""
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        return header[7:].strip(), False
    cookie = request.cookies.get(SESSION_COOKIE)
    return (cookie, True) if cookie else (None, False)


def check_csrf(request):
    cookie = request.cookies.get(CSRF_COOKIE, "")
    header = request.headers.get("X-CSRF-Token", "")
    if not cookie or not hmac.compare_digest(cookie, header):
        raise Forbidden("页面已过期或请求来源不明，请刷新页面后重试", code="csrf_failed")


def require(principal, roles):
    if roles and not set(roles) & set(principal.get("roles", [])):
        raise Forbidden("您没有权限进行此操作", code="forbidden")


def session_cookies(response, token, secure):
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="Strict", secure=secure, path="/")
    response.set_cookie(CSRF_COOKIE, secrets.token_urlsafe(24), httponly=False, samesite="Strict",
                        secure=secure, path="/")


def clear_cookies(response):
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")


def unauthenticated():
    return Unauthenticated("请先登录", code="unauthenticated")
