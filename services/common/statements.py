"""INSERT … ON CONFLICT as text, built once per table and conflict clause.

The dialects' own constructs (`postgresql.insert(...).on_conflict_do_*`, `sqlite.insert(...)`) are not
cacheable in SQLAlchemy (`inherit_cache = False`): every use compiled them anew, about a third of a
millisecond on a hot path. The text is the same on SQLite and PostgreSQL; the bound values keep their
column types (a date becomes what the Date column stores). Values are bound by column name.
"""
import functools

from sqlalchemy import bindparam, text


@functools.cache
def insert_on_conflict(table, on_conflict):
    """`INSERT INTO table (every column) VALUES (:every column) ON CONFLICT <on_conflict>`."""
    names = [c.name for c in table.columns]
    return text(f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({', '.join(':' + n for n in names)}) "
                f"ON CONFLICT {on_conflict}").bindparams(*(bindparam(c.name, type_=c.type) for c in table.columns))
