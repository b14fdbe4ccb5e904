"""The gateway remembers who a token is for one second at most, forgets at once on logout, and reads
afresh on a write (whose page after it must see the change)."""
import pytest

from services.contracts.errors import Unauthenticated
from services.gateway.principals import PrincipalCache


class Clock:
    now = 100.0

    def __call__(self):
        return self.now


class Identity:
    def __init__(self):
        self.calls, self.revoked, self.verified = 0, set(), False

    def authenticate(self, token):
        self.calls += 1
        if token in self.revoked:
            raise Unauthenticated("登录已失效，请重新登录")
        return {"account_id": f"acct-{token}", "roles": ["applicant"], "verified": self.verified}


def test_a_page_and_its_photos_ask_identity_once_per_second():
    clock, identity = Clock(), Identity()
    cache = PrincipalCache(seconds=1.0, clock=clock)
    assert [cache.get("t1", identity.authenticate)["account_id"] for _ in range(5)] == ["acct-t1"] * 5
    assert identity.calls == 1
    clock.now += 1.01
    cache.get("t1", identity.authenticate)
    assert identity.calls == 2


def test_a_revoked_session_is_refused_within_the_second_and_at_once_after_logout_here():
    clock, identity = Clock(), Identity()
    cache = PrincipalCache(seconds=1.0, clock=clock)
    cache.get("t1", identity.authenticate)
    identity.revoked.add("t1")  # logged out by another gateway copy, or the account locked
    clock.now += 1.01
    with pytest.raises(Unauthenticated):
        cache.get("t1", identity.authenticate)
    cache.get("t2", identity.authenticate)
    cache.forget("t2")  # logged out through this copy
    identity.revoked.add("t2")
    with pytest.raises(Unauthenticated):
        cache.get("t2", identity.authenticate)


def test_a_write_reads_afresh_and_the_page_after_it_sees_the_change():
    clock, identity = Clock(), Identity()
    cache = PrincipalCache(seconds=1.0, clock=clock)
    assert cache.get("t1", identity.authenticate)["verified"] is False  # GET /identity
    assert cache.get("t1", identity.authenticate, fresh=True)["verified"] is False  # POST /identity…
    identity.verified = True  # …which verifies the person
    assert cache.get("t1", identity.authenticate)["verified"] is True  # the page after it, same second


def test_refusals_are_not_remembered_nor_is_anything_when_turned_off():
    clock, identity = Clock(), Identity()
    identity.revoked.add("bad")
    cache = PrincipalCache(seconds=1.0, clock=clock)
    for _ in range(2):
        with pytest.raises(Unauthenticated):
            cache.get("bad", identity.authenticate)
    assert identity.calls == 2
    off = PrincipalCache(seconds=0, clock=clock)
    off.get("t", identity.authenticate), off.get("t", identity.authenticate)
    assert identity.calls == 4


def test_callers_get_copies_and_memory_stays_bounded():
    clock, identity = Clock(), Identity()
    cache = PrincipalCache(seconds=1.0, limit=3, clock=clock)
    cache.get("t1", identity.authenticate)["roles"].append("admin")  # a caller changing its copy
    assert cache.get("t1", identity.authenticate)["roles"] == ["applicant"]
    for n in range(10):
        cache.get(f"x{n}", identity.authenticate)
    assert len(cache._entries) <= 3
