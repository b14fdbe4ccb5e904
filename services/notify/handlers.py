"""The notify service layer: one method per command and event, no nameko, no SQL: data only through
the unit of work's repositories (`uow.notifications`, `uow.application_attempts` — repository.py),
so unit tests run it on a fake unit of work. A class rather than plain functions because a message
takes two units of work with the send between them, and concurrent workers' writes are grouped.

Every message goes the same way:
1. a unit of work records it (`notifications`, unique `dedupe_key`) and, when it is due now,
   claims it at once (state sending, a `delivery_attempts` row);
2. the channel sends it, outside any unit of work (network and file I/O);
3. a second unit of work records the answer and, once the message is final, publishes
   `NotificationDelivered` / `NotificationFailed` through the outbox.
Messages held by quiet hours or waiting for a retry are claimed by `process_due` (the timer), which
also takes back messages left in `sending` by a process that died mid-send (`sending_lease`).
"""
import logging
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from services.common import clock
from services.contracts import notifications as labels
from services.contracts.errors import Conflict, NotFound, ValidationFailed
from services.contracts.events import new_event

from . import metrics
from .adapters import DeliveryFailure, OutgoingMessage, PermanentFailure, TemporaryFailure
from .domain import triggers
from .domain.delivery import Delivery, Outcome, State, dedupe_key
from .domain.quiet_hours import QuietHoursPolicy, release_time
from .domain.records import AlreadyRecorded
from .domain.retry import RetryPolicy
from .group_commit import write_alone

log = logging.getLogger(__name__)

STATES = tuple(state.value for state in State)
NEEDS_ATTENTION = (State.QUEUED.value, State.SENDING.value, State.FAILED.value)
INTERRUPTED = "发送中断，结果未知（服务在发送时停止），将重试"
CODE = "notifications.code"  # context of an SMS code's blind index (the dedupe key of send_code)


@dataclass(frozen=True)
class Settings:
    quiet_hours: QuietHoursPolicy = QuietHoursPolicy()
    retry: RetryPolicy = RetryPolicy()
    sending_lease: timedelta = timedelta(seconds=120)  # longer than any channel timeout
    batch: int = 200  # messages claimed per round of process_due
    concurrency: int = 10  # sends in flight per worker
    rpc_timeout: float = 15.0  # seconds for contact_of calls

    @classmethod
    def from_config(cls, config):
        return cls(
            quiet_hours=QuietHoursPolicy.from_config(config),
            retry=RetryPolicy.from_config(config),
            sending_lease=timedelta(seconds=float(config.get("NOTIFY_SENDING_LEASE_SECONDS") or 120)),
            batch=int(config.get("NOTIFY_BATCH") or 200),
            concurrency=int(config.get("NOTIFY_SEND_CONCURRENCY") or 10),
            rpc_timeout=float(config.get("RPC_TIMEOUT") or 15),
        )


@dataclass(frozen=True)
class Prepared:
    """A rendered, not yet stored message."""
    id: str
    dedupe_key: str
    kind: str
    channel: str
    recipient: str
    subject: str | None
    body: str
    params: dict
    template: str
    version: int
    release_at: datetime
    expires_at: datetime | None = None
    cause_event_id: str | None = None
    cause_event_type: str | None = None
    resend_of: str | None = None


@dataclass(frozen=True)
class Claim:
    """A message this worker sends now: the row is `sending` with attempt `number` open."""
    notification_id: str
    channel: str
    kind: str
    recipient: str
    subject: str | None
    body: str
    params: dict
    number: int


@dataclass(frozen=True)
class Sent:
    claim: Claim
    finished_at: datetime
    provider_message_id: str | None = None
    provider_answer: str | None = None
    failure: DeliveryFailure | None = None


def parse_time(value, field):
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            value = None
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise ValidationFailed("时间格式有误", details={field: ["请提供带时区的 ISO 8601 时间"]})
    return value


@dataclass(frozen=True)
class EventWork:
    """An event's messages, rendered, waiting for the unit of work that records them."""
    event: dict
    consumer: str
    prepared: list
    check: object  # (uow, now) -> bool, or None
    now: datetime
    phones: dict = field(default_factory=dict)  # account id → phone identity gave: kept with the event


@dataclass(frozen=True)
class Look:
    """Read before the contact look-ups: was the event handled (key: consumer, source, event id), and
    the phone kept for the account."""
    key: tuple | None
    account_id: str | None


class Notifier:
    def __init__(self, db, cipher, templates, channels, settings=Settings(), parallel_map=map,
                 store_group=write_alone, record_group=write_alone, check_group=write_alone):
        self.db = db
        self.cipher = cipher
        self.templates = templates
        self.channels = channels
        self.settings = settings
        self.parallel_map = parallel_map  # the service hands a green pool's imap
        # (write_many, item) -> result: the service groups concurrent workers' writes into one
        # transaction (services.notify.group_commit); alone by default
        self.store_group = store_group
        self.record_group = record_group
        self.check_group = check_group

    # --- commands ---------------------------------------------------------------------------
    def send_code(self, phone, code, purpose, expires_at):
        """Record and send an SMS code at once; {"notification_id", "state"}.

        The same (phone, code, purpose, expiry) asked twice is one message (a retried RPC).
        """
        now = clock.now()
        expires = parse_time(expires_at, "expires_at")
        intent = triggers.verification_code(phone, code, purpose, expires, now)
        instant = expires.astimezone(timezone.utc).isoformat()
        cause = "code:" + self.cipher.blind_index(f"{purpose}|{code}|{instant}", CODE)
        prepared = self._prepare(intent, cause, now, expires_at=expires)
        try:
            with self.db.uow() as uow:
                existing = uow.notifications.by_key(prepared.dedupe_key)
                if existing is not None:
                    return {"notification_id": existing[0], "state": existing[1]}
                [(delivery, claim, finished)] = self._insert(uow, [prepared], now)
                state = delivery.state.value
        except AlreadyRecorded:  # the same code asked twice at the same moment
            with self.db.uow() as uow:
                existing = uow.notifications.by_key(prepared.dedupe_key)
            if existing is None:
                raise
            return {"notification_id": existing[0], "state": existing[1]}
        _count(finished)
        if claim is not None:
            state = self.deliver([claim]).get(claim.notification_id, State.SENDING.value)
        return {"notification_id": prepared.id, "state": state}

    def list_notifications(self, state=None, limit=100):
        """Newest first, masked. state None: what needs attention (queued, sending, failed)."""
        if state is not None and state not in STATES:
            raise ValidationFailed("通知状态有误", details={"state": [f"应为 {'/'.join(STATES)} 之一"]})
        try:
            limit = int(limit)
        except (TypeError, ValueError):
            limit = 0
        if not 1 <= limit <= 1000:
            raise ValidationFailed("条数有误", details={"limit": ["应为1到1000之间的整数"]})
        states = (state,) if state else NEEDS_ATTENTION
        with self.db.uow() as uow:
            return [_view(listed) for listed in uow.notifications.listed(states, limit)]

    def resend(self, notification_id):
        """A new message with the same text to the same recipient, linked by `resend_of`.

        SMS codes are never resent (the applicant asks for a new one). Refused while the
        message itself, or an earlier resend of it, is still queued or sending (a second click).
        """
        now = clock.now()
        try:
            with self.db.uow() as uow:
                old = uow.notifications.get(notification_id)
                if old is None:
                    raise NotFound("没有这条通知记录，请刷新列表后重试", code="notification_not_found")
                if old.kind == "verification_code":
                    raise Conflict("验证码不重发：请让申请人重新获取验证码", code="code_not_resendable")
                if old.state in (State.QUEUED.value, State.SENDING.value):
                    raise Conflict("这条通知还在发送队列中，无需重发", code="notification_pending")
                earlier = uow.notifications.resend_states(old.id)
                if any(s in (State.QUEUED.value, State.SENDING.value) for s in earlier):
                    raise Conflict("这条通知已重新发送，正在发送中", code="resend_pending")
                prepared = Prepared(
                    id=str(uuid.uuid4()),
                    dedupe_key=dedupe_key(f"resend:{old.id}:{len(earlier) + 1}", old.channel, old.recipient),
                    kind=old.kind, channel=old.channel, recipient=old.recipient, subject=old.subject,
                    body=old.body, params=old.params, template=old.template, version=old.template_version,
                    release_at=release_time(old.kind, now, self.settings.quiet_hours),
                    cause_event_id=old.cause_event_id, cause_event_type=old.cause_event_type, resend_of=old.id)
                [(delivery, claim, finished)] = self._insert(uow, [prepared], now)
                state = delivery.state.value
        except AlreadyRecorded:
            raise Conflict("这条通知已重新发送，正在发送中", code="resend_pending") from None
        _count(finished)
        if claim is not None:
            state = self.deliver([claim]).get(claim.notification_id, State.SENDING.value)
        return {"notification_id": prepared.id, "resend_of": prepared.resend_of, "state": state}

    # --- events -----------------------------------------------------------------------------
    def already_handled(self, event, consumer):
        """True when this consumer processed the event before: skip the contact look-ups."""
        return self.look(event, consumer)[0]

    def look(self, event=None, consumer=None, account_id=None):
        """(event processed before by this consumer?, the account's kept phone or None), in one read
        shared with concurrent workers."""
        key = (consumer, event["source"], event["id"]) if event is not None else None
        return self.check_group(self._look_many, Look(key, account_id))

    def _look_many(self, looks):
        """[(handled, phone)] for several Looks: one query per (consumer, source), one for the phones."""
        with self.db.uow() as uow:
            done = uow.seen_before(look.key for look in looks if look.key is not None)
            phones = uow.account_phones.phones(look.account_id for look in looks if look.account_id)
        return [(look.key in done, phones.get(look.account_id)) for look in looks]

    def account_registered(self, event, consumer, phone):
        """The welcome SMS; the phone identity gave is kept for the account's later events."""
        learned = {event["data"]["account_id"]: phone} if phone else None
        return self._on_event(event, consumer, triggers.account_registered(event["data"], phone), learned=learned)

    def application_submitted(self, event, consumer, phone, email, learned=None):
        data = event["data"]

        def remember_attempt(uow, now):
            uow.application_attempts.remember(data["application_id"], data["attempt"], now)
            return True

        return self._on_event(event, consumer, triggers.submission_receipt(data, phone, email), remember_attempt,
                              learned)

    def review_completed(self, event, consumer, phone, email, resubmit_until, learned=None):
        data = event["data"]

        def still_current(uow, now):
            seen = uow.application_attempts.latest(data["application_id"])
            if seen is not None and seen > data["attempt"]:
                log.info("ReviewCompleted %s for attempt %s of %s ignored: attempt %s was submitted since",
                         event["id"], data["attempt"], data["application_id"], seen)
                return False
            return True

        return self._on_event(event, consumer, triggers.rejected(data, phone, email, resubmit_until),
                              still_current, learned)

    def registration_completed(self, event, consumer, phone, email, learned=None):
        return self._on_event(event, consumer, triggers.approved(event["data"], phone, email), learned=learned)

    def certificate_dispatched(self, event, consumer, phone, email, learned=None):
        return self._on_event(event, consumer, triggers.dispatched(event["data"], phone, email), learned=learned)

    def _on_event(self, event, consumer, intents, check=None, learned=None):
        """Record the event's messages once (whatever the redeliveries), then send those due now;
        `learned` ({account id: phone} identity just gave) is kept in the same unit of work.
        Returns the ids of the notifications created."""
        now = clock.now()
        prepared = [self._prepare(intent, event["id"], now, cause_event_id=event["id"],
                                  cause_event_type=event["type"]) for intent in intents]
        work = EventWork(event, consumer, prepared, check, now, dict(learned or {}))
        created, claims = self.store_group(self._store_events, work)
        self.deliver(claims)
        return created

    def _store_events(self, works):
        """Record the messages of several events in one unit of work: [(created ids, claims)] per event.

        Each event once per consumer (processed_events), each message once (dedupe_key); a repeat
        inside the group or one recorded before creates nothing. A concurrent copy recording the
        same event makes the insert fail: the group commit then writes each event alone, where
        `first_time` sorts it out.
        """
        if len(works) == 1:
            return [self._store_event(works[0])]
        now = clock.now()
        answers, finished = [], []
        with self.db.uow() as uow:
            seen = uow.seen_before((w.consumer, w.event["source"], w.event["id"]) for w in works)
            uow.application_attempts.load(w.event["data"]["application_id"] for w in works
                                          if "application_id" in w.event["data"])
            stored = uow.notifications.stored_keys(p.dedupe_key for w in works for p in w.prepared)
            marks, todo, learned = [], [], {}
            for work in works:
                key = (work.consumer, work.event["source"], work.event["id"])
                if key in seen:
                    answers.append(([], []))
                    continue
                seen.add(key)
                marks.append(key)
                learned.update(work.phones)
                if work.check is not None and not work.check(uow, now):
                    answers.append(([], []))
                    continue
                fresh = [p for p in work.prepared if p.dedupe_key not in stored]
                stored.update(p.dedupe_key for p in fresh)
                answers.append(len(todo))
                todo.append(fresh)
            uow.mark_processed(marks)
            uow.account_phones.keep(learned, now)
            inserted = self._insert(uow, [p for fresh in todo for p in fresh], now)
        results, position = [], 0
        for answer in answers:
            if isinstance(answer, tuple):
                results.append(answer)
                continue
            fresh = todo[answer]
            mine = inserted[position:position + len(fresh)]
            position += len(fresh)
            results.append(([d.notification_id for d, _, _ in mine], [c for _, c, _ in mine if c is not None]))
            finished += [done for _, _, dones in mine for done in dones]
        _count(finished)
        return results

    def _store_event(self, work):
        claims, finished, created = [], [], []
        with self.db.uow() as uow:
            if not uow.first_time(work.event, work.consumer):
                return [], []
            uow.account_phones.keep(work.phones, work.now)
            if work.check is not None and not work.check(uow, work.now):
                return [], []
            stored = uow.notifications.stored_keys(p.dedupe_key for p in work.prepared)
            fresh = [p for p in work.prepared if p.dedupe_key not in stored]
            for delivery, claim, done in self._insert(uow, fresh, work.now):
                created.append(delivery.notification_id)
                finished += done
                if claim is not None:
                    claims.append(claim)
        _count(finished)
        return created, claims

    # --- the timer --------------------------------------------------------------------------
    def process_due(self):
        """Take back interrupted sends, send what is due (quiet hours over, retry time reached).
        Returns how many messages were sent (or attempted)."""
        now = clock.now()
        self._recover_interrupted(now)
        total = 0
        while True:
            claims = self._claim_due(now)
            self.deliver(claims)
            total += len(claims)
            if len(claims) < self.settings.batch:
                break
        self.update_backlog()
        return total

    def update_backlog(self):
        with self.db.uow() as uow:
            retrying, held = uow.notifications.backlog()
        metrics.backlog(retrying, held)

    def _recover_interrupted(self, now):
        finished = []
        with self.db.uow() as uow:
            for delivery in uow.notifications.sending_since(now - self.settings.sending_lease):
                log.warning("notification %s was left sending (attempt %s); taking it back",
                            delivery.notification_id, len(delivery.attempts))
                delivery.failed(now, INTERRUPTED, permanent=False, policy=self.settings.retry)
                uow.notifications.save(delivery, now)
                finished += self._publish_outcome(uow, delivery)
        _count(finished)

    def _claim_due(self, now):
        claims, finished = [], []
        with self.db.uow() as uow:
            for due in uow.notifications.due(now, self.settings.batch):
                claim, done = self._start(uow, due.delivery, now, due.kind, due.subject, due.body, due.params)
                uow.notifications.save(due.delivery, now)
                finished += done
                if claim is not None:
                    claims.append(claim)
        _count(finished)
        return claims

    # --- sending and recording ----------------------------------------------------------------
    def deliver(self, claims):
        """Send claimed messages (outside any unit of work), then record every answer in one.
        Returns {notification_id: state after recording}."""
        if not claims:
            return {}
        at_once, overlapping = [], []
        for claim in claims:
            (overlapping if getattr(self.channels[claim.channel], "waits_on_network", True) else at_once).append(claim)
        sent = [self._send(claim) for claim in at_once]
        if overlapping:
            sent += self.parallel_map(self._send, overlapping)
        return self.record_group(self._record_many, sent)

    def _record_many(self, groups):
        """Several workers' answers in one unit of work; each gets the states of all."""
        states = self._record([sent for group in groups for sent in group])
        return [states] * len(groups)

    def _send(self, claim):
        message = OutgoingMessage(channel=claim.channel, recipient=claim.recipient, subject=claim.subject,
                                  body=claim.body, template=claim.kind, notification_id=claim.notification_id,
                                  params=claim.params)
        started = time.perf_counter()
        try:
            result = self.channels[claim.channel].send(message)
        except DeliveryFailure as exc:
            outcome = Outcome.PERMANENT if isinstance(exc, PermanentFailure) else Outcome.TEMPORARY
            metrics.attempt(claim.channel, outcome.value, time.perf_counter() - started)
            return Sent(claim, clock.now(), failure=exc)
        except Exception as exc:  # noqa: BLE001 — a channel bug must not lose the message: retry it
            log.exception("channel %s raised %s for notification %s", claim.channel, type(exc).__name__,
                          claim.notification_id)
            metrics.attempt(claim.channel, Outcome.TEMPORARY.value, time.perf_counter() - started)
            return Sent(claim, clock.now(), failure=TemporaryFailure(f"发送时出错：{type(exc).__name__}"))
        metrics.attempt(claim.channel, Outcome.DELIVERED.value, time.perf_counter() - started)
        return Sent(claim, clock.now(), result.provider_message_id, result.provider_answer)

    def _record(self, results):
        states, finished, outcomes, answered = {}, [], [], []
        with self.db.uow() as uow:
            deliveries = uow.notifications.for_update({r.claim.notification_id: r.claim.recipient for r in results})
            for sent in results:
                claim = sent.claim
                delivery = deliveries.get(claim.notification_id)
                if delivery is None or delivery.state is not State.SENDING or len(delivery.attempts) != claim.number:
                    # Taken back as interrupted meanwhile (a send slower than the lease): that
                    # attempt is already closed; this answer is only logged.
                    log.warning("answer for notification %s attempt %s came after it was taken back: %s",
                                claim.notification_id, claim.number,
                                sent.provider_answer or (sent.failure and sent.failure.reason))
                    continue
                if sent.failure is None:
                    delivery.delivered(sent.finished_at, sent.provider_message_id, sent.provider_answer)
                else:
                    delivery.failed(sent.finished_at, sent.failure.reason,
                                    permanent=isinstance(sent.failure, PermanentFailure),
                                    policy=self.settings.retry)
                answered.append((delivery, sent.finished_at))
                finished += self._publish_outcome(uow, delivery, outcomes)
                states[delivery.notification_id] = delivery.state.value
            uow.notifications.save_answers(answered)
            uow.publish_many(outcomes)
        _count(finished)
        return states

    # --- prepared messages → stored deliveries ---------------------------------------------------
    def _prepare(self, intent, cause, now, expires_at=None, cause_event_id=None, cause_event_type=None):
        message = self.templates.render(intent.kind, intent.channel, intent.context)
        spec = self.templates.spec(intent.kind, intent.channel)
        return Prepared(
            id=str(uuid.uuid4()), dedupe_key=dedupe_key(cause, intent.channel, intent.recipient),
            kind=intent.kind, channel=intent.channel, recipient=intent.recipient, subject=message.subject,
            body=message.body, params=triggers.gateway_params(spec.placeholders, intent.context),
            template=spec.file_name, version=spec.version,
            release_at=release_time(intent.kind, now, self.settings.quiet_hours), expires_at=expires_at,
            cause_event_id=cause_event_id, cause_event_type=cause_event_type)

    def _insert(self, uow, prepared, now):
        """Store prepared messages, each claimed at once when due now: [(Delivery, claim or None, finished)]."""
        out = []
        for p in prepared:
            delivery = Delivery(notification_id=p.id, channel=p.channel, recipient=p.recipient, template=p.kind,
                                version=p.version, cause_event_id=p.cause_event_id, not_before=p.release_at,
                                expires_at=p.expires_at)
            claim, finished = None, []
            if delivery.is_due(now):
                claim, finished = self._start(uow, delivery, now, p.kind, p.subject, p.body, p.params)
            out.append((delivery, claim, finished))
        uow.notifications.add([(p, delivery) for p, (delivery, _, _) in zip(prepared, out, strict=True)], now)
        return out

    def _start(self, uow, delivery, now, kind, subject, body, params):
        """queued → sending, with the claim to send it; an expired code fails instead (no claim).
        The caller stores the delivery."""
        if not delivery.start(now):  # a code that expired while it waited: failed, never sent
            return None, self._publish_outcome(uow, delivery)
        return Claim(delivery.notification_id, delivery.channel, kind, delivery.recipient, subject, body, params,
                     len(delivery.attempts)), []

    def _publish_outcome(self, uow, delivery, pending=None):
        """The final outcome's event into the outbox, or into `pending` for `_publish_all`."""
        outcome = delivery.outcome_event()
        if outcome is None:
            return []
        event_type, data = outcome
        event = new_event(event_type, delivery.notification_id, data)
        if pending is None:
            uow.publish(event)
        else:
            pending.append(event)
        return [(delivery.channel, delivery.state.value)]


def _count(finished):
    """Metrics after the commit that made them true."""
    for channel, state in finished:
        metrics.finished(channel, state)


def _iso(value):
    return clock.iso(value) if value is not None else None


def _view(listed):
    """What staff see: masked recipient, never the text (it may hold a code or a name)."""
    return {
        "id": listed.id, "kind": listed.kind, "channel": listed.channel, "template": listed.template,
        "kind_label": labels.KIND_LABELS.get(listed.kind, listed.kind),
        "channel_label": labels.CHANNEL_LABELS.get(listed.channel, listed.channel),
        "state_label": labels.STATE_LABELS.get(listed.state, listed.state),
        "template_version": listed.template_version, "recipient_masked": listed.recipient_masked,
        "subject": listed.subject, "state": listed.state, "attempts": listed.attempts,
        "next_attempt_at": _iso(listed.next_attempt_at) if listed.state == State.QUEUED.value else None,
        "release_at": _iso(listed.release_at), "expires_at": _iso(listed.expires_at),
        "cause_event_id": listed.cause_event_id, "cause_event_type": listed.cause_event_type,
        "resend_of": listed.resend_of, "provider_message_id": listed.provider_message_id,
        "failure_reason": listed.failure_reason, "created_at": _iso(listed.created_at),
        "updated_at": _iso(listed.updated_at), "finished_at": _iso(listed.finished_at),
        "delivery_attempts": [{
            "number": a.number, "started_at": _iso(a.started_at), "finished_at": _iso(a.finished_at),
            "outcome": a.outcome.value if a.outcome else None, "provider_answer": a.provider_answer,
            "provider_message_id": a.provider_message_id} for a in listed.delivery_attempts],
    }
