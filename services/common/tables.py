"""The two platform tables every service database carries: the outbox and the processed-events log."""
from sqlalchemy import Column, Index, Integer, MetaData, String, Table, Text

from .types import UtcDateTime


def add_platform_tables(metadata: MetaData):
    outbox = Table(
        "outbox", metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("event_id", String(36), nullable=False, unique=True),
        Column("event_type", String(80), nullable=False),
        Column("exchange", String(80), nullable=False),
        Column("payload", Text, nullable=False),
        Column("created_at", UtcDateTime(), nullable=False),
        Column("sent_at", UtcDateTime(), nullable=True),
        Index("ix_outbox_unsent", "sent_at", "id"),
    )
    processed = Table(
        "processed_events", metadata,
        Column("consumer", String(120), primary_key=True),
        Column("source", String(40), primary_key=True),
        Column("event_id", String(36), primary_key=True),
        Column("processed_at", UtcDateTime(), nullable=False),
        Index("ix_processed_events_processed_at", "processed_at"),  # the retention purge
    )
    return outbox, processed
