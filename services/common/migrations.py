"""Alembic migrations per service: versions live in services/<service>/migrations/.

    python -m services.common.migrations upgrade <service>            # what production runs
    python -m services.common.migrations revision <service> "message" # autogenerate from models

The Database provider runs `upgrade` at start when the service has migrations (DB_SCHEMA=migrate,
the default), else creates the tables from the models (DB_SCHEMA=create). Several copies may start
at once (`docker compose up --scale review=3`): on PostgreSQL each takes a transaction-scoped
advisory lock first, so one migrates and the others wait, then find nothing left to do; on SQLite
the write lock taken at BEGIN does the same.
tests/integration/platform/test_migrations.py fails when models and migrations drift.
"""
import hashlib
import importlib
import os
import sys
import tempfile

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import text

HERE = os.path.dirname(os.path.abspath(__file__))
SERVICES = os.path.dirname(HERE)


def versions_dir(service):
    return os.path.join(SERVICES, service, "migrations")


def has_migrations(service):
    path = versions_dir(service)
    return os.path.isdir(path) and any(name.endswith(".py") and name[0].isdigit() for name in os.listdir(path))


def owns(service, metadata):
    """True when `metadata` is the service's own models' and the service has migrations."""
    if not has_migrations(service):
        return False
    try:
        return service_metadata(service) is metadata
    except (ImportError, AttributeError):
        return False


def _config(connection, metadata, service):
    cfg = Config()
    cfg.set_main_option("script_location", os.path.join(HERE, "alembic"))
    cfg.set_main_option("version_locations", versions_dir(service))
    cfg.set_main_option("version_table", "alembic_version")
    cfg.attributes["connection"] = connection
    cfg.attributes["metadata"] = metadata
    return cfg


def lock_key(service):
    """A stable signed 64-bit key for pg_advisory_xact_lock, one per service."""
    return int.from_bytes(hashlib.sha256(f"migrations:{service}".encode()).digest()[:8], "big", signed=True)


def upgrade(engine, metadata, service, target="head"):
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # Held until this transaction ends (Alembic runs inside it): the DDL and the version
            # row are committed before the next copy looks at the version.
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock_key(service)})
        command.upgrade(_config(connection, metadata, service), target)


def downgrade(engine, metadata, service, target):
    with engine.begin() as connection:
        command.downgrade(_config(connection, metadata, service), target)


def knows(service, revision):
    """True when `revision` is one of this code's migrations of `service` (a backup from a newer
    version is not)."""
    cfg = Config()
    cfg.set_main_option("script_location", os.path.join(HERE, "alembic"))
    cfg.set_main_option("version_locations", versions_dir(service))
    try:
        return ScriptDirectory.from_config(cfg).get_revision(revision) is not None
    except Exception:  # noqa: BLE001 — alembic raises several kinds for an unknown revision
        return False


def revision(engine, metadata, service, message):
    os.makedirs(versions_dir(service), exist_ok=True)
    with engine.begin() as connection:
        command.upgrade(_config(connection, metadata, service), "head")
        existing = len([n for n in os.listdir(versions_dir(service)) if n.endswith(".py")])
        cfg = _config(connection, metadata, service)
        cfg.set_main_option("file_template", f"{existing + 1:04d}_%%(slug)s")
        command.revision(cfg, message=message, autogenerate=True)


def service_metadata(service):
    return importlib.import_module(f"services.{service}.models").Base.metadata


def main(argv):
    from .config import service_config
    from .db import make_engine

    action, service = argv[0], argv[1]
    metadata = service_metadata(service)
    if action == "upgrade":
        upgrade(make_engine(service_config(service)["DATABASE_URL"]), metadata, service)
    elif action == "revision":
        # Compare the models with an empty database brought to head, never with someone's data.
        with tempfile.TemporaryDirectory() as tmp:
            revision(make_engine(f"sqlite:///{tmp}/scratch.db"), metadata, service,
                     argv[2] if len(argv) > 2 else "change")
    else:
        raise SystemExit("usage: python -m services.common.migrations upgrade|revision <service> [message]")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
