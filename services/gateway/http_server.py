"""The gateway's HTTP server: nameko's, except that headers too large for it are refused in JSON.

eventlet's server reads a header line of at most 8 KB (64 KB in all) and refuses anything larger
itself, before any route sees it, with an empty `400 Header Line Too Long`: a client that sent a
10 KB bearer token got no reason it could show. Here the same refusal is the API's: 431 with the
usual `{"error": ...}` body in Chinese. The limits stay eventlet's: nothing legitimate is that big
(a session token is 43 characters; auth.MAX_TOKEN_LENGTH refuses anything over 512).
"""
import socket

from eventlet.wsgi import HeaderLineTooLong, HeadersTooLarge
from nameko.web.server import HttpOnlyProtocol, WebServer

DRAIN_LIMIT = 1024 * 1024  # read at most this much of an oversized request before answering
DRAIN_SECONDS = 5  # …and wait at most this long for it: a client that stalls is simply cut off


class JsonRefusalProtocol(HttpOnlyProtocol):
    def parse_request(self):
        try:
            return super().parse_request()
        except (HeaderLineTooLong, HeadersTooLarge):
            self._drain_headers()
            self.wfile.write(_refusal_bytes())
            self.close_connection = 1
            return False

    def _drain_headers(self):
        """Read the rest of the headers (bounded), so that closing the connection with them unread
        does not reset it before the client has read the answer."""
        raw = self.rfile.fp  # eventlet's size-checking wrapper is what raised; read past it
        self.connection.settimeout(DRAIN_SECONDS)
        drained = 0
        try:
            while drained < DRAIN_LIMIT:
                line = raw.readline(64 * 1024)
                drained += len(line)
                if line in (b"", b"\r\n", b"\n"):
                    return
        except (socket.timeout, OSError):
            return


def _refusal_bytes():
    from .web import error_response  # web imports this module to install the server
    response = error_response(431, "headers_too_large",
                              "请求头过大（登录凭证或 Cookie 过长），请清除 Cookie 或重新登录后再试")
    body = response.get_data()
    head = [f"HTTP/1.1 {response.status}"] + [f"{name}: {value}" for name, value in response.headers.items()
                                               if name.lower() != "content-length"]
    head += [f"Content-Length: {len(body)}", "Connection: close"]
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body


class GatewayWebServer(WebServer):
    def get_wsgi_server(self, sock, wsgi_app, protocol=JsonRefusalProtocol, debug=False):
        return super().get_wsgi_server(sock, wsgi_app, protocol=protocol, debug=debug)
