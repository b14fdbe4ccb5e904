"""identity.principal_changes on the real broker and database (SQLite, or PostgreSQL with
TEST_DATABASE=postgresql): what the gateways' session watch reads. A logout, a password change and
a verification are each listed in the transaction that makes them; sessions a gateway answered for
are touched as authenticate touches them, and an idle session stays ended."""
from datetime import timedelta

import pytest

from services.contracts.errors import Unauthenticated, ValidationFailed
from services.identity.domain import sessions

from .conftest import PASSWORD, PHONE, register
from .test_identity_accounts import T0, _last_seen, refused


def accounts_listed(api, since=None):
    return [account for _, account in api.principal_changes(since, [])["changes"]]


def test_logout_password_change_and_verification_are_each_listed(identity, api):
    first = register(identity, api)
    cursor = api.principal_changes(None, [])["now"]
    assert accounts_listed(api, cursor) == []
    api.logout(first["token"])
    assert accounts_listed(api, cursor) == [first["account_id"]]
    second = api.login(PHONE, password=PASSWORD)
    api.verify_identity(second["account_id"], "张三", "RESIDENT_ID", "11010519491231002X")
    api.change_password(second["token"], PASSWORD, "N3w-passw0rd")
    assert accounts_listed(api, cursor) == [first["account_id"]] * 3
    api.logout(first["token"])  # already ended: nothing more to hear
    assert len(accounts_listed(api, cursor)) == 3


def test_seen_sessions_are_touched_and_an_idle_one_is_not_revived(identity, api, frozen_clock):
    frozen_clock(T0)
    answer = register(identity, api)
    token_hash = sessions.hash_token(answer["token"])
    frozen_clock(T0 + timedelta(seconds=30))
    api.principal_changes(None, [token_hash])
    assert _last_seen(identity, answer) == T0  # within the minute: not written
    frozen_clock(T0 + timedelta(minutes=20))
    api.principal_changes(None, [token_hash])  # the gateway answered it from memory meanwhile
    assert _last_seen(identity, answer) == T0 + timedelta(minutes=20)
    frozen_clock(T0 + timedelta(minutes=50))  # 30 idle minutes: ended
    api.principal_changes(None, [token_hash])
    assert _last_seen(identity, answer) == T0 + timedelta(minutes=20)
    refused(Unauthenticated, "unauthenticated", api.authenticate, answer["token"])


@pytest.mark.parametrize("since, seen", [("not a time", []), (None, ["not a hash"])])
def test_what_is_not_a_cursor_or_hashes_is_refused(identity, api, since, seen):
    refused(ValidationFailed, "invalid_since" if since else "invalid_seen", api.principal_changes, since, seen)
