"""Email through an SMTP server (the association's mailbox provider).

SMTP answers are classified by their first digit: 4xx means "later" (greylisting, mailbox busy,
rate limits) and is retried, 5xx means "never" (no such mailbox, refused, bad credentials).
MAIL/RCPT/DATA are sent by hand instead of `send_message` to keep the server's final answer
("250 OK queued as …"), which is the only receipt a provider gives.
"""
import smtplib
import ssl

from services.common.masking import mask_text

from .base import Channel, PermanentFailure, SendResult, TemporaryFailure
from .email_message import DEFAULT_SENDER, email_bytes, sender_address

SECURITIES = ("starttls", "tls", "none")
DEFAULT_PORTS = {"starttls": 587, "tls": 465, "none": 25}


def _text(reply):
    if isinstance(reply, bytes):
        reply = reply.decode("utf-8", "replace")
    return mask_text(" ".join(str(reply).split()))[:300]


def classify(code, reply, stage):
    """Raise the failure an SMTP reply code means."""
    detail = f"{stage}：{code} {_text(reply)}"
    if 400 <= code < 500:
        raise TemporaryFailure(f"邮件服务器暂时拒绝（{detail}）")
    if 500 <= code < 600:
        raise PermanentFailure(f"邮件服务器拒绝（{detail}）")
    raise TemporaryFailure(f"邮件服务器回答无法识别（{detail}）")


class SmtpEmailChannel(Channel):
    name = "email"

    def __init__(self, host, port=None, security="starttls", username=None, password=None,
                 sender=DEFAULT_SENDER, timeout=10.0, ssl_context=None, local_hostname=None):
        if security not in SECURITIES:
            raise ValueError(f"SMTP 安全方式应为 {'/'.join(SECURITIES)}，收到 {security!r}")
        self.host = host
        self.port = int(port or DEFAULT_PORTS[security])
        self.security = security
        self.username = username
        self.password = password
        self.sender = sender
        self.timeout = float(timeout)
        self.ssl_context = ssl_context or ssl.create_default_context()
        self.local_hostname = local_hostname

    def send(self, message):
        data, message_id = email_bytes(message, self.sender)
        try:
            smtp = self._connect()
            try:
                answer = self._transmit(smtp, data, message.recipient)
            finally:
                _quit(smtp)
        except smtplib.SMTPServerDisconnected as exc:
            raise TemporaryFailure(f"邮件服务器断开了连接：{_text(exc)}") from None
        except smtplib.SMTPResponseException as exc:  # greeting, STARTTLS, AUTH
            classify(exc.smtp_code, exc.smtp_error, "连接")
        except smtplib.SMTPException as exc:  # e.g. no STARTTLS or no usable AUTH: configuration
            raise PermanentFailure(f"邮件服务器不支持所需功能，请检查 SMTP 设置：{_text(exc)}") from None
        except ssl.SSLCertVerificationError as exc:
            raise PermanentFailure(f"邮件服务器证书校验失败，请检查 SMTP 设置：{_text(exc)}") from None
        except OSError as exc:  # refused, unreachable, timeout, TLS handshake cut
            raise TemporaryFailure(f"无法连接邮件服务器 {self.host}:{self.port}：{_text(exc)}") from None
        return SendResult(provider_message_id=message_id, provider_answer=answer)

    def _connect(self):
        if self.security == "tls":
            smtp = smtplib.SMTP_SSL(self.host, self.port, local_hostname=self.local_hostname,
                                    timeout=self.timeout, context=self.ssl_context)
        else:
            smtp = smtplib.SMTP(self.host, self.port, local_hostname=self.local_hostname,
                                timeout=self.timeout)
        try:
            if self.security == "starttls":
                smtp.ehlo()
                smtp.starttls(context=self.ssl_context)
                smtp.ehlo()
            if self.username:
                smtp.login(self.username, self.password or "")
        except BaseException:
            smtp.close()
            raise
        return smtp

    def _transmit(self, smtp, data, recipient):
        smtp.ehlo_or_helo_if_needed()
        code, reply = smtp.mail(sender_address(self.sender))
        if code != 250:
            classify(code, reply, "MAIL FROM")
        code, reply = smtp.rcpt(recipient)
        if code not in (250, 251):
            classify(code, reply, "RCPT TO")
        try:
            code, reply = smtp.data(data)
        except smtplib.SMTPDataError as exc:  # DATA itself refused
            classify(exc.smtp_code, exc.smtp_error, "DATA")
        if code != 250:
            classify(code, reply, "DATA")
        return f"{code} {_text(reply)}"


def _quit(smtp):
    # The message is already accepted or refused; a failing QUIT must not turn that into a retry.
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()
