"""Sessions in services/identity/handlers.py on a fake unit of work: authenticate answers the
principal of a live token (masks only) and writes last_seen at most once per touch interval;
a revoked, expired or malformed token is refused; logout ends the session."""
from datetime import timedelta

import pytest

from services.contracts.errors import Unauthenticated
from services.identity import handlers
from services.identity.domain import sessions

from .fakes import fake_uow
from .test_handlers_second_factor import NOW

POLICY, TOUCH = sessions.SessionPolicy(), timedelta(seconds=60)


def signed_in(verified=False):
    uow = fake_uow()
    uow.accounts.put("u-1", "13812345678", ["applicant"], NOW)
    if verified:
        uow.sessions.identities["u-1"] = ("format_checked", "张三", "11010519491231002X")
    token, token_hash = sessions.new_token()
    uow.sessions.open("u-1", token_hash, NOW)
    return uow, token, token_hash


def authenticate(uow, token, at=NOW):
    with uow:
        return handlers.authenticate(uow, token, POLICY, TOUCH, at)


def test_a_live_token_answers_the_principal_in_masks():
    uow, token, _ = signed_in(verified=True)
    principal = authenticate(uow, token)
    assert principal["account_id"] == "u-1" and principal["roles"] == ["applicant"] and principal["verified"]
    assert principal["phone_masked"] != "13812345678" and "张三" not in str(principal)


def test_last_seen_is_written_once_per_touch_interval():
    uow, token, token_hash = signed_in()
    authenticate(uow, token, NOW + TOUCH / 2)
    assert uow.sessions.stored[token_hash]["last_seen_at"] == NOW
    authenticate(uow, token, NOW + TOUCH)
    assert uow.sessions.stored[token_hash]["last_seen_at"] == NOW + TOUCH


@pytest.mark.parametrize("token", [None, "", 42, "x" * 201, "unknown-token"])
def test_a_malformed_or_unknown_token_is_refused(token):
    uow, _, _ = signed_in()
    with pytest.raises(Unauthenticated):
        authenticate(uow, token)


def test_logout_and_idleness_end_the_session():
    uow, token, _ = signed_in()
    with pytest.raises(Unauthenticated):
        authenticate(uow, token, NOW + POLICY.idle + timedelta(seconds=1))
    with uow:
        assert handlers.logout(uow, token, NOW) == {"ok": True}
    with pytest.raises(Unauthenticated):
        authenticate(uow, token)
    with uow:
        assert handlers.logout(uow, None, NOW) == {"ok": True}  # nothing to end: still ok
