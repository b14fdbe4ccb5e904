"""The one interface every delivery channel implements, and the two ways a send can fail.

TemporaryFailure means "try again later" (provider busy, network down, 4xx SMTP answer);
PermanentFailure means "this message will never go" (refused number, unknown mailbox, bad
request). The retry schedule (domain/retry.py) acts on the difference.
"""
from dataclasses import dataclass, field


@dataclass(frozen=True)
class OutgoingMessage:
    channel: str  # "sms" | "email"
    recipient: str  # phone number or email address
    subject: str | None
    body: str
    template: str
    notification_id: str
    # Template values for SMS gateways that fill in their own approved templates (strings only).
    params: dict = field(default_factory=dict)


@dataclass(frozen=True)
class SendResult:
    provider_message_id: str
    provider_answer: str


class DeliveryFailure(Exception):
    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


class TemporaryFailure(DeliveryFailure):
    pass


class PermanentFailure(DeliveryFailure):
    pass


class Channel:
    name = ""
    # Sends of a channel that waits on the network overlap (a green pool); the file channels
    # write at once and are sent one after the other, without a green thread each.
    waits_on_network = True

    def send(self, message: OutgoingMessage) -> SendResult:
        raise NotImplementedError
