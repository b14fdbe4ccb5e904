"""How long each kind of record is kept, and the batched delete the services run on a schedule.

Every service's Database provider purges, every RETENTION_PURGE_SECONDS (default 600):
- sent outbox rows after EVENT_ARCHIVE_DAYS (default 365). The sent rows ARE the event archive
  (`python -m services.ops replay-events` reads them): every event a service published, its data
  sealed, already covered by backups, key rotation and the trail. Unsent rows are never purged.
- processed-event records after PROCESSED_EVENTS_RETENTION_DAYS (default 400): longer than the
  oldest backup kept (12 monthly copies), so the events a restore publishes again still find the
  marks that make consumers skip them.
The review service also purges ID-card and certificate images MATERIALS_RETENTION_DAYS (default
1095, one three-year registration cycle; services/review/settings.py) after approval, on the same
interval (a nameko timer).
"""
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select, tuple_

from . import clock


@dataclass(frozen=True)
class Retention:
    archive_days: float = 365.0          # EVENT_ARCHIVE_DAYS
    processed_days: float = 400.0        # PROCESSED_EVENTS_RETENTION_DAYS
    purge_seconds: float = 600.0         # RETENTION_PURGE_SECONDS

    @classmethod
    def from_config(cls, config):
        def value(key, default):
            raw = config.get(key)
            return default if raw in (None, "") else float(raw)
        return cls(archive_days=value("EVENT_ARCHIVE_DAYS", cls.archive_days),
                   processed_days=value("PROCESSED_EVENTS_RETENTION_DAYS", cls.processed_days),
                   purge_seconds=value("RETENTION_PURGE_SECONDS", cls.purge_seconds))


def cutoff(days, now=None):
    return (now or clock.now()) - timedelta(days=days)


def purge_older(engine, table, column, before, batch=5000):
    """Delete the rows whose `column` is set and earlier than `before`, one batch per transaction
    (no long lock on a busy table); returns how many went."""
    keys = list(table.primary_key.columns)
    key = keys[0] if len(keys) == 1 else tuple_(*keys)  # processed_events: (consumer, source, event_id)
    purged = 0
    while True:
        with engine.begin() as conn:
            ids = select(*keys).where(column.is_not(None), column < before).limit(batch)
            gone = conn.execute(delete(table).where(key.in_(ids))).rowcount
        purged += gone
        if gone < batch:
            return purged
