import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from services.notify.adapters import HttpSmsChannel, OutgoingMessage, PermanentFailure, TemporaryFailure

MESSAGE = OutgoingMessage(channel="sms", recipient="13812345678", subject=None,
                          body="【北京社会工作者协会】您的证书已寄出，运单号：1187654321098。",
                          template="dispatched", notification_id="n-42",
                          params={"carrier": "EMS", "tracking_number": 1187654321098})


class Gateway(BaseHTTPRequestHandler):
    def do_POST(self):
        payload = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.requests.append((dict(self.headers), payload))
        answer = self.server.answer
        if answer == "hang":
            self.server.release.wait(timeout=10)  # the client gives up long before
            answer = (200, {"ok": True, "id": "late"})
        status, body = answer
        data = body.encode() if isinstance(body, str) else json.dumps(body, ensure_ascii=False).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except OSError:
            pass  # the client already hung up (timeout test)

    def log_message(self, *args):
        pass


@pytest.fixture
def gateway():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Gateway)
    server.requests, server.answer, server.release = [], (200, {"ok": True}), threading.Event()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.url = f"http://127.0.0.1:{server.server_address[1]}/sms"
    yield server
    server.release.set()
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def channel(url, timeout=2.0):
    return HttpSmsChannel(url, "key-123", template_ids={"dispatched": "SMS_900"}, timeout=timeout)


def test_ok_answer_is_delivered_with_the_documented_payload(gateway):
    gateway.answer = (200, {"ok": True, "id": "gw-7"})
    result = channel(gateway.url).send(MESSAGE)
    assert result.provider_message_id == "gw-7" and result.provider_answer.startswith("HTTP 200")
    ((headers, payload),) = gateway.requests
    assert headers["Authorization"] == "Bearer key-123"
    assert payload == {"phone": "13812345678", "template_id": "SMS_900",
                       "params": {"carrier": "EMS", "tracking_number": "1187654321098"},
                       "text": MESSAGE.body, "message_id": "n-42"}


def test_template_without_a_provider_id_sends_null(gateway):
    gateway.answer = (201, {"ok": True, "id": 9})
    other = OutgoingMessage("sms", "13812345678", None, "正文", "approved", "n-1")
    assert channel(gateway.url).send(other).provider_message_id == "9"
    assert gateway.requests[0][1]["template_id"] is None and gateway.requests[0][1]["params"] == {}


@pytest.mark.parametrize("answer", [
    (503, {"ok": False, "error": "维护中"}),
    (500, "Internal Server Error"),
    (429, {"ok": False, "error": "rate limited"}),
    (408, ""),
    (200, {"ok": False, "error": "通道繁忙"}),
    (200, "<html>not json</html>"),
    (200, ["ok"]),
    (200, {"ok": True}),  # accepted without an id: we cannot prove it went
])
def test_temporary_answers(gateway, answer):
    gateway.answer = answer
    with pytest.raises(TemporaryFailure) as excinfo:
        channel(gateway.url).send(MESSAGE)
    assert f"HTTP {answer[0]}" in excinfo.value.reason


@pytest.mark.parametrize("answer", [
    (400, {"ok": False, "permanent": True, "error": "号码 13812345678 为空号"}),
    (401, {"ok": False, "error": "bad key"}),
    (422, "unprocessable"),
    (200, {"ok": False, "permanent": True, "error": "号码已被列入黑名单"}),
    (302, ""),
])
def test_permanent_answers(gateway, answer):
    gateway.answer = answer
    with pytest.raises(PermanentFailure) as excinfo:
        channel(gateway.url).send(MESSAGE)
    assert "13812345678" not in excinfo.value.reason  # the gateway's echo is masked


def test_refused_number_reason_is_kept(gateway):
    gateway.answer = (400, {"ok": False, "permanent": True, "error": "号码为空号"})
    with pytest.raises(PermanentFailure, match="号码为空号"):
        channel(gateway.url).send(MESSAGE)


def test_timeout_is_temporary_and_fast(gateway):
    gateway.answer = "hang"
    with pytest.raises(TemporaryFailure, match="0.2 秒内没有回答"):
        channel(gateway.url, timeout=0.2).send(MESSAGE)
    assert len(gateway.requests) == 1


def test_connection_refused_is_temporary():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again when the block ends: nobody listens
    with pytest.raises(TemporaryFailure, match="无法连接短信网关"):
        channel(f"http://127.0.0.1:{port}/sms").send(MESSAGE)
