"""HTTP plumbing of the gateway: JSON in and out, errors as `{"error": {code, message, details}}`.

`api(method, path, ...)` is nameko's @http entrypoint that also records the route for the
OpenAPI document and turns every failure into an honest status with a Chinese message.
"""
import json
from urllib.parse import quote

import amqp.exceptions
from kombu.exceptions import OperationalError
from nameko.amqp.publish import UndeliverableMessage
from nameko.exceptions import RemoteError, UnknownService
from nameko.web.handlers import HttpRequestHandler
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.wrappers import Response

from services.common.validation import load, refuse_nul
from services.contracts.errors import DomainError, ValidationFailed

from .edge import EdgeHandler
from .http_server import GatewayWebServer

ROUTES = []  # (method, path, options) for services.gateway.openapi

# Every HTTP entrypoint of the gateway (API routes, pages, static files) shares one server: set on
# nameko's base class, so all of them get the one that refuses oversized headers in JSON.
HttpRequestHandler.server = GatewayWebServer()

NO_STORE = {"Cache-Control": "no-store"}
# Every JSON answer: never cached, never sniffed into HTML, never framed by another site, and the
# full URL (which may carry an application id) never sent to another origin.
API_HEADERS = {**NO_STORE, "X-Content-Type-Options": "nosniff", "Content-Security-Policy": "frame-ancestors 'none'",
               "X-Frame-Options": "DENY", "Referrer-Policy": "same-origin"}

UNAVAILABLE = "服务暂时不可用，请稍后再试"
# The broker is unreachable or no copy of a service is there to take the call: 503, not 500.
BROKER_ERRORS = (OperationalError, amqp.exceptions.ConnectionError, ConnectionError, UndeliverableMessage,
                 UnknownService)


def json_response(payload, status=200, headers=None):
    body = json.dumps(payload, ensure_ascii=False, default=str)
    return Response(body, status=status, mimetype="application/json",
                    headers={**API_HEADERS, **(headers or {})})


def error_response(status, code, message, details=None, headers=None):
    return json_response({"error": {"code": code, "message": message, "details": details}},
                         status=status, headers=headers)


def response_for_exception(exc):
    if isinstance(exc, DomainError):
        headers = {}
        if exc.http_status == 429 and isinstance(exc.details, dict) and exc.details.get("retry_after"):
            headers["Retry-After"] = str(int(exc.details["retry_after"]))
        if exc.http_status == 503:  # a deadline missed (GatewayService._call): worth another try soon
            headers["Retry-After"] = "5"
        return error_response(exc.http_status, exc.code, exc.message, exc.details, headers)
    if isinstance(exc, RequestEntityTooLarge):
        return error_response(413, "too_large", "上传内容超过大小上限，请压缩后重新上传")
    if isinstance(exc, HTTPException):
        return error_response(exc.code or 400, "http_error", exc.description or "请求无效")
    if isinstance(exc, (RemoteError, *BROKER_ERRORS)):
        return error_response(503, "unavailable", UNAVAILABLE, headers={"Retry-After": "5"})
    return error_response(500, "internal", "系统内部错误，请稍后再试；如持续出现请联系技术支持")


class ApiHandler(EdgeHandler):
    def __init__(self, method, url, body=None, query=None, headers=None, response=None, responses=None,
                 summary="", description="", roles=None, status=200, tags=(), deprecated=None, **kwargs):
        super().__init__(method, url, **kwargs)
        # What services.gateway.openapi documents; `roles` is also what _principal enforces.
        # `deprecated`: why and since when the path is kept only for older clients (None: current).
        self.options = {"body": body, "query": query, "headers": headers, "response": response,
                        "responses": responses, "summary": summary, "description": description,
                        "roles": roles, "status": status, "tags": tags, "deprecated": deprecated}

    def response_from_exception(self, exc):
        return response_for_exception(exc)

    def refused(self, exc, request):
        return response_for_exception(exc)

    def get_entrypoint_parameters(self, request):
        # Roles are declared once, on the route; the service's _principal enforces them from here.
        request.api_roles = self.options["roles"]
        return super().get_entrypoint_parameters(request)

    def handle_result(self, event, worker_ctx, result, exc_info):
        # An expected refusal is not an error worth a traceback in the log.
        if exc_info is not None and isinstance(exc_info[1], DomainError):
            event.send(response_for_exception(exc_info[1]), None)
            return result, None
        event.send(result, exc_info)
        return result, exc_info


def api(method, path, **options):
    ROUTES.append((method, path, options))
    # Every RPC goes through GatewayService._call, which turns a missed deadline into `Unavailable`.
    return ApiHandler.decorator(method, path, expected_exceptions=DomainError, **options)


def deprecated(response, successor):
    """The answer of a deprecated path, with the headers that name the path to use instead
    (RFC 9745 `Deprecation`, RFC 8288 `Link`)."""
    response.headers["Deprecation"] = "true"
    response.headers["Link"] = f'<{quote(successor)}>; rel="successor-version"'
    return response


def read_json(request, schema=None, partial=False):
    """The request body as JSON (400 when it is not), validated by `schema` (422 with details)."""
    if request.content_length and request.content_length > 64 * 1024:
        raise ValidationFailed("请求内容过大", code="too_large", http_status=413)
    raw = request.get_data(cache=True)
    if not raw:
        data = {}
    else:
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):  # RecursionError: [[[[… nested deeper than Python's stack
            raise ValidationFailed("请求内容不是有效的JSON，请检查格式", code="malformed_json",
                                   http_status=400) from None
    if schema is None:
        refuse_nul(data)
        return data
    return load(schema, data, partial=partial)
