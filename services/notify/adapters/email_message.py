"""The MIME message for an email notification, shared by the SMTP and file channels.

`build_email` says what the message is (the email package's classes); `email_bytes` writes the
same bytes without them, for the channels: the generator refolded every header and compiled a
regular expression for every boundary, which cost a file channel more than its disk write. The
unit tests hold the two to the same bytes.
"""
import base64
import functools
import html
import random
import re
import sys
from email.header import Header
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import compat32
from email.utils import format_datetime, formataddr, parseaddr

from services.common import clock

DEFAULT_SENDER = "北京社会工作者协会 <noreply@localhost>"

_UNSAFE_ID = re.compile(r"[^A-Za-z0-9._-]")
_WIRE = compat32.clone(linesep="\r\n")  # SMTP line endings, as the SMTP policy wrote them


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


def build_email(message, sender, now=None):
    """multipart/alternative (text + HTML), UTF-8, 7-bit safe: base64 bodies, RFC 2047 headers.

    Built with the compat32 classes (email.mime): a third of the CPU of EmailMessage with the
    default policy, whose header parsing and refolding cost more than the disk write of a file
    channel; the bytes on the wire are the same kind (checked by the channel tests).
    """
    if not message.subject:
        raise ValueError(f"邮件通知 {message.notification_id} 缺少主题")
    email = MIMEMultipart("alternative")
    email["Subject"] = _header(message.subject)
    email["From"] = formataddr(parseaddr(sender), charset="utf-8")
    email["To"] = _header(message.recipient)
    email["Date"] = format_datetime(now or clock.now())
    email["Message-ID"] = message_id(message.notification_id, sender)
    email["X-Notification-Id"] = str(message.notification_id)
    email["X-Template"] = message.template
    # utf-8 MIMEText bodies are base64, so the message survives servers without 8BITMIME
    email.attach(MIMEText(message.body, "plain", "utf-8"))
    email.attach(MIMEText(_html(message.body), "html", "utf-8"))
    return email


def _header(value):
    return value if value.isascii() else Header(value, "utf-8")


def to_bytes(email):
    return email.as_bytes(policy=_WIRE)


_CRLF = "\r\n"
_PART_HEADERS = ('Content-Type: text/{}; charset="utf-8"\r\nMIME-Version: 1.0\r\n'
                 "Content-Transfer-Encoding: base64\r\n\r\n")


def email_bytes(message, sender, now=None, boundary=None):
    """(the bytes `to_bytes(build_email(message, sender, now))` gives, its Message-ID), written
    directly. `boundary`: the generator's kind (random digits between `=`), by default a new one;
    base64 parts cannot contain it, so no search of the text is needed."""
    if not message.subject:
        raise ValueError(f"邮件通知 {message.notification_id} 缺少主题")
    if boundary is None:
        boundary = "=" * 15 + "%019d" % random.randrange(sys.maxsize) + "=="
    message_id_ = message_id(message.notification_id, sender)
    head = "".join((
        _fold("Content-Type", f'multipart/alternative; boundary="{boundary}"'), "MIME-Version: 1.0\r\n",
        _fold_cached("Subject", message.subject), _from(sender), _fold("To", message.recipient),
        _fold("Date", format_datetime(now or clock.now())), _fold("Message-ID", message_id_),
        _fold("X-Notification-Id", str(message.notification_id)), _fold_cached("X-Template", message.template)))
    delimiter = f"--{boundary}\r\n"
    text = "".join((
        head, _CRLF, delimiter, _PART_HEADERS.format("plain"), _base64(message.body), _CRLF, delimiter,
        _PART_HEADERS.format("html"), _base64(_html(message.body)), _CRLF, f"--{boundary}--\r\n"))
    return text.encode("ascii"), message_id_


def _base64(text):
    """A utf-8 MIMEText part's body: base64 in lines of 76, CRLF after each."""
    return base64.encodebytes(text.encode("utf-8")).decode("ascii").replace("\n", _CRLF)


def _fold(name, value):
    """`name: value` as compat32 writes it: as it is when a short ASCII line, else folded by the policy."""
    if value.isascii() and len(name) + len(value) < 77 and value.isprintable() and "  " not in value \
            and value == value.strip():
        return f"{name}: {value}\r\n"
    return _fold_cached(name, value)


@functools.lru_cache(maxsize=256)
def _fold_cached(name, value):
    """Headers that repeat (subjects and templates come from a few templates): folded once."""
    return _WIRE.fold_binary(name, _header(value)).decode("ascii")


@functools.lru_cache(maxsize=16)
def _from(sender):
    return _WIRE.fold_binary("From", formataddr(parseaddr(sender), charset="utf-8")).decode("ascii")
