"""In-memory twins of services/review/repository.py, behind the same methods, for the unit tests of
handlers.py, uploads.py and workbench.py. They hand out copies (as rows loaded afresh would be),
store a transition only on the lifecycle it was decided on (compare-and-set) and refuse what the
database's unique constraints refuse."""
import copy
import dataclasses
import statistics
from collections import Counter

from services.common import clock
from services.contracts.errors import Conflict, NotFound
from services.review import repository
from services.review.adapters.storage import StoredFiles
from services.review.domain.tasks import CLAIMED, DECIDED, OPEN, PENDING, SUPERSEDED
from tests.support.fakes import FakeAuditLog, FakeUnitOfWork


def fake_uow():
    """A FakeUnitOfWork with every review repository, empty."""
    tasks = FakeTasks()
    return FakeUnitOfWork(tasks=tasks, materials=FakeMaterials(tasks), audit=FakeAuditLog())


def _order(task):
    return task.submitted_at, task.attempt, task.id


def _in_scope(task, f, now):
    return ((not f.get("campaign_id") or task.campaign_id == f["campaign_id"])
            and (not f.get("district") or task.district_code == f["district"])
            and (not f.get("level") or task.cert_level == f["level"])
            and (not f.get("min_waiting_seconds")
                 or (now - task.submitted_at).total_seconds() >= f["min_waiting_seconds"]))


def _shown(task, state, now, reviewer_id):
    if state == repository.MINE:
        return task.claim_active(now) and task.claimed_by == reviewer_id
    if state in (PENDING, CLAIMED):
        return task.state in OPEN and task.effective_state(now) == state
    if state == "open":
        return task.state in OPEN
    return state == "all" or task.state == state


class FakeTasks:
    def __init__(self):
        self.stored = {}  # id → Task

    def get(self, task_id):
        if task_id not in self.stored:
            raise NotFound(repository.TASK_NOT_FOUND, code="task_not_found")
        return copy.deepcopy(self.stored[task_id])

    def add(self, task):
        assert task.attempt not in self.attempts(task.application_id), "uq_review_tasks_application_attempt"
        self.stored[task.id] = copy.deepcopy(task)

    def save(self, task, seen):
        if self.stored[task.id].lifecycle != seen:
            return False
        self.stored[task.id] = copy.deepcopy(task)
        return True

    def apply(self, task_id, change):
        for _ in range(repository.TRANSITION_ROUNDS):
            task = self.get(task_id)
            before = dataclasses.replace(task)
            outcome = change(task)
            if task == before or self.save(task, before.lifecycle):
                return task, outcome
        raise Conflict("任务状态已变化，请刷新后重试", code="task_changed")

    def lock_application(self, application_id):
        pass  # one process, one thread: nothing to wait for

    def attempts(self, application_id):
        return {t.attempt: (t.id, t.state) for t in self.stored.values() if t.application_id == application_id}

    def _select(self, wanted, limit=None):
        return copy.deepcopy(sorted(filter(wanted, self.stored.values()), key=_order)[:limit])

    def queue(self, f, now, reviewer_id):
        anchor = None
        if f.get("after"):
            if f["after"] not in self.stored:
                raise NotFound("分页位置对应的任务不存在，请从第一页重新浏览", code="task_not_found")
            anchor = _order(self.stored[f["after"]])
        return self._select(lambda t: _in_scope(t, f, now) and _shown(t, f["state"], now, reviewer_id)
                            and (anchor is None or _order(t) > anchor), f["limit"])

    def counts(self, f, now, reviewer_id):
        found = Counter((t.effective_state(now), int(t.claim_active(now) and t.claimed_by == reviewer_id))
                        for t in self.stored.values() if _in_scope(t, f, now))
        return [(state, mine, n) for (state, mine), n in found.items()]

    def held_by(self, reviewer_id, f, now, passed):
        found = self._select(lambda t: t.claim_active(now) and t.claimed_by == reviewer_id
                             and t.id not in passed and _in_scope(t, f, now), 1)
        return found[0] if found else None

    def next_free(self, reviewer_id, f, now, passed):
        found = self._select(lambda t: t.state in OPEN and t.effective_state(now) == PENDING
                             and t.account_id != reviewer_id and t.id not in passed and _in_scope(t, f, now), 1)
        return found[0] if found else None

    def figures_counts(self, since, now):
        opened = [t for t in self.stored.values() if t.state in OPEN]
        groups = Counter((t.effective_state(now), t.campaign_id, t.district_code, t.cert_level) for t in opened)
        closed = Counter(t.state for t in self.stored.values() if t.state in (DECIDED, SUPERSEDED))
        per_day = Counter((t.decided_by, t.decided_at.astimezone(clock.BEIJING).date().isoformat())
                          for t in self._decided_since(since))
        return ([(*key, n) for key, n in groups.items()], min((t.submitted_at for t in opened), default=None),
                dict(closed), [(by, day, n) for (by, day), n in per_day.items()])

    def _decided_since(self, since):
        return [t for t in self.stored.values() if t.state == DECIDED and t.decided_at >= since]

    def median_seconds(self, since):
        waits = [(t.decided_at - t.submitted_at).total_seconds() for t in self._decided_since(since)]
        return round(statistics.median(waits), 3) if waits else None


class FakeMaterials:
    def __init__(self, tasks):
        self.stored = {}  # id → Material, in the order added
        self.fingerprints = {}  # id → {region: hash}
        self._tasks = tasks

    def add(self, material, fingerprints=None):
        self.stored[material.id] = copy.deepcopy(material)
        self.fingerprints[material.id] = dict(fingerprints or {})

    def get(self, material_id):
        return copy.deepcopy(self.stored.get(material_id)) if isinstance(material_id, str) else None

    def by_ids(self, material_ids):
        return {i: copy.deepcopy(self.stored[i]) for i in material_ids if isinstance(i, str) and i in self.stored}

    def of_application(self, application_id, account_id=None):
        return copy.deepcopy(sorted((m for m in self.stored.values() if m.application_id == application_id
                                     and account_id in (None, m.account_id)), key=lambda m: (m.created_at, m.id)))

    def image_hashes(self, account_id, application_id, except_kind):
        newest = {}
        for m in sorted(self.stored.values(), key=lambda m: (m.created_at, m.id)):
            image = self.fingerprints[m.id].get("image")
            if (m.account_id, m.application_id) == (account_id, application_id) and m.ok \
                    and m.kind != except_kind and image:
                newest[m.kind] = image
        return sorted(newest.items())

    def portrait_of(self, material_id):
        return self.fingerprints.get(material_id, {}).get("portrait")

    def near_portraits(self, kind, account_id, probes):
        """Every other account's portrait of this kind (the handler measures the distance)."""
        return [(m.account_id, self.fingerprints[m.id]["portrait"]) for m in self.stored.values()
                if m.kind == kind and m.account_id != account_id and "portrait" in self.fingerprints[m.id]]

    def purge_due(self, cutoff, kinds):
        approved = {t.application_id for t in self._tasks.stored.values()
                    if t.state == DECIDED and t.decision == "approved" and t.decided_at <= cutoff}
        return copy.deepcopy([m for m in self.stored.values() if m.application_id in approved
                              and m.kind in kinds and m.purged_at is None and m.path is not None])

    def mark_purged(self, material_ids, now):
        for material_id in material_ids:
            self.stored[material_id].purged_at = now

    def paths_in_use(self, paths):
        used = set()
        for m in self.stored.values():
            if m.purged_at is None and (m.path in paths or m.thumb_path in paths):
                used.update((m.path, m.thumb_path))
        return used


class FakeStore:
    """The image store in memory (adapters.storage.MaterialStore's methods the handlers call)."""

    def __init__(self):
        self.files = {}

    def put(self, kind, image, thumbnail):
        files = StoredFiles(f"sha-{len(self.files)}", f"{kind}/{len(self.files)}.jpg.enc",
                            f"{kind}/{len(self.files)}.thumb.jpg.enc")
        self.files[files.path], self.files[files.thumb_path] = image, thumbnail
        return files

    def read(self, path, kind):
        if path not in self.files:
            raise FileNotFoundError(path)
        return self.files[path]

    def remove(self, path):
        return self.files.pop(path, None) is not None
