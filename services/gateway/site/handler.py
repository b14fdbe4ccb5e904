"""`@page(method, path)`: nameko's @http entrypoint for pages. A handler returns a Response or
raises: `Redirect` → 303, a refusal (DomainError) → the error page in Chinese with its status
and no traceback in the log, a service that does not answer → 503 page."""
import functools
import logging
from urllib.parse import quote

from nameko.exceptions import RemoteError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from services.contracts.errors import DomainError, Unauthenticated

from ..edge import EdgeHandler
from .render import SECURITY_HEADERS, html

log = logging.getLogger(__name__)
STAFF_AREAS = ("/review", "/admin")


class Redirect(Exception):
    def __init__(self, location):
        super().__init__(location)
        self.location = location


def redirect(location):
    return Response(status=303, headers={"Location": location, **SECURITY_HEADERS, "Cache-Control": "no-store"})


def error_page(status, message):
    titles = {400: "请求无效", 403: "没有权限", 404: "页面不存在", 409: "操作冲突", 413: "文件过大",
              422: "信息有误", 429: "操作过于频繁", 503: "服务暂时不可用"}
    return html("error.html", {"status": status, "title": titles.get(status, "出错了"), "message": message,
                               "principal": None, "contact": None}, status=status)


def response_for(exc, request):
    if isinstance(exc, Redirect):
        return redirect(exc.location)
    if isinstance(exc, Unauthenticated):
        target = _safe_next(request.full_path.rstrip("?")) if request is not None else "/"
        staff = target.startswith(STAFF_AREAS)  # staff go to their own login, then back
        return redirect(("/staff/login" if staff else "/login") + "?next=" + quote(target, safe="/"))
    if isinstance(exc, DomainError):
        return error_page(exc.http_status, exc.message)
    if isinstance(exc, HTTPException):
        return error_page(exc.code or 400, "请求无效，请返回上一页重试")
    if isinstance(exc, RemoteError):
        return error_page(503, "服务暂时不可用，请稍后再试")
    log.error("page failed", exc_info=exc)
    return error_page(500, "系统内部错误，请稍后再试；如持续出现请联系技术支持")


def _safe_next(path):
    """Only a path of this site (never another host) may be the target after login."""
    return path if path.startswith("/") and not path.startswith("//") else "/"


class PageHandler(EdgeHandler):
    def refused(self, exc, request):
        return response_for(exc, request)

    def response_from_exception(self, exc):
        return response_for(exc, None)


def page(method, path):
    """Register a page route. Redirects and refusals become responses here, inside the worker, so
    nameko never logs them as errors: a refusal is one WARNING line, a redirect nothing."""
    register = PageHandler.decorator(method, path)

    def decorate(fn):
        @functools.wraps(fn)
        def route(self, request, *args, **kwargs):
            try:
                return fn(self, request, *args, **kwargs)
            except Redirect as exc:
                return redirect(exc.location)
            except DomainError as exc:
                if not isinstance(exc, Unauthenticated):
                    log.warning("page refused %s %s (%s): %s", request.method, request.path, exc.http_status,
                                exc.code)
                return response_for(exc, request)
        return register(route)
    return decorate
