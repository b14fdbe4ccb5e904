"""The delivery record of one message: queued → sending → delivered | failed.

A temporary failure puts the record back to queued with a later `not_before`; a permanent one,
an exhausted retry budget or an expired code ends it as failed. Every attempt is kept with the
provider's answer, so staff can see why a message did not arrive.
"""
import hashlib
import json
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum

from services.common.masking import mask_email, mask_phone
from services.contracts.errors import Conflict

from .retry import RetryPolicy, next_attempt_at


class State(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    DELIVERED = "delivered"
    FAILED = "failed"


FINAL_STATES = frozenset({State.DELIVERED, State.FAILED})


class Outcome(StrEnum):
    DELIVERED = "delivered"
    TEMPORARY = "temporary"
    PERMANENT = "permanent"
    EXPIRED = "expired"


class InvalidTransition(Conflict):
    code = "notification_state_conflict"


def normalise_recipient(channel, recipient):
    recipient = "".join(str(recipient).split())
    if channel == "email":
        return recipient.lower()
    if channel == "sms":
        digits = recipient.replace("-", "")
        return digits[3:] if digits.startswith("+86") else digits
    return recipient


def dedupe_key(cause_event_id, channel, recipient):
    """One message per (cause event, channel, recipient): the unique key of the notifications table.

    Hashed so the key has a fixed length for the index; JSON keeps the parts from running into
    each other ("a|b", "c" vs "a", "b|c").
    """
    if not cause_event_id or not channel or not recipient:
        raise ValueError("dedupe_key needs a cause event id, a channel and a recipient")
    parts = [str(cause_event_id), channel, normalise_recipient(channel, recipient)]
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False).encode("utf-8")).hexdigest()


def mask_recipient(channel, recipient):
    return mask_email(recipient) if channel == "email" else mask_phone(recipient)


@dataclass(frozen=True)
class Attempt:
    number: int
    started_at: datetime
    finished_at: datetime | None = None
    outcome: Outcome | None = None
    provider_answer: str | None = None
    provider_message_id: str | None = None


@dataclass
class Delivery:
    notification_id: str
    channel: str
    recipient: str
    template: str
    version: int
    cause_event_id: str
    not_before: datetime  # from quiet hours first, then from the retry schedule
    expires_at: datetime | None = None  # SMS codes only
    state: State = State.QUEUED
    attempts: list[Attempt] = field(default_factory=list)
    failure_reason: str | None = None

    @property
    def dedupe_key(self):
        return dedupe_key(self.cause_event_id, self.channel, self.recipient)

    def is_due(self, now):
        return self.state is State.QUEUED and now >= self.not_before

    def _require(self, state, action):
        if self.state is not state:
            raise InvalidTransition(f"通知 {self.notification_id} 当前状态为 {self.state.value}，不能{action}")

    def start(self, now):
        """queued → sending. False when the message expired first: it is then failed, not sent."""
        self._require(State.QUEUED, "开始发送")
        if now < self.not_before:
            raise InvalidTransition(f"通知 {self.notification_id} 要到 {self.not_before.isoformat()} 才能发送")
        if self.expires_at is not None and now >= self.expires_at:
            self._finish_failed("已过期，未发送")
            return False
        self.state = State.SENDING
        self.attempts.append(Attempt(number=len(self.attempts) + 1, started_at=now))
        return True

    def _close_attempt(self, now, outcome, answer, message_id=None):
        self.attempts[-1] = replace(self.attempts[-1], finished_at=now, outcome=outcome,
                                    provider_answer=answer, provider_message_id=message_id)

    def _finish_failed(self, reason):
        self.state = State.FAILED
        self.failure_reason = reason

    def delivered(self, now, provider_message_id, provider_answer):
        """sending → delivered: the provider accepted the message."""
        self._require(State.SENDING, "标记为已送达")
        self._close_attempt(now, Outcome.DELIVERED, provider_answer, provider_message_id)
        self.state = State.DELIVERED

    def failed(self, now, reason, permanent, policy=RetryPolicy()):
        """sending → queued (retry later) or failed. Returns the retry time, or None when it gave up."""
        self._require(State.SENDING, "标记为失败")
        self._close_attempt(now, Outcome.PERMANENT if permanent else Outcome.TEMPORARY, reason)
        retry_at = None if permanent else next_attempt_at(len(self.attempts), now, policy, self.expires_at)
        if retry_at is None:
            if permanent:
                self._finish_failed(reason)
            elif len(self.attempts) >= policy.max_attempts:
                self._finish_failed(f"已尝试{len(self.attempts)}次仍失败：{reason}")
            else:
                self._finish_failed(f"有效期内无法再重试：{reason}")
            return None
        self.state = State.QUEUED
        self.not_before = retry_at
        return retry_at

    def outcome_event(self):
        """(event type, data) once the record is final, for notify.events; None before."""
        if self.state not in (State.DELIVERED, State.FAILED):
            return None
        data = {
            "notification_id": self.notification_id,
            "channel": self.channel,
            "template": self.template,
            "recipient_masked": mask_recipient(self.channel, self.recipient),
            "cause_event_id": self.cause_event_id,
            "attempts": len(self.attempts),
        }
        if self.state is State.DELIVERED:
            return "NotificationDelivered", data
        return "NotificationFailed", {**data, "reason": self.failure_reason}
