"""rotate-keys: re-encrypt every sealed value and material file to the newest data key.

    python -m services.ops rotate-keys [--batch-size N] [--max-batches N] [--status]

Run it after every service runs with the new DATA_KEYS (new key first, old keys after it); values
the services write meanwhile are sealed with the new key already.

- Batches: each batch is one transaction of at most N values of one column, taken by primary key
  after the previous batch (keyset), among the values not yet on the newest key. A crash loses at
  most the batch in flight; a rerun finds only what is left, so it continues where the crash was.
- Safe beside the running services: each value is written back only if it is still the one that
  was read (UPDATE … WHERE key = :key AND column = :old); a value a service changed meanwhile is
  skipped (the service sealed it with the newest key) and a rerun would pick it up otherwise.
- Files: each file that names an old key is decrypted, sealed again and swapped in atomically
  (RENAME_EXCHANGE where the kernel has it, so a file purged meanwhile is not brought back).
- A value that cannot be decrypted (its key id is not in DATA_KEYS, or it is damaged) is reported
  by table and primary key — never its content — and left as it is; the run ends with exit 2.
"""
import ctypes
import ctypes.util
import errno
import os
import uuid
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from sqlalchemy import bindparam, column, func, inspect, select, table, update, values

from services.common.crypto import UnknownDataKey, key_id_of, key_id_of_bytes
from services.common.db import make_engine

from .databases import BackupError, open_database
from .sealed import SEALED_COLUMNS, material_context

TMP_PREFIX = ".tmp-rotate-"  # the backup and the store skip ".tmp-" files: never a material


@dataclass
class Outcome:
    """What one rotation did to one column (or to the material files)."""
    name: str
    to_do: int = 0
    resealed: int = 0
    changed_meanwhile: int = 0
    failures: list = field(default_factory=list)  # (primary key or path, reason) — never content


@dataclass
class Budget:
    """How many batches this run may still do (None: no limit) — `--max-batches`."""
    batches: int | None = None
    refused: bool = False

    def spend(self):
        if self.batches is None:
            return True
        if self.batches <= 0:
            self.refused = True
            return False
        self.batches -= 1
        return True


@dataclass
class Report:
    current: str
    outcomes: list = field(default_factory=list)
    stopped_early: bool = False

    @property
    def failures(self):
        return [(o.name, *f) for o in self.outcomes for f in o.failures]


def _sql_table(sealed):
    t = table(sealed.table, column(sealed.key), column(sealed.column))
    return t, t.c[sealed.key], t.c[sealed.column]


def _not_on(col, sealed, kid):
    """SQL: the stored value may hold a token of another key (the exact test is done in Python)."""
    if sealed.json_field:
        return col.contains(f'"{sealed.json_field}"', autoescape=True)
    return col.is_not(None) & ~col.startswith(f"{kid}:", autoescape=True)


def failure_reason(exc):
    if isinstance(exc, UnknownDataKey):
        return f"key id {exc.kid!r} not in DATA_KEYS"
    if isinstance(exc, InvalidTag):
        return "does not decrypt (damaged, or sealed for another column)"
    return type(exc).__name__


def rotate_column(engine, sealed, cipher, batch_size, budget, progress):
    """Re-encrypt one column's values to the newest key; returns its Outcome."""
    outcome = Outcome(sealed.name)
    if sealed.table not in inspect(engine).get_table_names():
        return outcome
    t, key, col = _sql_table(sealed)
    current = cipher.current_key_id
    with engine.connect() as conn:
        outcome.to_do = _count_to_do(conn, t, col, sealed, current)
    if not outcome.to_do:
        return outcome
    last = None
    while True:
        if not budget.spend():
            return outcome
        with engine.begin() as conn:
            query = select(key, col).where(_not_on(col, sealed, current)).order_by(key).limit(batch_size)
            if last is not None:
                query = query.where(key > last)
            rows = conn.execute(query).all()
            changes = [c for c in (_resealed(sealed, cipher, pk, stored, outcome) for pk, stored in rows) if c]
            write_back(conn, t, key, col, sealed, changes, outcome)
        if rows:
            last = rows[-1][0]
            progress(f"{sealed.name}: {outcome.resealed + outcome.changed_meanwhile}/{outcome.to_do} "
                     f"→ {current}" + (f", {len(outcome.failures)} failed" if outcome.failures else ""))
        if len(rows) < batch_size:
            return outcome


def _count_to_do(conn, t, col, sealed, current):
    if not sealed.json_field:
        return conn.execute(select(func.count()).select_from(t).where(_not_on(col, sealed, current))).scalar()
    # JSON texts (the outbox: sent rows are purged after days): the key id is read in Python.
    tokens = (sealed.token_of(stored) for (stored,) in conn.execute(select(col).where(_not_on(col, sealed, current))))
    return sum(1 for token in tokens if token and key_id_of(token) != current)


def _resealed(sealed, cipher, pk, stored, outcome):
    """(primary key, stored value, new value) — None when there is nothing to do or it fails."""
    token = sealed.token_of(stored)
    if token is None or key_id_of(token) == cipher.current_key_id:
        return None  # a JSON text with nothing sealed in it, or already on the newest key
    try:
        new = sealed.with_token(stored, token, cipher.reseal(token, sealed.context))
    except (UnknownDataKey, InvalidTag, ValueError) as exc:
        outcome.failures.append((pk, failure_reason(exc)))
        return None
    if new == stored:
        outcome.failures.append((pk, "sealed value not found in the stored text"))
        return None
    return pk, stored, new


def write_back(conn, t, key, col, sealed, changes, outcome):
    """Write each new value where the stored value is still the one read (compare-and-set), in one
    statement on PostgreSQL (UPDATE … FROM VALUES … RETURNING), one prepared statement per row on
    SQLite (in-process, cheap)."""
    if not changes:
        return
    if conn.dialect.name == "postgresql":
        v = values(column("k"), column("old"), column("new"), name="v").data(changes)
        done = len(conn.execute(update(t).where(key == v.c.k, col == v.c.old).values({sealed.column: v.c.new})
                                .returning(key)).all())
    else:
        statement = update(t).where(key == bindparam("k"), col == bindparam("old")).values(
            {sealed.column: bindparam("new")})
        done = sum(conn.execute(statement, {"k": pk, "old": old, "new": new}).rowcount for pk, old, new in changes)
    outcome.resealed += done
    outcome.changed_meanwhile += len(changes) - done


# -- material files ----------------------------------------------------------------------------

def _exchange_function():
    """renameat2(…, RENAME_EXCHANGE) from the C library, or None where it is missing."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        function = libc.renameat2
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    return function


_RENAMEAT2 = _exchange_function()
AT_FDCWD, RENAME_EXCHANGE = -100, 2


def swap_in(tmp, path):
    """Put `tmp` at `path` only if `path` still exists; False when it is gone (purged meanwhile).
    The old content ends at `tmp`, which the caller removes."""
    if _RENAMEAT2 is not None:
        if _RENAMEAT2(AT_FDCWD, os.fsencode(tmp), AT_FDCWD, os.fsencode(path), RENAME_EXCHANGE) == 0:
            return True
        code = ctypes.get_errno()
        if code == errno.ENOENT:
            return False
        if code not in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
            raise OSError(code, os.strerror(code), path)
    if not os.path.exists(path):  # a file system without RENAME_EXCHANGE: check, then replace
        return False
    os.replace(tmp, path)
    return True


def material_files(root):
    """(relative path, absolute path) of every stored material file, in a stable order."""
    for directory, dirs, names in os.walk(root):
        dirs.sort()
        for name in sorted(names):
            if not name.startswith(".tmp-"):
                path = os.path.join(directory, name)
                yield os.path.relpath(path, root), path


def file_key_id(path):
    with open(path, "rb") as fh:
        head = fh.read(1)
        return key_id_of_bytes(head + fh.read(head[0])) if head else None


def rotate_materials(root, cipher, batch_size, budget, progress):
    outcome = Outcome("materials")
    if not os.path.isdir(root):
        return outcome
    _remove_leftovers(root)
    current = cipher.current_key_id
    pending = [(rel, path) for rel, path in material_files(root) if _safe_key_id(path) not in (current, None)]
    outcome.to_do = len(pending)
    for start in range(0, len(pending), batch_size):
        if not budget.spend():
            return outcome
        for rel, path in pending[start:start + batch_size]:
            _reseal_file(rel, path, cipher, outcome)
        progress(f"materials: {outcome.resealed + outcome.changed_meanwhile}/{outcome.to_do} files → {current}"
                 + (f", {len(outcome.failures)} failed" if outcome.failures else ""))
    return outcome


def _safe_key_id(path):
    try:
        return file_key_id(path)
    except FileNotFoundError:
        return None
    except (UnicodeDecodeError, IndexError):
        return "?"  # not a sealed file: reported as a failure when rotated


def _reseal_file(rel, path, cipher, outcome):
    try:
        with open(path, "rb") as fh:
            blob = fh.read()
    except FileNotFoundError:
        outcome.changed_meanwhile += 1  # purged meanwhile
        return
    try:
        new = cipher.reseal_bytes(blob, material_context(rel))
    except (UnknownDataKey, InvalidTag, ValueError, IndexError) as exc:
        outcome.failures.append((rel, failure_reason(exc)))
        return
    tmp = os.path.join(os.path.dirname(path), f"{TMP_PREFIX}{uuid.uuid4().hex}")
    with open(tmp, "xb") as fh:
        os.fchmod(fh.fileno(), 0o600)
        fh.write(new)
        fh.flush()
        os.fsync(fh.fileno())
    try:
        if swap_in(tmp, path):
            outcome.resealed += 1
        else:
            outcome.changed_meanwhile += 1
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _remove_leftovers(root):
    """Temporary files of a rotation that crashed between its swap and the clean-up."""
    for directory, _, names in os.walk(root):
        for name in names:
            if name.startswith(TMP_PREFIX):
                os.remove(os.path.join(directory, name))


# -- the whole site ----------------------------------------------------------------------------

def engines_of(site):
    """(service, engine) of every database; refuses before touching any when one is missing (an
    SQLite path that does not exist would otherwise be created empty)."""
    for service, url in site.databases.items():
        db = open_database(url)
        if not db.exists() or not db.tables():
            raise BackupError(f"{service} 的数据库（{db.where()}）不存在或为空：请检查 "
                              f"{service.upper()}_DATABASE_URL 是否与服务所用的一致")
    for service, url in site.databases.items():
        engine = make_engine(url)
        try:
            yield service, engine
        finally:
            engine.dispose()


def rotate(site, cipher, batch_size=500, max_batches=None, progress=print):
    """Re-encrypt every sealed column of every service database and every material file."""
    report = Report(cipher.current_key_id)
    budget = Budget(max_batches)
    progress(f"rotate-keys: newest key {cipher.current_key_id}; older keys {', '.join(cipher.key_ids[1:]) or '—'}")
    for service, engine in engines_of(site):
        for sealed in (c for c in SEALED_COLUMNS if c.service == service):
            report.outcomes.append(rotate_column(engine, sealed, cipher, batch_size, budget, progress))
    report.outcomes.append(rotate_materials(site.materials_dir, cipher, batch_size, budget, progress))
    report.stopped_early = budget.refused
    return report


# -- which keys the data uses ------------------------------------------------------------------

def key_usage_of_connection(conn, service):
    """{column name: {key id: values}} of one service database, read in `conn`'s snapshot."""
    usage = {}
    names = set(inspect(conn).get_table_names())
    for sealed in (c for c in SEALED_COLUMNS if c.service == service and c.table in names):
        t, _, col = _sql_table(sealed)
        counts = {}
        if sealed.json_field:
            for (stored,) in conn.execute(select(col).where(_not_on(col, sealed, ""))):
                token = sealed.token_of(stored)
                if token:
                    counts[key_id_of(token)] = counts.get(key_id_of(token), 0) + 1
        else:
            kid = _kid_expression(conn.dialect.name, col)
            for kid_value, n in conn.execute(select(kid, func.count()).where(col.is_not(None)).group_by(kid)):
                counts[kid_value] = n
        usage[sealed.name] = counts
    return usage


def _kid_expression(dialect, col):
    if dialect == "postgresql":
        return func.split_part(col, ":", 1)
    return func.substr(col, 1, func.instr(col, ":") - 1)


def key_usage(site):
    """{column or "materials": {key id: count}} over the whole site, for `rotate-keys --status`."""
    usage = {}
    for service, engine in engines_of(site):
        with engine.connect() as conn:
            usage.update(key_usage_of_connection(conn, service))
    files = {}
    if os.path.isdir(site.materials_dir):
        for _, path in material_files(site.materials_dir):
            kid = _safe_key_id(path)
            if kid is not None:
                files[kid] = files.get(kid, 0) + 1
    usage["materials"] = files
    return usage
