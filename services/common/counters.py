"""Counter tables kept in the transaction of the change they count, so a page reads a few rows
instead of counting a national year of them.

A repository notes what a change adds (`note(table, key, column=delta)`); just before the session
commits, every noted row is written with an upsert (INSERT … ON CONFLICT DO UPDATE, SQLite and
PostgreSQL alike), in one order of tables and keys for every transaction: two transactions counting
into the same rows wait for each other instead of deadlocking, and a rolled-back change counts
nothing. A counter table is its key (the primary key) and integer columns.
"""
import functools
from collections import defaultdict

from sqlalchemy import event
from sqlalchemy.orm import Session

from .statements import insert_on_conflict

_NOTED = "counters"  # the session.info key of the session's Counters (one per session, as a rule)


@event.listens_for(Session, "before_commit")
def _write_noted(session):
    """One listener for all sessions, registered once, instead of one added to every session (for which
    SQLAlchemy builds that session its own dispatch); it writes the counters of a session that has some."""
    for counters in session.info.get(_NOTED, ()):
        counters.write()


@functools.cache
def _upsert(table):
    """Each counter row added to the stored one: one statement per table (common/statements.py)."""
    keys = [c.name for c in table.primary_key]
    counts = [c.name for c in table.columns if not c.primary_key]
    return insert_on_conflict(table, f"({', '.join(keys)}) DO UPDATE SET "
                              + ", ".join(f"{n} = {table.name}.{n} + excluded.{n}" for n in counts))


class Counters:
    def __init__(self, session):
        self.session = session
        self._notes = defaultdict(lambda: defaultdict(int))  # (table, key) → column → change
        session.info.setdefault(_NOTED, []).append(self)  # written before the commit (_write_noted)

    def note(self, table, key, **changes):
        """Add `changes` (column=delta) to the row of `table` at `key` (a dict of its primary key)."""
        row = self._notes[(table, tuple(sorted(key.items())))]
        for column, delta in changes.items():
            row[column] += delta

    def write(self):
        """Write what was noted (before commit; or before reading counters in the same transaction):
        one statement per table, its rows in key order."""
        if not self._notes:
            return
        notes, self._notes = self._notes, defaultdict(lambda: defaultdict(int))
        rows = defaultdict(list)  # table → [row]
        for (table, key), changes in sorted(notes.items(), key=lambda item: (item[0][0].name, item[0][1])):
            if any(changes.values()):
                counts = {c.name: changes.get(c.name, 0) for c in table.columns if not c.primary_key}
                rows[table].append({**dict(key), **counts})
        for table, values in rows.items():  # in table order: dicts keep the order of insertion
            self.session.execute(_upsert(table), values)
