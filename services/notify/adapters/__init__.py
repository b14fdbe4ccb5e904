"""The notify service's adapters: its delivery channels — one interface, files for development, HTTP SMS and
SMTP for real."""
from .base import Channel, DeliveryFailure, OutgoingMessage, PermanentFailure, SendResult, TemporaryFailure
from .factory import build_channels
from .file_email import FileEmailChannel
from .file_sms import FileSmsChannel
from .http_sms import HttpSmsChannel
from .smtp_email import SmtpEmailChannel

__all__ = [
    "Channel", "DeliveryFailure", "OutgoingMessage", "PermanentFailure", "SendResult", "TemporaryFailure",
    "FileEmailChannel", "FileSmsChannel", "HttpSmsChannel", "SmtpEmailChannel", "build_channels",
]
