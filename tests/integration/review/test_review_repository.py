"""The task repository's compare-and-set (services/review/repository.py) on a real database: a
transition decided on a lifecycle someone else changed meanwhile is not stored; `apply` asks the
domain again and the loser hears the domain's reason."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy.orm import Session

from services.common.db import create_schema, make_engine
from services.contracts.errors import Conflict
from services.review.domain.tasks import CLAIMED, Task
from services.review.models import Base
from services.review.repository import TaskRepository

pytestmark = pytest.mark.integration
NOW = datetime(2020, 7, 3, 2, 0, tzinfo=timezone.utc)


@pytest.fixture
def engine(database_url):
    engine = make_engine(database_url("review"))
    create_schema(engine, Base.metadata)
    with Session(engine) as s, s.begin():
        TaskRepository(s).add(Task.submitted(None, NOW, id="t-1", application_id="app-1", attempt=1,
                                         account_id="applicant-1", campaign_id="c2020", application_kind="FIRST",
                                         cert_level="INTERMEDIATE", exam_year=2019, district_code="110105",
                                         material_ids={"photo": "m-1"}, submitted_at=NOW))
    yield engine
    engine.dispose()


def test_a_transition_on_a_changed_lifecycle_is_not_stored(engine):
    with Session(engine) as s, s.begin():
        tasks = TaskRepository(s)
        mine = tasks.get("t-1")
        seen = mine.lifecycle
        tasks.apply("t-1", lambda t: t.claim("reviewer-2", NOW, 600))  # another request won
        mine.claim("reviewer-1", NOW, 600)
        assert tasks.save(mine, seen) is False
        stored = tasks.get("t-1")
        assert (stored.state, stored.claimed_by) == (CLAIMED, "reviewer-2")
        with pytest.raises(Conflict) as lost:  # asked again on what is stored now
            tasks.apply("t-1", lambda t: t.claim("reviewer-1", NOW + timedelta(seconds=1), 600))
        assert lost.value.code == "task_claimed"


def test_apply_stores_the_change_and_keeps_an_unchanged_task_as_it_is(engine):
    with Session(engine) as s, s.begin():
        tasks = TaskRepository(s)
        task, previous = tasks.apply("t-1", lambda t: t.claim("reviewer-1", NOW, 600))
        assert previous is None and tasks.get("t-1") == task
        unchanged, renewed = tasks.apply("t-1", lambda t: t.renew("reviewer-2", NOW, 600))
        assert renewed is False and unchanged == task


def test_figures_are_counted_by_the_database_with_beijing_days_and_an_exact_median(engine):
    """The figures of a national year are counted where the rows are: the day of a decision is
    Beijing's (23:30 UTC is the next morning there) and the median of an even count is the mean of
    the middle two, on SQLite as on PostgreSQL."""
    late = datetime(2020, 7, 3, 23, 30, tzinfo=timezone.utc)
    with Session(engine) as s, s.begin():
        tasks = TaskRepository(s)
        for n, (waited, decided_at) in enumerate(((10, NOW), (30, NOW), (20, late), (40, late))):
            submitted = decided_at - timedelta(seconds=waited)
            tasks.add(Task.submitted(None, submitted, id=f"d-{n}", application_id=f"app-d{n}", attempt=1,
                                             account_id=f"applicant-d{n}", campaign_id="c2020",
                                             application_kind="FIRST", cert_level="ASSISTANT", exam_year=2019,
                                             district_code="110108", material_ids={}, submitted_at=submitted))
            reviewer = "reviewer-1" if n < 3 else "reviewer-2"
            tasks.apply(f"d-{n}", lambda t, who=reviewer: t.claim(who, t.submitted_at, 600))
            tasks.apply(f"d-{n}", lambda t, who=reviewer, at=decided_at, n=n: t.decide(
                who, "approved", None, [], None, at))
        groups, oldest, closed, per_day = tasks.figures_counts(NOW - timedelta(days=1), NOW)
        median = tasks.median_seconds(NOW - timedelta(days=1))
    assert [(state, district, n) for state, _, district, _, n in groups] == [("pending", "110105", 1)]
    assert oldest == NOW
    assert closed == {"decided": 4}
    assert sorted(per_day) == [("reviewer-1", "2020-07-03", 2), ("reviewer-1", "2020-07-04", 1),
                               ("reviewer-2", "2020-07-04", 1)]
    assert median == 25
