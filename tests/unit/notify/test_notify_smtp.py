"""A real SMTP exchange with aiosmtpd on 127.0.0.1: plain, STARTTLS + AUTH LOGIN, implicit TLS."""
import ipaddress
import socket
import ssl
from datetime import datetime, timedelta, timezone
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from services.notify.adapters import OutgoingMessage, PermanentFailure, SmtpEmailChannel, TemporaryFailure

SENDER = "北京社会工作者协会 <notify@bjsw.example.cn>"
MESSAGE = OutgoingMessage(
    channel="email", recipient="maimaiti@example.com", subject="您的社会工作者职业水平证书登记已审核通过",
    body="买买提·艾力·阿不都热合曼，您好：\n\n登记号：BJ2020-SG-000123\n\n证书将邮寄给买买提·艾力·阿不都热合曼。",
    template="approved", notification_id="n-77")


class Recorder:
    """aiosmtpd handler: keeps what it receives, or answers with a scripted refusal."""

    def __init__(self, rcpt_answer=None, data_answer=None):
        self.rcpt_answer, self.data_answer = rcpt_answer, data_answer
        self.received = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.rcpt_answer:
            return self.rcpt_answer
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.data_answer:
            return self.data_answer
        self.received.append((session, envelope))
        return "250 2.0.0 OK queued as A1B2C3"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_server():
    controllers = []

    def start(handler, **kwargs):
        controller = Controller(handler, hostname="127.0.0.1", port=free_port(), server_hostname="localhost",
                                **kwargs)
        controller.start()
        controllers.append(controller)
        return controller.port

    yield start
    for controller in controllers:
        controller.stop()


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1, made for this test run."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.now(timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(hours=1)).not_valid_after(now + timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    directory = tmp_path_factory.mktemp("tls")
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert_file, key_file)
    return server, ssl.create_default_context(cafile=str(cert_file))


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = (mechanism == "LOGIN" and auth_data.login == b"notify" and auth_data.password == b"s3cret")
    return AuthResult(success=ok, handled=False, auth_data=mechanism if ok else None)


def channel(port, **kwargs):
    settings = dict(security="none", sender=SENDER, timeout=5, local_hostname="localhost")
    return SmtpEmailChannel("127.0.0.1", port, **{**settings, **kwargs})


def assert_received(envelope):
    assert envelope.mail_from == "notify@bjsw.example.cn" and envelope.rcpt_tos == ["maimaiti@example.com"]
    raw = envelope.original_content
    assert raw.isascii()  # Chinese travels encoded: RFC 2047 headers, base64 bodies
    parsed = message_from_bytes(raw, policy=policy.default)
    assert parsed["Subject"] == "您的社会工作者职业水平证书登记已审核通过"
    assert parsed["From"].addresses[0].display_name == "北京社会工作者协会"
    assert parsed["Message-ID"] == "<n-77@bjsw.example.cn>" and parsed["X-Template"] == "approved"
    assert parsed.get_content_type() == "multipart/alternative"
    assert parsed.get_body(("plain",)).get_content().strip() == MESSAGE.body
    html = parsed.get_body(("html",)).get_content()
    assert "买买提·艾力·阿不都热合曼，您好：" in html and "BJ2020-SG-000123" in html


def test_plain_smtp_exchange(smtp_server):
    recorder = Recorder()
    result = channel(smtp_server(recorder)).send(MESSAGE)
    assert result.provider_message_id == "<n-77@bjsw.example.cn>"
    assert result.provider_answer == "250 2.0.0 OK queued as A1B2C3"
    ((_, envelope),) = recorder.received
    assert_received(envelope)


def test_starttls_with_auth_login(smtp_server, certificate):
    server_tls, client_tls = certificate
    recorder = Recorder()
    port = smtp_server(recorder, tls_context=server_tls, require_starttls=True, auth_required=True,
                       authenticator=authenticator, auth_exclude_mechanism=["PLAIN"])
    channel(port, security="starttls", username="notify", password="s3cret", ssl_context=client_tls).send(MESSAGE)
    ((session, envelope),) = recorder.received
    assert session.ssl is not None and session.authenticated and session.auth_data == "LOGIN"
    assert_received(envelope)


def test_implicit_tls(smtp_server, certificate):
    server_tls, client_tls = certificate
    recorder = Recorder()
    port = smtp_server(recorder, ssl_context=server_tls)
    channel(port, security="tls", ssl_context=client_tls).send(MESSAGE)
    assert_received(recorder.received[0][1])


@pytest.mark.parametrize("username, password, match", [
    (None, None, "530"),  # the server requires AUTH and we did not log in
    ("notify", "wrong", "535"),
])
def test_auth_refusals_are_permanent(smtp_server, certificate, username, password, match):
    server_tls, client_tls = certificate
    recorder = Recorder()
    port = smtp_server(recorder, tls_context=server_tls, require_starttls=True, auth_required=True,
                       authenticator=authenticator, auth_exclude_mechanism=["PLAIN"])
    with pytest.raises(PermanentFailure, match=match):
        channel(port, security="starttls", username=username, password=password, ssl_context=client_tls).send(MESSAGE)
    assert recorder.received == []


def test_untrusted_certificate_is_permanent(smtp_server, certificate):
    server_tls, _ = certificate
    port = smtp_server(Recorder(), tls_context=server_tls)
    with pytest.raises(PermanentFailure, match="证书"):
        channel(port, security="starttls").send(MESSAGE)  # default trust store: self-signed refused


def test_starttls_against_a_server_without_it_is_permanent(smtp_server):
    with pytest.raises(PermanentFailure, match="不支持"):
        channel(smtp_server(Recorder()), security="starttls").send(MESSAGE)


@pytest.mark.parametrize("handler, failure, code", [
    (Recorder(rcpt_answer="450 4.2.1 Mailbox busy, try later"), TemporaryFailure, "450"),
    (Recorder(rcpt_answer="550 5.1.1 No such user"), PermanentFailure, "550"),
    (Recorder(data_answer="451 4.3.0 Local error, try later"), TemporaryFailure, "451"),
    (Recorder(data_answer="554 5.7.1 Message rejected"), PermanentFailure, "554"),
])
def test_refusals_by_reply_code(smtp_server, handler, failure, code):
    with pytest.raises(failure, match=code) as excinfo:
        channel(smtp_server(handler)).send(MESSAGE)
    assert type(excinfo.value) is failure


def test_connection_refused_is_temporary():
    with pytest.raises(TemporaryFailure, match="无法连接邮件服务器"):
        channel(free_port()).send(MESSAGE)


def test_unknown_security_is_refused():
    with pytest.raises(ValueError, match="starttls/tls/none"):
        SmtpEmailChannel("127.0.0.1", security="ssl")
