from datetime import datetime, timedelta, timezone

from services.contracts import roles
from services.identity.domain.sessions import SessionPolicy, expires_at, hash_token, is_alive, new_token

T0 = datetime(2020, 7, 1, 2, 0, tzinfo=timezone.utc)


def test_new_token_is_random_and_stored_hashed():
    plain, stored = new_token()
    assert len(plain) >= 43 and plain not in stored
    assert stored == hash_token(plain) and len(stored) == 64
    assert new_token()[0] != plain


def test_idle_timeout():
    assert is_alive(T0, T0 + timedelta(minutes=10), None, T0 + timedelta(minutes=39))
    assert not is_alive(T0, T0 + timedelta(minutes=10), None, T0 + timedelta(minutes=40))
    assert not is_alive(T0, None, None, T0 + timedelta(minutes=30))


def test_absolute_timeout_even_when_active():
    last_seen = T0 + timedelta(hours=11, minutes=59)
    assert is_alive(T0, last_seen, None, T0 + timedelta(hours=11, minutes=59, seconds=59))
    assert not is_alive(T0, last_seen, None, T0 + timedelta(hours=12))
    assert expires_at(T0, last_seen) == T0 + timedelta(hours=12)


def test_revoked():
    assert not is_alive(T0, T0, T0 + timedelta(minutes=1), T0 + timedelta(minutes=2))
    assert is_alive(T0, T0, T0 + timedelta(minutes=5), T0 + timedelta(minutes=2))


def test_policy_is_configurable():
    policy = SessionPolicy(idle=timedelta(minutes=5), absolute=timedelta(minutes=20))
    assert not is_alive(T0, T0, None, T0 + timedelta(minutes=5), policy)
    assert expires_at(T0, T0 + timedelta(minutes=18), policy) == T0 + timedelta(minutes=20)


def test_roles():
    assert (roles.APPLICANT, roles.REVIEWER, roles.ADMIN) == ("applicant", "reviewer", "admin")
    assert roles.is_staff(roles.ADMIN) and roles.is_staff(roles.REVIEWER)
    assert not roles.is_staff(roles.APPLICANT)
    assert set(roles.ROLE_LABELS) == set(roles.ROLES)
