"""Review tasks: rows ⇄ domain.tasks.Task, and every query the queue, the workbench and the figures ask.

No nameko here; every function takes a SQLAlchemy session (the unit of work's).

A transition is stored by a compare-and-set: the UPDATE's WHERE says the lifecycle the domain
decided on (state, claimant, lease) is still the stored one, and its rowcount tells whether it was.
When another request changed the task first, `apply` loads it again and asks the domain again, so
two reviewers racing for one task change one row, and the other hears the domain's reason.
"""
import dataclasses
from datetime import timedelta

from sqlalchemy import and_, case, func, insert, or_, select, text, update

from services.common import sqltime
from services.contracts.errors import Conflict, NotFound

from .domain.tasks import CLAIMED, DECIDED, OPEN, PENDING, SUPERSEDED, Task
from .models import ReviewTask

TRANSITION_ROUNDS = 5  # loads of one task before a request that keeps losing races gives up
MINE = "mine"  # live claims of the reviewer asking (the workbench's "我领取的")
_COLUMNS = [f.name for f in dataclasses.fields(Task)]
_LIFECYCLE = (ReviewTask.state, ReviewTask.claimed_by, ReviewTask.lease_expires_at)
_ORDER = (ReviewTask.submitted_at, ReviewTask.attempt, ReviewTask.id)


def _to_domain(row):
    values = {name: row[name] for name in _COLUMNS}
    values["material_ids"] = dict(values["material_ids"] or {})
    values["material_issues"] = list(values["material_issues"] or [])
    return Task(**values)


def _tasks(session, query):
    return [_to_domain(row) for row in session.execute(query).mappings().all()]


def _select():
    return select(ReviewTask.__table__)


# -- one task -------------------------------------------------------------------------------------

def get(session, task_id):
    """The task, or NotFound."""
    found = _tasks(session, _select().where(ReviewTask.id == task_id)) if isinstance(task_id, str) else []
    if not found:
        raise NotFound("审核任务不存在", code="task_not_found")
    return found[0]


def add(session, task):
    session.execute(insert(ReviewTask).values(**dataclasses.asdict(task)))


def save(session, task, seen):
    """Store the task's changes if its stored lifecycle is still `seen`; False when it is not."""
    changes = {name: value for name, value in dataclasses.asdict(task).items()
               if name not in ("id", "application_id", "attempt", "account_id", "created_at")}
    guard = [column == value for column, value in zip(_LIFECYCLE, seen, strict=True)]  # None → IS NULL
    result = session.execute(update(ReviewTask).where(ReviewTask.id == task.id, *guard).values(**changes)
                             .execution_options(synchronize_session=False))
    return result.rowcount == 1


def apply(session, task_id, change):
    """(task, what `change(task)` answered), stored: load, change, compare-and-set, again when
    another request won. `change` may raise (the domain refusing); no change, nothing stored."""
    for _ in range(TRANSITION_ROUNDS):
        task = get(session, task_id)
        before = dataclasses.replace(task)
        outcome = change(task)
        if task == before or save(session, task, before.lifecycle):
            return task, outcome
    raise Conflict("任务状态已变化，请刷新后重试", code="task_changed")


# -- submissions ----------------------------------------------------------------------------------

def lock_application(session, application_id):
    """Two attempts of one application handled at once must see each other (supersede). SQLite
    needs nothing: its transactions are serial (BEGIN IMMEDIATE)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"review_task:{application_id}"})


def id_of(session, application_id, attempt):
    return session.scalar(select(ReviewTask.id).filter_by(application_id=application_id, attempt=attempt))


def newest_attempt(session, application_id):
    return session.scalar(select(func.max(ReviewTask.attempt)).filter_by(application_id=application_id))


def open_ids_before(session, application_id, attempt):
    """The open tasks of the application's older attempts."""
    return session.scalars(select(ReviewTask.id).where(
        ReviewTask.application_id == application_id, ReviewTask.attempt < attempt,
        ReviewTask.state.in_(OPEN))).all()


def approved_before(cutoff):
    """A subquery: the applications whose task was approved at or before `cutoff`."""
    return select(ReviewTask.application_id).where(
        ReviewTask.state == DECIDED, ReviewTask.decision == "approved", ReviewTask.decided_at <= cutoff)


# -- the queue ------------------------------------------------------------------------------------

def _live(now):
    return and_(ReviewTask.state == CLAIMED, ReviewTask.lease_expires_at > now)


def _free(now):
    """Claimable by anyone: pending, or claimed with a lease that ran out."""
    return and_(ReviewTask.state.in_(OPEN),  # spelled out: the partial index of open tasks serves it
                or_(ReviewTask.state == PENDING, ReviewTask.lease_expires_at <= now))


def _scope(f, now):
    """The WHERE conditions of cleaned filters other than the state."""
    conditions = []
    if "campaign_id" in f:
        conditions.append(ReviewTask.campaign_id == f["campaign_id"])
    if "district" in f:
        conditions.append(ReviewTask.district_code == f["district"])
    if "level" in f:
        conditions.append(ReviewTask.cert_level == f["level"])
    if f.get("min_waiting_seconds"):
        conditions.append(ReviewTask.submitted_at <= now - timedelta(seconds=f["min_waiting_seconds"]))
    return conditions


def _state_condition(state, now, reviewer_id):
    if state == MINE:
        return and_(_live(now), ReviewTask.claimed_by == reviewer_id)
    if state == PENDING:
        return _free(now)
    if state == CLAIMED:
        return _live(now)
    if state == "open":
        return ReviewTask.state.in_(OPEN)
    if state == "all":
        return None
    return ReviewTask.state == state


def queue(session, f, now, reviewer_id):
    """Tasks under cleaned filters (state as the queue shows it), oldest submission first."""
    query = _select().where(*_scope(f, now))
    condition = _state_condition(f["state"], now, reviewer_id)
    if condition is not None:
        query = query.where(condition)
    return _tasks(session, query.order_by(*_ORDER).limit(f["limit"]))


def counts(session, f, now, reviewer_id):
    """[(state as shown, the reviewer's own live claim, number)] under the filters."""
    effective = case((_live(now), CLAIMED), (ReviewTask.state == CLAIMED, PENDING), else_=ReviewTask.state)
    mine = case((and_(_live(now), ReviewTask.claimed_by == reviewer_id), 1), else_=0)
    return session.execute(select(effective, mine, func.count()).where(*_scope(f, now))
                           .group_by(effective, mine)).all()


def held_by(session, reviewer_id, f, now, passed):
    """The reviewer's oldest live claim under the filters, or None."""
    found = _tasks(session, _select().where(
        _live(now), ReviewTask.claimed_by == reviewer_id, ReviewTask.id.not_in(passed), *_scope(f, now))
        .order_by(*_ORDER).limit(1))
    return found[0] if found else None


def next_free(session, reviewer_id, f, now, passed):
    """The oldest task the reviewer may claim, or None. On PostgreSQL its row is locked with SKIP
    LOCKED, so a reviewer asking at the same moment moves on to the next row instead of queueing."""
    found = _tasks(session, _select().where(
        _free(now), ReviewTask.account_id != reviewer_id, ReviewTask.id.not_in(passed), *_scope(f, now))
        .order_by(*_ORDER).limit(1).with_for_update(skip_locked=True))
    return found[0] if found else None


# -- figures --------------------------------------------------------------------------------------

def figures_counts(session, since, now):
    """What the reviewer figures are made of, counted by the database (a national year of tasks stays
    there): ([(effective state, campaign, district, level, n, oldest submission)] of open tasks,
    {closed state: n}, [(reviewer, Beijing day, n)] of decisions since `since`, median seconds from
    submission to decision since `since` or None)."""
    dialect = session.get_bind().dialect.name
    effective = case((_live(now), CLAIMED), else_=PENDING)
    open_groups = session.execute(select(
        effective, ReviewTask.campaign_id, ReviewTask.district_code, ReviewTask.cert_level, func.count(),
        func.min(ReviewTask.submitted_at)).where(ReviewTask.state.in_(OPEN)).group_by(
        effective, ReviewTask.campaign_id, ReviewTask.district_code, ReviewTask.cert_level)).all()
    closed = dict(session.execute(select(ReviewTask.state, func.count()).where(
        ReviewTask.state.in_([DECIDED, SUPERSEDED])).group_by(ReviewTask.state)).all())
    decided = and_(ReviewTask.state == DECIDED, ReviewTask.decided_at >= since)
    day = sqltime.beijing_day(ReviewTask.decided_at, dialect)
    per_day = session.execute(select(ReviewTask.decided_by, day, func.count()).where(decided)
                              .group_by(ReviewTask.decided_by, day)).all()
    return open_groups, closed, [(by, str(d), n) for by, d, n in per_day], _median_seconds(session, decided, dialect)


def _median_seconds(session, condition, dialect):
    """The exact median of decided_at − submitted_at: the middle one or two values, found by the
    database's sort (an index would not help: the value is computed)."""
    n = session.scalar(select(func.count()).select_from(ReviewTask).where(condition))
    if not n:
        return None
    seconds = sqltime.seconds_between(ReviewTask.submitted_at, ReviewTask.decided_at, dialect)
    middle = session.scalars(select(seconds).where(condition).order_by(seconds)
                             .offset((n - 1) // 2).limit(2 - n % 2)).all()
    return round(float(sum(middle)) / len(middle), 3)
