"""All SQL of the registration service: one repository per aggregate, rows ⇄ domain objects, the
personal part encrypted on the way in and decrypted on the way out.

The unit of work builds them for its session (`Database(..., repositories=repositories)`), so the
service layer says `uow.applications.get(...)` and never sees SQLAlchemy; the in-memory twins the
unit tests use are tests/unit/registration/fakes.py. A write that breaks a unique constraint or
loses a version race (a concurrent request won) is refused with the Conflict it means.
"""
import functools
import json

from sqlalchemy import bindparam, func, insert, literal, or_, select, union_all, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from services.common import audit as platform_audit
from services.common import clock
from services.common.counters import Counters
from services.common.idnumbers import normalise_number
from services.contracts.errors import Conflict, NotFound
from services.contracts.states import DECISION_REJECTED, FEEDBACK_OPEN

from . import models
from .domain import campaigns, states
from .domain.records import Decision, Dispatch, Feedback, RosterRecord, Submission, Waiting
from .domain.report import reason_key

# The personal part of a form: kept encrypted at rest, never copied into plain columns.
PERSONAL_KEYS = ("name", "id_number", "birth_date", "mobile", "email", "delivery")

CAMPAIGN_NOT_FOUND = "登记批次不存在，请刷新页面后重新选择"
ALREADY_APPLIED = "您在本次登记中已有申请，请在“登记历史”中继续填写或查看审核结果"
CONCURRENT_CHANGE = "申请刚刚被其他操作修改，请刷新页面后重试"
ALREADY_SUBMITTED = "申请已提交，请勿重复提交，请耐心等待审核结果"
ALREADY_DISPATCHED = "证书寄送信息已登记，请勿重复登记"

def repositories(session, cipher):
    """The unit of work's hook: this service's repositories for one session."""
    counters = Counters(session)  # one per session: every counter row of a transaction in one order
    campaigns_of = {}  # application id → campaign id, of the applications this unit of work loaded
    return {
        "campaigns": CampaignRepository(session),
        "sequences": SequenceRepository(session),
        "roster": RosterRepository(session, cipher),
        "applications": ApplicationRepository(session, cipher, campaigns_of),
        "submissions": SubmissionRepository(session, cipher, counters, campaigns_of),
        "decisions": DecisionRepository(session, counters, campaigns_of),
        "dispatches": DispatchRepository(session),
        "feedback": FeedbackRepository(session, cipher),
        "audit": platform_audit.AuditLog(session),
    }


def campaign_exists(campaign_id):
    return Conflict(f"登记批次编号{campaign_id}已存在", code="campaign_exists")


# -- helpers ---------------------------------------------------------------------------------------

def seal(cipher, value, context):
    return cipher.encrypt(json.dumps(value, ensure_ascii=False, sort_keys=True), context)


def unseal(cipher, token, context):
    return json.loads(cipher.decrypt(token, context)) if token else {}


def split_form(form):
    public = {k: v for k, v in form.items() if k not in PERSONAL_KEYS}
    personal = {k: v for k, v in form.items() if k in PERSONAL_KEYS}
    return public, personal


def roster_index(cipher, id_type, id_number):
    """The blind index that finds a person's roster records without storing the number in clear."""
    return cipher.blind_index(f"{id_type}:{normalise_number(id_number)}", "roster.id_number")


def _flush(session, conflict):
    """Flush now, so a clash is refused here as `conflict` rather than at commit as a crash."""
    try:
        session.flush()
    except (IntegrityError, StaleDataError):
        raise conflict from None


def _chunks(items, size=500):
    for start in range(0, len(items), size):
        yield items[start:start + size]


# -- campaigns and their number sequences ----------------------------------------------------------

class CampaignRepository:
    def __init__(self, session):
        self.session = session

    def get(self, campaign_id):
        row = self.session.execute(_CAMPAIGN_BY_ID, {"id": campaign_id}).first() if campaign_id else None
        if row is None:
            raise NotFound(CAMPAIGN_NOT_FOUND, code="campaign_not_found")
        return _campaign(row)

    def exists(self, campaign_id):
        return self.session.get(models.Campaign, campaign_id) is not None

    def all(self):
        """Newest window first."""
        rows = self.session.scalars(select(models.Campaign).order_by(models.Campaign.opens_at.desc()))
        return [_campaign(row) for row in rows]

    def add(self, campaign, now):
        self.session.add(models.Campaign(
            id=campaign.id, name=campaign.name, kind=campaign.kind, region=campaign.region,
            eligible_exam_years=sorted(campaign.eligible_exam_years),
            eligible_levels=sorted(campaign.eligible_levels), opens_at=campaign.opens_at,
            closes_at=campaign.closes_at, delivery_methods=list(campaign.delivery_methods),
            exclude_local_only=campaign.exclude_local_only,
            allow_resubmit_after_close=campaign.allow_resubmit_after_close,
            resubmit_closes_at=campaign.resubmit_closes_at, created_at=now))
        _flush(self.session, campaign_exists(campaign.id))

    def save(self, campaign):
        """Store what may change after creation: the name, the window and the resubmission rules."""
        row = self.session.get(models.Campaign, campaign.id)
        row.name, row.opens_at, row.closes_at = campaign.name, campaign.opens_at, campaign.closes_at
        row.allow_resubmit_after_close = campaign.allow_resubmit_after_close
        row.resubmit_closes_at = campaign.resubmit_closes_at


_CAMPAIGNS = models.Campaign.__table__
# Statements of every submit built once: building one (and its cache key) cost as much as running it.
_CAMPAIGN_BY_ID = select(_CAMPAIGNS).where(_CAMPAIGNS.c.id == bindparam("id"))


def _campaign(row):
    return campaigns.Campaign(
        id=row.id, name=row.name, kind=row.kind, region=row.region,
        eligible_exam_years=frozenset(row.eligible_exam_years), eligible_levels=frozenset(row.eligible_levels),
        opens_at=row.opens_at, closes_at=row.closes_at, delivery_methods=tuple(row.delivery_methods),
        exclude_local_only=row.exclude_local_only, allow_resubmit_after_close=row.allow_resubmit_after_close,
        resubmit_closes_at=row.resubmit_closes_at)


class SequenceRepository:
    """The last registration number issued per campaign year."""

    def __init__(self, session):
        self.session = session

    def next(self, year):
        """The next number of this year's sequence, inside the caller's transaction (row locked on PostgreSQL)."""
        seq = self.session.scalars(select(models.NumberSequence).where(models.NumberSequence.year == year)
                                   .with_for_update()).first()
        if seq is None:
            seq = models.NumberSequence(year=year, last_seq=0)
            self.session.add(seq)
        seq.last_seq += 1
        self.session.flush()
        return seq.last_seq

    def ensure(self, year):
        """Create a year's sequence row ahead of the first approval, so approvals only ever lock it."""
        if self.session.get(models.NumberSequence, year) is None:
            self.session.add(models.NumberSequence(year=year, last_seq=0))


# -- the exam roster -------------------------------------------------------------------------------

class RosterRepository:
    def __init__(self, session, cipher):
        self.session, self.cipher = session, cipher
        self._rows = {}  # record key → row, for update()

    def records_of(self, id_type, id_number):
        """Every roster record of this document, decrypted."""
        rows = self.session.scalars(select(models.RosterRecord).where(
            models.RosterRecord.id_number_index == roster_index(self.cipher, id_type, id_number)))
        return [self._record(row) for row in rows]

    def matching(self, records):
        """The stored records sharing a document or a management number with any of `records`."""
        found = {}
        for chunk in _chunks(list(records)):
            indexes = {roster_index(self.cipher, r.id_type, r.id_number) for r in chunk}
            numbers = {r.management_number for r in chunk}
            query = select(models.RosterRecord).where(or_(
                models.RosterRecord.id_number_index.in_(indexes),
                models.RosterRecord.management_number.in_(numbers)))
            for row in self.session.scalars(query):
                found[row.id] = row
        return [self._record(row) for row in found.values()]

    def add(self, record, now):
        row = models.RosterRecord(
            id_number_index=roster_index(self.cipher, record.id_type, record.id_number),
            id_number_enc=self.cipher.encrypt(record.id_number, "roster.id_number"), imported_at=now,
            level=record.level, exam_year=record.exam_year, **self._values(record, now))
        self.session.add(row)
        self._rows[record.key] = row

    def update(self, record, now):
        """Store a changed record (found by matching() or added in this unit of work) under its key."""
        row = self._rows[record.key]
        for key, value in self._values(record, now).items():
            setattr(row, key, value)

    def _values(self, record, now):
        return {"id_type": record.id_type, "name_enc": self.cipher.encrypt(record.name, "roster.name"),
                "management_number": record.management_number, "approval_date": record.approval_date,
                "local_only": record.local_only, "scores": dict(record.scores),
                "source_file": record.source_file, "updated_at": now}

    def _record(self, row):
        record = RosterRecord(
            name=self.cipher.decrypt(row.name_enc, "roster.name"), id_type=row.id_type,
            id_number=self.cipher.decrypt(row.id_number_enc, "roster.id_number"), level=row.level,
            exam_year=row.exam_year, management_number=row.management_number, approval_date=row.approval_date,
            local_only=row.local_only, scores=dict(row.scores or {}), source_file=row.source_file)
        self._rows[record.key] = row
        return record


# -- applications and what hangs off them ----------------------------------------------------------

class ApplicationRepository:
    """The Application aggregate, by Core statements: a submit or a decision loads one row and writes
    one UPDATE, without the ORM's identity map and unit-of-work flush (the larger part of a submit's
    CPU, bench_submit). Rows loaded for a change are remembered (`_loaded`: their version and the
    personal part as it was sealed), so save() writes the same row, its version check catches a
    concurrent change, and the personal part is sealed again only when it changed."""

    def __init__(self, session, cipher, campaigns_of):
        self.session, self.cipher = session, cipher
        self.campaigns_of = campaigns_of  # application id → campaign id, shared with the repositories below
        self._loaded = {}  # application id → (version, the personal part's JSON text, its sealed token)

    def get(self, application_id, lock=False):
        """The application or None; `lock` takes the row lock (FOR UPDATE on PostgreSQL) for a change."""
        row = self.session.execute(_APP_BY_ID_LOCKED if lock else _APP_BY_ID, {"id": str(application_id)}).first()
        return None if row is None else self._app(row)

    def add(self, app, now):
        values, personal, token = self._columns(app, now)
        try:
            self.session.execute(_ADD_APP, {
                "id": app.id, "account_id": app.account_id, "campaign_id": app.campaign_id, "kind": app.kind,
                "created_at": now, "version": 1, "personal_enc": token, **values})
        except IntegrityError:
            raise Conflict(ALREADY_APPLIED, code="already_applied") from None
        self._loaded[app.id] = (1, personal, token)
        self.campaigns_of[app.id] = app.campaign_id

    def save(self, app, now):
        version, sealed_text, sealed = self._loaded[app.id]
        values, personal, token = self._columns(app, now, sealed_text, sealed)
        if token is not sealed:
            values["personal_enc"] = token
        done = self.session.execute(_update_if_version(tuple(values)), {
            **values, "b_id": app.id, "b_version": version})
        if done.rowcount != 1:
            raise Conflict(CONCURRENT_CHANGE, code="concurrent_change")
        self._loaded[app.id] = (version + 1, personal, token)

    def of_account(self, account_id):
        """The account's applications, newest first."""
        return self._apps(select(_APPS).where(_APPS.c.account_id == account_id)
                          .order_by(_APPS.c.created_at.desc()))

    def id_by_number(self, registration_number):
        return self.session.scalars(select(_APPS.c.id).where(
            _APPS.c.registration_number == registration_number)).first()

    def _approved(self, campaign_id):
        query = select(_APPS).where(_APPS.c.state.in_((states.APPROVED, states.DISPATCHED)))
        return query.where(_APPS.c.campaign_id == campaign_id) if campaign_id else query

    def count_approved(self, campaign_id=None):
        return self.session.scalar(select(func.count()).select_from(self._approved(campaign_id).subquery()))

    def approved_page(self, campaign_id=None, after=None, limit=500):
        """Approved (and mailed) applications after registration number `after`, in number order (keyset:
        a page deep in a national year costs what the first one does). Not remembered for save()."""
        query = self._approved(campaign_id).order_by(_APPS.c.registration_number).limit(limit)
        if after:
            query = query.where(_APPS.c.registration_number > after)
        return [self._view_only(row)[0] for row in self.session.execute(query)]

    def awaiting_dispatch(self, limit):
        """(how many approved wait for mailing, the `limit` longest waiting)."""
        app = _APPS.c
        total = self.session.scalar(select(func.count()).select_from(_APPS).where(app.state == states.APPROVED))
        return total, self._apps(select(_APPS).where(app.state == states.APPROVED)
                                 .order_by(app.decided_at, app.id).limit(limit))

    def waiting_since(self, bound):
        """Submitted before `bound` and still undecided, oldest first (light: nothing decrypted)."""
        app = _APPS.c
        rows = self.session.execute(
            select(app.id, app.campaign_id, app.attempt, app.submitted_at, app.district_code)
            .where(app.state == states.SUBMITTED, app.submitted_at < bound).order_by(app.submitted_at))
        return [Waiting(*row) for row in rows]

    def counts(self, campaign_id=None):
        """{(state, district, level): n} in one pass over the table; None stays None."""
        app = _APPS.c
        query = select(app.state, app.district_code, app.cert_level, func.count()).group_by(
            app.state, app.district_code, app.cert_level)
        if campaign_id:
            query = query.where(app.campaign_id == campaign_id)
        return {(state, district, level): n for state, district, level, n in self.session.execute(query).all()}

    def _apps(self, query):
        return [self._app(row) for row in self.session.execute(query)]

    def _app(self, row):
        app, personal = self._view_only(row)
        self._loaded[row.id] = (row.version, personal, row.personal_enc)
        self.campaigns_of[row.id] = row.campaign_id
        return app

    def _view_only(self, row):
        """(the application, its personal part's JSON text as sealed)."""
        personal = self.cipher.decrypt(row.personal_enc, PERSONAL_CONTEXT) if row.personal_enc else None
        form = {**(row.form or {}), **(json.loads(personal) if personal else {})}
        return states.Application(
            id=row.id, campaign_id=row.campaign_id, account_id=row.account_id, kind=row.kind, state=row.state,
            attempt=row.attempt, decided_attempt=row.decided_attempt, form=form,
            materials=dict(row.materials or {}), first_submitted_at=row.first_submitted_at,
            submitted_at=row.submitted_at, decided_at=row.decided_at, review_opinion=row.review_opinion,
            material_issues=list(row.material_issues or []), registration_number=row.registration_number,
            valid_from=row.valid_from, valid_until=row.valid_until, updated_at=row.updated_at), personal

    def _columns(self, app, now, sealed_text=None, sealed=None):
        """(the row's changeable columns but the personal one, the personal part's JSON text, its token):
        the token as loaded when the personal part is unchanged, else sealed anew."""
        public, personal = split_form(app.form)
        text = json.dumps(personal, ensure_ascii=False, sort_keys=True)  # as seal() writes it
        token = sealed if sealed is not None and text == sealed_text else self.cipher.encrypt(text, PERSONAL_CONTEXT)
        app.updated_at = now
        return {
            "state": app.state, "attempt": app.attempt, "decided_attempt": app.decided_attempt, "form": public,
            "materials": app.materials, "cert_level": app.form.get("cert_level"),
            "exam_year": app.form.get("exam_year"), "district_code": app.form.get("service_district"),
            "first_submitted_at": app.first_submitted_at, "submitted_at": app.submitted_at,
            "decided_at": app.decided_at, "review_opinion": app.review_opinion,
            "material_issues": app.material_issues, "registration_number": app.registration_number,
            "valid_from": app.valid_from, "valid_until": app.valid_until, "updated_at": now}, text, token


_APPS = models.Application.__table__
_APP_BY_ID = select(_APPS).where(_APPS.c.id == bindparam("id"))
_APP_BY_ID_LOCKED = _APP_BY_ID.with_for_update()
_ADD_APP = insert(_APPS)
PERSONAL_CONTEXT = "application.personal"


@functools.lru_cache(maxsize=8)
def _update_if_version(columns):
    """UPDATE of these columns where the row still has the version it was loaded with; one statement per
    set of columns (two in practice), so its compiled form is cached."""
    return (update(_APPS).where(_APPS.c.id == bindparam("b_id"), _APPS.c.version == bindparam("b_version"))
            .values({**{name: bindparam(name) for name in columns}, "version": _APPS.c.version + 1}))


def _campaign_of(session, campaigns_of, application_id):
    """The application's campaign: known when the change being stored loaded it, else read."""
    if application_id not in campaigns_of:
        campaigns_of[application_id] = session.scalar(select(_APPS.c.campaign_id).where(_APPS.c.id == application_id))
    return campaigns_of[application_id]


class SubmissionRepository:
    """Submission snapshots by Core statements (a submit writes one; ORM objects bought nothing here)."""

    def __init__(self, session, cipher, counters, campaigns_of):
        self.session, self.cipher, self.counters, self.campaigns_of = session, cipher, counters, campaigns_of

    def by_key(self, account_id, idempotency_key):
        row = self.session.execute(_SUBMISSION_BY_KEY, {"account_id": account_id, "key": idempotency_key}).first()
        return None if row is None else self._submission(row)

    def of_application(self, application_id):
        """Every attempt's snapshot, oldest first."""
        return [self._submission(row) for row in self.session.execute(
            select(_SUBMISSIONS).where(_SUBMISSIONS.c.application_id == application_id)
            .order_by(_SUBMISSIONS.c.attempt))]

    def add(self, sub):
        public, personal = split_form(sub.form)
        try:
            self.session.execute(_ADD_SUBMISSION, {
                "application_id": sub.application_id, "account_id": sub.account_id, "attempt": sub.attempt,
                "idempotency_key": sub.idempotency_key, "form": public,
                "personal_enc": seal(self.cipher, personal, "submission.personal"), "materials": sub.materials,
                "answer_enc": seal(self.cipher, sub.answer, "submission.answer"), "event_id": sub.event_id,
                "submitted_at": sub.submitted_at})
        except IntegrityError:
            raise Conflict(ALREADY_SUBMITTED, code="already_submitted") from None
        self.counters.note(models.ReportDay.__table__, {
            "campaign_id": _campaign_of(self.session, self.campaigns_of, sub.application_id),
            "day": sub.submitted_at.astimezone(clock.BEIJING).date()}, submissions=1, resubmissions=int(sub.attempt > 1))

    def per_day(self, campaign_id=None):
        """Submissions per Beijing calendar day: [(day "YYYY-MM-DD", all, resubmissions)], by day (the
        counters of models.ReportDay)."""
        self.counters.write()
        days = models.ReportDay
        query = select(days.day, func.sum(days.submissions), func.sum(days.resubmissions)).group_by(days.day) \
            .having(func.sum(days.submissions) > 0)
        if campaign_id:
            query = query.where(days.campaign_id == campaign_id)
        return [(str(d), int(n), int(r)) for d, n, r in self.session.execute(query.order_by(days.day)).all()]

    def _submission(self, row):
        form = {**row.form, **unseal(self.cipher, row.personal_enc, "submission.personal")}
        return Submission(
            application_id=row.application_id, account_id=row.account_id, attempt=row.attempt,
            idempotency_key=row.idempotency_key, form=form, materials=row.materials,
            answer=unseal(self.cipher, row.answer_enc, "submission.answer"), event_id=row.event_id,
            submitted_at=row.submitted_at)




_SUBMISSIONS = models.Submission.__table__
_SUBMISSION_BY_KEY = select(_SUBMISSIONS).where(_SUBMISSIONS.c.account_id == bindparam("account_id"),
                                                _SUBMISSIONS.c.idempotency_key == bindparam("key"))
_ADD_SUBMISSION = insert(_SUBMISSIONS)


class DecisionRepository:
    def __init__(self, session, counters, campaigns_of):
        self.session, self.counters, self.campaigns_of = session, counters, campaigns_of

    def add(self, decision):
        self.session.add(models.Decision(**_fields(decision)))
        self.session.flush()
        if decision.decision == DECISION_REJECTED:
            campaign_id = _campaign_of(self.session, self.campaigns_of, decision.application_id)
            self.counters.note(models.ReportDay.__table__, {
                "campaign_id": campaign_id, "day": decision.decided_at.astimezone(clock.BEIJING).date()}, rejections=1)
            for issue in decision.material_issues or ():
                if isinstance(issue, dict):
                    kind, reason = reason_key(issue)
                    self.counters.note(models.ReportReason.__table__,
                                       {"campaign_id": campaign_id, "kind": kind, "reason": reason}, n=1)

    def of_application(self, application_id):
        return [_decision(row) for row in self.session.scalars(
            select(models.Decision).where(models.Decision.application_id == application_id))]

    def rejection_reasons(self, campaign_id=None):
        """(rejections, [(kind, reason, n)]) in one round trip, from the counters (models.ReportDay,
        models.ReportReason)."""
        self.counters.write()
        days, reasons = models.ReportDay, models.ReportReason
        total = select(literal(0).label("part"), literal("").label("kind"), literal("").label("reason"),
                       func.coalesce(func.sum(days.rejections), 0).label("n"))
        grouped = select(literal(1), reasons.kind, reasons.reason, func.sum(reasons.n)).group_by(
            reasons.kind, reasons.reason)
        if campaign_id:
            total, grouped = total.where(days.campaign_id == campaign_id), grouped.where(
                reasons.campaign_id == campaign_id)
        rows = self.session.execute(union_all(total, grouped)).all()
        return (sum(int(n) for part, _, _, n in rows if part == 0),
                [(k, r, int(n)) for part, k, r, n in rows if part == 1])


def _decision(row):
    return Decision(application_id=row.application_id, attempt=row.attempt, decision=row.decision,
                    opinion=row.opinion, material_issues=list(row.material_issues or []),
                    review_id=row.review_id, reviewer_id=row.reviewer_id, event_id=row.event_id,
                    decided_at=row.decided_at)


def _fields(record):
    return dict(record.__dict__)


class DispatchRepository:
    def __init__(self, session):
        self.session = session

    def of_application(self, application_id):
        row = self.session.scalars(select(models.Dispatch).where(
            models.Dispatch.application_id == application_id)).first()
        return None if row is None else _dispatch(row)

    def of_applications(self, application_ids):
        """application id → its mailing, for these applications (one page of an export)."""
        if not application_ids:
            return {}
        return {row.application_id: _dispatch(row) for row in self.session.scalars(
            select(models.Dispatch).where(models.Dispatch.application_id.in_(list(application_ids))))}

    def add(self, dispatch):
        self.session.add(models.Dispatch(**_fields(dispatch)))
        _flush(self.session, Conflict(ALREADY_DISPATCHED, code="already_dispatched"))


def _dispatch(row):
    return Dispatch(application_id=row.application_id, registration_number=row.registration_number,
                    carrier=row.carrier, tracking_number=row.tracking_number, recorded_by=row.recorded_by,
                    dispatched_at=row.dispatched_at)


# -- feedback (反馈) and the audit log ------------------------------------------------------------

class FeedbackRepository:
    def __init__(self, session, cipher):
        self.session, self.cipher = session, cipher

    def get(self, feedback_id):
        row = self.session.get(models.Feedback, str(feedback_id))
        return None if row is None else self._feedback(row)

    def count_open(self, account_id):
        return self.session.scalar(select(func.count()).select_from(models.Feedback).where(
            models.Feedback.account_id == account_id, models.Feedback.state == FEEDBACK_OPEN))

    def list(self, state=None):
        """Oldest first, optionally only those in `state`."""
        query = select(models.Feedback).order_by(models.Feedback.created_at)
        if state:
            query = query.where(models.Feedback.state == state)
        return [self._feedback(row) for row in self.session.scalars(query)]

    def add(self, feedback):
        self.session.add(models.Feedback(
            id=feedback.id, account_id=feedback.account_id, message=feedback.message, state=feedback.state,
            created_at=feedback.created_at,
            name_enc=self.cipher.encrypt(feedback.name, models.FEEDBACK_NAME) if feedback.verified else None,
            id_number_enc=(self.cipher.encrypt(feedback.id_number, models.FEEDBACK_ID_NUMBER)
                           if feedback.verified else None)))

    def save(self, feedback):
        """Store the resolution."""
        row = self.session.get(models.Feedback, feedback.id)
        row.state, row.note, row.resolved_by, row.resolved_at = (
            feedback.state, feedback.note, feedback.resolved_by, feedback.resolved_at)

    def _feedback(self, row):
        return Feedback(id=row.id, account_id=row.account_id, message=row.message, state=row.state,
                        created_at=row.created_at, name=self.cipher.decrypt(row.name_enc, models.FEEDBACK_NAME),
                        id_number=self.cipher.decrypt(row.id_number_enc, models.FEEDBACK_ID_NUMBER),
                        note=row.note, resolved_by=row.resolved_by, resolved_at=row.resolved_at,
                        verified=row.name_enc is not None)
