"""identity.principal_changes, the gateways' session watch: every change of what a session answers
is listed (a logout, every session of an account ended, an identity verified), from a little before
the caller's cursor; the sessions a gateway answered for are touched as authenticate would touch
them, never brought back to life; what is not a cursor or a list of session hashes is refused."""
from datetime import timedelta

import pytest

from services.contracts.errors import ValidationFailed
from services.identity import handlers, session_batch, session_watch
from services.identity.domain import sessions
from services.identity.domain.records import IdentityRecord

from .test_handlers_sessions import NOW, POLICY, TOUCH, signed_in


def look(uow, since=None, seen=(), at=NOW):
    with uow:
        return session_watch.principal_changes(uow, since, list(seen), POLICY, TOUCH, at)


def test_a_logout_an_ended_account_and_a_verification_are_each_listed():
    uow, token, token_hash = signed_in()
    first = look(uow)
    assert first == {"now": NOW.isoformat(), "changes": []}
    with uow:
        handlers.logout(uow, token, NOW)
        uow.sessions.revoke_all("u-2", NOW)
        uow.identities.add(IdentityRecord(account_id="u-3", id_type="RESIDENT_ID", name="张三",
                                          id_number="11010519491231002X", level="format_checked", verified_at=NOW))
    answer = look(uow, first["now"], at=NOW + timedelta(seconds=1))
    assert [account for _, account in answer["changes"]] == ["u-1", "u-2", "u-3"]
    assert len({change_id for change_id, _ in answer["changes"]}) == 3
    assert answer["now"] == (NOW + timedelta(seconds=1)).isoformat()


def test_a_second_logout_of_the_same_token_notes_nothing():
    uow, token, _ = signed_in()
    with uow:
        handlers.logout(uow, token, NOW)
        handlers.logout(uow, token, NOW)
    assert uow.principal_changes.accounts() == ["u-1"]


def test_changes_are_read_from_a_little_before_the_cursor_and_not_from_long_before():
    uow, token, _ = signed_in()
    with uow:
        handlers.logout(uow, token, NOW)  # its transaction read the clock at NOW, committed later
    late = NOW + session_watch.LOOK_BACK - timedelta(seconds=1)
    assert look(uow, late.isoformat(), at=late)["changes"] == [[1, "u-1"]]
    long_after = NOW + session_watch.LOOK_BACK + timedelta(seconds=1)
    assert look(uow, long_after.isoformat(), at=long_after)["changes"] == []


def test_seen_sessions_are_touched_once_a_minute_and_an_ended_one_stays_ended():
    uow, token, token_hash = signed_in()
    look(uow, seen=[token_hash], at=NOW + TOUCH / 2)
    assert uow.sessions.stored[token_hash]["last_seen_at"] == NOW  # touched less than a minute ago
    look(uow, seen=[token_hash], at=NOW + TOUCH)
    assert uow.sessions.stored[token_hash]["last_seen_at"] == NOW + TOUCH
    idle_out = NOW + TOUCH + POLICY.idle
    look(uow, seen=[token_hash], at=idle_out)  # idle for 30 minutes: over, a touch cannot revive it
    assert uow.sessions.stored[token_hash]["last_seen_at"] == NOW + TOUCH
    other, other_token, other_hash = signed_in()
    with other:
        handlers.logout(other, other_token, NOW)
    look(other, seen=[other_hash], at=NOW + TOUCH)
    assert other.sessions.stored[other_hash]["last_seen_at"] == NOW


def test_authenticate_many_says_how_long_each_session_lives():
    uow, token, _ = signed_in()
    with uow:
        answer, = session_batch.authenticate_many(uow, [token], POLICY, TOUCH, NOW + TOUCH)
    assert answer["lives"] == POLICY.idle.total_seconds()  # touched just now: the idle timeout ahead
    with uow:
        answer, = session_batch.authenticate_many(uow, [token], POLICY, TOUCH, NOW + POLICY.absolute - TOUCH / 2)
    assert "refused" in answer  # idle since: over


@pytest.mark.parametrize("since, seen", [("yesterday", []), (42, []), ("2020-07-01T02:00:00", []),
                                          (None, "abc"), (None, ["x" * 64]), (None, [1]),
                                          (None, ["a" * 64] * (session_watch.MAX_SEEN + 1))])
def test_what_is_not_a_cursor_or_a_list_of_session_hashes_is_refused(since, seen):
    uow, _, _ = signed_in()
    with pytest.raises(ValidationFailed), uow:
        session_watch.principal_changes(uow, since, seen, POLICY, TOUCH, NOW)


def test_a_hash_as_the_gateway_computes_it_is_identitys_own_key():
    from services.gateway.principals import PrincipalCache
    token, token_hash = sessions.new_token()
    assert PrincipalCache.key(token) == token_hash
