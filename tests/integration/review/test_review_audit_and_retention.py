"""The audit log nobody can edit (the database refuses), and the retention command."""
import io
from contextlib import redirect_stdout
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from services.common.db import create_schema, make_engine
from services.contracts.errors import NotFound
from services.review import __main__ as cli
from services.review.models import AuditEntry, Base, Material
from tests.support.images import certificate, id_card, id_card_back, jpeg, photo
from tests.support.infra import wait_for

from .conftest import APPLICANT, REVIEWER, submitted_data


def _refused(engine, statement):
    with pytest.raises(DBAPIError) as refused:
        with engine.begin() as conn:
            conn.execute(text(statement))
    assert "append-only" in str(refused.value)


def test_audit_log_refuses_update_and_delete_in_the_database(review):
    review.submit(submitted_data("app-1"))
    task_id = wait_for(lambda: review.task_for("app-1"))
    with review.rpc() as rpc:
        rpc.claim(REVIEWER, task_id)
        rpc.get_task(REVIEWER, task_id)
        rpc.release(REVIEWER, task_id)
    before = review.audit()
    assert [e["action"] for e in before] == ["task.claimed", "task.viewed", "task.released"]
    engine = review.db.engine  # the service's own engine: whatever the application may do
    _refused(engine, "UPDATE audit_log SET actor = 'someone-else'")
    _refused(engine, f"DELETE FROM audit_log WHERE subject = 'task:{task_id}'")
    _refused(engine, "DELETE FROM audit_log")
    if engine.dialect.name == "postgresql":
        _refused(engine, "TRUNCATE audit_log")
    with engine.begin() as conn:  # appending is what it is for
        conn.execute(text("INSERT INTO audit_log (actor, action, subject, at, details) "
                          "VALUES ('ops', 'note', 'ops:1', :at, '{}')"), {"at": datetime.now(timezone.utc)})
    after = review.audit()
    assert after[:3] == before and len(after) == 4


@pytest.mark.parametrize("how", ["create_all", "migrations"])
def test_the_guard_exists_however_the_schema_was_made(database_url, how):
    from services.common import migrations
    engine = make_engine(database_url("review"))
    if how == "create_all":
        create_schema(engine, Base.metadata)
    else:
        migrations.upgrade(engine, Base.metadata, "review")
    with engine.begin() as conn:
        conn.execute(AuditEntry.__table__.insert().values(
            actor="a", action="b", subject="c", at=datetime.now(timezone.utc), details={}))
    _refused(engine, "UPDATE audit_log SET action = 'x'")
    _refused(engine, "DELETE FROM audit_log")
    engine.dispose()


def test_purge_removes_id_and_certificate_images_of_long_approved_applications(review, frozen_clock):
    uploads = {kind: review.upload(jpeg(make), kind=kind)["material_id"] for kind, make in (
        ("id_card_front", id_card(seed=1)), ("id_card_back", id_card_back(seed=2)),
        ("certificate", certificate(seed=3)), ("photo", photo(seed=4)))}
    pending_card = review.upload(jpeg(id_card(seed=5)), kind="id_card_front", application_id="app-2")["material_id"]
    assert all(uploads.values())
    decided_at = datetime(2020, 7, 10, 2, 0, tzinfo=timezone.utc)
    review.submit(submitted_data("app-1", material_ids=uploads))
    review.submit(submitted_data("app-2", material_ids={"id_card_front": pending_card}))
    task_id = wait_for(lambda: review.task_for("app-1"))
    frozen_clock(decided_at)
    with review.rpc() as rpc:
        rpc.claim(REVIEWER, task_id)
        rpc.decide(REVIEWER, task_id, "approved", None, [], None)
    files_before = {m["id"]: (m["path"], m["thumb_path"]) for m in review.materials()}

    frozen_clock(decided_at + timedelta(days=29))
    out = io.StringIO()
    with redirect_stdout(out):
        assert cli.main(["purge", "--older-than-days", "30"], config=review.config) == 0
    assert '"purged": 0' in out.getvalue()

    frozen_clock(decided_at + timedelta(days=31))
    with redirect_stdout(io.StringIO()):
        assert cli.main(["purge", "--older-than-days", "30"], config=review.config) == 0
    rows = {m["id"]: m for m in review.materials()}
    store = review.store
    for kind in ("id_card_front", "id_card_back", "certificate"):
        row = rows[uploads[kind]]
        assert row["purged_at"] is not None and row["verdict"]["ok"] is True  # the record of the check stays
        assert not any(store.exists(p) for p in files_before[row["id"]])
    assert rows[uploads["photo"]]["purged_at"] is None  # the photo is printed on the certificate record
    assert store.exists(files_before[uploads["photo"]][0])
    assert rows[pending_card]["purged_at"] is None and store.exists(files_before[pending_card][0])

    with review.rpc() as rpc:
        with pytest.raises(NotFound) as gone:
            rpc.fetch_material(uploads["certificate"], APPLICANT)
        assert gone.value.code == "material_purged"
        assert rpc.material_info(uploads["certificate"])["purged"] is True
    assert len(review.audit("material.purged")) == 3
    with redirect_stdout(io.StringIO()):  # running it again changes nothing
        assert cli.main(["purge", "--older-than-days", "30"], config=review.config) == 0
    assert len(review.audit("material.purged")) == 3


def test_purge_keeps_a_file_another_live_material_still_uses(review, frozen_clock):
    card = jpeg(id_card(seed=1))
    first = review.upload(card, kind="id_card_front", application_id="app-1")["material_id"]
    second = review.upload(card, kind="id_card_front", application_id="app-2")["material_id"]
    review.submit(submitted_data("app-1", material_ids={"id_card_front": first}))
    task_id = wait_for(lambda: review.task_for("app-1"))
    frozen_clock(datetime(2020, 7, 10, tzinfo=timezone.utc))
    with review.rpc() as rpc:
        rpc.claim(REVIEWER, task_id)
        rpc.decide(REVIEWER, task_id, "approved", None, [], None)
    frozen_clock(datetime(2020, 9, 10, tzinfo=timezone.utc))
    with redirect_stdout(io.StringIO()):
        assert cli.main(["purge", "--older-than-days", "30"], config=review.config) == 0
    rows = {m["id"]: m for m in review.materials(Material.id.in_([first, second]))}
    assert rows[first]["purged_at"] is not None and rows[second]["purged_at"] is None
    assert review.store.exists(rows[second]["path"])
    with review.rpc() as rpc:
        assert rpc.fetch_material(second, APPLICANT)["content_type"] == "image/jpeg"


def test_purge_refuses_a_negative_age(review, capsys):
    assert cli.main(["purge", "--older-than-days", "-1"], config=review.config) == 2
    assert "--older-than-days" in capsys.readouterr().err


def test_the_running_service_purges_on_its_retention_schedule(start_review):
    """Item 8: the purges run inside the service (Database provider + a nameko timer), not only as
    commands: images past MATERIALS_RETENTION_DAYS, sent events past EVENT_ARCHIVE_DAYS, processed-event
    records past PROCESSED_EVENTS_RETENTION_DAYS, checked every RETENTION_PURGE_SECONDS."""
    review = start_review(RETENTION_PURGE_SECONDS="0.1", MATERIALS_RETENTION_DAYS="0", EVENT_ARCHIVE_DAYS="0",
                          PROCESSED_EVENTS_RETENTION_DAYS="0")
    card = review.upload(jpeg(id_card(seed=1)), kind="id_card_front")["material_id"]
    kept = review.upload(jpeg(photo(seed=4)), kind="photo")["material_id"]
    review.submit(submitted_data("app-1", material_ids={"id_card_front": card, "photo": kept}))
    task_id = wait_for(lambda: review.task_for("app-1"))
    [card_path] = [m["path"] for m in review.materials() if m["id"] == card]
    with review.rpc() as rpc:
        rpc.claim(REVIEWER, task_id)
        rpc.decide(REVIEWER, task_id, "approved", None, [], None)  # publishes ReviewCompleted

    tables = review.db.metadata.tables

    def remaining(table):
        with review.db.engine.connect() as conn:
            return conn.execute(text(f"SELECT count(*) FROM {table}")).scalar()
    wait_for(lambda: review.materials(Material.id == card)[0]["purged_at"] is not None,
             message="the ID-card image purged by the timer")
    assert not review.store.exists(card_path)
    assert review.materials(Material.id == kept)[0]["purged_at"] is None  # the photo stays
    wait_for(lambda: remaining("outbox") == 0, message="the sent ReviewCompleted out of the archive")
    wait_for(lambda: remaining("processed_events") == 0, message="the processed-event record purged")
    assert set(tables) >= {"outbox", "processed_events"}
    assert [e["subject"] for e in review.audit("material.purged")] == [f"material:{card}"]
