"""The application's row as repository.py reads and writes it by Core statements, on SQLite and
PostgreSQL (TEST_DATABASE=postgresql): a submit is a handful of statements, a lost race is the
Conflict it always was, the personal part stays sealed and is sealed again only when it changes, a
second snapshot of one attempt is refused, and the submission is counted under its campaign."""
import json
from datetime import timedelta

import pytest
from sqlalchemy import event, select, update

from services.common import clock
from services.common.db import UnitOfWork, create_schema, make_engine
from services.common.outbox import environment_cipher
from services.contracts.errors import Conflict
from services.registration import handlers
from services.registration.domain import states
from services.registration.domain.records import Submission
from services.registration.models import Application, Base, ReportDay
from services.registration.repository import PERSONAL_CONTEXT, repositories
from tests.unit.registration.builders import INSIDE, accepted_materials, complete_form

pytestmark = pytest.mark.integration


@pytest.fixture
def engine(database_url, monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: INSIDE)  # the outbox row's time
    engine = make_engine(database_url("registration"))
    create_schema(engine, Base.metadata)
    with UnitOfWork(engine, Base.metadata, repositories=repositories) as uow:
        handlers.seed_2020(uow, INSIDE)
    yield engine
    engine.dispose()


def uow(engine):
    return UnitOfWork(engine, Base.metadata, repositories=repositories)


def ready(engine, account_id="u-1"):
    """A complete application, not yet submitted; its id."""
    with uow(engine) as work:
        campaign_id = work.campaigns.all()[0].id
        app = states.Application(id=f"app-{account_id}", campaign_id=campaign_id, account_id=account_id,
                                 form=complete_form(), materials=accepted_materials())
        work.applications.add(app, INSIDE)
    return app.id


def row(engine, application_id):
    with engine.connect() as conn:
        return conn.execute(select(Application.__table__).where(Application.id == application_id)).one()


def test_a_submit_is_seven_statements(engine):
    """SELECT the application (locked), the key's earlier submission and the campaign; UPDATE the
    application; INSERT the outbox row, the snapshot and the day's counter."""
    app_id = ready(engine)
    statements = []
    listen = lambda conn, cursor, sql, *rest: statements.append(sql.split()[0].upper())  # noqa: E731
    event.listen(engine, "before_cursor_execute", listen)
    try:
        with uow(engine) as work:
            answer = handlers.submit(work, "u-1", app_id, "key-1", INSIDE)
    finally:
        event.remove(engine, "before_cursor_execute", listen)
    assert answer["state"] == states.SUBMITTED and answer["attempt"] == 1
    assert sorted(s for s in statements if s not in ("BEGIN", "COMMIT")) == [
        "INSERT", "INSERT", "INSERT", "SELECT", "SELECT", "SELECT", "UPDATE"]


def test_the_stored_application_reads_back_as_it_was_saved(engine):
    app_id = ready(engine)
    with uow(engine) as work:
        handlers.submit(work, "u-1", app_id, "key-1", INSIDE)
    with uow(engine) as work:
        app = work.applications.get(app_id)
        days = work.session.execute(select(ReportDay.__table__)).all()
    assert (app.state, app.attempt, app.submitted_at, app.first_submitted_at) == (
        states.SUBMITTED, 1, INSIDE, INSIDE)
    assert app.form == complete_form() and app.materials == accepted_materials()
    assert row(engine, app_id).version == 2  # added, then submitted
    assert [(d.campaign_id, d.submissions, d.resubmissions) for d in days] == [(app.campaign_id, 1, 0)]


def test_a_change_saved_after_another_writer_changed_the_row_is_a_conflict(engine):
    app_id = ready(engine)
    with pytest.raises(Conflict) as refused, uow(engine) as work:
        app = work.applications.get(app_id)
        # another writer's change in between (same transaction here: SQLite lets one writer at a time)
        work.session.execute(update(Application).where(Application.id == app_id)
                             .values(version=Application.version + 1))
        app.apply("save_draft", now=INSIDE, data={"position": "主任"}, campaign=work.campaigns.get(app.campaign_id))
        work.applications.save(app, INSIDE)
    assert refused.value.code == "concurrent_change"
    assert row(engine, app_id).version == 1  # rolled back


def test_the_personal_part_is_sealed_again_only_when_it_changed(engine):
    app_id = ready(engine)
    sealed = row(engine, app_id).personal_enc
    assert "13812345678" not in sealed and "13812345678" not in json.dumps(row(engine, app_id).form)
    with uow(engine) as work:
        handlers.submit(work, "u-1", app_id, "key-1", INSIDE)
    assert row(engine, app_id).personal_enc == sealed  # a submit changes nothing personal

    with uow(engine) as work:  # rejected, so editable again
        work.session.execute(update(Application).where(Application.id == app_id).values(
            state=states.REJECTED, decided_attempt=1))
    with uow(engine) as work:
        handlers.save_draft(work, "u-1", app_id, {"mobile": "13900001111"}, INSIDE + timedelta(hours=1))
    resealed = row(engine, app_id).personal_enc
    assert resealed != sealed
    personal = json.loads(environment_cipher().decrypt(resealed, PERSONAL_CONTEXT))
    assert personal["mobile"] == "13900001111" and personal["name"] == "张三"
    assert "mobile" not in row(engine, app_id).form


def test_a_second_snapshot_of_one_attempt_is_refused(engine):
    app_id = ready(engine)
    with uow(engine) as work:
        handlers.submit(work, "u-1", app_id, "key-1", INSIDE)
    with pytest.raises(Conflict) as refused, uow(engine) as work:
        work.submissions.add(Submission(
            application_id=app_id, account_id="u-1", attempt=1, idempotency_key="key-2", form=complete_form(),
            materials={}, answer={}, event_id="e-2", submitted_at=INSIDE))
    assert refused.value.code == "already_submitted"
    with uow(engine) as work:
        assert [s.idempotency_key for s in work.submissions.of_application(app_id)] == ["key-1"]
        assert work.submissions.by_key("u-1", "key-1").answer["state"] == states.SUBMITTED
