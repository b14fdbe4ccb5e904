"""email_bytes writes what the email package writes for build_email's message (the same boundary and
Date): the channels' fast path changes no byte of an email."""
from datetime import datetime, timezone
from email import policy
from email.parser import BytesParser

import pytest

from services.notify.adapters import OutgoingMessage
from services.notify.adapters.email_message import DEFAULT_SENDER, build_email, email_bytes, to_bytes

NOW = datetime(2020, 7, 3, 2, 15, 9, tzinfo=timezone.utc)
BOUNDARY = "===============0123456789012345678=="
LONG = "买买提·艾力·阿不都热合曼" * 6


def message(subject="您的登记申请表已提交", recipient="zhang@example.com", body="您好：\n\n已提交。",
            notification_id="7d0f6c1e-0b7a-4c55-9a43-1f1f8b3c2d10", template="submission_receipt"):
    return OutgoingMessage(channel="email", recipient=recipient, subject=subject, body=body, template=template,
                           notification_id=notification_id)


def reference(msg, sender=DEFAULT_SENDER):
    email = build_email(msg, sender, NOW)
    email.set_boundary(BOUNDARY)
    return to_bytes(email)


CASES = [
    message(),
    message(subject=f"您的社会工作者职业水平证书登记申请未通过审核（{LONG}）", body=LONG * 20),
    message(subject="Your registration  was approved " * 4, recipient="  spaced@example.com "),
    message(recipient="张三 <zhang@example.com>"),
    message(recipient="a" * 70 + "@example.com", notification_id="n" * 80, template="x" * 90),
    message(body="<b>&\n\n\n\nline\r\nlast"),
]


@pytest.mark.parametrize("msg", CASES)
def test_the_same_bytes_as_the_email_package(msg):
    data, message_id = email_bytes(msg, DEFAULT_SENDER, NOW, BOUNDARY)
    assert data == reference(msg)
    assert message_id == build_email(msg, DEFAULT_SENDER, NOW)["Message-ID"]  # the provider message id


@pytest.mark.parametrize("subject", ["您的登记申请表已提交", "您的社会工作者职业水平证书登记申请未通过审核",
                                     "您的社会工作者职业水平证书登记已审核通过", "您的社会工作者职业水平证书已寄出"])
def test_the_templates_subjects_from_another_sender(subject):
    sender = "Beijing Association of Social Workers, registration office <noreply@bjsw.example.cn>"
    msg = message(subject=subject)
    assert email_bytes(msg, sender, NOW, BOUNDARY)[0] == reference(msg, sender)


def test_a_new_boundary_each_time_and_a_readable_message():
    first, _ = email_bytes(message(), DEFAULT_SENDER, NOW)
    second, _ = email_bytes(message(), DEFAULT_SENDER, NOW)
    assert first != second
    parsed = BytesParser(policy=policy.default).parsebytes(first)
    assert parsed["Subject"] == "您的登记申请表已提交"
    assert parsed.get_body(("plain",)).get_content() == "您好：\n\n已提交。"
