"""A unit of work in memory, for unit tests of a service layer (no database, no broker).

It has the interface of services.common.db.UnitOfWork as handlers see it: the service's
repositories as attributes (in-memory twins, e.g. tests/unit/registration/fakes.py), `publish`
and `publish_many` (events land in `published`), `first_time`, `seen_before`, `mark_processed`
and `commit`. A `with` block that raises restores the
repositories, `published` and the processed marks as they were: the fake rolls back too.
"""
import copy

from services.common import audit, audit_query, clock


class FakeUnitOfWork:
    def __init__(self, **repositories):
        self._names = tuple(repositories)
        for name, repository in repositories.items():
            setattr(self, name, repository)
        self.published = []  # every event written to the outbox and kept (committed or not yet)
        self.events = []  # this transaction's, as UnitOfWork.events
        self.processed = set()  # (consumer, source, event id)
        self.committed = False
        self.commits = 0

    def __call__(self):
        """The unit of work is also its own factory, for handlers that open one per row."""
        return self

    def __enter__(self):
        self._saved = copy.deepcopy(self._state())
        self.events = []
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.commit()
        else:
            for name, value in self._saved.items():
                setattr(self, name, value)
            self.events = []

    def _state(self):
        state = {name: getattr(self, name) for name in self._names}
        return {**state, "published": self.published, "processed": self.processed}

    def commit(self):
        self.committed = True
        self.commits += 1
        self.events = []

    def publish(self, event):
        self.published.append(event)
        self.events.append(event)

    def publish_many(self, events):
        for event in events:
            self.publish(event)

    def seen_before(self, keys):
        return {key for key in keys if key in self.processed}

    def mark_processed(self, keys):
        keys = list(keys)
        assert not self.seen_before(keys), "processed_events primary key"
        self.processed.update(keys)

    def first_time(self, event, consumer):
        key = (consumer, event["source"], event["id"])
        if key in self.processed:
            return False
        self.processed.add(key)
        return True

    def published_types(self):
        return [event["type"] for event in self.published]


class FakeAuditLog:
    """In-memory twin of services.common.audit.AuditLog: entries as the table's rows (dicts)."""

    def __init__(self):
        self.stored = []

    def record(self, actor, action, at=None, *, roles=(), subject=None, application_id=None, details=None):
        self.stored.append({"id": len(self.stored) + 1, "at": at or clock.now(), "actor": actor or audit.SYSTEM,
                            "roles": sorted(set(roles)), "action": action, "subject": subject,
                            "application_id": application_id, "details": dict(details or {})})

    def entries(self, principal, filters, source, labels):
        audit.require_auditor(principal)
        q = audit_query.parse(filters)

        def wanted(e):
            return ((not q.application_id or e["application_id"] == q.application_id)
                    and (not q.actor or e["actor"] == q.actor) and (not q.action or e["action"] == q.action)
                    and (not q.since or e["at"] >= q.since) and (not q.until or e["at"] < q.until)
                    and (not q.before or (e["at"], e["id"]) < q.before))
        found = sorted(filter(wanted, self.stored), key=lambda e: (e["at"], e["id"]), reverse=True)[:q.limit]
        return {"source": source, "actions": labels, "entries": [{
            "source": source, **{k: e[k] for k in ("id", "actor", "roles", "action", "subject", "application_id")},
            "at": clock.iso(e["at"]), "action_label": labels.get(e["action"], e["action"]),
            "detail": e["details"]} for e in found]}

    def about(self, subject):
        return [dict(e) for e in self.stored if e["subject"] == str(subject)]

    def actions(self):
        return [e["action"] for e in self.stored]
