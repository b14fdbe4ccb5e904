"""reindex after a BLIND_INDEX_KEY change, proved by the services' own look-ups (identity's log-in by
phone and one-account-per-ID rule, registration's roster match) on real databases (SQLite;
PostgreSQL with TEST_DATABASE=postgresql): with the new key and no re-index nobody is found; after
`python -m services.ops reindex --services-stopped` everybody is; a rerun changes nothing; the
same command with the old key goes back."""
import base64
import datetime
import itertools
import os
import pathlib
import subprocess
import sys

import pytest

from services.common import clock, migrations
from services.common.config import service_config
from services.common.crypto import DataCipher
from services.common.db import UnitOfWork, make_engine
from services.contracts.errors import Conflict, NotFound, Unauthenticated
from services.identity import handlers
from services.identity.clients import BlindIndexes
from services.identity.models import Base as IdentityBase
from services.identity.repository import repositories
from services.identity.settings import IdentitySettings
from services.registration import models as registration
from services.registration import repository

pytestmark = pytest.mark.integration

ROOT = pathlib.Path(__file__).resolve().parents[2]
DATA_KEYS = "k1:" + base64.b64encode(b"1" * 32).decode()
OLD, NEW = "old-blind-index-key-" + "o" * 24, "new-blind-index-key-" + "n" * 24
PHONE, PASSWORD, NAME, ID_NUMBER = "13900000002", "Staff-Passw0rd!", "张三", "11010519491231002X"
NOW = datetime.datetime(2026, 3, 1, 2, 0, tzinfo=datetime.timezone.utc)
OTHER_PHONES = (f"1390000{n:04d}" for n in itertools.count(10))


@pytest.fixture
def urls(database_url):
    made = {service: database_url(service) for service in ("identity", "registration", "review", "notify")}
    for service, url in made.items():
        engine = make_engine(url)
        migrations.upgrade(engine, migrations.service_metadata(service), service)
        engine.dispose()
    clock.set_now(NOW)
    yield made
    clock.set_now(None)


def identity_context(url, index_key, tmp_path):
    config = service_config("identity", environ={"VAR_DIR": str(tmp_path), "ARGON2_MEMORY_KIB": "1024",
                                                 "ARGON2_TIME_COST": "1", "DATA_KEYS": DATA_KEYS,
                                                 "BLIND_INDEX_KEY": index_key})
    engine = make_engine(url)
    cipher = DataCipher.from_config(config)
    return (lambda: UnitOfWork(engine, IdentityBase.metadata, cipher=cipher, repositories=repositories),
            IdentitySettings.from_config(config), BlindIndexes(cipher))


def roster_matches(url, index_key):
    engine = make_engine(url)
    try:
        with UnitOfWork(engine, registration.Base.metadata) as uow:
            roster = repository.RosterRepository(uow.session, DataCipher(DATA_KEYS, index_key))
            return len(roster.records_of("RESIDENT_ID", ID_NUMBER))
    finally:
        engine.dispose()


def seed(urls, tmp_path):
    uow_factory, settings, _ = identity_context(urls["identity"], OLD, tmp_path)
    account = handlers.create_staff(uow_factory, settings, PHONE, "reviewer", PASSWORD)
    handlers.verify_identity(uow_factory, settings, account["account_id"], NAME, "RESIDENT_ID", ID_NUMBER)
    cipher = DataCipher(DATA_KEYS, OLD)
    engine = make_engine(urls["registration"])
    with UnitOfWork(engine, registration.Base.metadata) as uow:
        uow.session.add(registration.RosterRecord(
            id_type="RESIDENT_ID", id_number_enc=cipher.encrypt(ID_NUMBER, "roster.id_number"),
            id_number_index=repository.roster_index(cipher, "RESIDENT_ID", ID_NUMBER),
            name_enc=cipher.encrypt(NAME, "roster.name"), level="INTERMEDIATE", exam_year=2019,
            management_number="20191100000012345", approval_date=datetime.date(2019, 12, 20), local_only=False,
            scores={}, imported_at=NOW, updated_at=NOW))
    engine.dispose()


def logs_in(urls, index_key, tmp_path):
    try:
        handlers.login(*identity_context(urls["identity"], index_key, tmp_path), PHONE, PASSWORD)
        return True
    except (NotFound, Unauthenticated):  # an unknown phone: "wrong phone or password"
        return False


def id_taken(urls, index_key, tmp_path):
    """A second account is refused the same ID number (one verified account per ID number)."""
    uow_factory, settings, _ = identity_context(urls["identity"], index_key, tmp_path)
    other = handlers.create_staff(uow_factory, settings, next(OTHER_PHONES), "reviewer", PASSWORD)
    try:
        handlers.verify_identity(uow_factory, settings, other["account_id"], NAME, "RESIDENT_ID", ID_NUMBER)
        return False
    except Conflict:
        return True


def reindex(urls, index_key):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DATA_KEYS": DATA_KEYS, "BLIND_INDEX_KEY": index_key,
           **{f"{service.upper()}_DATABASE_URL": url for service, url in urls.items()}}
    return subprocess.run([sys.executable, "-m", "services.ops", "reindex", "--services-stopped", "--batch-size", "1"],
                          env=env, capture_output=True, text=True, timeout=300)


def test_reindex_makes_everyone_findable_with_the_new_key_and_back(urls, tmp_path):
    seed(urls, tmp_path)
    assert logs_in(urls, OLD, tmp_path) and id_taken(urls, OLD, tmp_path)
    assert roster_matches(urls["registration"], OLD) == 1
    # the new key without a re-index: nobody is found (and the services must not run like this)
    assert not logs_in(urls, NEW, tmp_path) and roster_matches(urls["registration"], NEW) == 0

    done = reindex(urls, NEW)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "identity.accounts.phone_index: 2 rows, 2 re-indexed, 0 failed" in done.stdout
    assert "identity.identities.id_index: 1 rows, 1 re-indexed, 0 failed" in done.stdout
    assert "registration.roster_records.id_number_index: 1 rows, 1 re-indexed, 0 failed" in done.stdout
    assert logs_in(urls, NEW, tmp_path) and id_taken(urls, NEW, tmp_path)
    assert roster_matches(urls["registration"], NEW) == 1
    for key in (OLD, NEW, DATA_KEYS.split(":")[1]):
        assert key not in done.stdout + done.stderr

    again = reindex(urls, NEW)
    assert "identity.accounts.phone_index: 3 rows, 0 re-indexed, 0 failed" in again.stdout

    back = reindex(urls, OLD)
    assert back.returncode == 0, back.stdout + back.stderr
    assert logs_in(urls, OLD, tmp_path) and roster_matches(urls["registration"], OLD) == 1


def test_reindex_needs_the_operator_to_say_the_services_are_stopped():
    done = subprocess.run([sys.executable, "-m", "services.ops", "reindex"], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
    assert done.returncode == 2 and "--services-stopped" in done.stderr
