"""Three copies of a service starting at once on a fresh database (`docker compose up --scale
review=3`): each runs the migrations at start; one does the work, the others wait and find nothing
left to do. Separate processes, released together once each has imported everything."""
import os
import pathlib
import subprocess
import sys
import uuid

import psycopg2
import pytest
from sqlalchemy import create_engine, text

from services.common import migrations
from tests.support.infra import PG_DSN

pytestmark = pytest.mark.integration

ROOT = pathlib.Path(__file__).resolve().parents[2]
COPIES = 3
# What a service copy does at start (services.common.providers.Database.setup), after a barrier.
COPY = """
import sys
from services.common import migrations
from services.common.config import service_config
from services.common.db import make_engine
service = sys.argv[1]
engine = make_engine(service_config(service)["DATABASE_URL"])
metadata = migrations.service_metadata(service)
print("ready", flush=True)
sys.stdin.readline()
migrations.upgrade(engine, metadata, service)
print("migrated", flush=True)
"""


@pytest.fixture(params=["postgresql", "sqlite"])
def fresh_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/fresh.db"
        return
    name = f"t_{uuid.uuid4().hex[:10]}_race"
    conn = psycopg2.connect(PG_DSN)
    conn.autocommit = True
    conn.cursor().execute(f'CREATE DATABASE "{name}"')
    yield f"postgresql+psycopg2://postgres@127.0.0.1:5432/{name}"
    conn.cursor().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    conn.close()


@pytest.mark.parametrize("service", ["registration", "review"])
def test_three_copies_starting_at_once_migrate_once(service, fresh_url):
    env = {**os.environ, "PYTHONPATH": str(ROOT), f"{service.upper()}_DATABASE_URL": fresh_url}
    copies = [subprocess.Popen([sys.executable, "-c", COPY, service], env=env, stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
              for _ in range(COPIES)]
    for copy in copies:
        assert copy.stdout.readline().strip() == "ready", copy.stderr.read()
    for copy in copies:  # release them together
        copy.stdin.write("go\n")
        copy.stdin.flush()
    outcomes = [copy.communicate(timeout=120) for copy in copies]
    assert [copy.returncode for copy in copies] == [0] * COPIES, [err[-2000:] for _, err in outcomes]
    engine = create_engine(fresh_url)
    with engine.connect() as conn:
        versions = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    engine.dispose()
    assert len(versions) == 1 and migrations.knows(service, versions[0])
