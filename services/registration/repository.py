"""Rows ↔ domain objects, with the personal part of forms encrypted on the way in.

No nameko here; every function takes a SQLAlchemy session (the unit of work's) and the cipher.
"""
import json

from sqlalchemy import func, select

from services.common.idnumbers import normalise_number
from services.contracts.errors import NotFound

from . import models
from .domain import campaigns, states

# The personal part of a form: kept encrypted at rest, never copied into plain columns.
PERSONAL_KEYS = ("name", "id_number", "birth_date", "mobile", "email", "delivery")

APPLICATION_NOT_FOUND = "申请不存在，请从“登记历史”重新进入"


# -- encryption helpers ----------------------------------------------------------------------------

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


# -- campaigns -------------------------------------------------------------------------------------

def campaign_row(session, campaign_id):
    row = session.get(models.Campaign, campaign_id) if campaign_id else None
    if row is None:
        raise NotFound("登记批次不存在，请刷新页面后重新选择", code="campaign_not_found")
    return row


def campaign_to_domain(row):
    return campaigns.Campaign(
        id=row.id, name=row.name, kind=row.kind, region=row.region,
        eligible_exam_years=frozenset(row.eligible_exam_years), eligible_levels=frozenset(row.eligible_levels),
        opens_at=row.opens_at, closes_at=row.closes_at, delivery_methods=tuple(row.delivery_methods),
        exclude_local_only=row.exclude_local_only, allow_resubmit_after_close=row.allow_resubmit_after_close,
        resubmit_closes_at=row.resubmit_closes_at)


def campaign_from_domain(campaign, now):
    return models.Campaign(
        id=campaign.id, name=campaign.name, kind=campaign.kind, region=campaign.region,
        eligible_exam_years=sorted(campaign.eligible_exam_years), eligible_levels=sorted(campaign.eligible_levels),
        opens_at=campaign.opens_at, closes_at=campaign.closes_at, delivery_methods=list(campaign.delivery_methods),
        exclude_local_only=campaign.exclude_local_only,
        allow_resubmit_after_close=campaign.allow_resubmit_after_close,
        resubmit_closes_at=campaign.resubmit_closes_at, created_at=now)


def load_campaign(session, campaign_id):
    return campaign_to_domain(campaign_row(session, campaign_id))


# -- roster ----------------------------------------------------------------------------------------

def roster_records_of(session, cipher, id_type, id_number):
    """Every roster record of this document, decrypted, as the mappings eligibility.py reads."""
    rows = session.scalars(select(models.RosterRecord).where(
        models.RosterRecord.id_number_index == roster_index(cipher, id_type, id_number))).all()
    return [roster_to_domain(cipher, row) for row in rows]


def roster_to_domain(cipher, row):
    return {
        "name": cipher.decrypt(row.name_enc, "roster.name"),
        "id_type": row.id_type,
        "id_number": cipher.decrypt(row.id_number_enc, "roster.id_number"),
        "level": row.level,
        "exam_year": row.exam_year,
        "management_number": row.management_number,
        "approval_date": row.approval_date,
        "local_only": row.local_only,
    }


# -- applications ----------------------------------------------------------------------------------

def application_row(session, application_id, lock=False):
    """The row or None; `lock` takes the row lock (FOR UPDATE on PostgreSQL) for a state change."""
    query = select(models.Application).where(models.Application.id == str(application_id))
    if lock:
        query = query.with_for_update()
    return session.scalars(query).first()


def own_application_row(session, account_id, application_id, lock=False):
    """The applicant's own application; anyone else's reads as missing (its existence is not revealed)."""
    row = application_row(session, application_id, lock)
    if row is None or row.account_id != account_id:
        raise NotFound(APPLICATION_NOT_FOUND, code="application_not_found")
    return row


def application_to_domain(cipher, row):
    form = {**(row.form or {}), **unseal(cipher, row.personal_enc, "application.personal")}
    return states.Application(
        id=row.id, campaign_id=row.campaign_id, account_id=row.account_id, kind=row.kind, state=row.state,
        attempt=row.attempt, decided_attempt=row.decided_attempt, form=form,
        materials=dict(row.materials or {}), first_submitted_at=row.first_submitted_at,
        submitted_at=row.submitted_at, decided_at=row.decided_at, review_opinion=row.review_opinion,
        material_issues=list(row.material_issues or []), registration_number=row.registration_number,
        valid_from=row.valid_from, valid_until=row.valid_until)


def store_application(cipher, row, app, now):
    """Copy the aggregate's state into its row (a new row when `row` is None); returns the row."""
    if row is None:
        row = models.Application(id=app.id, account_id=app.account_id, campaign_id=app.campaign_id,
                                 kind=app.kind, created_at=now)
    public, personal = split_form(app.form)
    row.state, row.attempt, row.decided_attempt = app.state, app.attempt, app.decided_attempt
    row.form = public
    row.personal_enc = seal(cipher, personal, "application.personal")
    row.materials = app.materials
    row.cert_level, row.exam_year = app.form.get("cert_level"), app.form.get("exam_year")
    row.district_code = app.form.get("service_district")
    row.first_submitted_at, row.submitted_at, row.decided_at = (
        app.first_submitted_at, app.submitted_at, app.decided_at)
    row.review_opinion, row.material_issues = app.review_opinion, app.material_issues
    row.registration_number, row.valid_from, row.valid_until = (
        app.registration_number, app.valid_from, app.valid_until)
    row.updated_at = now
    return row


def dispatch_of(session, application_id):
    return session.scalars(select(models.Dispatch).where(
        models.Dispatch.application_id == application_id)).first()


# -- registration numbers --------------------------------------------------------------------------

def next_sequence(session, year):
    """The next number of this year's sequence, inside the caller's transaction (row locked on PostgreSQL)."""
    seq = session.scalars(select(models.NumberSequence).where(models.NumberSequence.year == year)
                          .with_for_update()).first()
    if seq is None:
        seq = models.NumberSequence(year=year, last_seq=0)
        session.add(seq)
    seq.last_seq += 1
    session.flush()
    return seq.last_seq


def ensure_sequence(session, year):
    """Create a year's sequence row ahead of the first approval, so approvals only ever lock it."""
    if session.get(models.NumberSequence, year) is None:
        session.add(models.NumberSequence(year=year, last_seq=0))


# -- reports and exports ---------------------------------------------------------------------------

EXPORTED_STATES = (states.APPROVED, states.DISPATCHED)


def _approved(campaign_id):
    query = select(models.Application).where(models.Application.state.in_(EXPORTED_STATES))
    return query.where(models.Application.campaign_id == campaign_id) if campaign_id else query


def count_approved(session, campaign_id=None):
    return session.scalar(select(func.count()).select_from(_approved(campaign_id).subquery()))


def approved_page(session, campaign_id=None, after=None, limit=500):
    """One page of approved registrations in registration-number order, after the number `after`
    (keyset: every page costs the same however deep), with the mailing of each: [(row, dispatch|None)]."""
    query = _approved(campaign_id).order_by(models.Application.registration_number).limit(limit)
    if after:
        query = query.where(models.Application.registration_number > after)
    rows = session.scalars(query).all()
    ids = [row.id for row in rows]
    dispatches = {d.application_id: d for d in session.scalars(
        select(models.Dispatch).where(models.Dispatch.application_id.in_(ids)))} if ids else {}
    return [(row, dispatches.get(row.id)) for row in rows]


def count_by(session, campaign_id=None):
    """{(state, district, level): n} in one pass over the table (the report reads its three views from it)."""
    app = models.Application
    query = select(app.state, app.district_code, app.cert_level, func.count()).group_by(
        app.state, app.district_code, app.cert_level)
    if campaign_id:
        query = query.where(app.campaign_id == campaign_id)
    return {(state, district, level): n for state, district, level, n in session.execute(query).all()}
