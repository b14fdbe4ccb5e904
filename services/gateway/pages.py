"""The web pages: static HTML, CSS and JS that talk only to /api/v1 (no server-side rendering)."""
import mimetypes
import os

from werkzeug.wrappers import Response

HERE = os.path.dirname(os.path.abspath(__file__))
PAGES = os.path.join(HERE, "pages")
STATIC = os.path.join(HERE, "static")
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' blob: data:; style-src 'self'; "
                               "script-src 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


def page(name):
    with open(os.path.join(PAGES, name), encoding="utf-8") as f:
        return Response(f.read(), mimetype="text/html", headers={**SECURITY_HEADERS, "Cache-Control": "no-cache"})


def static(path):
    full = os.path.realpath(os.path.join(STATIC, path))
    if not full.startswith(os.path.realpath(STATIC) + os.sep) or not os.path.isfile(full):
        return Response("未找到", status=404, mimetype="text/plain")
    with open(full, "rb") as f:
        body = f.read()
    mime = mimetypes.guess_type(full)[0] or "application/octet-stream"
    return Response(body, mimetype=mime, headers={**SECURITY_HEADERS, "Cache-Control": "no-cache"})
