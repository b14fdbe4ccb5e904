"""The counters the queue and the figures read (review_task_counts, review_decision_counts) on a real
database: after every step of a busy day — submissions, a replayed submission, claims (one left to
lapse), a release, a lost race, decisions, a replayed decision, a resubmission that supersedes — the
counts under every filter equal what the rows say (the in-memory twin counts the rows one by one),
and counting everything again from the rows (the migration's fill, `recount`) finds the same."""
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from services.common import migrations
from services.common.db import UnitOfWork, make_engine
from services.contracts.events import new_event
from services.review import handlers
from services.review.domain.tasks import Task
from services.review.models import Base, DecisionCount, ReviewTask, TaskCount
from services.review.repository import TaskRepository, repositories
from tests.unit.review.fakes import FakeTasks

from .conftest import submitted_data

pytestmark = pytest.mark.integration
T0 = datetime(2020, 7, 3, 15, 30, tzinfo=timezone.utc)  # 23:30 Beijing: the next Beijing day is 30 min away
LEASE = 3600
FILTERS = [{}, {"campaign_id": "c2020"}, {"campaign_id": "c2021"}, {"district": "110108"},
           {"level": "ASSISTANT"}, {"campaign_id": "c2020", "level": "INTERMEDIATE"},
           *({"min_waiting_seconds": s} for s in (60, 3600, 6 * 3600, 14 * 3600, 86400, 2 * 86400, 10 * 86400)),
           {"campaign_id": "c2020", "district": "110105", "min_waiting_seconds": 3600}]


def reviewer(n):
    return {"account_id": f"reviewer-{n}", "roles": ["reviewer"], "verified": True}


def submit(engine, application_id, attempt, submitted_at, **more):
    data = submitted_data(application_id, attempt=attempt, account_id=f"applicant-{application_id}",
                          submitted_at=submitted_at.isoformat(), **more)
    with UnitOfWork(engine, Base.metadata, repositories=repositories) as uow:
        return handlers.on_application_submitted(uow, new_event("ApplicationSubmitted", application_id, data),
                                                 submitted_at)


def act(engine, fn):
    with UnitOfWork(engine, Base.metadata, repositories=repositories) as uow:
        return fn(uow)


def normalised(rows):
    out = {}
    for state, mine, n in rows:
        out[(state, bool(mine))] = out.get((state, bool(mine)), 0) + n
    return {key: n for key, n in out.items() if n}


def counters(session):
    return (sorted(tuple(row) for row in session.execute(select(TaskCount.__table__)) if row.n),
            sorted(tuple(row) for row in session.execute(select(DecisionCount.__table__))))


def check(engine, now):
    """Counts and figures from the counters equal the twin's, counted row by row."""
    since = now - timedelta(days=1)
    with Session(engine) as s:
        tasks = TaskRepository(s)
        twin = FakeTasks()
        twin.stored = {t.id: t for t in tasks._tasks(select(ReviewTask.__table__))}
        for f in FILTERS:
            for who in ("reviewer-1", "reviewer-2"):
                assert normalised(tasks.counts(f, now, who)) == normalised(twin.counts(f, now, who)), (f, who)
        groups, oldest, closed, per_day = tasks.figures_counts(since, now)
        t_groups, t_oldest, t_closed, t_per_day = twin.figures_counts(since, now)
        assert (sorted(groups), oldest, closed, sorted(per_day)) == (
            sorted(t_groups), t_oldest, t_closed, sorted(t_per_day))
        assert tasks.median_seconds(since) == twin.median_seconds(since)
        kept = counters(s)
        tasks.recount()  # what the migration fills, from the rows
        assert counters(s) == kept
        s.rollback()


def test_counters_follow_every_transition_and_ignore_replays(engine):
    for n in range(6):
        submit(engine, f"app-{n}", 1, T0 - timedelta(hours=7 * n), campaign_id=("c2020", "c2021")[n % 2],
               district_code=("110105", "110108", "110101")[n % 3], cert_level=("INTERMEDIATE", "ASSISTANT")[n % 2])
    check(engine, T0)
    submit(engine, "app-0", 1, T0)  # the same submission again under another event id: nothing new
    check(engine, T0)

    ids = {n: act(engine, lambda uow, n=n: uow.tasks.attempts(f"app-{n}")[1][0]) for n in range(6)}
    now = T0 + timedelta(minutes=5)
    for n, who in ((0, 1), (1, 1), (2, 2), (3, 2), (4, 1)):
        act(engine, lambda uow, n=n, who=who: handlers.claim(uow, reviewer(who), ids[n], LEASE, now))
    check(engine, now)
    act(engine, lambda uow: handlers.release(uow, reviewer(2), ids[3], now))
    check(engine, now)

    with Session(engine) as s, s.begin():  # a transition decided on a lifecycle someone changed meanwhile
        tasks = TaskRepository(s)
        stale = tasks.get(ids[5])
        seen = stale.lifecycle
        tasks.apply(ids[5], lambda t: t.claim("reviewer-2", now, LEASE))
        stale.claim("reviewer-1", now, LEASE)
        assert tasks.save(stale, seen) is False
    check(engine, now)

    decide_at = T0 + timedelta(minutes=40)  # past Beijing midnight: another day for the throughput
    for n, who, decision in ((0, 1, "approved"), (2, 2, "rejected")):
        def decide(uow, n=n, who=who, decision=decision):
            return handlers.decide(uow, reviewer(who), ids[n], decision, None if decision == "approved" else "照片模糊",
                                   [] if decision == "approved" else [{"kind": "photo", "reason": "照片模糊"}],
                                   f"decision-key-{n}", decide_at)
        act(engine, decide)
        act(engine, decide)  # the same decision again with its key: answered, nothing counted twice
    check(engine, decide_at)

    later = decide_at + timedelta(seconds=LEASE + 1)  # reviewer-1's claim of app-1 and app-4 lapsed
    check(engine, later)
    submit(engine, "app-1", 2, later)  # the applicant submitted again: the open task of attempt 1 lapses
    submit(engine, "app-2", 2, later)  # after a rejection: the decided task stays decided
    submit(engine, "app-4", 1, later - timedelta(days=3), district_code="110108")  # replay: nothing new
    check(engine, later)
    check(engine, later + timedelta(days=1))  # the window and the waiting bounds move on


def test_the_migration_fills_the_counters_from_the_tasks_already_there(database_url):
    engine = make_engine(database_url("review"))
    try:
        migrations.upgrade(engine, Base.metadata, "review", target="4b7e2c9d1a05")  # 0005, before the counters
        for n in range(4):
            submit_before_counters(engine, n)
        migrations.upgrade(engine, Base.metadata, "review")
        with Session(engine) as s:
            filled = counters(s)
            TaskRepository(s).recount()
            assert counters(s) == filled and sum(row[-1] for row in filled[0]) == 4
            assert filled[1] == [("reviewer-1", date(2020, 7, 4), 1)]  # 00:15 in Beijing
    finally:
        engine.dispose()


def submit_before_counters(engine, n):
    """A task written as the code before migration 0006 wrote it: the row only."""
    task = Task.submitted(None, T0, id=f"t-{n}", application_id=f"app-{n}", attempt=1, account_id=f"applicant-{n}",
                          campaign_id="c2020", application_kind="FIRST", cert_level="ASSISTANT", exam_year=2019,
                          district_code="110105", material_ids={}, submitted_at=T0 - timedelta(days=n))
    if n == 0:
        task.claim("reviewer-1", T0, LEASE)
        task.decide("reviewer-1", "approved", None, [], None, T0 + timedelta(minutes=45))
    with engine.begin() as conn:
        conn.execute(insert(ReviewTask).values(**task.__dict__))
