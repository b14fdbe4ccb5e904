"""The MIME message for an email notification, shared by the SMTP and file channels."""
import html
import re
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, parseaddr

from services.common import clock

DEFAULT_SENDER = "北京社会工作者协会 <noreply@localhost>"

_UNSAFE_ID = re.compile(r"[^A-Za-z0-9._-]")


def sender_address(sender):
    return parseaddr(sender)[1]


def message_id(notification_id, sender):
    """Stable per notification: a retried send carries the same Message-ID, so mailboxes can dedupe."""
    domain = sender_address(sender).rpartition("@")[2] or "localhost"
    return f"<{_UNSAFE_ID.sub('_', str(notification_id))}@{domain}>"


def _html(body):
    paragraphs = "".join(f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>"
                         for p in body.split("\n\n") if p.strip())
    return ('<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"></head>'
            f'<body style="font-family: sans-serif; line-height: 1.6">{paragraphs}</body></html>')


def build_email(message, sender):
    """multipart/alternative (text + HTML), UTF-8, 7-bit safe: base64 bodies, RFC 2047 headers."""
    if not message.subject:
        raise ValueError(f"邮件通知 {message.notification_id} 缺少主题")
    email = EmailMessage()
    email["Subject"] = message.subject
    email["From"] = sender
    email["To"] = message.recipient
    email["Date"] = format_datetime(clock.now())
    email["Message-ID"] = message_id(message.notification_id, sender)
    email["X-Notification-Id"] = str(message.notification_id)
    email["X-Template"] = message.template
    # base64 so the message survives servers without 8BITMIME
    email.set_content(message.body, charset="utf-8", cte="base64")
    email.add_alternative(_html(message.body), subtype="html", charset="utf-8", cte="base64")
    return email


def to_bytes(email):
    return email.as_bytes(policy=SMTP)
