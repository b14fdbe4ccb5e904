"""The database restarts (a crash: `pg_ctl stop -m immediate`, then start) during a load of
submissions: every service serves again on its own, every accepted submission is reviewed once and
notified once (0 lost, 0 doubled), nothing is dead-lettered.

Every service has its own database on a private PostgreSQL cluster (tests.support.private_postgres):
restarting it disturbs nobody else on the machine. Slow tier: `make test-slow`.
"""
import collections
import functools
import uuid

import eventlet
import pytest
from sqlalchemy import func, select, text

from services.review.models import ReviewTask
from tests.support.infra import dependency, queue_depth, wait_for
from tests.support.journey import (
    ADMIN_PHONE,
    REVIEWER_PHONE,
    applicant,
    fill_and_upload,
    import_roster,
    numbered_id_number,
    open_campaign,
    roster_row,
    staff,
    submit,
)

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(900)]

APPLICANTS, CLIENTS = 24, 4
OUTAGE_SECONDS = 10  # as long as a restart after a crash or a fail-over may take; longer than an event's retries
RECEIPT = "您的登记申请表已提交"
SERVICES = ("identity", "registration", "review", "notify")


@pytest.fixture
def database_url(private_postgres):
    """Every service's database on the private cluster (overrides tests.support.infra's)."""
    return private_postgres.database_url


def phone_of(i):
    return f"137{i:08d}"


def prepare(system, campaign_id, i):
    """An applicant with an application filled in and its four photos checked, not yet submitted."""
    client = applicant(system, phone_of(i), "张三", numbered_id_number(i))
    app = client.call("POST", "/api/v1/applications", {"campaign_id": campaign_id}, expect=201).json()
    fill_and_upload(client, app["id"])
    return client, app["id"]


def try_submit(client, application_id, key, refusals):
    """One click (retried with the same Idempotency-Key): True when the submission was accepted;
    otherwise the answer's status is counted in `refusals`."""
    try:
        status = submit(client, application_id, key=key).status_code
    except OSError:  # connection reset while a service fails: the applicant clicks again
        status = "no answer"
    if status != 200:
        refusals[status] += 1
    return status == 200


def receipts(system):
    return collections.Counter(m["to"] for m in system.sms() if RECEIPT in m["body"])


def test_a_database_restart_mid_load_loses_and_doubles_nothing(system, private_postgres):
    admin = staff(system, ADMIN_PHONE, "admin")
    reviewer = staff(system, REVIEWER_PHONE, "reviewer")
    campaign = open_campaign(system, admin)
    import_roster(admin, [roster_row("张三", numbered_id_number(i), f"2019110{i:010d}") for i in range(APPLICANTS)])
    pool = eventlet.GreenPool(CLIENTS)
    prepared = list(pool.imap(lambda i: prepare(system, campaign["id"], i), range(APPLICANTS)))
    phones = {app_id: phone_of(i) for i, (_, app_id) in enumerate(prepared)}

    accepted, refusals = [], collections.Counter()

    def client(share):
        for me, application_id in share:
            key = uuid.uuid4().hex  # one click, retried as the same click
            wait_for(functools.partial(try_submit, me, application_id, key, refusals), timeout=180, interval=0.1,
                     message=f"{application_id} to be accepted")
            accepted.append(application_id)

    load = [eventlet.spawn(client, prepared[c::CLIENTS]) for c in range(CLIENTS)]
    wait_for(lambda: len(accepted) >= APPLICANTS // 4, timeout=120, message="the load to be under way")
    private_postgres.stop("immediate")  # every connection cut mid-transaction, no checkpoint
    restarted_at = len(accepted)
    wait_for(lambda: sum(refusals.values()), timeout=60, message="the outage to be felt by the applicants")
    eventlet.sleep(OUTAGE_SECONDS)  # the outage's length, not a wait for something: events arrive meanwhile
    private_postgres.start()
    for thread in load:
        thread.wait()
    assert restarted_at < APPLICANTS  # the database went while submissions were still coming
    assert set(refusals) == {503}, refusals  # meanwhile applicants were told 服务暂时不可用: no 500, no hang

    # Every service serves again on its own: no container died, each answers from its database.
    assert not [name for name, c in system.containers.items() if c._died.ready()]
    health = wait_for(lambda: (lambda r: r.status_code == 200 and r)(system.client().call("GET", "/health")),
                      timeout=60, message="every service healthy after the restart")
    assert health.json()["services"] == {name: "ok" for name in SERVICES}

    # Every accepted submission reviewed once and notified once.
    review_db = dependency(system.containers["review"], "db").engine
    registration_db = dependency(system.containers["registration"], "db").engine

    def tasks():
        with review_db.connect() as conn:
            return dict(conn.execute(select(ReviewTask.application_id, func.count())
                                     .group_by(ReviewTask.application_id)).all())

    wait_for(lambda: set(tasks()) >= set(accepted), timeout=120, message="every accepted submission reviewed")
    wait_for(lambda: set(receipts(system)) >= {phones[a] for a in accepted}, timeout=120,
             message="every accepted submission notified")
    wait_for(lambda: unsent(registration_db) == 0, timeout=60, message="the registration outbox drained")
    assert sorted(accepted) == sorted(app_id for _, app_id in prepared)  # none lost
    assert tasks() == {a: 1 for a in accepted}  # each reviewed exactly once
    assert receipts(system) == collections.Counter(phones[a] for a in accepted)  # each notified exactly once
    for queue in ("review.ApplicationSubmitted.dlq", "notify.ApplicationSubmitted.dlq"):
        assert queue_depth(system.amqp_uri, queue) == 0, queue  # nothing given up on
    # The queue the reviewers see after the restart holds them all.
    listed = reviewer.call("GET", "/api/v1/review/tasks", expect=200).json()
    assert {t["application_id"] for t in listed} >= set(accepted)


def unsent(engine):
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM outbox WHERE sent_at IS NULL")).scalar()
