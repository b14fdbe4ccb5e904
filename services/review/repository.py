"""All SQL of the review service: tasks (rows ⇄ domain.tasks.Task, every query the queue, the
workbench and the figures ask), materials with their fingerprints, and the platform's audit log.

The unit of work builds them for its session (`Database(..., repositories=repositories)`), so the
service layer says `uow.tasks.claim…`/`uow.materials.get(...)` and never sees SQLAlchemy; the
in-memory twins the unit tests use are tests/unit/review/fakes.py.

A transition is stored by a compare-and-set: the UPDATE's WHERE says the lifecycle the domain
decided on (state, claimant, lease) is still the stored one, and its rowcount tells whether it was.
When another request changed the task first, `apply` loads it again and asks the domain again, so
two reviewers racing for one task change one row, and the other hears the domain's reason.

The counters (models.TaskCount, models.DecisionCount) move with the rows: `add` and a stored `save`
note what they change (services.common.counters writes the notes just before the commit). A
transition that is not stored (lost the compare-and-set, or a replay that changes nothing) notes nothing.
"""
import dataclasses
from collections import Counter
from datetime import datetime, time, timedelta, timezone

from sqlalchemy import (
    and_,
    bindparam,
    case,
    cast,
    delete,
    func,
    insert,
    or_,
    select,
    text,
    tuple_,
    union_all,
    update,
)

from services.common import clock, sqltime
from services.common.audit import AuditLog
from services.common.counters import Counters
from services.contracts.errors import Conflict, NotFound

from .domain import duplicates
from .domain.phash import bands
from .domain.records import Material
from .domain.tasks import CLAIMED, DECIDED, OPEN, PENDING, SUPERSEDED, Task
from .models import DecisionCount, MaterialFingerprint, ReviewTask, TaskCount
from .models import Material as MaterialRow

TRANSITION_ROUNDS = 5  # loads of one task before a request that keeps losing races gives up
MINE = "mine"  # live claims of the reviewer asking (the workbench's "我领取的")
TASK_NOT_FOUND = "审核任务不存在"
_COLUMNS = [f.name for f in dataclasses.fields(Task)]
_MATERIAL_COLUMNS = [f.name for f in dataclasses.fields(Material)]
_LIFECYCLE = (ReviewTask.state, ReviewTask.claimed_by, ReviewTask.lease_expires_at)
_ORDER = (ReviewTask.submitted_at, ReviewTask.attempt, ReviewTask.id)
# The statements of every submission, built once (a statement object keeps its cache key).
_TASKS = ReviewTask.__table__
_INSERT_TASK = _TASKS.insert()
_ATTEMPTS = select(_TASKS.c.id, _TASKS.c.attempt, _TASKS.c.state).where(
    _TASKS.c.application_id == bindparam("application_id"))


def repositories(session, cipher=None):
    """The unit of work's hook: this service's repositories for one session."""
    return {"tasks": TaskRepository(session), "materials": MaterialRepository(session), "audit": AuditLog(session)}


def _to_domain(row):
    values = {name: row[name] for name in _COLUMNS}
    values["material_ids"] = dict(values["material_ids"] or {})
    values["material_issues"] = list(values["material_issues"] or [])
    return Task(**values)


def _select():
    return select(ReviewTask.__table__)


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


def _utc_day(moment):
    return moment.astimezone(timezone.utc).date()


def _beijing_day(moment):
    return moment.astimezone(clock.BEIJING).date()


def _bucket(state):
    """The counter a stored state is kept under: pending and claimed are both "open"."""
    return "open" if state in OPEN else state


def _sql_bucket():
    """_bucket, said in SQL of the stored row's state."""
    return case((ReviewTask.state.in_(OPEN), "open"), else_=ReviewTask.state)


def _task_count_key(task, state):
    return {"bucket": _bucket(state), "campaign_id": task.campaign_id, "district_code": task.district_code,
            "cert_level": task.cert_level, "submitted_day": _utc_day(task.submitted_at)}


def _sql_utc_day(column, dialect):
    return func.date(column) if dialect == "sqlite" else cast(func.timezone("UTC", column), TaskCount.submitted_day.type)


def approved_before(cutoff):
    """A subquery: the applications whose task was approved at or before `cutoff`."""
    return select(ReviewTask.application_id).where(
        ReviewTask.state == DECIDED, ReviewTask.decision == "approved", ReviewTask.decided_at <= cutoff)


class TaskRepository:
    def __init__(self, session):
        self.session = session
        self.counters = Counters(session)

    # -- the counters ---------------------------------------------------------------------------------

    def _note(self, before, after):
        """Count a task moving from `before` (None: a new task) to `after`, both Task values."""
        if before is None or _bucket(before.state) != _bucket(after.state):
            self.counters.note(TaskCount.__table__, _task_count_key(after, after.state), n=1)
            if before is not None:
                self.counters.note(TaskCount.__table__, _task_count_key(before, before.state), n=-1)
        if after.state == DECIDED and (before is None or before.state != DECIDED):
            self.counters.note(DecisionCount.__table__, {"reviewer_id": after.decided_by,
                                                         "day": _beijing_day(after.decided_at)}, n=1)

    def recount(self):
        """Fill the counters again from the tasks (what migration 0006 did; for rows written by hand)."""
        dialect = self.session.get_bind().dialect.name
        bucket = _sql_bucket()
        day = _sql_utc_day(ReviewTask.submitted_at, dialect)
        self.session.execute(delete(TaskCount))
        self.session.execute(insert(TaskCount).from_select(
            ["bucket", "campaign_id", "district_code", "cert_level", "submitted_day", "n"],
            select(bucket, ReviewTask.campaign_id, ReviewTask.district_code, ReviewTask.cert_level, day, func.count())
            .group_by(bucket, ReviewTask.campaign_id, ReviewTask.district_code, ReviewTask.cert_level, day)))
        decided_day = sqltime.beijing_day(ReviewTask.decided_at, dialect)
        self.session.execute(delete(DecisionCount))
        self.session.execute(insert(DecisionCount).from_select(
            ["reviewer_id", "day", "n"], select(ReviewTask.decided_by, decided_day, func.count())
            .where(ReviewTask.state == DECIDED).group_by(ReviewTask.decided_by, decided_day)))

    def _tasks(self, query):
        return [_to_domain(row) for row in self.session.execute(query).mappings().all()]

    # -- one task -------------------------------------------------------------------------------------

    def get(self, task_id):
        """The task, or NotFound."""
        found = self._tasks(_select().where(ReviewTask.id == task_id)) if isinstance(task_id, str) else []
        if not found:
            raise NotFound(TASK_NOT_FOUND, code="task_not_found")
        return found[0]

    def add(self, task):
        # One Core statement built once, the values as parameters: the ORM's insert path and a new
        # statement per call (its cache key computed anew) were most of a new task's cost.
        self.session.execute(_INSERT_TASK, {name: getattr(task, name) for name in _COLUMNS})  # asdict deep-copies
        self._note(None, task)

    def save(self, task, seen):
        """Store the task's changes if its stored lifecycle is still `seen`; False when it is not."""
        changes = {name: value for name, value in dataclasses.asdict(task).items()
                   if name not in ("id", "application_id", "attempt", "account_id", "created_at")}
        guard = [column == value for column, value in zip(_LIFECYCLE, seen, strict=True)]  # None → IS NULL
        result = self.session.execute(update(ReviewTask).where(ReviewTask.id == task.id, *guard).values(**changes)
                                      .execution_options(synchronize_session=False))
        if result.rowcount != 1:
            return False
        # seen[0] is the state the row had: the task before this transition, as far as counters go.
        self._note(dataclasses.replace(task, state=seen[0]), task)
        return True

    def apply(self, task_id, change):
        """(task, what `change(task)` answered), stored: load, change, compare-and-set, again when
        another request won. `change` may raise (the domain refusing); no change, nothing stored."""
        for _ in range(TRANSITION_ROUNDS):
            task = self.get(task_id)
            before = dataclasses.replace(task)
            outcome = change(task)
            if task == before or self.save(task, before.lifecycle):
                return task, outcome
        raise Conflict("任务状态已变化，请刷新后重试", code="task_changed")

    # -- submissions ----------------------------------------------------------------------------------

    def lock_application(self, application_id):
        """Two attempts of one application handled at once must see each other (supersede). SQLite
        needs nothing: its transactions are serial (BEGIN IMMEDIATE)."""
        if self.session.get_bind().dialect.name == "postgresql":
            self.session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
                                 {"key": f"review_task:{application_id}"})

    def attempts(self, application_id):
        """{attempt: (task id, stored state)} of the application's tasks: what a submission needs to
        know (its own task already there, a newer attempt, older open tasks) in one look-up."""
        return {attempt: (task_id, state) for task_id, attempt, state in
                self.session.execute(_ATTEMPTS, {"application_id": application_id})}

    # -- the queue ------------------------------------------------------------------------------------

    def queue(self, f, now, reviewer_id):
        """Tasks under cleaned filters (state as the queue shows it), oldest submission first; with
        `after` (a task id), the page that follows that task (keyset: a deep page costs what the first
        does, and a task claimed meanwhile does not shift the pages)."""
        query = _select().where(*_scope(f, now))
        if f.get("after"):
            anchor = self.session.execute(select(*_ORDER).where(ReviewTask.id == f["after"])).first()
            if anchor is None:
                raise NotFound("分页位置对应的任务不存在，请从第一页重新浏览", code="task_not_found")
            query = query.where(tuple_(*_ORDER) > tuple_(*anchor))
        condition = _state_condition(f["state"], now, reviewer_id)
        if condition is not None:
            query = query.where(condition)
        return self._tasks(query.order_by(*_ORDER).limit(f["limit"]))

    def counts(self, f, now, reviewer_id):
        """[(state as shown, the reviewer's own live claim, number)] under the filters: the stored
        buckets from the counters (plus, under min_waiting_seconds, the rows of the one day the bound
        falls in), the live claims from the claimed rows."""
        self.counters.write()  # this transaction's own changes first (none on a page view)
        stored = self._stored_counts(f, now)
        live, mine = self._live_claims(f, now, reviewer_id)
        return [(PENDING, 0, stored.get("open", 0) - live), (CLAIMED, 1, mine), (CLAIMED, 0, live - mine),
                (DECIDED, 0, stored.get(DECIDED, 0)), (SUPERSEDED, 0, stored.get(SUPERSEDED, 0))]

    def _stored_counts(self, f, now):
        """{bucket: n} under the filters."""
        tc = TaskCount
        query = select(tc.bucket, func.sum(tc.n)).group_by(tc.bucket)
        for column, key in ((tc.campaign_id, "campaign_id"), (tc.district_code, "district"),
                            (tc.cert_level, "level")):
            if key in f:
                query = query.where(column == f[key])
        found = Counter()
        if f.get("min_waiting_seconds"):
            # The bound falls inside one UTC day: the days before it from the counters, and that day
            # either from its rows up to the bound or, when the bound is late in the day, from its
            # counter less the rows after the bound (a one-hour wait reads the last hour's rows).
            bound = now - timedelta(seconds=f["min_waiting_seconds"])
            day = _utc_day(bound)
            start = datetime.combine(day, time(), timezone.utc)
            late = bound - start >= timedelta(hours=12)
            bucket = _sql_bucket()
            scope = _scope({key: value for key, value in f.items() if key != "min_waiting_seconds"}, now)
            if late:
                query = query.where(tc.submitted_day <= day)
                rows = and_(ReviewTask.submitted_at > bound, ReviewTask.submitted_at < start + timedelta(days=1))
            else:
                query = query.where(tc.submitted_day < day)
                rows = and_(ReviewTask.submitted_at >= start, ReviewTask.submitted_at <= bound)
            for name, n in self.session.execute(select(bucket, func.count()).where(rows, *scope).group_by(bucket)):
                found[name] += -n if late else n
        found.update({bucket: int(n) for bucket, n in self.session.execute(query).all()})
        return found

    def _live_claims(self, f, now, reviewer_id):
        """(live claims, the reviewer's own) under the filters: a look at the claimed rows only."""
        mine = case((ReviewTask.claimed_by == reviewer_id, 1), else_=0)
        live, own = self.session.execute(select(func.count(), func.sum(mine)).where(
            _live(now), *_scope(f, now))).one()
        return live, int(own or 0)

    def held_by(self, reviewer_id, f, now, passed):
        """The reviewer's oldest live claim under the filters, or None."""
        found = self._tasks(_select().where(
            _live(now), ReviewTask.claimed_by == reviewer_id, ReviewTask.id.not_in(passed), *_scope(f, now))
            .order_by(*_ORDER).limit(1))
        return found[0] if found else None

    def next_free(self, reviewer_id, f, now, passed):
        """The oldest task the reviewer may claim, or None. On PostgreSQL its row is locked with SKIP
        LOCKED, so a reviewer asking at the same moment moves on to the next row instead of queueing."""
        found = self._tasks(_select().where(
            _free(now), ReviewTask.account_id != reviewer_id, ReviewTask.id.not_in(passed), *_scope(f, now))
            .order_by(*_ORDER).limit(1).with_for_update(skip_locked=True))
        return found[0] if found else None

    # -- figures --------------------------------------------------------------------------------------

    def figures_counts(self, since, now):
        """What the reviewer figures are made of, from the counters: ([(effective state, campaign,
        district, level, n)] of open tasks, the oldest open submission or None, {closed state: n},
        [(reviewer, Beijing day, n)] of decisions since `since`)."""
        self.counters.write()
        tc = TaskCount
        stored = self.session.execute(select(tc.bucket, tc.campaign_id, tc.district_code, tc.cert_level,
                                             func.sum(tc.n)).group_by(tc.bucket, tc.campaign_id, tc.district_code,
                                                                      tc.cert_level)).all()
        live = dict(((c, d, lvl), n) for c, d, lvl, n in self.session.execute(
            select(ReviewTask.campaign_id, ReviewTask.district_code, ReviewTask.cert_level, func.count())
            .where(_live(now)).group_by(ReviewTask.campaign_id, ReviewTask.district_code, ReviewTask.cert_level)))
        groups, closed = [], Counter()
        for bucket, campaign, district, level, n in stored:
            if bucket != "open":
                closed[bucket] += int(n)
                continue
            claimed = live.get((campaign, district, level), 0)
            groups += [(state, campaign, district, level, count) for state, count in
                       ((PENDING, int(n) - claimed), (CLAIMED, claimed)) if count]
        oldest = self.session.scalar(select(func.min(ReviewTask.submitted_at)).where(ReviewTask.state.in_(OPEN)))
        return groups, oldest, {bucket: n for bucket, n in closed.items() if n}, self._decided_per_day(since)

    def _decided_per_day(self, since):
        """[(reviewer, Beijing day, n)] of decisions at or after `since` in one round trip: the days
        after since's day from the counters, since's own day (only part of it counts) from its rows."""
        dialect = self.session.get_bind().dialect.name
        first = _beijing_day(since)
        midnight = datetime.combine(first + timedelta(days=1), time(), clock.BEIJING)
        day = sqltime.beijing_day(ReviewTask.decided_at, dialect)
        rows = self.session.execute(union_all(
            select(ReviewTask.decided_by, day, func.count()).where(
                ReviewTask.state == DECIDED, ReviewTask.decided_at >= since, ReviewTask.decided_at < midnight)
            .group_by(ReviewTask.decided_by, day),
            select(DecisionCount.reviewer_id, DecisionCount.day, DecisionCount.n).where(DecisionCount.day > first)))
        return [(by, str(d), n) for by, d, n in rows]

    def median_seconds(self, since):
        """The exact median of decided_at − submitted_at of the decisions since `since`, or None: the
        middle one or two values, found by the database's sort (an index would not help: the value is
        computed), so the figures keep it a minute (domain/figures.Recent). How many: the counters."""
        self.counters.write()
        n = sum(count for _, _, count in self._decided_per_day(since))
        if not n:
            return None
        dialect = self.session.get_bind().dialect.name
        condition = and_(ReviewTask.state == DECIDED, ReviewTask.decided_at >= since)
        seconds = sqltime.seconds_between(ReviewTask.submitted_at, ReviewTask.decided_at, dialect)
        middle = self.session.scalars(select(seconds).where(condition).order_by(seconds)
                                      .offset((n - 1) // 2).limit(2 - n % 2)).all()
        return round(float(sum(middle)) / len(middle), 3)


# -- materials and their fingerprints ---------------------------------------------------------------

def _material(row):
    return Material(**{name: getattr(row, name) for name in _MATERIAL_COLUMNS})


class MaterialRepository:
    def __init__(self, session):
        self.session = session

    def add(self, material, fingerprints=None):
        """Store an upload's row and, for an accepted one, its perceptual hashes (region → hash) with
        their index bands (domain/duplicates.py)."""
        self.session.add(MaterialRow(**dataclasses.asdict(material)))
        for region, value in sorted((fingerprints or {}).items()):
            b = bands(value, duplicates.INDEX_BANDS)
            self.session.add(MaterialFingerprint(
                material_id=material.id, account_id=material.account_id, application_id=material.application_id,
                kind=material.kind, region=region, hash=value, band0=b[0], band1=b[1], band2=b[2], band3=b[3],
                created_at=material.created_at))

    def get(self, material_id):
        """The material, or None (an id that is not even text included)."""
        if not isinstance(material_id, str):
            return None
        row = self.session.get(MaterialRow, material_id)
        return None if row is None else _material(row)

    def by_ids(self, material_ids):
        """id → material, for those of these ids that exist."""
        ids = [i for i in material_ids if isinstance(i, str)]
        if not ids:
            return {}
        return {row.id: _material(row) for row in self.session.scalars(
            select(MaterialRow).where(MaterialRow.id.in_(ids)))}

    def of_application(self, application_id, account_id=None):
        """Every upload checked for an application (only `account_id`'s when given), oldest first."""
        query = select(MaterialRow).where(MaterialRow.application_id == application_id)
        if account_id is not None:
            query = query.where(MaterialRow.account_id == account_id)
        return [_material(row) for row in self.session.scalars(query.order_by(MaterialRow.created_at,
                                                                              MaterialRow.id))]

    def image_hashes(self, account_id, application_id, except_kind):
        """[(kind, image hash)] of the application's newest accepted upload of each other kind."""
        rows = self.session.execute(
            select(MaterialRow.kind, MaterialFingerprint.hash)
            .join(MaterialFingerprint, MaterialFingerprint.material_id == MaterialRow.id)
            .where(MaterialRow.application_id == application_id, MaterialRow.account_id == account_id,
                   MaterialRow.ok.is_(True), MaterialRow.kind != except_kind,
                   MaterialFingerprint.region == duplicates.IMAGE)
            .order_by(MaterialRow.created_at, MaterialRow.id)).all()
        return sorted(dict(rows).items())  # the newest of each kind is the last one seen

    def portrait_of(self, material_id):
        """The portrait-region hash of an accepted material, or None."""
        return self.session.scalar(select(MaterialFingerprint.hash).where(
            MaterialFingerprint.material_id == material_id, MaterialFingerprint.region == duplicates.PORTRAIT))

    def near_portraits(self, kind, account_id, probes):
        """[(account, portrait hash)] of other accounts' uploads of this kind whose index bands are
        among `probes` (domain.duplicates.probe_values): every hash near enough, without a scan."""
        columns = (MaterialFingerprint.band0, MaterialFingerprint.band1, MaterialFingerprint.band2,
                   MaterialFingerprint.band3)
        return [tuple(row) for row in self.session.execute(
            select(MaterialFingerprint.account_id, MaterialFingerprint.hash).where(
                MaterialFingerprint.region == duplicates.PORTRAIT, MaterialFingerprint.kind == kind,
                MaterialFingerprint.account_id != account_id,
                or_(*(column.in_(values) for column, values in zip(columns, probes, strict=True)))))]

    def purge_due(self, cutoff, kinds):
        """Unpurged stored materials of these kinds whose application was approved at or before
        `cutoff`. Several copies run the scheduled purge: each takes rows no other copy holds
        (FOR UPDATE SKIP LOCKED on PostgreSQL)."""
        return [_material(row) for row in self.session.scalars(select(MaterialRow).where(
            MaterialRow.application_id.in_(approved_before(cutoff)), MaterialRow.kind.in_(kinds),
            MaterialRow.purged_at.is_(None), MaterialRow.path.is_not(None)).with_for_update(skip_locked=True))]

    def mark_purged(self, material_ids, now):
        if material_ids:
            self.session.execute(update(MaterialRow).where(MaterialRow.id.in_(list(material_ids)))
                                 .values(purged_at=now).execution_options(synchronize_session=False))

    def paths_in_use(self, paths):
        """Those of these files an unpurged material still points at (the store is content-addressed)."""
        if not paths:
            return set()
        used = set()
        for path, thumb in self.session.execute(select(MaterialRow.path, MaterialRow.thumb_path).where(
                MaterialRow.purged_at.is_(None),
                or_(MaterialRow.path.in_(paths), MaterialRow.thumb_path.in_(paths)))):
            used.update((path, thumb))
        return used
