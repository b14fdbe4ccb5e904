"""In-memory twins of services/registration/repository.py, behind the same methods, for the unit
tests of handlers.py and console.py. They hand out copies (as rows loaded afresh would be) and
refuse what the database's unique constraints refuse, with the same Conflicts."""
import copy
from collections import Counter
from datetime import timedelta

from services.common.idnumbers import normalise_number
from services.contracts.errors import Conflict, NotFound
from services.registration import repository
from services.registration.domain import states
from services.registration.domain.records import Waiting, roster_key
from services.registration.domain.report import reason_key
from tests.support.fakes import FakeAuditLog, FakeUnitOfWork


def fake_uow():
    """A FakeUnitOfWork with every registration repository, empty."""
    applications = FakeApplications()
    return FakeUnitOfWork(
        campaigns=FakeCampaigns(), sequences=FakeSequences(), roster=FakeRoster(), applications=applications,
        submissions=FakeSubmissions(applications), decisions=FakeDecisions(applications),
        dispatches=FakeDispatches(), feedback=FakeFeedback(), audit=FakeAuditLog())


class FakeCampaigns:
    def __init__(self):
        self.stored = {}

    def get(self, campaign_id):
        if campaign_id not in self.stored:
            raise NotFound(repository.CAMPAIGN_NOT_FOUND, code="campaign_not_found")
        return self.stored[campaign_id]  # frozen: safe to share

    def exists(self, campaign_id):
        return campaign_id in self.stored

    def all(self):
        return sorted(self.stored.values(), key=lambda c: c.opens_at, reverse=True)

    def add(self, campaign, now):
        if campaign.id in self.stored:
            raise repository.campaign_exists(campaign.id)
        self.stored[campaign.id] = campaign

    def save(self, campaign):
        self.stored[campaign.id] = campaign


class FakeSequences:
    def __init__(self):
        self.last = {}

    def next(self, year):
        self.last[year] = self.last.get(year, 0) + 1
        return self.last[year]

    def ensure(self, year):
        self.last.setdefault(year, 0)


class FakeRoster:
    def __init__(self):
        self.stored = {}  # key → record

    def records_of(self, id_type, id_number):
        document = (id_type, normalise_number(id_number))
        return [copy.deepcopy(r) for key, r in self.stored.items() if key[:2] == document]

    def matching(self, records):
        records = list(records)
        documents = {r.key[:2] for r in records}
        numbers = {r.management_number for r in records}
        return [copy.deepcopy(r) for key, r in self.stored.items()
                if key[:2] in documents or r.management_number in numbers]

    def add(self, record, now):
        assert record.key not in self.stored, "uq_roster_person_level_year"
        self.stored[record.key] = copy.deepcopy(record)

    def update(self, record, now):
        assert record.key in self.stored
        self.stored[record.key] = copy.deepcopy(record)

    def put(self, *records):
        """Test set-up: records as if imported earlier."""
        for record in records:
            self.stored[roster_key(record.id_type, record.id_number, record.level, record.exam_year)] = record


class FakeApplications:
    def __init__(self):
        self.stored = {}  # id → Application, in the order added

    def get(self, application_id, lock=False):
        app = self.stored.get(str(application_id))
        return copy.deepcopy(app)

    def add(self, app, now):
        if any(a.account_id == app.account_id and a.campaign_id == app.campaign_id for a in self.stored.values()):
            raise Conflict(repository.ALREADY_APPLIED, code="already_applied")
        app.updated_at = now
        self.stored[app.id] = copy.deepcopy(app)

    def save(self, app, now):
        assert app.id in self.stored
        app.updated_at = now
        self.stored[app.id] = copy.deepcopy(app)

    def of_account(self, account_id):
        return [copy.deepcopy(a) for a in reversed(self.stored.values()) if a.account_id == account_id]

    def id_by_number(self, registration_number):
        return next((a.id for a in self.stored.values() if a.registration_number == registration_number), None)

    def _approved(self, campaign_id):
        found = [a for a in self.stored.values() if a.state in (states.APPROVED, states.DISPATCHED)
                 and (not campaign_id or a.campaign_id == campaign_id)]
        return sorted(found, key=lambda a: a.registration_number)

    def count_approved(self, campaign_id=None):
        return len(self._approved(campaign_id))

    def approved_page(self, campaign_id=None, after=None, limit=500):
        return copy.deepcopy([a for a in self._approved(campaign_id)
                              if not after or a.registration_number > after][:limit])

    def awaiting_dispatch(self, limit):
        found = sorted((a for a in self.stored.values() if a.state == states.APPROVED),
                       key=lambda a: (a.decided_at, a.id))
        return len(found), copy.deepcopy(found[:limit])

    def waiting_since(self, bound):
        found = sorted((a for a in self.stored.values() if a.state == states.SUBMITTED and a.submitted_at < bound),
                       key=lambda a: a.submitted_at)
        return [Waiting(a.id, a.campaign_id, a.attempt, a.submitted_at, a.form.get("service_district"))
                for a in found]

    def counts(self, campaign_id=None):
        return dict(Counter((a.state, a.form.get("service_district"), a.form.get("cert_level"))
                            for a in self.stored.values() if not campaign_id or a.campaign_id == campaign_id))

    def campaign_of(self, application_id):
        return self.stored[application_id].campaign_id


class FakeSubmissions:
    def __init__(self, applications):
        self.stored = []
        self._applications = applications

    def by_key(self, account_id, idempotency_key):
        return next((s for s in self.stored if s.account_id == account_id
                     and s.idempotency_key == idempotency_key), None)

    def of_application(self, application_id):
        return sorted((s for s in self.stored if s.application_id == application_id), key=lambda s: s.attempt)

    def add(self, sub):
        clash = any((s.application_id, s.attempt) == (sub.application_id, sub.attempt)
                    or (sub.idempotency_key and (s.account_id, s.idempotency_key) == (sub.account_id,
                                                                                        sub.idempotency_key))
                    for s in self.stored)
        if clash:
            raise Conflict(repository.ALREADY_SUBMITTED, code="already_submitted")
        self.stored.append(copy.deepcopy(sub))

    def per_day(self, campaign_id=None):
        days = {}
        for s in self.stored:
            if campaign_id and self._applications.campaign_of(s.application_id) != campaign_id:
                continue
            day = (s.submitted_at + timedelta(hours=8)).date().isoformat()
            n, again = days.get(day, (0, 0))
            days[day] = (n + 1, again + (s.attempt > 1))
        return [(day, n, again) for day, (n, again) in sorted(days.items())]


class FakeDecisions:
    def __init__(self, applications):
        self.stored = []
        self._applications = applications

    def add(self, decision):
        assert not any((d.application_id, d.attempt) == (decision.application_id, decision.attempt)
                       for d in self.stored), "uq_decision_attempt"
        self.stored.append(decision)

    def of_application(self, application_id):
        return [d for d in self.stored if d.application_id == application_id]

    def rejection_reasons(self, campaign_id=None):
        rejected = [d for d in self.stored if d.decision == "rejected"
                    and (not campaign_id or self._applications.campaign_of(d.application_id) == campaign_id)]
        groups = Counter(reason_key(issue) for d in rejected for issue in d.material_issues or ()
                         if isinstance(issue, dict))  # spelled as the repository keeps them
        return len(rejected), [(kind, reason, n) for (kind, reason), n in groups.items()]


class FakeDispatches:
    def __init__(self):
        self.stored = {}

    def of_application(self, application_id):
        return self.stored.get(application_id)

    def of_applications(self, application_ids):
        return {i: self.stored[i] for i in application_ids if i in self.stored}

    def add(self, dispatch):
        if dispatch.application_id in self.stored:
            raise Conflict(repository.ALREADY_DISPATCHED, code="already_dispatched")
        self.stored[dispatch.application_id] = dispatch


class FakeFeedback:
    def __init__(self):
        self.stored = {}

    def get(self, feedback_id):
        return copy.deepcopy(self.stored.get(str(feedback_id)))

    def count_open(self, account_id):
        return sum(1 for a in self.stored.values() if a.account_id == account_id and a.state == "OPEN")

    def list(self, state=None):
        found = [a for a in self.stored.values() if not state or a.state == state]
        return copy.deepcopy(sorted(found, key=lambda a: a.created_at))

    def add(self, feedback):
        self.stored[feedback.id] = copy.deepcopy(feedback)

    def save(self, feedback):
        self.stored[feedback.id] = copy.deepcopy(feedback)
