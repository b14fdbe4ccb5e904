"""Who is calling: a Bearer token (API clients) or the HttpOnly session cookie (browsers, with CSRF).

Browsers get one cookie at login: `sid` (HttpOnly, SameSite=Lax so a link in an SMS opens the
page logged in). A state-changing request authenticated by that cookie must carry the CSRF token —
in the X-CSRF-Token header (scripts) or the `csrf_token` form field (pages) — and the token is an
HMAC of the session with CSRF_SECRET: another site can neither read it nor pick one that matches,
even if it can set cookies. Before login the token is bound to a random `pre` cookie instead, so
the login and registration forms are protected too.
"""
import hashlib
import hmac
import secrets

from services.contracts.errors import Forbidden, Unauthenticated, ValidationFailed

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
SESSION_COOKIE = "sid"
PRE_SESSION_COOKIE = "pre"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
MAX_TOKEN_LENGTH = 512  # a session token is 43 characters; anything longer is garbage, refused early


def token_of(request):
    """(token, via_cookie) or (None, False)."""
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        token, via_cookie = header[7:].strip(), False
    else:
        token, via_cookie = request.cookies.get(SESSION_COOKIE), True
    if not token:
        return None, False
    if len(token) > MAX_TOKEN_LENGTH:
        raise ValidationFailed("登录凭证格式无效，请重新登录", code="malformed_token", http_status=400)
    return token, via_cookie


def csrf_token(secret, binding):
    return hmac.new(secret.encode(), binding.encode(), hashlib.sha256).hexdigest()


def binding_of(request):
    """What the CSRF token of this browser is bound to: its session, else its pre-session cookie."""
    return request.cookies.get(SESSION_COOKIE) or request.cookies.get(PRE_SESSION_COOKIE)


def check_csrf(request, secret, form=None):
    binding = binding_of(request)
    sent = request.headers.get(CSRF_HEADER) or (form or {}).get(CSRF_FIELD) or ""
    if not binding or not hmac.compare_digest(csrf_token(secret, binding), sent):
        raise Forbidden("页面已过期或请求来源不明，请刷新页面后重试", code="csrf_failed")


def require(principal, roles):
    if roles and not set(roles) & set(principal.get("roles", [])):
        raise Forbidden("您没有权限进行此操作", code="forbidden")


def session_cookies(response, token, secure):
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="Lax", secure=secure, path="/")
    response.delete_cookie(PRE_SESSION_COOKIE, path="/")


def pre_session_cookie(response, secure):
    value = secrets.token_urlsafe(24)
    response.set_cookie(PRE_SESSION_COOKIE, value, httponly=True, samesite="Lax", secure=secure, path="/")
    return value


def clear_cookies(response):
    response.delete_cookie(SESSION_COOKIE, path="/")


def unauthenticated():
    return Unauthenticated("请先登录", code="unauthenticated")
