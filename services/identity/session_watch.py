"""principal_changes: what a gateway that keeps principals asks identity several times a second.

A gateway answers most requests from the principals it keeps (services/gateway/principals.py).
To keep the promise that a session logged out, ended by a password change or whose identity was
just verified answers differently everywhere within a second, it asks here, every quarter of a
second, which accounts changed since its last look (`uow.principal_changes`, written in the
transaction of each change), and it brings the sessions it answered for meanwhile, so their
last_seen moves on as `authenticate` would have moved it (idle sessions still end on time).
"""
from datetime import datetime, timedelta

from services.contracts.errors import ValidationFailed

MAX_SEEN = 1000  # a gateway sends at most PrincipalCache.SEEN_LIMIT hashes a look
LOOK_BACK = timedelta(seconds=30)  # re-read before the cursor: a change committed late is not missed


def principal_changes(uow, since, seen, session_policy, touch_interval, now):
    """{"now": identity's time (the caller's next `since`), "changes": [[change id, account id]]}:
    the changes noted at or after `since` - LOOK_BACK (or in the last LOOK_BACK when `since` is None).

    A change is noted with the time its transaction read the clock, and commits a little later:
    reading LOOK_BACK before the cursor finds one that committed after the caller's previous look.
    The caller applies each change id once."""
    moment = _moment(since, now) - LOOK_BACK
    if not isinstance(seen, list) or len(seen) > MAX_SEEN or not all(_is_hash(h) for h in seen):
        raise ValidationFailed("seen: at most 1000 session token hashes", code="invalid_seen")
    uow.sessions.touch_seen(seen, now, session_policy, touch_interval)
    return {"now": now.isoformat(), "changes": [[change_id, account_id]
                                                for change_id, account_id in uow.principal_changes.since(moment)]}


def _moment(since, now):
    if since is None:
        return now
    try:
        moment = datetime.fromisoformat(since)
    except (TypeError, ValueError):
        raise ValidationFailed("since: an ISO time from a previous answer", code="invalid_since") from None
    if moment.tzinfo is None:
        raise ValidationFailed("since: an ISO time from a previous answer", code="invalid_since")
    return min(moment, now)


def _is_hash(value):
    return isinstance(value, str) and len(value) == 64 and all(c in "0123456789abcdef" for c in value)
