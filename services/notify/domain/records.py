"""What the notify repository hands the service layer beside the Delivery record itself: a
message's stored content, decrypted, and the line staff see in the list. No rules here."""
from dataclasses import dataclass, field
from datetime import datetime

from .delivery import Attempt, Delivery


@dataclass(frozen=True)
class Queued:
    """A message due to be sent, with the content a send needs."""
    delivery: Delivery
    kind: str
    subject: str | None
    body: str
    params: dict


@dataclass(frozen=True)
class Stored:
    """A stored message whole, for a resend."""
    id: str
    kind: str
    channel: str
    recipient: str
    subject: str | None
    body: str
    params: dict
    template: str
    template_version: int
    state: str
    cause_event_id: str | None
    cause_event_type: str | None


@dataclass(frozen=True)
class Listed:
    """A message as staff see it: masked recipient, never the text."""
    id: str
    kind: str
    channel: str
    template: str
    template_version: int
    recipient_masked: str
    subject: str | None
    state: str
    attempts: int
    next_attempt_at: datetime | None
    release_at: datetime | None
    expires_at: datetime | None
    cause_event_id: str | None
    cause_event_type: str | None
    resend_of: str | None
    provider_message_id: str | None
    failure_reason: str | None
    created_at: datetime | None
    updated_at: datetime | None
    finished_at: datetime | None
    delivery_attempts: list[Attempt] = field(default_factory=list)


class AlreadyRecorded(Exception):
    """A message with the same dedupe key is stored already (a concurrent copy got there first)."""
