"""Key rotation drill, with the runbook's commands: the system runs with DATA_KEYS=k1 while an
applicant walks to approval; a backup is taken; the services restart with k2 first and k1 after it;
`rotate-keys` runs beside them, stopped after one batch and run again; then the services run with
k2 alone and show the applicant the same application, history, photo and identity. The backup
taken before the rotation is refused with k2 alone and restores with both keys.

SQLite by default, PostgreSQL with TEST_DATABASE=postgresql.
"""
import base64
import json
import os
import subprocess
import sys

import pytest
from sqlalchemy import MetaData, Table, select

from services.common.crypto import DataCipher, key_id_of
from services.common.db import make_engine
from services.gateway.service import GatewayService
from services.ops.sealed import SEALED_COLUMNS
from services.review.adapters.storage import MaterialStore
from tests.ops.test_backup_restore import CLASSES, DATABASES, ROOT, outbox, stop, view, walk_to_approval
from tests.support.infra import wait_for
from tests.support.system import System, free_port

# Four starts of the whole system and a backup and restore: minutes on a busy 2-core machine.
pytestmark = [pytest.mark.slow, pytest.mark.e2e, pytest.mark.timeout(900)]

KEYS = {kid: base64.b64encode(os.urandom(32)).decode() for kid in ("k1", "k2")}


def keys(*kids):
    return ",".join(f"{kid}:{KEYS[kid]}" for kid in kids)


def start_system(make_config, start_service, var_dir, urls, data_keys):
    common = {"VAR_DIR": str(var_dir), "SMS_CHANNEL": "file", "EMAIL_CHANNEL": "file",
              "NOTIFY_QUIET_HOURS": "off", "DATA_KEYS": data_keys}
    containers = {cls.name: start_service(cls, make_config(cls.name, DATABASE_URL=urls[cls.name], **common))
                  for cls in CLASSES}
    port = free_port()
    config = make_config("gateway", WEB_SERVER_ADDRESS=f"127.0.0.1:{port}", **common)
    containers["gateway"] = start_service(GatewayService, config)
    return System(f"http://127.0.0.1:{port}", config["AMQP_URI"], var_dir, containers)


def ops(urls, var_dir, data_keys, *args):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "VAR_DIR": str(var_dir), "DATA_KEYS": data_keys,
           **{f"{service.upper()}_DATABASE_URL": url for service, url in urls.items()}}
    return subprocess.run([sys.executable, "-m", "services.ops", *args], env=env, capture_output=True,
                          text=True, timeout=300)


def sealed_values(urls):
    """[(column, key id, token)] of every sealed value the services wrote."""
    found = []
    for sealed in SEALED_COLUMNS:
        engine = make_engine(urls[sealed.service])
        try:
            t = Table(sealed.table, MetaData(), autoload_with=engine)
            with engine.connect() as conn:
                for (value,) in conn.execute(select(t.c[sealed.column])):
                    token = sealed.token_of(value)
                    if token:
                        found.append((sealed, key_id_of(token), token))
        finally:
            engine.dispose()
    return found


def everything(me, application_id):
    return view(me, application_id), me.call("GET", "/api/v1/me", expect=200).json()


def test_key_rotation_drill(make_config, start_service, database_url, tmp_path):
    var_dir = tmp_path / "var"
    urls = {service: database_url(service) for service in DATABASES}
    system = start_system(make_config, start_service, var_dir, urls, keys("k1"))
    me, application_id = walk_to_approval(system)
    before = everything(me, application_id)
    wait_for(lambda: all(all(sent for *_, sent in outbox(url)) for url in urls.values()),
             message="every outbox row sent")
    columns = {sealed.name for sealed, _, _ in sealed_values(urls)}
    assert {"identity.accounts.phone_enc", "identity.identities.id_number_enc", "registration.roster_records.name_enc",
            "registration.applications.personal_enc", "registration.submissions.answer_enc",
            "notify.notifications.body_enc"} <= columns

    backup_dir = tmp_path / "backups" / "before-rotation"
    done = ops(urls, var_dir, keys("k1"), "backup", str(backup_dir))
    assert done.returncode == 0, done.stderr
    assert json.loads((backup_dir / "manifest.json").read_text())["data_key_ids"] == ["k1"]

    # the new key first, the old one after it: every service restarts with it, then rotate-keys runs
    stop(system)
    system = start_system(make_config, start_service, var_dir, urls, keys("k2", "k1"))
    me.base_url = system.base_url
    assert everything(me, application_id) == before
    first = ops(urls, var_dir, keys("k2", "k1"), "rotate-keys", "--batch-size", "1", "--max-batches", "1")
    assert first.returncode == 0, first.stderr
    assert "run again to continue" in first.stdout and "1/" in first.stdout
    left = ops(urls, var_dir, keys("k2", "k1"), "rotate-keys", "--status")
    assert "data still on older keys: k1" in left.stdout
    rest = ops(urls, var_dir, keys("k2", "k1"), "rotate-keys", "--batch-size", "2")
    assert rest.returncode == 0, rest.stdout + rest.stderr
    assert "done: everything is on k2" in rest.stdout and "materials:" in rest.stdout
    status = ops(urls, var_dir, keys("k2", "k1"), "rotate-keys", "--status")
    assert "data still on older keys: none; keys in DATA_KEYS no data uses: k1" in status.stdout, status.stdout
    for output in (first, left, rest, status):
        assert not any(key in output.stdout + output.stderr for key in KEYS.values())

    # k1 retired from the services: every value they wrote opens with k2 alone
    stop(system)
    only_new = DataCipher(keys("k2"), "unused")
    for sealed, kid, token in sealed_values(urls):
        assert kid == "k2", sealed.name
        only_new.decrypt(token, sealed.context)
    store = MaterialStore(var_dir / "materials", only_new)
    for directory, _, names in os.walk(var_dir / "materials"):
        for name in names:
            relative = os.path.relpath(os.path.join(directory, name), var_dir / "materials")
            store.read(relative, relative.split(os.sep)[0])
    system = start_system(make_config, start_service, var_dir, urls, keys("k2"))
    me.base_url = system.base_url
    assert everything(me, application_id) == before
    stop(system)

    # the backup from before the rotation still needs k1
    fresh = {service: database_url(service) for service in DATABASES}
    refused = ops(fresh, tmp_path / "var2", keys("k2"), "restore", str(backup_dir))
    assert refused.returncode == 2 and "k1" in refused.stderr and "DATA_KEYS" in refused.stderr
    assert not (tmp_path / "var2" / "materials").exists()
    restored = ops(fresh, tmp_path / "var2", keys("k2", "k1"), "restore", str(backup_dir))
    assert restored.returncode == 0, restored.stderr
    system = start_system(make_config, start_service, tmp_path / "var2", fresh, keys("k2", "k1"))
    me.base_url = system.base_url
    assert everything(me, application_id) == before
