"""Static files of the pages (CSS, JS, illustrations), served from services/gateway/static only."""
import mimetypes
import os

from werkzeug.wrappers import Response

from .site.render import SECURITY_HEADERS

STATIC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "static")


def file(path):
    full = os.path.realpath(os.path.join(STATIC, path))
    if not full.startswith(os.path.realpath(STATIC) + os.sep) or not os.path.isfile(full):
        return Response("未找到", status=404, mimetype="text/plain; charset=utf-8")
    with open(full, "rb") as f:
        body = f.read()
    mime = mimetypes.guess_type(full)[0] or "application/octet-stream"
    if mime.startswith("text/") or mime in ("application/javascript", "image/svg+xml"):
        mime += "; charset=utf-8"
    return Response(body, mimetype=mime, headers={**SECURITY_HEADERS, "Cache-Control": "no-cache"})
