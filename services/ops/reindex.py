"""reindex: recompute every lasting blind index with the BLIND_INDEX_KEY of the environment.

    python -m services.ops reindex --services-stopped [--batch-size N]

Look-ups by phone and ID number (log-in, one account per phone and per ID number, the roster match)
go through HMAC blind indexes. After BLIND_INDEX_KEY changes, every stored index must be recomputed
from the decrypted value before a service looks anything up, so this runs with every service
stopped (docs/operations.md, section 5). It recomputes with whatever key is configured: run again
with the old key to go back. Batches by primary key; a row already right is left alone, so a rerun
after a crash finishes the job.

Not recomputed, because nothing they hash is kept: the indexes of SMS challenges, captcha
challenges, client addresses and devices (rate limits and lock-outs count afresh) and the dedupe keys of verification-code SMS.
"""
from dataclasses import dataclass
from typing import Callable

from sqlalchemy import column, inspect, select, table, update

from services.identity import models as identity
from services.registration.repository import roster_index

from .rotate import engines_of, failure_reason


@dataclass(frozen=True)
class BlindIndex:
    service: str
    table: str
    key: str
    column: str  # the index
    source: str  # the sealed column it is the index of
    context: str  # the source's sealing context
    derive: Callable  # (cipher, plaintext, row) → the index
    extra: tuple = ()  # other columns derive reads

    @property
    def name(self):
        return f"{self.service}.{self.table}.{self.column}"


BLIND_INDEXES = (
    BlindIndex("identity", "accounts", "id", "phone_index", "phone_enc", identity.PHONE,
               lambda cipher, phone, row: cipher.blind_index(phone, identity.PHONE)),
    BlindIndex("identity", "identities", "account_id", "id_index", "id_number_enc", identity.ID_NUMBER,
               lambda cipher, number, row: cipher.blind_index(number, identity.ID_NUMBER)),
    BlindIndex("registration", "roster_records", "id", "id_number_index", "id_number_enc", "roster.id_number",
               lambda cipher, number, row: roster_index(cipher, row["id_type"], number), extra=("id_type",)),
)


# Blind indexes of values nobody keeps (rate limits, lock-outs, code dedupe): let go, not recomputed.
EPHEMERAL_INDEXES = {("identity", "sms_challenges", "phone_index"), ("identity", "sms_challenges", "client_ip_index"),
                     ("identity", "sms_challenges", "device_index"), ("identity", "sms_challenges", "client_index"),
                     ("identity", "captcha_challenges", "phone_index"),
                     ("identity", "captcha_challenges", "client_index"),
                     ("identity", "phone_login_failures", "phone_index")}


@dataclass
class IndexOutcome:
    name: str
    rows: int = 0
    changed: int = 0
    failures: list = None


def reindex_column(engine, index, cipher, batch_size, progress):
    outcome = IndexOutcome(index.name, failures=[])
    if index.table not in inspect(engine).get_table_names():
        return outcome
    t = table(index.table, *(column(name) for name in (index.key, index.column, index.source, *index.extra)))
    key = t.c[index.key]
    last = None
    while True:
        with engine.begin() as conn:
            query = select(t).order_by(key).limit(batch_size)
            if last is not None:
                query = query.where(key > last)
            rows = conn.execute(query).mappings().all()
            for row in rows:
                outcome.rows += 1
                try:
                    new = index.derive(cipher, cipher.decrypt(row[index.source], index.context), row)
                except Exception as exc:  # noqa: BLE001 — named and left; the run goes on
                    outcome.failures.append((row[index.key], failure_reason(exc)))
                    continue
                if new != row[index.column]:
                    conn.execute(update(t).where(key == row[index.key]).values({index.column: new}))
                    outcome.changed += 1
        if rows:
            last = rows[-1][index.key]
            progress(f"{index.name}: {outcome.rows} rows, {outcome.changed} re-indexed")
        if len(rows) < batch_size:
            return outcome


def reindex(site, cipher, batch_size=500, progress=print):
    outcomes = []
    for service, engine in engines_of(site):
        for index in (i for i in BLIND_INDEXES if i.service == service):
            outcomes.append(reindex_column(engine, index, cipher, batch_size, progress))
    return outcomes
