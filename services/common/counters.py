"""Counter tables kept in the transaction of the change they count, so a page reads a few rows
instead of counting a national year of them.

A repository notes what a change adds (`note(table, key, column=delta)`); just before the session
commits, every noted row is written with an upsert (INSERT … ON CONFLICT DO UPDATE, SQLite and
PostgreSQL alike), in one order of tables and keys for every transaction: two transactions counting
into the same rows wait for each other instead of deadlocking, and a rolled-back change counts
nothing. A counter table is its key (the primary key) and integer columns.
"""
from collections import defaultdict

from sqlalchemy import bindparam, event, text
from sqlalchemy.orm import Session

_UPSERTS = {}  # table → its upsert, built once
_NOTED = "counters"  # the session.info key of the session's Counters (one per session, as a rule)


@event.listens_for(Session, "before_commit")
def _write_noted(session):
    """One listener for all sessions, registered once, instead of one added to every session (for which
    SQLAlchemy builds that session its own dispatch); it writes the counters of a session that has some."""
    for counters in session.info.get(_NOTED, ()):
        counters.write()


def _upsert(table):
    """One textual statement per table, built once and reused: the dialects' own upsert constructs are
    not cacheable in SQLAlchemy (`inherit_cache = False`), so each use compiled it anew (about a
    third of a millisecond). The SQL is the same on SQLite and PostgreSQL; the bound values keep
    their column types (a date becomes what the Date column stores)."""
    found = _UPSERTS.get(table)
    if found is None:
        keys = [c.name for c in table.primary_key]
        counts = [c.name for c in table.columns if not c.primary_key]
        names = keys + counts
        found = text(
            f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({', '.join(':' + n for n in names)}) "
            f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET "
            + ", ".join(f"{n} = {table.name}.{n} + excluded.{n}" for n in counts)
        ).bindparams(*(bindparam(c.name, type_=c.type) for c in table.columns))
        _UPSERTS[table] = found
    return found


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
