"""The email copy over a real SMTP exchange (aiosmtpd started by the test) from the running service:
accepted, greylisted then accepted on retry, refused for good."""
import socket
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller

from . import peers

pytestmark = pytest.mark.integration


class Mailbox:
    """aiosmtpd handler: RCPT answers from a script (the last one forever), keeps what it accepts."""

    def __init__(self, *rcpt_answers):
        self.rcpt_answers = list(rcpt_answers) or ["250 OK"]
        self.received = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        answer = self.rcpt_answers.pop(0) if len(self.rcpt_answers) > 1 else self.rcpt_answers[0]
        if answer.startswith("250"):
            envelope.rcpt_tos.append(address)
        return answer

    async def handle_DATA(self, server, session, envelope):
        self.received.append(envelope)
        return "250 2.0.0 OK queued as A1B2C3"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_server():
    controllers = []

    def start(mailbox):
        controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
        controller.start()
        controllers.append(controller)
        return controller.port

    yield start
    for controller in controllers:
        controller.stop()


def smtp_settings(port):
    return {"EMAIL_CHANNEL": "smtp", "SMTP_HOST": "127.0.0.1", "SMTP_PORT": port, "SMTP_SECURITY": "none",
            "SMTP_TIMEOUT": 5, "EMAIL_SENDER": "北京社会工作者协会 <notify@bjsw.example.cn>"}


def test_the_email_copy_goes_over_smtp(notify_system, smtp_server):
    mailbox = Mailbox()
    system = notify_system(**smtp_settings(smtp_server(mailbox)))
    system.emit("RegistrationCompleted", "app-1", peers.registration_completed("app-1"))
    [delivered] = system.wait_outcome("NotificationDelivered", channel="email")
    [envelope] = mailbox.received
    assert envelope.rcpt_tos == ["maimaiti@example.com"] and envelope.mail_from == "notify@bjsw.example.cn"
    email = message_from_bytes(envelope.original_content, policy=policy.default)
    assert email["Subject"] == "您的社会工作者职业水平证书登记已审核通过"
    assert email["X-Notification-Id"] == delivered["data"]["notification_id"]
    text = email.get_body(("plain",)).get_content()
    assert f"{peers.LONG_NAME}，您好" in text and "登记号：BJ2020-SG-000123" in text
    [row] = system.notifications("delivered", channel="email")
    assert row["delivery_attempts"][0]["provider_answer"] == "250 2.0.0 OK queued as A1B2C3"
    assert row["provider_message_id"] == email["Message-ID"]
    system.wait_sms(to="13812345678", containing="审核通过")  # the SMS went its own way


def test_a_greylisted_email_is_retried_and_a_refused_mailbox_fails_at_once(notify_system, smtp_server):
    mailbox = Mailbox("451 4.7.1 Greylisted, try again later", "250 OK")
    system = notify_system(**smtp_settings(smtp_server(mailbox)))
    system.emit("CertificateDispatched", "app-1", peers.certificate_dispatched("app-1"))
    [delivered] = system.wait_outcome("NotificationDelivered", channel="email")
    assert delivered["data"]["attempts"] == 2
    assert len(mailbox.received) == 1

    mailbox.rcpt_answers = ["550 5.1.1 No such user"]
    system.emit("ReviewCompleted", "app-1", peers.review_completed("app-1"))
    [failed] = system.wait_outcome("NotificationFailed", channel="email")
    assert failed["data"]["attempts"] == 1 and "550" in failed["data"]["reason"]
    assert len(mailbox.received) == 1
