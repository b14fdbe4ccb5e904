"""All SQL of the notify service: the notifications with their delivery attempts (rows ⇄ the
domain's Delivery record, recipient, body and template values encrypted at rest) and the latest
submission attempt seen per application.

The unit of work builds them for its session (`Database(..., repositories=repositories)`), so
handlers.py says `uow.notifications.due(...)` and never sees SQLAlchemy; the in-memory twins the
unit tests use are tests/unit/notify/fakes.py. Rows loaded here are remembered, so `save` writes
the same row and closes the attempt row it loaded.
"""
import functools
import json

from sqlalchemy import bindparam, func, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from .domain.delivery import FINAL_STATES, Attempt, Delivery, Outcome, State, mask_recipient
from .domain.records import AlreadyRecorded, Listed, Queued, Stored
from .models import (
    BODY,
    PARAMS,
    PHONE,
    RECIPIENT,
    AccountPhone,
    ApplicationAttempt,
    DeliveryAttempt,
    Notification,
)


def repositories(session, cipher):
    """The unit of work's hook: this service's repositories for one session."""
    return {"notifications": NotificationRepository(session, cipher),
            "application_attempts": ApplicationAttemptRepository(session),
            "account_phones": AccountPhoneRepository(session, cipher)}


class NotificationRepository:
    def __init__(self, session, cipher):
        self.session, self.cipher = session, cipher
        self._rows = {}  # notification id → row
        self._attempts = {}  # notification id → its attempt rows, by number

    # --- reads --------------------------------------------------------------------------------
    def by_key(self, dedupe_key):
        """(id, state) of the message stored under this dedupe key, or None."""
        row = self.session.execute(select(Notification.id, Notification.state)
                                   .where(Notification.dedupe_key == dedupe_key)).first()
        return None if row is None else (row.id, row.state)

    def stored_keys(self, dedupe_keys):
        """Those of these dedupe keys already stored."""
        return set(self.session.scalars(select(Notification.dedupe_key)
                                        .where(Notification.dedupe_key.in_(list(dedupe_keys)))))

    def get(self, notification_id):
        row = self.session.get(Notification, str(notification_id))
        if row is None:
            return None
        return Stored(
            id=row.id, kind=row.kind, channel=row.channel, recipient=self._recipient(row), subject=row.subject,
            body=self.cipher.decrypt(row.body_enc, BODY), params=self._params(row), template=row.template,
            template_version=row.template_version, state=row.state, cause_event_id=row.cause_event_id,
            cause_event_type=row.cause_event_type)

    def resend_states(self, notification_id):
        """The states of the resends of this message, in no order."""
        return list(self.session.scalars(select(Notification.state).where(Notification.resend_of == notification_id)))

    def listed(self, states, limit):
        """Newest first, in these states."""
        rows = self.session.scalars(select(Notification).where(Notification.state.in_(states))
                                    .order_by(Notification.created_at.desc(), Notification.id).limit(limit)).all()
        attempts = self._load_attempts([row.id for row in rows])
        return [Listed(
            id=row.id, kind=row.kind, channel=row.channel, template=row.template,
            template_version=row.template_version, recipient_masked=row.recipient_masked, subject=row.subject,
            state=row.state, attempts=row.attempts, next_attempt_at=row.next_attempt_at, release_at=row.release_at,
            expires_at=row.expires_at, cause_event_id=row.cause_event_id, cause_event_type=row.cause_event_type,
            resend_of=row.resend_of, provider_message_id=row.provider_message_id,
            failure_reason=row.failure_reason, created_at=row.created_at, updated_at=row.updated_at,
            finished_at=row.finished_at, delivery_attempts=[_attempt(a) for a in attempts.get(row.id, [])])
            for row in rows]

    def backlog(self):
        """Queued messages per channel: ({channel: n waiting for a retry}, {channel: n held})."""
        rows = self.session.execute(
            select(Notification.channel, Notification.attempts > 0, func.count())
            .where(Notification.state == State.QUEUED.value)
            .group_by(Notification.channel, Notification.attempts > 0)).all()
        return ({channel: n for channel, tried, n in rows if tried},
                {channel: n for channel, tried, n in rows if not tried})

    # --- what the sending loop takes and gives back (rows locked) ------------------------------
    def due(self, now, limit):
        """Queued messages due by `now`, soonest first, locked (other copies skip them)."""
        rows = self._locked(select(Notification).where(Notification.state == State.QUEUED.value,
                                                       Notification.next_attempt_at <= now)
                            .order_by(Notification.next_attempt_at).limit(limit), skip_locked=True)
        return [Queued(self._delivery(row), row.kind, row.subject, self.cipher.decrypt(row.body_enc, BODY),
                       self._params(row)) for row in rows]

    def sending_since(self, before):
        """Messages left `sending` since before `before` (their sender died), locked."""
        rows = self._locked(select(Notification).where(Notification.state == State.SENDING.value,
                                                       Notification.updated_at < before), skip_locked=True)
        return [self._delivery(row) for row in rows]

    def for_update(self, recipients):
        """{id: Delivery} of these messages (`recipients`: id → recipient, known to the caller), locked,
        for `save_answers`: plain rows, not the ORM's, as the group's answers are many."""
        n, a = Notification.__table__, DeliveryAttempt.__table__
        ids = list(recipients)
        rows = self.session.execute(select(n.c.id, n.c.channel, n.c.kind, n.c.template_version, n.c.cause_event_id,
                                           n.c.next_attempt_at, n.c.expires_at, n.c.state, n.c.failure_reason)
                                    .where(n.c.id.in_(ids)).with_for_update()).all()
        attempts = {}
        for attempt in self.session.execute(select(a).where(a.c.notification_id.in_(ids))
                                            .order_by(a.c.notification_id, a.c.number)):
            attempts.setdefault(attempt.notification_id, []).append(attempt)
        return {row.id: self._delivery(row, recipients[row.id], attempts.get(row.id, [])) for row in rows}

    # --- writes ---------------------------------------------------------------------------------
    def add(self, messages, now):
        """Store new messages: (prepared content, its Delivery) pairs, each row written once, already
        in its state: one INSERT of the group's rows, one of their attempt rows (foreign key). Core
        statements, not the ORM's unit of work: these rows are only written here, never read back
        in the same unit of work (`save` serves rows loaded by `due`, `for_update`, `sending_since`)."""
        rows, attempts = [], []
        for p, delivery in messages:
            rows.append({
                "id": p.id, "dedupe_key": p.dedupe_key, "kind": p.kind, "channel": p.channel,
                "recipient_enc": self.cipher.encrypt(p.recipient, RECIPIENT),
                "recipient_masked": mask_recipient(p.channel, p.recipient), "subject": p.subject,
                "body_enc": self.cipher.encrypt(p.body, BODY),
                "params_enc": self.cipher.encrypt(json.dumps(p.params, ensure_ascii=False), PARAMS),
                "template": p.template, "template_version": p.version, "release_at": p.release_at,
                "expires_at": p.expires_at, "cause_event_id": p.cause_event_id,
                "cause_event_type": p.cause_event_type, "resend_of": p.resend_of, "created_at": now,
                **_state_columns(delivery, now)})
            attempts += [{"notification_id": p.id, **_attempt_columns(a)} for a in delivery.attempts]
        if not rows:
            return
        try:
            self._insert_many(Notification.__table__, rows)
        except IntegrityError:
            raise AlreadyRecorded() from None
        if attempts:
            self._insert_many(DeliveryAttempt.__table__, attempts)

    def _insert_many(self, table, rows):
        """INSERT rows (dicts of the same columns): on PostgreSQL one statement of arrays (about half
        the CPU of SQLAlchemy's multi-row VALUES, which processes every parameter of every row)."""
        dialect = self.session.get_bind().dialect
        if dialect.name != "postgresql":
            self.session.execute(insert(table), rows)
            return
        names = tuple(rows[0])
        self.session.execute(_insert_from_arrays(table, names, dialect),
                             {name: [row[name] for row in rows] for name in names})

    def save_answers(self, answered):
        """Write back (Delivery `for_update` gave, when) pairs whose latest attempt was answered: the
        rows' state and the attempts' answers, one statement each on PostgreSQL (an executemany there
        is a round trip per row, and a VALUES list a new statement to compile each time)."""
        rows, closed = [], []
        for delivery, now in answered:
            rows.append({"id": delivery.notification_id, **_state_columns(delivery, now)})
            last = delivery.attempts[-1]
            closed.append({"notification_id": delivery.notification_id, **_attempt_columns(last)})
        self._update_many(Notification.__table__, ("id",), rows)
        self._update_many(DeliveryAttempt.__table__, ("notification_id", "number"), closed)

    def _update_many(self, table, keys, rows):
        """UPDATE each row (dicts of the same columns) found by its `keys` columns."""
        if not rows:
            return
        names = tuple(rows[0])
        dialect = self.session.get_bind().dialect
        if dialect.name == "postgresql":
            self.session.execute(_update_from_arrays(table, keys, names, dialect),
                                 {name: [row[name] for row in rows] for name in names})
            return
        statement = (update(table).where(*(table.c[key] == bindparam(f"b_{key}") for key in keys))
                     .values({name: bindparam(f"b_{name}") for name in names if name not in keys}))
        self.session.execute(statement, [{f"b_{name}": value for name, value in row.items()} for row in rows])

    def save(self, delivery, now):
        """Copy a loaded Delivery's state back to its row; a new attempt gets its row, the latest
        attempt's answer closes the row it has."""
        self._write(self._rows[delivery.notification_id], delivery, now, add=True)

    # --- rows ↔ Delivery ------------------------------------------------------------------------
    def _locked(self, query, skip_locked=False):
        rows = self.session.scalars(query.with_for_update(skip_locked=skip_locked)).all()
        self._load_attempts([row.id for row in rows])
        for row in rows:
            self._rows[row.id] = row
        return rows

    def _load_attempts(self, ids):
        by_id = {}
        if ids:
            for attempt in self.session.scalars(
                    select(DeliveryAttempt).where(DeliveryAttempt.notification_id.in_(ids))
                    .order_by(DeliveryAttempt.notification_id, DeliveryAttempt.number)):
                by_id.setdefault(attempt.notification_id, []).append(attempt)
        for notification_id in ids:
            self._attempts[notification_id] = {a.number: a for a in by_id.get(notification_id, [])}
        return by_id

    def _delivery(self, row, recipient=None, attempts=None):
        attempts = self._attempts[row.id].values() if attempts is None else attempts
        return Delivery(
            notification_id=row.id, channel=row.channel,
            recipient=self._recipient(row) if recipient is None else recipient, template=row.kind,
            version=row.template_version, cause_event_id=row.cause_event_id, not_before=row.next_attempt_at,
            expires_at=row.expires_at, state=State(row.state), failure_reason=row.failure_reason,
            attempts=[_attempt(a) for a in attempts])

    def _write(self, row, delivery, now, add):
        """The row takes the record's state; returns the attempt rows made (added now when `add`)."""
        row.state = delivery.state.value
        row.attempts = len(delivery.attempts)
        row.next_attempt_at = delivery.not_before
        row.failure_reason = delivery.failure_reason
        row.updated_at = now
        if delivery.state in FINAL_STATES:
            row.finished_at = now
        made = []
        if not delivery.attempts:
            return made
        last = delivery.attempts[-1]
        stored = self._attempts[row.id].get(last.number)
        if stored is None:
            stored = DeliveryAttempt(notification_id=row.id, number=last.number, started_at=last.started_at)
            self._attempts[row.id][last.number] = stored
            made.append(stored)
            if add:
                self.session.add(stored)
        if last.outcome is not None:
            if last.outcome is Outcome.DELIVERED:
                row.provider_message_id = last.provider_message_id
            stored.finished_at = last.finished_at
            stored.outcome = last.outcome.value
            stored.provider_answer = last.provider_answer
            stored.provider_message_id = last.provider_message_id
        return made

    def _recipient(self, row):
        return self.cipher.decrypt(row.recipient_enc, RECIPIENT)

    def _params(self, row):
        return json.loads(self.cipher.decrypt(row.params_enc, PARAMS))


@functools.lru_cache(maxsize=8)
def _insert_from_arrays(table, names, dialect):
    """PostgreSQL: INSERT of many rows in one statement, as _update_from_arrays."""
    arrays = ", ".join(f"CAST(:{name} AS {table.c[name].type.compile(dialect)}[])" for name in names)
    return text(f"INSERT INTO {table.name} ({', '.join(names)}) SELECT * FROM unnest({arrays})")


@functools.lru_cache(maxsize=8)
def _update_from_arrays(table, keys, names, dialect):
    """PostgreSQL: UPDATE of many rows in one statement, each column's values bound as one array
    (`unnest` pairs them up again). The same text whatever the number of rows, so compiled once.
    Values go to psycopg2 as they are: the datetimes are aware (what UtcDateTime would check)."""
    arrays = ", ".join(f"CAST(:{name} AS {table.c[name].type.compile(dialect)}[])" for name in names)
    assigned = ", ".join(f"{name} = given.{name}" for name in names if name not in keys)
    matched = " AND ".join(f"{table.name}.{key} = given.{key}" for key in keys)
    return text(f"UPDATE {table.name} SET {assigned} FROM unnest({arrays}) AS given({', '.join(names)}) "
                f"WHERE {matched}")


def _state_columns(delivery, now):
    """A new row's columns that `_write` keeps up to date afterwards."""
    last = delivery.attempts[-1] if delivery.attempts else None
    delivered = last is not None and last.outcome is Outcome.DELIVERED
    return {"state": delivery.state.value, "attempts": len(delivery.attempts), "next_attempt_at": delivery.not_before,
            "failure_reason": delivery.failure_reason, "updated_at": now,
            "finished_at": now if delivery.state in FINAL_STATES else None,
            "provider_message_id": last.provider_message_id if delivered else None}


def _attempt_columns(attempt):
    return {"number": attempt.number, "started_at": attempt.started_at, "finished_at": attempt.finished_at,
            "outcome": attempt.outcome.value if attempt.outcome is not None else None,
            "provider_answer": attempt.provider_answer, "provider_message_id": attempt.provider_message_id}


def _attempt(row):
    return Attempt(number=row.number, started_at=row.started_at, finished_at=row.finished_at,
                   outcome=Outcome(row.outcome) if row.outcome else None, provider_answer=row.provider_answer,
                   provider_message_id=row.provider_message_id)


class ApplicationAttemptRepository:
    """The latest submission attempt seen per application (a late decision on an earlier one is
    not announced)."""

    def __init__(self, session):
        self.session = session
        self._rows = {}  # application id → row or None, for the ones asked about in this unit of work

    def load(self, application_ids):
        """Fetch several at once (a group of events), so latest() asks no more."""
        wanted = [a for a in set(application_ids) if a not in self._rows]
        if wanted:
            found = {row.application_id: row for row in self.session.scalars(
                select(ApplicationAttempt).where(ApplicationAttempt.application_id.in_(wanted)))}
            self._rows.update({a: found.get(a) for a in wanted})

    def latest(self, application_id):
        self.load([application_id])
        row = self._rows[application_id]
        return None if row is None else row.attempt

    def remember(self, application_id, attempt, now):
        """Keep `attempt` when it is later than the one seen."""
        self.load([application_id])
        row = self._rows[application_id]
        if row is None:
            self._rows[application_id] = row = ApplicationAttempt(application_id=application_id, attempt=attempt,
                                                                  updated_at=now)
            self.session.add(row)
        elif attempt > row.attempt:
            row.attempt, row.updated_at = attempt, now


class AccountPhoneRepository:
    """The phone of each account as identity gave it (models.AccountPhone), encrypted at rest."""

    def __init__(self, session, cipher):
        self.session, self.cipher = session, cipher

    def phones(self, account_ids):
        """{account id: phone} of those of these accounts whose phone is kept."""
        wanted = sorted(set(account_ids))
        if not wanted:
            return {}
        rows = self.session.execute(select(AccountPhone.account_id, AccountPhone.phone_enc)
                                    .where(AccountPhone.account_id.in_(wanted))).all()
        return {account_id: self.cipher.decrypt(phone_enc, PHONE) for account_id, phone_enc in rows}

    def keep(self, phones, now):
        """Keep {account id: phone}, replacing what was kept. One statement that a copy of notify
        keeping the same account at the same moment cannot make fail (no duplicate-key error to
        roll the events' transaction back)."""
        if not phones:
            return
        dialect = self.session.get_bind().dialect.name
        insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
        statement = insert(AccountPhone).values([
            {"account_id": account_id, "phone_enc": self.cipher.encrypt(phone, PHONE), "updated_at": now}
            for account_id, phone in sorted(phones.items())])
        self.session.execute(statement.on_conflict_do_update(
            index_elements=[AccountPhone.account_id],
            set_={"phone_enc": statement.excluded.phone_enc, "updated_at": statement.excluded.updated_at}))
