"""SMS written to a JSON-lines file (development, demos): a person can read what would be sent."""
import fcntl
import json
import os
import uuid
from pathlib import Path

from services.common import clock

from .base import Channel, SendResult


class FileSmsChannel(Channel):
    name = "sms"
    waits_on_network = False

    def __init__(self, path):
        self.path = Path(path)

    def send(self, message):
        message_id = uuid.uuid4().hex
        line = json.dumps({
            "id": message_id,
            "to": message.recipient,
            "body": message.body,
            "template": message.template,
            "at": clock.iso(clock.now()),
            "notification_id": message.notification_id,
        }, ensure_ascii=False) + "\n"
        try:
            append_line(self.path, line.encode("utf-8"))
        except FileNotFoundError:  # the directory is made when missing, not checked on every send
            self.path.parent.mkdir(parents=True, exist_ok=True)
            append_line(self.path, line.encode("utf-8"))
        return SendResult(provider_message_id=message_id, provider_answer=f"已写入 {self.path}")


def append_line(path, data):
    """Append one whole line even with other processes appending to the same file.

    O_APPEND puts each write at the end; the exclusive flock keeps a long line from being
    interleaved with another writer's when the kernel splits the write.
    """
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
