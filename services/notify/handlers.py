"""The notify service layer: one method per command and event, no nameko (integration tests and the
bench drive it directly).

Every message goes the same way:
1. a unit of work records it (`notifications`, unique `dedupe_key`) and, when it is due now,
   claims it at once (state sending, a `delivery_attempts` row);
2. the channel sends it, outside any unit of work (network and file I/O);
3. a second unit of work records the answer and, once the message is final, publishes
   `NotificationDelivered` / `NotificationFailed` through the outbox.
Messages held by quiet hours or waiting for a retry are claimed by `process_due` (the timer), which
also takes back messages left in `sending` by a process that died mid-send (`sending_lease`).
"""
import json
import logging
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from services.common import clock
from services.contracts import notifications as labels
from services.contracts.errors import Conflict, NotFound, ValidationFailed
from services.contracts.events import new_event

from . import metrics
from .channels import DeliveryFailure, OutgoingMessage, PermanentFailure, TemporaryFailure
from .domain import triggers
from .domain.delivery import Attempt, Delivery, Outcome, State, dedupe_key, mask_recipient
from .domain.quiet_hours import QuietHoursPolicy, release_time
from .domain.retry import RetryPolicy
from .group_commit import write_alone
from .models import BODY, CODE, PARAMS, RECIPIENT, ApplicationAttempt, DeliveryAttempt, Notification

log = logging.getLogger(__name__)

STATES = tuple(state.value for state in State)
NEEDS_ATTENTION = (State.QUEUED.value, State.SENDING.value, State.FAILED.value)
FINAL = (State.DELIVERED, State.FAILED)
INTERRUPTED = "发送中断，结果未知（服务在发送时停止），将重试"


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
    check: object  # (session, now) -> bool, or None
    now: datetime


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
        """Record and send a verification code at once; {"notification_id", "state"}.

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
                existing = self._by_key(uow.session, prepared.dedupe_key)
                if existing is not None:
                    return {"notification_id": existing.id, "state": existing.state}
                [(row, claim, finished)] = self._insert(uow, [prepared], now)
                state = row.state
        except IntegrityError:  # the same code asked twice at the same moment
            with self.db.uow() as uow:
                existing = self._by_key(uow.session, prepared.dedupe_key)
            if existing is None:
                raise
            return {"notification_id": existing.id, "state": existing.state}
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
            rows = uow.session.scalars(select(Notification).where(Notification.state.in_(states))
                                       .order_by(Notification.created_at.desc(), Notification.id)
                                       .limit(limit)).all()
            attempts = _attempt_rows(uow.session, [row.id for row in rows])
            return [_view(row, attempts.get(row.id, [])) for row in rows]

    def resend(self, notification_id):
        """A new message with the same text to the same recipient, linked by `resend_of`.

        Verification codes are never resent (the applicant asks for a new one). Refused while the
        message itself, or an earlier resend of it, is still queued or sending (a second click).
        """
        now = clock.now()
        try:
            with self.db.uow() as uow:
                session = uow.session
                row = session.get(Notification, str(notification_id))
                if row is None:
                    raise NotFound("没有这条通知记录，请刷新列表后重试", code="notification_not_found")
                if row.kind == "verification_code":
                    raise Conflict("验证码不重发：请让申请人重新获取验证码", code="code_not_resendable")
                if row.state in (State.QUEUED.value, State.SENDING.value):
                    raise Conflict("这条通知还在发送队列中，无需重发", code="notification_pending")
                earlier = session.execute(select(Notification.state).where(Notification.resend_of == row.id)).scalars().all()
                if any(s in (State.QUEUED.value, State.SENDING.value) for s in earlier):
                    raise Conflict("这条通知已重新发送，正在发送中", code="resend_pending")
                recipient = self.cipher.decrypt(row.recipient_enc, RECIPIENT)
                prepared = Prepared(
                    id=str(uuid.uuid4()),
                    dedupe_key=dedupe_key(f"resend:{row.id}:{len(earlier) + 1}", row.channel, recipient),
                    kind=row.kind, channel=row.channel, recipient=recipient, subject=row.subject,
                    body=self.cipher.decrypt(row.body_enc, BODY),
                    params=json.loads(self.cipher.decrypt(row.params_enc, PARAMS)),
                    template=row.template, version=row.template_version,
                    release_at=release_time(row.kind, now, self.settings.quiet_hours),
                    cause_event_id=row.cause_event_id, cause_event_type=row.cause_event_type, resend_of=row.id)
                [(new_row, claim, finished)] = self._insert(uow, [prepared], now)
                state = new_row.state
        except IntegrityError:
            raise Conflict("这条通知已重新发送，正在发送中", code="resend_pending") from None
        _count(finished)
        if claim is not None:
            state = self.deliver([claim]).get(claim.notification_id, State.SENDING.value)
        return {"notification_id": prepared.id, "resend_of": prepared.resend_of, "state": state}

    # --- events -----------------------------------------------------------------------------
    def already_handled(self, event, consumer):
        """True when this consumer processed the event before: skip the contact look-ups."""
        return self.check_group(self._handled_many, (event, consumer))

    def _handled_many(self, asked):
        """[already processed?] for (event, consumer) pairs, one query per (consumer, source)."""
        table = Notification.metadata.tables["processed_events"]
        done = set()
        with self.db.engine.connect() as conn:
            for consumer, source in {(consumer, event["source"]) for event, consumer in asked}:
                ids = [event["id"] for event, c in asked if (c, event["source"]) == (consumer, source)]
                done.update((consumer, source, event_id) for event_id in conn.execute(
                    select(table.c.event_id).where(table.c.consumer == consumer, table.c.source == source,
                                                   table.c.event_id.in_(ids))).scalars())
        return [(consumer, event["source"], event["id"]) in done for event, consumer in asked]

    def account_registered(self, event, consumer, phone):
        return self._on_event(event, consumer, triggers.account_registered(event["data"], phone))

    def application_submitted(self, event, consumer, phone, email):
        data = event["data"]

        def remember_attempt(session, now):
            seen = _application_attempt(session, data["application_id"])
            if seen is None:
                seen = ApplicationAttempt(application_id=data["application_id"], attempt=data["attempt"],
                                          updated_at=now)
                session.add(seen)
                session.info.get("application_attempts", {})[data["application_id"]] = seen
            elif data["attempt"] > seen.attempt:
                seen.attempt, seen.updated_at = data["attempt"], now
            return True

        return self._on_event(event, consumer, triggers.submission_receipt(data, phone, email), remember_attempt)

    def review_completed(self, event, consumer, phone, email, resubmit_until):
        data = event["data"]

        def still_current(session, now):
            seen = _application_attempt(session, data["application_id"])
            if seen is not None and seen.attempt > data["attempt"]:
                log.info("ReviewCompleted %s for attempt %s of %s ignored: attempt %s was submitted since",
                         event["id"], data["attempt"], data["application_id"], seen.attempt)
                return False
            return True

        return self._on_event(event, consumer, triggers.rejected(data, phone, email, resubmit_until),
                              still_current)

    def registration_completed(self, event, consumer, phone, email):
        return self._on_event(event, consumer, triggers.approved(event["data"], phone, email))

    def certificate_dispatched(self, event, consumer, phone, email):
        return self._on_event(event, consumer, triggers.dispatched(event["data"], phone, email))

    def _on_event(self, event, consumer, intents, check=None):
        """Record the event's messages once (whatever the redeliveries), then send those due now.
        Returns the ids of the notifications created."""
        now = clock.now()
        prepared = [self._prepare(intent, event["id"], now, cause_event_id=event["id"],
                                  cause_event_type=event["type"]) for intent in intents]
        created, claims = self.store_group(self._store_events, EventWork(event, consumer, prepared, check, now))
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
        processed = Notification.metadata.tables["processed_events"]
        now = clock.now()
        answers, finished = [], []
        with self.db.uow() as uow:
            session = uow.session
            seen = set()
            for consumer, source in {(w.consumer, w.event["source"]) for w in works}:
                ids = [w.event["id"] for w in works if (w.consumer, w.event["source"]) == (consumer, source)]
                seen.update((consumer, source, event_id) for event_id in session.scalars(
                    select(processed.c.event_id).where(processed.c.consumer == consumer,
                                                       processed.c.source == source,
                                                       processed.c.event_id.in_(ids))))
            applications = {w.event["data"]["application_id"] for w in works if "application_id" in w.event["data"]}
            if applications:
                found = {row.application_id: row for row in session.scalars(
                    select(ApplicationAttempt).where(ApplicationAttempt.application_id.in_(applications)))}
                session.info["application_attempts"] = {a: found.get(a) for a in applications}
            keys = [p.dedupe_key for w in works for p in w.prepared]
            stored = set(session.scalars(select(Notification.dedupe_key).where(Notification.dedupe_key.in_(keys))))
            marks, todo = [], []
            for work in works:
                key = (work.consumer, work.event["source"], work.event["id"])
                if key in seen:
                    answers.append(([], []))
                    continue
                seen.add(key)
                marks.append({"consumer": key[0], "source": key[1], "event_id": key[2], "processed_at": now})
                if work.check is not None and not work.check(session, now):
                    answers.append(([], []))
                    continue
                fresh = [p for p in work.prepared if p.dedupe_key not in stored]
                stored.update(p.dedupe_key for p in fresh)
                answers.append(len(todo))
                todo.append(fresh)
            if marks:
                session.execute(insert(processed), marks)
            inserted = self._insert(uow, [p for fresh in todo for p in fresh], now)
        results, position = [], 0
        for answer in answers:
            if isinstance(answer, tuple):
                results.append(answer)
                continue
            fresh = todo[answer]
            mine = inserted[position:position + len(fresh)]
            position += len(fresh)
            results.append(([row.id for row, _, _ in mine], [claim for _, claim, _ in mine if claim is not None]))
            finished += [done for _, _, dones in mine for done in dones]
        _count(finished)
        return results

    def _store_event(self, work):
        claims, finished, created = [], [], []
        with self.db.uow() as uow:
            if not uow.first_time(work.event, work.consumer):
                return [], []
            if work.check is not None and not work.check(uow.session, work.now):
                return [], []
            fresh = [p for p in work.prepared if self._by_key(uow.session, p.dedupe_key) is None]
            for row, claim, done in self._insert(uow, fresh, work.now):
                created.append(row.id)
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
        with self.db.engine.connect() as conn:
            rows = conn.execute(
                select(Notification.channel, Notification.attempts > 0, func.count())
                .where(Notification.state == State.QUEUED.value)
                .group_by(Notification.channel, Notification.attempts > 0)).all()
        retrying = {channel: n for channel, tried, n in rows if tried}
        held = {channel: n for channel, tried, n in rows if not tried}
        metrics.backlog(retrying, held)

    def _recover_interrupted(self, now):
        finished = []
        with self.db.uow() as uow:
            rows = uow.session.scalars(
                select(Notification).where(Notification.state == State.SENDING.value,
                                           Notification.updated_at < now - self.settings.sending_lease)
                .with_for_update(skip_locked=True)).all()
            attempts = _attempt_rows(uow.session, [row.id for row in rows])
            for row in rows:
                delivery = self._delivery(row, attempts.get(row.id, []))
                log.warning("notification %s was left sending (attempt %s); taking it back", row.id, row.attempts)
                delivery.failed(now, INTERRUPTED, permanent=False, policy=self.settings.retry)
                self._write(uow, row, delivery, now, attempts.get(row.id, []))
                finished += self._publish_outcome(uow, delivery)
        _count(finished)

    def _claim_due(self, now):
        claims, finished = [], []
        with self.db.uow() as uow:
            rows = uow.session.scalars(
                select(Notification).where(Notification.state == State.QUEUED.value,
                                           Notification.next_attempt_at <= now)
                .order_by(Notification.next_attempt_at).limit(self.settings.batch)
                .with_for_update(skip_locked=True)).all()
            attempts = _attempt_rows(uow.session, [row.id for row in rows])
            for row in rows:
                recipient = self.cipher.decrypt(row.recipient_enc, RECIPIENT)
                delivery = self._delivery(row, attempts.get(row.id, []), recipient)
                claim, done = self._start(uow, row, delivery, now, recipient,
                                          self.cipher.decrypt(row.body_enc, BODY),
                                          json.loads(self.cipher.decrypt(row.params_enc, PARAMS)))
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
        return self.record_group(self._record_many, list(self.parallel_map(self._send, claims)))

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
        states, finished, outcomes = {}, [], []
        with self.db.uow() as uow:
            session = uow.session
            ids = [r.claim.notification_id for r in results]
            rows = {row.id: row for row in session.scalars(
                select(Notification).where(Notification.id.in_(ids)).with_for_update())}
            attempts = _attempt_rows(session, ids)
            for sent in results:
                claim = sent.claim
                row = rows.get(claim.notification_id)
                if row is None or row.state != State.SENDING.value or row.attempts != claim.number:
                    # Taken back as interrupted meanwhile (a send slower than the lease): that
                    # attempt is already closed; this answer is only logged.
                    log.warning("answer for notification %s attempt %s came after it was taken back: %s",
                                claim.notification_id, claim.number,
                                sent.provider_answer or (sent.failure and sent.failure.reason))
                    continue
                delivery = self._delivery(row, attempts.get(row.id, []), claim.recipient)
                if sent.failure is None:
                    delivery.delivered(sent.finished_at, sent.provider_message_id, sent.provider_answer)
                else:
                    delivery.failed(sent.finished_at, sent.failure.reason,
                                    permanent=isinstance(sent.failure, PermanentFailure),
                                    policy=self.settings.retry)
                self._write(uow, row, delivery, sent.finished_at, attempts.get(row.id, []))
                finished += self._publish_outcome(uow, delivery, outcomes)
                states[row.id] = row.state
            _publish_all(uow, outcomes)
        _count(finished)
        return states

    # --- rows ↔ the domain's delivery record ----------------------------------------------------
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

    def _by_key(self, session, key):
        return session.scalars(select(Notification).where(Notification.dedupe_key == key)).first()

    def _insert(self, uow, prepared, now):
        """Store prepared messages, each claimed at once when due now: [(row, claim or None, finished)].

        Each row is written once, already in its state (no INSERT then UPDATE), all rows in one
        flush and their attempt rows in the next (foreign key).
        """
        out, attempt_rows = [], []
        for p in prepared:
            row = Notification(
                id=p.id, dedupe_key=p.dedupe_key, kind=p.kind, channel=p.channel,
                recipient_enc=self.cipher.encrypt(p.recipient, RECIPIENT),
                recipient_masked=mask_recipient(p.channel, p.recipient), subject=p.subject,
                body_enc=self.cipher.encrypt(p.body, BODY),
                params_enc=self.cipher.encrypt(json.dumps(p.params, ensure_ascii=False), PARAMS),
                template=p.template, template_version=p.version, state=State.QUEUED.value, attempts=0,
                next_attempt_at=p.release_at, release_at=p.release_at, expires_at=p.expires_at,
                cause_event_id=p.cause_event_id, cause_event_type=p.cause_event_type, resend_of=p.resend_of,
                created_at=now, updated_at=now)
            delivery = self._delivery(row, [], p.recipient)
            claim, finished = None, []
            if delivery.is_due(now):
                claim, finished = self._start(uow, row, delivery, now, p.recipient, p.body, p.params, attempt_rows)
            out.append((row, claim, finished))
        if out:
            uow.session.add_all([row for row, _, _ in out])
            uow.session.flush()  # the rows before their attempts (foreign key)
            uow.session.add_all(attempt_rows)
        return out

    def _start(self, uow, row, delivery, now, recipient, body, params, attempt_rows=None):
        """queued → sending with a new attempt row (added to the session, or to `attempt_rows` when
        the notification row is not written yet); an expired code fails instead."""
        if not delivery.start(now):  # a code that expired while it waited: failed, never sent
            self._write(uow, row, delivery, now, [])
            return None, self._publish_outcome(uow, delivery)
        self._write(uow, row, delivery, now, [])
        attempt = DeliveryAttempt(notification_id=row.id, number=len(delivery.attempts), started_at=now)
        if attempt_rows is None:
            uow.session.add(attempt)
        else:
            attempt_rows.append(attempt)
        return Claim(row.id, row.channel, row.kind, recipient, row.subject, body, params,
                     len(delivery.attempts)), []

    def _delivery(self, row, attempt_rows, recipient=None):
        if recipient is None:
            recipient = self.cipher.decrypt(row.recipient_enc, RECIPIENT)
        return Delivery(
            notification_id=row.id, channel=row.channel, recipient=recipient, template=row.kind,
            version=row.template_version, cause_event_id=row.cause_event_id, not_before=row.next_attempt_at,
            expires_at=row.expires_at, state=State(row.state), failure_reason=row.failure_reason,
            attempts=[Attempt(number=a.number, started_at=a.started_at, finished_at=a.finished_at,
                              outcome=Outcome(a.outcome) if a.outcome else None,
                              provider_answer=a.provider_answer, provider_message_id=a.provider_message_id)
                      for a in attempt_rows])

    def _write(self, uow, row, delivery, now, attempt_rows):
        """Copy the record's state back to the row and close the latest attempt row."""
        row.state = delivery.state.value
        row.attempts = len(delivery.attempts)
        row.next_attempt_at = delivery.not_before
        row.failure_reason = delivery.failure_reason
        row.updated_at = now
        if delivery.state in FINAL:
            row.finished_at = now
        if delivery.attempts and delivery.attempts[-1].outcome is not None:
            last = delivery.attempts[-1]
            if last.outcome is Outcome.DELIVERED:
                row.provider_message_id = last.provider_message_id
            stored = next((a for a in attempt_rows if a.number == last.number), None)
            if stored is not None:
                stored.finished_at = last.finished_at
                stored.outcome = last.outcome.value
                stored.provider_answer = last.provider_answer
                stored.provider_message_id = last.provider_message_id

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


def _publish_all(uow, events):
    """`uow.publish` of many events in one INSERT (one round trip instead of one each); the relay is
    woken after the commit as for `uow.publish`, which this mirrors (services.common.db)."""
    if len(events) <= 1:
        for event in events:
            uow.publish(event)
        return
    now = clock.now()
    uow.session.execute(insert(Notification.metadata.tables["outbox"]), [
        {"event_id": e["id"], "event_type": e["type"], "exchange": f"{e['source']}.events",
         "payload": json.dumps(e, ensure_ascii=False), "created_at": now} for e in events])
    uow.events.extend(events)


def _application_attempt(session, application_id):
    """The latest attempt seen of an application: from the group's one query when there was one."""
    loaded = session.info.get("application_attempts")
    if loaded is not None and application_id in loaded:
        return loaded[application_id]
    return session.get(ApplicationAttempt, application_id)


def _count(finished):
    """Metrics after the commit that made them true."""
    for channel, state in finished:
        metrics.finished(channel, state)


def _attempt_rows(session, ids):
    by_id = {}
    if not ids:
        return by_id
    for attempt in session.scalars(select(DeliveryAttempt).where(DeliveryAttempt.notification_id.in_(ids))
                                   .order_by(DeliveryAttempt.notification_id, DeliveryAttempt.number)):
        by_id.setdefault(attempt.notification_id, []).append(attempt)
    return by_id


def _iso(value):
    return clock.iso(value) if value is not None else None


def _view(row, attempts):
    """What staff see: masked recipient, never the text (it may hold a code or a name)."""
    return {
        "id": row.id, "kind": row.kind, "channel": row.channel, "template": row.template,
        "kind_label": labels.KIND_LABELS.get(row.kind, row.kind),
        "channel_label": labels.CHANNEL_LABELS.get(row.channel, row.channel),
        "state_label": labels.STATE_LABELS.get(row.state, row.state),
        "template_version": row.template_version, "recipient_masked": row.recipient_masked,
        "subject": row.subject, "state": row.state, "attempts": row.attempts,
        "next_attempt_at": _iso(row.next_attempt_at) if row.state == State.QUEUED.value else None,
        "release_at": _iso(row.release_at), "expires_at": _iso(row.expires_at),
        "cause_event_id": row.cause_event_id, "cause_event_type": row.cause_event_type,
        "resend_of": row.resend_of, "provider_message_id": row.provider_message_id,
        "failure_reason": row.failure_reason, "created_at": _iso(row.created_at),
        "updated_at": _iso(row.updated_at), "finished_at": _iso(row.finished_at),
        "delivery_attempts": [{
            "number": a.number, "started_at": _iso(a.started_at), "finished_at": _iso(a.finished_at),
            "outcome": a.outcome, "provider_answer": a.provider_answer,
            "provider_message_id": a.provider_message_id} for a in attempts],
    }
