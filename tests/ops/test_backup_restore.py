"""Restore drill: an applicant walks to approval, `python -m services.ops backup` runs while the
services do, everything is wiped, `restore` fills fresh databases and an empty materials directory,
and the restarted system shows the application, its history, its photo (decrypted) and the outbox
as they were; the events re-published after the restore are skipped by every consumer (0 doubled).
A second restore is refused; a corrupted backup is refused with a message naming the file.

The same commands as docs/operations.md; SQLite by default, PostgreSQL with TEST_DATABASE=postgresql.
"""
import json
import os
import pathlib
import shutil
import subprocess
import sys

import psycopg2
import pytest
from sqlalchemy import create_engine, text

from services.common import metrics
from services.common.config import DEV_SECRETS
from services.contracts.subscriptions import SUBSCRIPTIONS
from services.gateway.service import GatewayService
from services.identity.service import IdentityService
from services.notify.service import NotifyService
from services.registration.service import RegistrationService
from services.review.service import ReviewService
from tests.support.infra import PG_DSN, wait_for
from tests.support.journey import (
    ADMIN_PHONE,
    REVIEWER_PHONE,
    applicant,
    fill_and_upload,
    import_roster,
    open_campaign,
    roster_row,
    staff,
    submit,
)
from tests.support.system import System, free_port

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

ROOT = pathlib.Path(__file__).resolve().parents[2]
DATABASES = ("identity", "registration", "review", "notify")
CLASSES = (IdentityService, RegistrationService, ReviewService, NotifyService)
NAME, ID_NUMBER, MGMT, PHONE = "张三", "11010519491231002X", "20191100000012345", "13800138000"


def start_system(make_config, start_service, var_dir, urls):
    common = {"VAR_DIR": str(var_dir), "SMS_CHANNEL": "file", "EMAIL_CHANNEL": "file",
              "NOTIFY_QUIET_HOURS": "off"}
    containers = {cls.name: start_service(cls, make_config(cls.name, DATABASE_URL=urls[cls.name], **common))
                  for cls in CLASSES}
    port = free_port()
    config = make_config("gateway", WEB_SERVER_ADDRESS=f"127.0.0.1:{port}", **common)
    containers["gateway"] = start_service(GatewayService, config)
    return System(f"http://127.0.0.1:{port}", config["AMQP_URI"], var_dir, containers)


def stop(system):
    for container in system.containers.values():
        container.stop()


def ops(command, directory, urls, var_dir):
    """`python -m services.ops <command> DIR` with the services' environment."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "VAR_DIR": str(var_dir)}
    env.update({f"{service.upper()}_DATABASE_URL": url for service, url in urls.items()})
    return subprocess.run([sys.executable, "-m", "services.ops", command, str(directory)], env=env,
                          capture_output=True, text=True, timeout=300)


def rows(url, statement):
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text(statement)).all()
    finally:
        engine.dispose()


def outbox(url):
    return sorted(rows(url, "SELECT event_id, event_type, exchange, payload, sent_at IS NOT NULL FROM outbox"))


def wipe(url):
    if url.startswith("sqlite"):
        os.remove(url.split("sqlite:///", 1)[1])
        return
    conn = psycopg2.connect(PG_DSN)
    conn.autocommit = True
    conn.cursor().execute(f'DROP DATABASE "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
    conn.close()


def consumed_total():
    return sum(sample.value for family in metrics.EVENTS_CONSUMED.collect() for sample in family.samples
               if sample.name.endswith("_total"))


def walk_to_approval(system):
    admin = staff(system, ADMIN_PHONE, "admin")
    reviewer = staff(system, REVIEWER_PHONE, "reviewer")
    campaign = open_campaign(system, admin)
    import_roster(admin, [roster_row(NAME, ID_NUMBER, MGMT)])
    me = applicant(system, PHONE, NAME, ID_NUMBER)
    app = me.call("POST", "/api/v1/applications", {"campaign_id": campaign["id"]}, expect=201).json()
    fill_and_upload(me, app["id"])
    assert submit(me, app["id"]).status_code == 200
    [task] = wait_for(lambda: [t for t in reviewer.call("GET", "/api/v1/review/tasks", expect=200).json()
                               if t["application_id"] == app["id"]], message="a review task")
    reviewer.call("POST", f"/api/v1/review/tasks/{task['id']}/claim", expect=200)
    reviewer.call("POST", f"/api/v1/review/tasks/{task['id']}/decision", {"decision": "approved"},
                  headers={"Idempotency-Key": "drill-decision"}, expect=200)
    wait_for(lambda: me.call("GET", f"/api/v1/applications/{app['id']}", expect=200).json()["state"]
             == "APPROVED", message="approved")
    system.wait_sms(PHONE, "登记")
    return me, app["id"]


def view(me, application_id):
    application = me.call("GET", f"/api/v1/applications/{application_id}", expect=200).json()
    history = me.call("GET", f"/api/v1/applications/{application_id}/history", expect=200).json()
    photo = me.call("GET", f"/api/v1/applications/{application_id}/materials/photo", expect=200)
    assert photo.headers["Content-Type"] == "image/jpeg"
    return application, history, photo.content


def test_restore_drill(make_config, start_service, database_url, tmp_path):
    var_dir = tmp_path / "var"
    urls = {service: database_url(service) for service in DATABASES}
    system = start_system(make_config, start_service, var_dir, urls)
    me, application_id = walk_to_approval(system)
    before = view(me, application_id)
    assert before[0]["state"] == "APPROVED" and before[0]["registration_number"]
    wait_for(lambda: all(all(sent for *_, sent in outbox(url)) for url in urls.values()),
             message="every outbox row sent")

    # the backup runs while the services do
    backup_dir = tmp_path / "backups" / "drill"
    done = ops("backup", backup_dir, urls, var_dir)
    assert done.returncode == 0, done.stderr
    manifest = (backup_dir / "manifest.json").read_text()
    assert '"keys_included": false' in manifest
    for secret in DEV_SECRETS.values():  # never a key, in any file of the backup
        for path in backup_dir.iterdir():
            assert secret.split(":")[-1].encode() not in path.read_bytes(), path

    outbox_before = {service: outbox(url) for service, url in urls.items()}
    tasks_before = rows(urls["review"], "SELECT id, state FROM review_tasks")
    notifications_before = rows(urls["notify"], "SELECT count(*) FROM notifications")
    stop(system)

    # wipe everything, restore into fresh databases and an empty materials directory
    for url in urls.values():
        wipe(url)
    shutil.rmtree(var_dir / "materials")
    fresh = {service: database_url(service) for service in DATABASES}
    var2 = tmp_path / "var2"
    done = ops("restore", backup_dir, fresh, var2)
    assert done.returncode == 0, done.stderr
    for service, url in fresh.items():
        restored = outbox(url)
        assert [row[:4] for row in restored] == [row[:4] for row in outbox_before[service]], service
    republished = [(exchange, event_type) for url in fresh.values()
                   for _, event_type, exchange, _, sent in outbox(url) if not sent]
    assert republished, "the events sent during the last minutes are published again"
    expected_deliveries = sum(1 for exchange, event_type in republished for _, source, subscribed in SUBSCRIPTIONS
                              if f"{source}.events" == exchange and subscribed == event_type)

    consumed = consumed_total()
    restored_system = start_system(make_config, start_service, var2, fresh)
    wait_for(lambda: all(all(sent for *_, sent in outbox(url)) for url in fresh.values()), timeout=30,
             message="the restored relays publish the recent events again")
    wait_for(lambda: consumed_total() - consumed >= expected_deliveries, timeout=30,
             message="every consumer saw the re-published events")

    # the same token, application, history and photo (decrypted by the restored review service)
    me.base_url = restored_system.base_url
    after = view(me, application_id)
    assert after == before
    assert rows(fresh["review"], "SELECT id, state FROM review_tasks") == tasks_before
    assert rows(fresh["notify"], "SELECT count(*) FROM notifications") == notifications_before

    # the runbook's trail of one application, across the restored services, without personal data
    done = subprocess.run([sys.executable, "-m", "services.ops", "trail", application_id], capture_output=True,
                          text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT), "VAR_DIR": str(var2),
                                                       **{f"{s.upper()}_DATABASE_URL": u for s, u in fresh.items()}})
    assert done.returncode == 0, done.stderr
    facts = [json.loads(line) for line in done.stdout.splitlines()]
    kinds = {(fact["fact"], fact.get("type") or fact.get("kind") or fact.get("action")) for fact in facts}
    assert {("event", "ApplicationSubmitted"), ("event", "ReviewCompleted"), ("event", "RegistrationCompleted"),
            ("processed", "ApplicationSubmitted"), ("processed", "ReviewCompleted")} <= kinds
    assert any(fact["fact"] == "review_task" and fact["decision"] == "approved" for fact in facts)
    assert any(fact["fact"] == "notification" and fact["channel"] == "sms" for fact in facts)
    for personal in (PHONE, PHONE[-4:] + '"', NAME, ID_NUMBER, ID_NUMBER[-4:]):
        assert personal not in done.stdout

    # a second restore of the same backup is refused, and says why
    again = ops("restore", backup_dir, fresh, var2)
    assert again.returncode == 2 and "已有" in again.stderr and "拒绝覆盖" in again.stderr

    # a corrupted backup is refused before anything is written
    stop(restored_system)
    corrupt = tmp_path / "backups" / "corrupt"
    shutil.copytree(backup_dir, corrupt)
    target = corrupt / manifest_file(corrupt, "registration")
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0xFF
    target.write_bytes(bytes(data))
    empty = {service: database_url(service) for service in DATABASES}
    refused = ops("restore", corrupt, empty, tmp_path / "var3")
    assert refused.returncode == 2
    assert "校验和" in refused.stderr and target.name in refused.stderr
    assert not (tmp_path / "var3" / "materials").exists()
    for url in empty.values():
        if not url.startswith("sqlite"):
            assert rows(url, "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'") == [(0,)]


def manifest_file(directory, service):
    return json.loads((directory / "manifest.json").read_text())["databases"][service]["file"]


def test_backup_refuses_a_used_directory_and_restore_an_unfinished_backup(tmp_path):
    used = tmp_path / "used"
    used.mkdir()
    (used / "something").write_text("x")
    urls = {service: f"sqlite:///{tmp_path}/{service}.db" for service in DATABASES}
    done = ops("backup", used, urls, tmp_path / "var")
    assert done.returncode == 2 and "不是空的" in done.stderr
    done = ops("restore", used, urls, tmp_path / "var")
    assert done.returncode == 2 and "manifest.json" in done.stderr

