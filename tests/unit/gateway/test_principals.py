"""The gateway keeps who a token is: one second while nobody watches identity's changes (a write
then asks afresh), up to the session's end while the watch is live — and a change anywhere
(logout, password, verification) is heard within the second either way."""
import pytest

from services.contracts.errors import Unauthenticated
from services.gateway.principals import PrincipalCache


class Clock:
    now = 100.0

    def __call__(self):
        return self.now


class Identity:
    """identity's answers: authenticate, and principal_changes over a list of changes."""

    def __init__(self, lives=1800.0):
        self.calls, self.revoked, self.verified, self.lives = 0, set(), False, lives
        self.changes, self.looks, self.touched = [], [], []

    def authenticate(self, token):
        self.calls += 1
        if token in self.revoked:
            raise Unauthenticated("登录已失效，请重新登录")
        return {"account_id": f"acct-{token.rstrip('b')}", "roles": ["applicant"], "verified": self.verified}, self.lives

    def end(self, token):  # logged out by another gateway copy, password changed, account locked
        self.revoked.add(token)
        self.changes.append([len(self.changes) + 1, f"acct-{token}"])

    def principal_changes(self, since, seen):
        self.looks.append(since)
        self.touched.extend(seen)
        return {"now": f"T{len(self.looks)}", "changes": list(self.changes)}


def pass_time(clock, cache, identity, seconds):
    """`seconds` go by with a look every quarter second, as the gateway's timer does."""
    for _ in range(round(seconds / 0.25)):
        clock.now += 0.25
        cache.look(identity.principal_changes)


def watched(clock, identity, **kw):
    cache = PrincipalCache(seconds=1.0, clock=clock, **kw)
    cache.look(identity.principal_changes)
    return cache


def test_unwatched_a_page_and_its_photos_ask_identity_once_per_second():
    clock, identity = Clock(), Identity()
    cache = PrincipalCache(seconds=1.0, clock=clock)
    assert [cache.get("t1", identity.authenticate)["account_id"] for _ in range(5)] == ["acct-t1"] * 5
    assert identity.calls == 1
    clock.now += 1.01
    cache.get("t1", identity.authenticate)
    assert identity.calls == 2


def test_unwatched_a_write_reads_afresh_and_the_page_after_it_sees_the_change():
    clock, identity = Clock(), Identity()
    cache = PrincipalCache(seconds=1.0, clock=clock)
    assert cache.get("t1", identity.authenticate)["verified"] is False  # GET /identity
    assert cache.get("t1", identity.authenticate, fresh=True)["verified"] is False  # POST /identity…
    assert identity.calls == 2
    cache.forget("t1")  # …which verifies the person: the route forgets the token
    identity.verified = True
    assert cache.get("t1", identity.authenticate)["verified"] is True  # the page after it, same second


def test_watched_reads_and_writes_are_answered_from_memory_for_minutes():
    clock, identity = Clock(), Identity()
    cache = watched(clock, identity)
    cache.get("t1", identity.authenticate)
    for _ in range(20):  # 20 minutes of use, a request a minute
        pass_time(clock, cache, identity, 60)
        cache.get("t1", identity.authenticate, fresh=True)
    assert identity.calls == 5  # at first, then again each WATCHED_SECONDS (300 s): at 5, 10, 15, 20 min


def test_watched_a_change_elsewhere_drops_what_was_kept_at_the_next_look():
    clock, identity = Clock(), Identity()
    cache = watched(clock, identity)
    cache.get("t1", identity.authenticate)
    cache.get("t2", identity.authenticate)
    identity.end("t1")
    clock.now += 0.25
    cache.look(identity.principal_changes)
    with pytest.raises(Unauthenticated):
        cache.get("t1", identity.authenticate, fresh=True)
    cache.get("t2", identity.authenticate)  # another account's session is still kept
    assert identity.calls == 3
    assert identity.looks == [None, "T1"]  # each look continues from identity's time of the last


def test_a_change_is_applied_once_though_identity_lists_it_on_several_looks():
    clock, identity = Clock(), Identity()
    cache = watched(clock, identity)
    identity.end("t1")  # logged out …
    pass_time(clock, cache, identity, 0.25)
    clock.now += 0.01
    cache.get("t1b", identity.authenticate)  # … and logged in again: a new session of the same account
    pass_time(clock, cache, identity, 5)  # identity lists the logout on every look for its look-back
    cache.get("t1b", identity.authenticate)
    assert identity.calls == 1


def test_when_the_watch_lapses_a_write_asks_identity_and_a_read_keeps_only_a_second():
    clock, identity = Clock(), Identity()
    cache = watched(clock, identity)
    cache.get("t1", identity.authenticate)
    clock.now += PrincipalCache.TRUST  # no look for a second: identity down, or the gateway starved
    cache.get("t1", identity.authenticate, fresh=True)
    assert identity.calls == 2
    identity.end("t1")  # nobody hears this …
    clock.now += 1.01
    with pytest.raises(Unauthenticated):  # … but a read keeps a principal one second only
        cache.get("t1", identity.authenticate)


def test_the_first_look_after_a_lapse_drops_everything_kept_meanwhile():
    clock, identity = Clock(), Identity()
    cache = watched(clock, identity)
    clock.now += 5  # lapsed
    cache.get("t1", identity.authenticate)
    clock.now += 0.1
    cache.look(identity.principal_changes)  # a change older than identity's look-back may be missed
    cache.get("t1", identity.authenticate)
    assert identity.calls == 2


def test_an_answer_asked_before_a_change_was_heard_is_not_kept():
    clock, identity = Clock(), Identity()
    cache = watched(clock, identity)

    def slow_authenticate(token):  # the look hears of the change while this question is on the way
        answer = identity.authenticate(token)
        identity.end(token)
        clock.now += 0.1
        cache.look(identity.principal_changes)
        return answer

    cache.get("t1", slow_authenticate)
    with pytest.raises(Unauthenticated):
        cache.get("t1", identity.authenticate)


def test_a_kept_principal_never_outlives_its_session():
    clock, identity = Clock(), Identity(lives=10.0)
    cache = watched(clock, identity)
    cache.get("t1", identity.authenticate)
    clock.now += 10.0
    cache.look(identity.principal_changes)
    cache.get("t1", identity.authenticate)
    assert identity.calls == 2


def test_sessions_answered_from_memory_are_brought_to_identity_once_a_minute():
    clock, identity = Clock(), Identity()
    cache = watched(clock, identity)
    cache.get("t1", identity.authenticate)  # identity touched it itself
    for _ in range(3):
        pass_time(clock, cache, identity, 30)
        cache.get("t1", identity.authenticate)
    pass_time(clock, cache, identity, 0.25)
    assert identity.touched == [PrincipalCache.key("t1")]  # at 60 s, not at 30 or 90


def test_seen_sessions_survive_a_failed_look():
    clock, identity = Clock(), Identity()
    cache = watched(clock, identity)
    cache.get("t1", identity.authenticate)
    pass_time(clock, cache, identity, 60)
    cache.get("t1", identity.authenticate)

    def down(since, seen):
        raise ConnectionError("identity down")

    with pytest.raises(ConnectionError):
        cache.look(down)
    cache.look(identity.principal_changes)
    assert identity.touched == [PrincipalCache.key("t1")]


def test_refusals_are_not_remembered_nor_is_anything_when_turned_off():
    clock, identity = Clock(), Identity()
    identity.revoked.add("bad")
    cache = watched(clock, identity)
    for _ in range(2):
        with pytest.raises(Unauthenticated):
            cache.get("bad", identity.authenticate)
    assert identity.calls == 2
    off = PrincipalCache(seconds=0, clock=clock)
    off.look(identity.principal_changes)
    off.get("t", identity.authenticate), off.get("t", identity.authenticate)
    assert identity.calls == 4


def test_callers_get_copies_and_memory_stays_bounded():
    clock, identity = Clock(), Identity()
    cache = watched(clock, identity, limit=3)
    cache.get("t1", identity.authenticate)["roles"].append("admin")  # a caller changing its copy
    assert cache.get("t1", identity.authenticate)["roles"] == ["applicant"]
    for n in range(10):
        cache.get(f"x{n}", identity.authenticate)
    assert len(cache._entries) <= 3
