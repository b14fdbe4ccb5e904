"""In-memory twins of services/notify/repository.py, behind the same methods, for unit tests of
the notify service layer; and channels that answer from a script."""
import copy
from dataclasses import dataclass, field
from datetime import datetime
from types import SimpleNamespace

from services.notify.adapters import SendResult
from services.notify.domain.delivery import FINAL_STATES, State, mask_recipient
from services.notify.domain.records import AlreadyRecorded, Listed, Queued, Stored
from tests.support.fakes import FakeUnitOfWork


def fake_db():
    """What the Notifier takes as `db`: `uow()` gives the one fake unit of work (`db.uow.…` to look in)."""
    uow = FakeUnitOfWork(notifications=FakeNotifications(), application_attempts=FakeApplicationAttempts(),
                         account_phones=FakeAccountPhones())
    return SimpleNamespace(uow=uow)


class FakeChannel:
    """Answers from a script (the last answer forever): "ok", or a failure to raise."""

    def __init__(self, *answers):
        self.answers = list(answers) or ["ok"]
        self.sent = []

    def send(self, message):
        self.sent.append(message)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if answer == "ok":
            return SendResult(provider_message_id=f"p-{len(self.sent)}", provider_answer="OK")
        raise answer


@dataclass
class _Message:
    content: object  # the Prepared it was stored from
    delivery: object
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None = None
    provider_message_id: str | None = None
    attempts: list = field(default_factory=list)


class FakeNotifications:
    def __init__(self):
        self.stored = {}  # id → _Message, in the order added

    def state(self, notification_id):
        return self.stored[notification_id].delivery.state.value

    def by_key(self, dedupe_key):
        found = next((m for m in self.stored.values() if m.content.dedupe_key == dedupe_key), None)
        return None if found is None else (found.content.id, found.delivery.state.value)

    def stored_keys(self, dedupe_keys):
        keys = {m.content.dedupe_key for m in self.stored.values()}
        return {key for key in dedupe_keys if key in keys}

    def get(self, notification_id):
        m = self.stored.get(str(notification_id))
        if m is None:
            return None
        c = m.content
        return Stored(id=c.id, kind=c.kind, channel=c.channel, recipient=c.recipient, subject=c.subject,
                      body=c.body, params=dict(c.params), template=c.template, template_version=c.version,
                      state=m.delivery.state.value, cause_event_id=c.cause_event_id,
                      cause_event_type=c.cause_event_type)

    def resend_states(self, notification_id):
        return [m.delivery.state.value for m in self.stored.values() if m.content.resend_of == notification_id]

    def listed(self, states, limit):
        found = [m for m in self.stored.values() if m.delivery.state.value in states]
        found.sort(key=lambda m: (-m.created_at.timestamp(), m.content.id))
        return [self._listed(m) for m in found[:limit]]

    def backlog(self):
        retrying, held = {}, {}
        for m in self.stored.values():
            if m.delivery.state is State.QUEUED:
                counts = retrying if m.delivery.attempts else held
                counts[m.content.channel] = counts.get(m.content.channel, 0) + 1
        return retrying, held

    def due(self, now, limit):
        found = sorted((m for m in self.stored.values()
                        if m.delivery.state is State.QUEUED and m.delivery.not_before <= now),
                       key=lambda m: m.delivery.not_before)[:limit]
        return [Queued(copy.deepcopy(m.delivery), m.content.kind, m.content.subject, m.content.body,
                       dict(m.content.params)) for m in found]

    def sending_since(self, before):
        return [copy.deepcopy(m.delivery) for m in self.stored.values()
                if m.delivery.state is State.SENDING and m.updated_at < before]

    def for_update(self, recipients):
        return {i: copy.deepcopy(self.stored[i].delivery) for i in recipients if i in self.stored}

    def add(self, messages, now):
        keys = {m.content.dedupe_key for m in self.stored.values()}
        if any(p.dedupe_key in keys for p, _ in messages):
            raise AlreadyRecorded()
        for p, delivery in messages:
            self.stored[p.id] = _Message(copy.deepcopy(p), None, now, now)
            self.save(delivery, now)

    def save_answers(self, answered):
        for delivery, now in answered:
            self.save(delivery, now)

    def save(self, delivery, now):
        m = self.stored[delivery.notification_id]
        m.delivery, m.updated_at = copy.deepcopy(delivery), now
        if delivery.state in FINAL_STATES:
            m.finished_at = now
        if delivery.state is State.DELIVERED:
            m.provider_message_id = delivery.attempts[-1].provider_message_id

    def _listed(self, m):
        c, d = m.content, m.delivery
        return Listed(
            id=c.id, kind=c.kind, channel=c.channel, template=c.template, template_version=c.version,
            recipient_masked=mask_recipient(c.channel, c.recipient), subject=c.subject, state=d.state.value,
            attempts=len(d.attempts), next_attempt_at=d.not_before, release_at=c.release_at,
            expires_at=c.expires_at, cause_event_id=c.cause_event_id, cause_event_type=c.cause_event_type,
            resend_of=c.resend_of, provider_message_id=m.provider_message_id, failure_reason=d.failure_reason,
            created_at=m.created_at, updated_at=m.updated_at, finished_at=m.finished_at,
            delivery_attempts=list(d.attempts))


class FakeApplicationAttempts:
    def __init__(self):
        self.latest_seen = {}

    def load(self, application_ids):
        list(application_ids)

    def latest(self, application_id):
        return self.latest_seen.get(application_id)

    def remember(self, application_id, attempt, now):
        if attempt > self.latest_seen.get(application_id, 0):
            self.latest_seen[application_id] = attempt


class FakeAccountPhones:
    def __init__(self):
        self.kept = {}  # account id → phone

    def phones(self, account_ids):
        return {a: self.kept[a] for a in set(account_ids) if a in self.kept}

    def keep(self, phones, now):
        self.kept.update(phones)
