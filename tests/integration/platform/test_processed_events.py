"""UnitOfWork.first_time on a real database: an event is new once per consumer, whoever asks; a copy
that asks while another copy's transaction holds the same event waits for it and hears "seen"."""
import pytest
from eventlet import patcher
from sqlalchemy import MetaData, func, select, text

from services.common.db import UnitOfWork, create_schema, make_engine
from services.common.tables import add_platform_tables
from tests.support.infra import wait_for

pytestmark = pytest.mark.integration
meta = MetaData()
add_platform_tables(meta)
EVENT = {"id": "e-1", "source": "registration"}


@pytest.fixture
def engine(database_url):
    engine = make_engine(database_url("platform"))
    create_schema(engine, meta)
    yield engine
    engine.dispose()


def first_time(engine, event, consumer):
    with UnitOfWork(engine, meta) as uow:
        return uow.first_time(event, consumer)


def waiting_on_a_lock(engine):
    with engine.connect() as c:  # a connection per look: pg_stat_activity is a snapshot per transaction
        return c.scalar(text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                             "AND wait_event_type = 'Lock'"))


def test_an_event_is_new_once_per_consumer(engine):
    assert first_time(engine, EVENT, "review")
    assert not first_time(engine, EVENT, "review")
    assert first_time(engine, EVENT, "notify")  # another consumer has its own mark
    assert first_time(engine, {**EVENT, "source": "review"}, "review")  # the id is another source's
    with engine.connect() as c:
        assert c.scalar(select(func.count()).select_from(meta.tables["processed_events"])) == 3


def test_a_concurrent_copy_waits_for_the_first_and_hears_seen(engine):
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite's transactions are serial (BEGIN IMMEDIATE): no copy runs alongside")
    threading = patcher.original("threading")  # psycopg2 blocks its OS thread, not the test's hub
    answers = []
    first = UnitOfWork(engine, meta)
    assert first.first_time(EVENT, "review")
    second = threading.Thread(target=lambda: answers.append(first_time(engine, EVENT, "review")))
    second.start()
    try:
        wait_for(lambda: waiting_on_a_lock(engine), message="the second copy waiting on the first's mark")
        first.commit()
    finally:
        first.session.close()
        second.join(timeout=30)
    assert answers == [False]
