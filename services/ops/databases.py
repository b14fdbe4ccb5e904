"""One service database as the backup sees it: dump to a file, restore from one, tell whether it is empty.

PostgreSQL: `pg_dump --format=custom` and `pg_restore` (PG_BIN names their directory when they are
not on PATH). pg_dump must be at least the server's major version (older ones refuse); the ops
image in docker-compose.yml is built on the server's own major version so they match exactly.
SQLite: the online backup API, safe while the service writes.
"""
import os
import re
import shutil
import sqlite3
import subprocess

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url


class BackupError(RuntimeError):
    """A refusal with a message that says what is wrong and how to fix it (Chinese, for operators)."""


def open_database(url):
    return SqliteDatabase(url) if url.startswith("sqlite") else PostgresDatabase(url)


class _Base:
    kind = ""

    def __init__(self, url):
        self.url = url

    def _engine(self):
        return create_engine(self.url)

    def tables(self):
        engine = self._engine()
        try:
            return inspect(engine).get_table_names()
        finally:
            engine.dispose()

    def schema_version(self):
        """The Alembic revision the database is at (None when it has no version table)."""
        engine = self._engine()
        try:
            if "alembic_version" not in inspect(engine).get_table_names():
                return None
            with engine.connect() as conn:
                return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        finally:
            engine.dispose()

    def run(self, statement):
        """Execute one SQLAlchemy statement in its own transaction; the row count."""
        engine = self._engine()
        try:
            with engine.begin() as conn:
                return conn.execute(statement).rowcount
        finally:
            engine.dispose()

    def where(self):
        """The database's name for messages, never its password."""
        return make_url(self.url).render_as_string(hide_password=True)


class SqliteDatabase(_Base):
    kind = "sqlite"
    suffix = ".sqlite"

    @property
    def path(self):
        return make_url(self.url).database

    def exists(self):
        return bool(self.path) and os.path.exists(self.path)

    def tables(self):
        return super().tables() if self.exists() else []

    def schema_version(self):
        return super().schema_version() if self.exists() else None

    def tool_versions(self):
        return {"sqlite": sqlite3.sqlite_version}

    def dump(self, target, read=None):
        """Copy the database to `target`; `read(connection)` then reads the copy (the dump itself)."""
        source = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=30)
        try:
            with sqlite3.connect(target) as copy:
                source.backup(copy)
            copy.close()
        finally:
            source.close()
        if read is None:
            return None
        engine = create_engine(f"sqlite:///{target}")
        try:
            with engine.connect() as conn:
                return read(conn)
        finally:
            engine.dispose()

    def restore(self, source_file, manifest_entry):
        os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
        source = sqlite3.connect(f"file:{source_file}?mode=ro", uri=True)
        try:
            target = sqlite3.connect(self.path, timeout=30)
            try:
                source.backup(target)
            finally:
                target.close()
        finally:
            source.close()


class PostgresDatabase(_Base):
    kind = "postgresql"
    suffix = ".pgdump"

    def _tool(self, name):
        directory = os.environ.get("PG_BIN")
        path = os.path.join(directory, name) if directory else shutil.which(name)
        if not path or not os.path.exists(path):
            raise BackupError(f"找不到 {name}：请安装与数据库服务器同一大版本的 PostgreSQL 客户端"
                              f"（Debian: apt-get install postgresql-client），或用 PG_BIN 指明其目录")
        return path

    def _libpq(self):
        """Arguments and environment for the PostgreSQL tools (the password never on the command line)."""
        url = make_url(self.url)
        env = dict(os.environ)
        if url.password:
            env["PGPASSWORD"] = url.password
        args = ["--host", url.host or "localhost", "--port", str(url.port or 5432),
                "--username", url.username or "postgres", "--dbname", url.database]
        return args, env

    def exists(self):
        return True

    def server_major(self):
        engine = self._engine()
        try:
            with engine.connect() as conn:
                return int(conn.execute(text("SHOW server_version_num")).scalar()) // 10000
        finally:
            engine.dispose()

    def _tool_major(self, name):
        out = subprocess.run([self._tool(name), "--version"], capture_output=True, text=True, check=True).stdout
        match = re.search(r"(\d+)(?:\.\d+)?", out)
        return int(match.group(1)), out.strip()

    def tool_versions(self):
        major, said = self._tool_major("pg_dump")
        server = self.server_major()
        if major < server:
            raise BackupError(f"pg_dump 版本（{major}）低于数据库服务器（{server}），无法备份：请安装 "
                              f"postgresql-client-{server}，或使用 docker compose 的 ops 服务（与服务器同版本）")
        return {"pg_dump": said, "server_major": server}

    def dump(self, target, read=None):
        """pg_dump to `target`; `read(connection)` reads the same snapshot as the dump: the snapshot
        is exported by our own repeatable-read transaction and pg_dump is told to use it."""
        if read is None:
            return self._pg_dump(target, [])
        engine = self._engine()
        try:
            with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn:
                with conn.begin():
                    snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar()
                    self._pg_dump(target, ["--snapshot", snapshot])
                    return read(conn)
        finally:
            engine.dispose()

    def _pg_dump(self, target, extra):
        args, env = self._libpq()
        done = subprocess.run([self._tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges",
                               *extra, "--file", target, *args], env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise BackupError(f"pg_dump 失败（{self.where()}）：{done.stderr.strip()}")

    def restore(self, source_file, manifest_entry):
        major, _ = self._tool_major("pg_restore")
        server = self.server_major()
        made_by = int(manifest_entry.get("tools", {}).get("server_major") or 0)
        if server < made_by:
            raise BackupError(f"备份来自 PostgreSQL {made_by}，不能恢复到更旧的 {server}：请使用 {made_by} 或更新的服务器")
        if major < made_by:
            raise BackupError(f"pg_restore 版本（{major}）低于备份所用版本（{made_by}）：请安装 postgresql-client-{made_by} 或更新")
        args, env = self._libpq()
        done = subprocess.run([self._tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error",
                               "--single-transaction", *args, source_file], env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise BackupError(f"pg_restore 失败（{self.where()}）：{done.stderr.strip()}")
