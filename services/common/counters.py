"""Counter tables kept in the transaction of the change they count, so a page reads a few rows
instead of counting a national year of them.

A repository notes what a change adds (`note(table, key, column=delta)`); just before the session
commits, every noted row is written with one upsert (INSERT … ON CONFLICT DO UPDATE, SQLite and
PostgreSQL alike), in one order of tables and keys for every transaction: two transactions counting
into the same rows wait for each other instead of deadlocking, and a rolled-back change counts
nothing. A counter table is its key (the primary key) and integer columns.
"""
from collections import defaultdict

from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite


class Counters:
    def __init__(self, session):
        self.session = session
        self._notes = defaultdict(lambda: defaultdict(int))  # (table, key) → column → change
        event.listen(session, "before_commit", lambda _: self.write())

    def note(self, table, key, **changes):
        """Add `changes` (column=delta) to the row of `table` at `key` (a dict of its primary key)."""
        row = self._notes[(table, tuple(sorted(key.items())))]
        for column, delta in changes.items():
            row[column] += delta

    def write(self):
        """Write what was noted (before commit; or before reading counters in the same transaction)."""
        notes, self._notes = self._notes, defaultdict(lambda: defaultdict(int))
        upsert = postgresql.insert if self.session.get_bind().dialect.name == "postgresql" else sqlite.insert
        for (table, key), changes in sorted(notes.items(), key=lambda item: (item[0][0].name, item[0][1])):
            if not any(changes.values()):
                continue
            values = {column.name: changes.get(column.name, 0) for column in table.columns if not column.primary_key}
            add = upsert(table).values(**dict(key), **values)
            self.session.execute(add.on_conflict_do_update(
                index_elements=[name for name, _ in key],
                set_={name: table.c[name] + add.excluded[name] for name in values}))
