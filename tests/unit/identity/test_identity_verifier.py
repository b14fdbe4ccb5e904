"""The HTTP verifier against a real local http.server (threads, loopback only)."""
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from services.identity.adapters.verifier import (
    EXTERNALLY_VERIFIED,
    FORMAT_CHECKED,
    FormatOnlyVerifier,
    HttpIdentityVerifier,
    VerificationResult,
    VerifierUnavailable,
)

TOKEN = "s3cret-token"
NAME, ID_TYPE, ID_NUMBER = "张三", "RESIDENT_ID", "11010519491231002X"


class FakeVerifier:
    """Answers by path, records what it was sent."""

    def __init__(self):
        self.requests = []
        self.release = threading.Event()  # holds the slow answer until the test is done

    def handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                fake.requests.append({"path": self.path, "headers": dict(self.headers),
                                      "body": json.loads(self.rfile.read(length))})
                status, body = fake.answer(self.path)
                if status is None:
                    return
                self.send_response(status)
                if status == 302:
                    self.send_header("Location", "/match")
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return Handler

    def answer(self, path):
        if path == "/slow":
            self.release.wait(10)
            return None, b""
        return {
            "/match": (200, json.dumps({"match": True}).encode()),
            "/mismatch": (200, json.dumps({"match": False, "reason": "姓名与号码不符"}, ensure_ascii=False).encode()),
            "/mismatch-silent": (200, b'{"match": false, "reason": null}'),
            "/error": (500, b'{"error": "boom"}'),
            "/bad-json": (200, b"<html>oops</html>"),
            "/no-match-field": (200, b'{"ok": true}'),
            "/string-match": (200, b'{"match": "true"}'),
            "/unauthorised": (401, b"{}"),
            "/redirect": (302, b""),
            "/huge": (200, b'{"match": true, "reason": "' + b"x" * (200 * 1024) + b'"}'),
        }[path]


@pytest.fixture
def fake():
    fake = FakeVerifier()
    server = ThreadingHTTPServer(("127.0.0.1", 0), fake.handler())
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    fake.base = f"http://127.0.0.1:{server.server_address[1]}"
    yield fake
    fake.release.set()
    server.shutdown()
    server.server_close()
    thread.join(5)


def verifier(fake, path, timeout=2.0):
    return HttpIdentityVerifier(fake.base + path, TOKEN, timeout=timeout)


def unavailable(call):
    with pytest.raises(VerifierUnavailable) as caught:
        call()
    error = caught.value
    assert error.code == "verifier_unavailable" and error.http_status == 503
    assert error.message.startswith("实名核验服务暂时无法使用")
    assert ID_NUMBER not in error.cause and NAME not in error.cause
    return error


def test_match_sends_the_contract(fake):
    result = verifier(fake, "/match").verify(NAME, ID_TYPE, ID_NUMBER)
    assert result == VerificationResult(level=EXTERNALLY_VERIFIED, ok=True, reason=None)
    sent = fake.requests[0]
    assert sent["body"] == {"name": NAME, "id_type": ID_TYPE, "id_number": ID_NUMBER}
    assert sent["headers"]["Authorization"] == f"Bearer {TOKEN}"
    assert sent["headers"]["Content-Type"] == "application/json"


def test_mismatch_carries_the_reason(fake):
    result = verifier(fake, "/mismatch").verify(NAME, ID_TYPE, ID_NUMBER)
    assert result == VerificationResult(level=EXTERNALLY_VERIFIED, ok=False, reason="姓名与号码不符")


def test_mismatch_without_reason_gets_a_chinese_one(fake):
    result = verifier(fake, "/mismatch-silent").verify(NAME, ID_TYPE, ID_NUMBER)
    assert not result.ok and result.reason.startswith("姓名与证件号码不一致")


def test_server_error_is_unavailable(fake):
    assert unavailable(lambda: verifier(fake, "/error").verify(NAME, ID_TYPE, ID_NUMBER)).cause == "HTTP 500"


@pytest.mark.parametrize("path, cause", [("/unauthorised", "HTTP 401"), ("/redirect", "HTTP 302")])
def test_other_statuses_are_unavailable(fake, path, cause):
    assert unavailable(lambda: verifier(fake, path).verify(NAME, ID_TYPE, ID_NUMBER)).cause == cause
    assert [r["path"] for r in fake.requests] == [path]  # redirect not followed


def test_timeout_is_unavailable(fake):
    error = unavailable(lambda: verifier(fake, "/slow", timeout=0.2).verify(NAME, ID_TYPE, ID_NUMBER))
    assert error.cause == "timeout after 0.2s"


@pytest.mark.parametrize("path", ["/bad-json", "/no-match-field", "/string-match", "/huge"])
def test_unusable_answers_are_unavailable(fake, path):
    unavailable(lambda: verifier(fake, path).verify(NAME, ID_TYPE, ID_NUMBER))


def test_connection_refused_is_unavailable():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    unavailable(lambda: HttpIdentityVerifier(f"http://127.0.0.1:{port}/", TOKEN, 1.0).verify(NAME, ID_TYPE, ID_NUMBER))


def test_plain_http_only_to_loopback_unless_allowed():
    with pytest.raises(ValueError):
        HttpIdentityVerifier("http://verifier.example.org/check", TOKEN)
    HttpIdentityVerifier("http://verifier.internal/check", TOKEN, allow_plain_http=True)
    HttpIdentityVerifier("https://verifier.example.org/check", TOKEN)
    HttpIdentityVerifier("http://localhost:8080/check", TOKEN)
    with pytest.raises(ValueError):
        HttpIdentityVerifier("https://verifier.example.org/check", "")


def test_format_only_verifier_claims_only_the_format_check():
    result = FormatOnlyVerifier().verify(NAME, ID_TYPE, ID_NUMBER)
    assert result == VerificationResult(level=FORMAT_CHECKED, ok=True, reason=None)
