"""Which failures of an event handler are the database being away (retried without spending attempts)."""
from nameko.exceptions import RemoteError
from sqlalchemy.exc import IntegrityError, OperationalError

from services.common.subscriber import is_database_outage


def test_an_unreachable_database_is_an_outage_here_or_behind_an_rpc():
    refused = OperationalError("SELECT 1", {}, ConnectionRefusedError("connection refused"))
    assert is_database_outage(refused)
    assert is_database_outage(RemoteError("OperationalError", "(psycopg2.OperationalError) Connection refused"))


def test_the_handlers_own_faults_are_not():
    assert not is_database_outage(IntegrityError("INSERT", {}, Exception("duplicate key")))
    assert not is_database_outage(RuntimeError("bug"))
    assert not is_database_outage(RemoteError("KeyError", "'phone'"))
