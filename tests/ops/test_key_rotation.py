"""rotate-keys on real databases (SQLite; PostgreSQL with TEST_DATABASE=postgresql) built by the
services' own migrations: every sealed column of every service and the material files, sealed with
k1, move to k2 in batches; a run stopped after one batch, or crashing inside a batch, is finished
by a rerun; a value changed meanwhile is not overwritten; a value under a key no longer configured
is named and left alone. Backups record the key ids their data uses and restore refuses a backup
whose key is gone. The whole-system drill is tests/ops/test_key_rotation_drill.py.
"""
import base64
import datetime
import json
import os
import pathlib
import subprocess
import sys

import pytest
from sqlalchemy import JSON, Boolean, Date, Integer, MetaData, Table, insert, inspect, select

from services.common import migrations
from services.common.crypto import DataCipher, key_id_of
from services.common.db import make_engine
from services.common.types import UtcDateTime
from services.ops import rotate as rotation
from services.ops.backup import Site
from services.ops.sealed import SEALED_COLUMNS
from services.review.adapters.storage import MaterialStore

pytestmark = pytest.mark.integration

ROOT = pathlib.Path(__file__).resolve().parents[2]
SERVICES = ("identity", "registration", "review", "notify")
KEYS = {kid: base64.b64encode(kid.encode() * 16).decode() for kid in ("k0", "k1", "k2")}
ROWS = 7  # per table; batches of 3 make several batches of every column
IMAGES = {"photo": b"photo-bytes", "id_card_front": b"front-bytes", "certificate": b"cert-bytes"}


def keys(*kids):
    return ",".join(f"{kid}:{KEYS[kid]}" for kid in kids)


def cipher(*kids):
    return DataCipher(keys(*kids), "blind-index-key")


def plaintext(sealed, i):
    return json.dumps({"n": i}) if sealed.json_field else f"{sealed.name} #{i} 张三"


def _sample(col, i, now):
    if isinstance(col.type, UtcDateTime):
        return now
    if isinstance(col.type, Date):
        return now.date()
    if isinstance(col.type, JSON):
        return {}
    if isinstance(col.type, Boolean):
        return False
    if isinstance(col.type, Integer):
        return i
    return str(i)


def seed(url, service, c):
    """ROWS rows in every table holding a sealed column (and the tables they refer to), each sealed
    value with `c`; every other required column gets a plain value of its type."""
    engine = make_engine(url)
    metadata = migrations.service_metadata(service)
    migrations.upgrade(engine, metadata, service)
    sealed_here = {s.table: s for s in SEALED_COLUMNS if s.service == service}
    wanted = set(sealed_here) | {fk.column.table.name for t in sealed_here for fk in metadata.tables[t].foreign_keys}
    now = datetime.datetime(2026, 3, 1, tzinfo=datetime.timezone.utc)
    with engine.begin() as conn:
        for t in (t for t in metadata.sorted_tables if t.name in wanted):
            for i in range(ROWS):
                values = {col.name: _sample(col, i, now) for col in t.columns
                          if not (col.nullable and not col.primary_key)
                          and not (col.primary_key and isinstance(col.type, Integer))}
                for s in (s for s in SEALED_COLUMNS if s.service == service and s.table == t.name):
                    token = c.encrypt(plaintext(s, i), s.context)
                    values[s.column] = json.dumps({"id": str(i), "type": "X", "data_sealed": token}) \
                        if s.json_field else token
                conn.execute(insert(t).values(values))
            if t.name == "outbox":  # a row from before the outbox sealed payloads: left alone
                conn.execute(insert(t).values(event_id="plain", event_type="X", exchange="x", created_at=now,
                                              payload=json.dumps({"id": "plain", "data": {"n": 1}})))
    engine.dispose()


def stored(url, sealed):
    """{primary key: (key id, plaintext decrypted with k2 alone or None)} of one sealed column."""
    engine = make_engine(url)
    t = Table(sealed.table, MetaData(), autoload_with=engine)
    only_new = cipher("k2")
    out = {}
    with engine.connect() as conn:
        for pk, value in conn.execute(select(t.c[sealed.key], t.c[sealed.column])):
            token = sealed.token_of(value)
            if token is None:
                continue
            kid = key_id_of(token)
            out[pk] = (kid, only_new.decrypt(token, sealed.context) if kid == "k2" else None)
    engine.dispose()
    return out


@pytest.fixture
def site(database_url, tmp_path):
    urls = {service: database_url(service) for service in SERVICES}
    for service, url in urls.items():
        seed(url, service, cipher("k1"))
    store = MaterialStore(tmp_path / "materials", cipher("k1"))
    paths = {kind: store.put(kind, image, image + b"-thumb") for kind, image in IMAGES.items()}
    return Site(urls, str(tmp_path / "materials"), ["k2", "k1"]), paths


def on_key(site_, kid):
    """True when every sealed value and file is on `kid`."""
    usage = rotation.key_usage(site_)
    return all(set(counts) <= {kid} for counts in usage.values())


def assert_all_on_k2_and_readable(site_, paths):
    for sealed in SEALED_COLUMNS:
        values = stored(site_.databases[sealed.service], sealed)
        assert len(values) == ROWS, sealed.name
        assert {kid for kid, _ in values.values()} == {"k2"}, sealed.name
        assert sorted(text for _, text in values.values()) == sorted(plaintext(sealed, i) for i in range(ROWS))
    store = MaterialStore(site_.materials_dir, cipher("k2"))
    for kind, files in paths.items():
        assert store.read(files.path, kind) == IMAGES[kind]
        assert store.read(files.thumb_path, kind) == IMAGES[kind] + b"-thumb"
    leftovers = [n for _, _, names in os.walk(site_.materials_dir) for n in names if n.startswith(".tmp")]
    assert not leftovers


def test_every_sealed_value_and_file_moves_to_the_newest_key(site):
    site_, paths = site
    assert on_key(site_, "k1")
    lines = []
    report = rotation.rotate(site_, cipher("k2", "k1"), batch_size=3, progress=lines.append)
    assert not report.failures and not report.stopped_early
    assert_all_on_k2_and_readable(site_, paths)
    moved = {o.name: o.resealed for o in report.outcomes}
    assert all(moved[s.name] == ROWS for s in SEALED_COLUMNS) and moved["materials"] == 2 * len(IMAGES)
    assert "registration.applications.personal_enc: 3/7 → k2" in lines  # progress, batch by batch
    assert "registration.applications.personal_enc: 7/7 → k2" in lines
    again = rotation.rotate(site_, cipher("k2", "k1"), batch_size=3, progress=lines.append)
    assert sum(o.resealed for o in again.outcomes) == 0  # nothing left: a rerun changes nothing


def test_stopped_after_one_batch_or_crashing_inside_one_a_rerun_completes(site, monkeypatch):
    site_, paths = site
    first = rotation.rotate(site_, cipher("k2", "k1"), batch_size=3, max_batches=1, progress=lambda _: None)
    assert first.stopped_early and sum(o.resealed for o in first.outcomes) == 3
    phones = stored(site_.databases["identity"], SEALED_COLUMNS[0])
    assert sorted(kid for kid, _ in phones.values()) == ["k1"] * (ROWS - 3) + ["k2"] * 3

    # a crash inside a batch: that batch's transaction rolls back, the batches before it stay done
    c = cipher("k2", "k1")
    calls = {"n": 0}
    reseal = c.reseal

    def dying(token, context=""):
        calls["n"] += 1
        if calls["n"] == 4:
            raise KeyboardInterrupt("killed")
        return reseal(token, context)
    monkeypatch.setattr(c, "reseal", dying)
    with pytest.raises(KeyboardInterrupt):
        rotation.rotate(site_, c, batch_size=3, progress=lambda _: None)
    phones = stored(site_.databases["identity"], SEALED_COLUMNS[0])
    assert sorted(kid for kid, _ in phones.values()) == ["k1"] + ["k2"] * (ROWS - 1)  # 3 + 3, not the 4th batch

    lines = []
    done = rotation.rotate(site_, cipher("k2", "k1"), batch_size=3, progress=lines.append)
    assert not done.failures and not done.stopped_early
    assert lines[1] == "identity.accounts.phone_enc: 1/1 → k2"  # only what was left
    assert_all_on_k2_and_readable(site_, paths)


def test_a_value_changed_meanwhile_is_not_overwritten(site):
    site_, _ = site
    sealed = SEALED_COLUMNS[0]
    engine = make_engine(site_.databases["identity"])
    t, key, col = rotation._sql_table(sealed)
    with engine.begin() as conn:
        pk, read = conn.execute(select(key, col).order_by(key).limit(1)).one()
    written_by_service = cipher("k2").encrypt("a new phone", sealed.context)
    with engine.begin() as conn:
        conn.execute(t.update().where(key == pk).values({sealed.column: written_by_service}))
    outcome = rotation.Outcome(sealed.name)
    with engine.begin() as conn:  # the rotation read `read` before the service wrote
        change = rotation._resealed(sealed, cipher("k2", "k1"), pk, read, outcome)
        rotation.write_back(conn, t, key, col, sealed, [change], outcome)
    engine.dispose()
    assert (outcome.resealed, outcome.changed_meanwhile) == (0, 1)
    assert stored(site_.databases["identity"], sealed)[pk] == ("k2", "a new phone")


def ops(*args, site_, data_keys):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DATA_KEYS": data_keys,
           "MATERIALS_DIR": site_.materials_dir,
           **{f"{service.upper()}_DATABASE_URL": url for service, url in site_.databases.items()}}
    return subprocess.run([sys.executable, "-m", "services.ops", *args], env=env, capture_output=True,
                          text=True, timeout=300)


def test_the_command_names_values_under_a_key_no_longer_configured(site):
    site_, _ = site
    seed_extra = cipher("k0")
    engine = make_engine(site_.databases["registration"])
    sealed = next(s for s in SEALED_COLUMNS if s.name == "registration.feedback.name_enc")
    t, key, col = rotation._sql_table(sealed)
    with engine.begin() as conn:
        conn.execute(t.update().where(key == "3").values({sealed.column: seed_extra.encrypt("x", sealed.context)}))
    engine.dispose()

    status = ops("rotate-keys", "--status", site_=site_, data_keys=keys("k2", "k1"))
    assert status.returncode == 2 and "k0" in status.stdout and "DATA_KEYS" in status.stdout
    done = ops("rotate-keys", "--batch-size", "4", site_=site_, data_keys=keys("k2", "k1"))
    assert done.returncode == 2
    assert "registration.feedback.name_enc 3: key id 'k0' not in DATA_KEYS" in done.stdout
    assert "registration.feedback.name_enc: 6 re-encrypted, 0 changed meanwhile (already new), 1 failed" in done.stdout
    for secret in KEYS.values():
        assert secret not in done.stdout + done.stderr + status.stdout + status.stderr
    values = stored(site_.databases["registration"], sealed)
    assert values["3"] == ("k0", None) and sum(kid == "k2" for kid, _ in values.values()) == ROWS - 1


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_backups_name_the_keys_their_data_uses_and_restore_refuses_a_missing_one(site, database_url, tmp_path):
    site_, paths = site
    before = tmp_path / "backups" / "before"
    done = ops("backup", str(before), site_=site_, data_keys=keys("k1"))
    assert done.returncode == 0, done.stderr
    assert json.loads((before / "manifest.json").read_text())["data_key_ids"] == ["k1"]

    assert ops("rotate-keys", site_=site_, data_keys=keys("k2", "k1")).returncode == 0
    status = ops("rotate-keys", "--status", site_=site_, data_keys=keys("k2", "k1"))
    assert "data still on older keys: none; keys in DATA_KEYS no data uses: k1" in status.stdout
    after = tmp_path / "backups" / "after"
    assert ops("backup", str(after), site_=site_, data_keys=keys("k2", "k1")).returncode == 0
    assert json.loads((after / "manifest.json").read_text())["data_key_ids"] == ["k2"]

    def fresh(name):
        return Site({service: database_url(service) for service in SERVICES}, str(tmp_path / name / "materials"), [])

    target = fresh("only-k2")
    refused = ops("restore", str(before), site_=target, data_keys=keys("k2"))
    assert refused.returncode == 2
    assert "k1" in refused.stderr and "DATA_KEYS" in refused.stderr and "拒绝恢复" in refused.stderr
    assert not os.path.exists(target.materials_dir)
    for url in target.databases.values():
        engine = make_engine(url)
        assert not inspect(engine).get_table_names(), url
        engine.dispose()

    target = fresh("both")
    restored = ops("restore", str(before), site_=target, data_keys=keys("k2", "k1"))
    assert restored.returncode == 0, restored.stderr
    assert on_key(target, "k1")
    ops("rotate-keys", site_=target, data_keys=keys("k2", "k1"))
    assert_all_on_k2_and_readable(target, paths)

    assert ops("restore", str(after), site_=fresh("after"), data_keys=keys("k2")).returncode == 0


def test_a_material_file_purged_during_the_rotation_is_not_brought_back(tmp_path):
    path, tmp = tmp_path / "photo.jpg.enc", tmp_path / ".tmp-rotate-x"
    path.write_bytes(b"old")
    tmp.write_bytes(b"new")
    assert rotation.swap_in(str(tmp), str(path)) and path.read_bytes() == b"new" and tmp.read_bytes() == b"old"
    path.unlink()  # the retention purge removed it meanwhile
    tmp.write_bytes(b"new")
    assert not rotation.swap_in(str(tmp), str(path)) and not path.exists()
