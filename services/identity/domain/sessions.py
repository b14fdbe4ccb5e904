"""Session tokens: random, stored only as a SHA-256 hash, ended by idle time, age or logout.

SHA-256 without salt is enough here: the token has 256 bits of entropy, so the hash only has to
make a leaked table useless, not slow down guessing.
"""
import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class SessionPolicy:
    idle: timedelta = timedelta(minutes=30)
    absolute: timedelta = timedelta(hours=12)


def new_token():
    """(plain token for the client, hash to store)."""
    plain = secrets.token_urlsafe(32)
    return plain, hash_token(plain)


def hash_token(plain):
    return hashlib.sha256(plain.encode()).hexdigest()


def expires_at(created_at, last_seen_at, policy=SessionPolicy()):
    """When the session dies if nothing else happens (for cookie Max-Age and clean-up)."""
    return min((last_seen_at or created_at) + policy.idle, created_at + policy.absolute)


def is_alive(created_at, last_seen_at, revoked_at, now, policy=SessionPolicy()):
    if revoked_at is not None and revoked_at <= now:
        return False
    return now < expires_at(created_at, last_seen_at, policy)
