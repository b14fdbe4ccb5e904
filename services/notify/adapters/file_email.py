"""Email written as `.eml` files (development, demos): open them in any mail reader."""
import os
import re
import tempfile
from pathlib import Path

from .base import Channel, SendResult
from .email_message import DEFAULT_SENDER, email_bytes

_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]")


class FileEmailChannel(Channel):
    name = "email"
    waits_on_network = False

    def __init__(self, directory, sender=DEFAULT_SENDER):
        self.directory = Path(directory)
        self.sender = sender

    def send(self, message):
        data, message_id = email_bytes(message, self.sender)
        self.directory.mkdir(parents=True, exist_ok=True)
        # One file per notification: a retried send replaces it instead of adding a copy.
        path = self.directory / f"{_UNSAFE_NAME.sub('_', str(message.notification_id))}.eml"
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, path)  # readers never see half a message
        except BaseException:
            os.unlink(tmp)
            raise
        return SendResult(provider_message_id=message_id, provider_answer=f"已写入 {path}")
