"""The retention settings and the batched purge (SQLite in a temporary file: the same SQL as PostgreSQL)."""
from datetime import datetime, timedelta, timezone

from sqlalchemy import MetaData, create_engine, func, insert, select

from services.common.retention import Retention, cutoff, purge_older
from services.common.tables import add_platform_tables

NOW = datetime(2026, 3, 1, tzinfo=timezone.utc)


def test_settings_and_their_defaults():
    assert Retention.from_config({}) == Retention(archive_days=365, processed_days=400, purge_seconds=600)
    assert Retention.from_config({"EVENT_ARCHIVE_DAYS": "30", "PROCESSED_EVENTS_RETENTION_DAYS": "0.5",
                                  "RETENTION_PURGE_SECONDS": ""}) == Retention(30, 0.5, 600)


def test_only_records_past_the_period_go_even_with_a_composite_key(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path}/db.sqlite")
    metadata = MetaData()
    _, processed = add_platform_tables(metadata)
    metadata.create_all(engine)
    with engine.begin() as conn:  # one consumer, one source: only processed_at tells them apart
        conn.execute(insert(processed), [
            {"consumer": "review", "source": "registration", "event_id": f"e{i}",
             "processed_at": NOW - timedelta(days=days)} for i, days in enumerate((500, 401, 399, 1))])
    assert purge_older(engine, processed, processed.c.processed_at, cutoff(400, NOW), batch=1) == 2
    with engine.connect() as conn:
        assert sorted(conn.execute(select(processed.c.event_id)).scalars()) == ["e2", "e3"]
        assert conn.execute(select(func.count()).select_from(processed)).scalar() == 2
