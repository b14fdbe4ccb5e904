"""Email written as `.eml` files (development, demos): open them in any mail reader."""
import os
import re
from pathlib import Path

from .base import Channel, SendResult
from .email_message import DEFAULT_SENDER, email_bytes

_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]")
_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)


class FileEmailChannel(Channel):
    name = "email"
    waits_on_network = False

    def __init__(self, directory, sender=DEFAULT_SENDER):
        self.directory = Path(directory)
        self.sender = sender

    def send(self, message):
        data, message_id = email_bytes(message, self.sender)
        # One file per notification: a retried send replaces it instead of adding a copy.
        name = _UNSAFE_NAME.sub("_", str(message.notification_id))
        path = self.directory / f"{name}.eml"
        # A temporary name of our own (what mkstemp does, without its Python overhead): unique by
        # the random part, O_EXCL refuses a clash; the directory made only when it is missing.
        tmp = self.directory / f".{name}.{os.urandom(6).hex()}.tmp"
        try:
            fd = os.open(tmp, _NEW_FILE, 0o600)
        except FileNotFoundError:
            self.directory.mkdir(parents=True, exist_ok=True)
            fd = os.open(tmp, _NEW_FILE, 0o600)
        try:
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view):]
            finally:
                os.close(fd)
            os.replace(tmp, path)  # readers never see half a message
        except BaseException:
            os.unlink(tmp)
            raise
        return SendResult(provider_message_id=message_id, provider_answer=f"已写入 {path}")
