"""Who a session token belongs to, kept in memory and watched.

A page is one HTML request and then its photos and scripts, and an applicant's submit comes
moments after the page before it: each would otherwise ask identity (a broker round trip each).
The gateway keeps each principal it was given, and every quarter of a second (`look`, a nameko
timer in the gateway) asks identity which accounts changed since its last look
(`identity.principal_changes`: a session logged out or ended by a password change, an identity
verified) and drops what it kept for them. A kept principal answers:
- while the watch is live — a look began less than TRUST (1 s) ago — for WATCHED_SECONDS (300 s
  by default, AUTH_WATCHED_SECONDS), never past the session's own end, reads and writes alike: a
  change anywhere is heard within the second the issue allows;
- while it is not (identity does not answer the looks, or is older than principal_changes), a
  read for AUTH_CACHE_SECONDS (1 s; 0 keeps nothing at all), and a write never: it asks afresh.
The copy that performs a change (logout, password, verification) forgets the token at once.
Sessions answered from memory are brought to identity on the next look, at most once a minute
each, so their last_seen moves on as a direct authenticate would move it and idle sessions end
on time. Keys are SHA-256 hashes of the tokens, as identity stores them: no token sits in memory
longer than its request needs.

Asking is batched (AuthBatch): the requests that arrive while one identity.authenticate_many is on
the way go together in the next one; under load many requests share one round trip, one reply and
one transaction of identity.
"""
import copy
import hashlib
import logging
import time
from dataclasses import dataclass

from eventlet.queue import LightQueue
from nameko.extensions import DependencyProvider

from services.contracts.errors import Unauthenticated

log = logging.getLogger(__name__)


@dataclass
class _Kept:
    asked_at: float  # when identity was asked (clock of this process)
    until: float  # the session's end as identity said, capped at WATCHED_SECONDS
    principal: dict
    touched_at: float  # when identity last saw the session used


class PrincipalCache:
    TRUST = 1.0  # a change is heard within this: kept principals answer only while a look began this recently
    FORGET_CHANGES = 120.0  # a change id is listed by identity for ~30 s after it; an RPC lasts at most 15 s
    SEEN_LIMIT = 1000  # session hashes brought to one look (identity accepts 1000)

    def __init__(self, seconds=1.0, watched_seconds=300.0, touch_seconds=60.0, limit=10_000, clock=time.monotonic):
        self.seconds, self.watched_seconds, self.touch_seconds = seconds, watched_seconds, touch_seconds
        self.limit, self.clock = limit, clock
        self._entries = {}  # token hash (hex) → _Kept
        self._since = None  # identity's time of the last look: the next look's cursor
        self._live_until = 0.0  # the watch is live until then (a look began TRUST before)
        self._heard = {}  # change id → when the look that applied it began
        self._changed = {}  # account id → when the last look that saw it change began
        self._seen = set()  # hashes answered from memory since the last look, for identity to touch
        self.batch = AuthBatch()

    @staticmethod
    def key(token):
        """The token's SHA-256 in hex: identity's own key for a session."""
        return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()

    def watched(self):
        return self.clock() < self._live_until

    def get(self, token, authenticate, fresh=False):
        """The principal of `token`: kept, or `authenticate(token) -> (principal, seconds it lives or
        None)` (whose refusals pass through). `fresh` for a write: answered from memory only while
        the watch is live."""
        key, now = self.key(token), self.clock()
        watched = now < self._live_until
        if fresh and not watched:
            self._entries.pop(key, None)  # asked afresh below; nothing older answers the page after it
        kept = self._entries.get(key)
        if kept is not None and (watched or not fresh):
            if now < (kept.until if watched else min(kept.until, kept.asked_at + self.seconds)):
                if now - kept.touched_at >= self.touch_seconds:
                    self._seen.add(key)
                    kept.touched_at = now
                return copy.deepcopy(kept.principal)
        principal, lives = authenticate(token)
        self._keep(key, principal, lives, asked_at=now)
        return principal

    def _keep(self, key, principal, lives, asked_at):
        if self.seconds <= 0:
            return
        if self._changed.get(principal.get("account_id"), -1.0) >= asked_at:
            return  # a look since the question said the account changed: this answer may be stale
        if len(self._entries) >= self.limit:
            now = self.clock()
            self._entries = {k: v for k, v in self._entries.items() if v.until > now}
            if len(self._entries) >= self.limit:
                self._entries.clear()
        until = asked_at + (self.seconds if lives is None else min(self.watched_seconds, lives))
        self._entries[key] = _Kept(asked_at, until, copy.deepcopy(principal), asked_at)

    def forget(self, token):
        self._entries.pop(self.key(token), None)

    def look(self, ask):
        """One look at identity's changes: `ask(since, seen) -> {"now", "changes": [[id, account]]}`.
        Its errors pass through (the watch then lapses after TRUST: writes ask identity again)."""
        started = self.clock()
        seen = [self._seen.pop() for _ in range(min(len(self._seen), self.SEEN_LIMIT))]
        try:
            answer = ask(self._since, seen)
        except BaseException:
            self._seen.update(seen)  # brought on the next look
            raise
        if started >= self._live_until:  # the watch had lapsed (or never ran): what was kept meanwhile
            self._entries.clear()  # may have missed a change older than identity's look-back
        for change_id, account_id in answer["changes"]:
            if change_id in self._heard:
                continue
            self._heard[change_id] = self._changed[account_id] = started
            self._entries = {k: v for k, v in self._entries.items() if v.principal.get("account_id") != account_id}
        self._since = answer["now"]
        self._live_until = started + self.TRUST
        old = started - self.FORGET_CHANGES
        self._heard = {k: t for k, t in self._heard.items() if t > old}
        self._changed = {k: t for k, t in self._changed.items() if t > old}


_LEAD, _DONE, _FAILED = "lead", "done", "failed"


class AuthBatch:
    """Concurrent requests' tokens asked of identity together, in arrival order.

    A request hands its token in. When no batch is on the way it asks at once for every token
    waiting (its own first, at most `limit`) with `ask_many(tokens) -> [answer per token]`, then
    hands the turn to the first request still waiting; so no token joins a batch already sent (the
    answer is read after the request arrived) and no request asks for the others forever. A failed
    batch (deadline, broker) fails each of its requests with the same error: each answers 503.
    Green threads only (eventlet): between two yields no other request runs.
    """

    def __init__(self, limit=50):
        self.limit = limit
        self._waiting = []  # (token, answer box)
        self._asking = False  # a batch is on the way, or the turn was handed on

    def principal(self, token, ask_many):
        """(principal, seconds the session lives or None) of `token`, or Unauthenticated as identity
        refused it."""
        box = LightQueue()
        self._waiting.append((token, box))
        if not self._asking:
            self._lead(ask_many)
        while True:
            try:
                kind, value = box.get()
            except BaseException:  # killed while waiting (the gateway stopping): do not hold the turn
                self._abandon(token, box)
                raise
            if kind == _LEAD:
                self._lead(ask_many)
            elif kind == _FAILED:
                raise value
            elif "principal" in value:
                return value["principal"], value.get("lives")
            else:
                refused = value.get("refused") or {}
                raise Unauthenticated(refused.get("message") or "登录状态已失效，请重新登录",
                                      code=refused.get("code") or "unauthenticated")

    def _abandon(self, token, box):
        if (token, box) in self._waiting:
            self._waiting.remove((token, box))
        if box.qsize() and box.get_nowait()[0] == _LEAD:  # handed the turn just now: hand it on
            self._hand_on()

    def _lead(self, ask_many):
        self._asking = True
        group, self._waiting = self._waiting[:self.limit], self._waiting[self.limit:]
        try:
            tokens = list(dict.fromkeys(token for token, _ in group))  # a page and its photos: once
            answers = dict(zip(tokens, ask_many(tokens), strict=True))
        except BaseException as exc:  # noqa: BLE001 — every request of the batch must hear, even on kill
            for _, box in group:
                box.put((_FAILED, exc))
            if not isinstance(exc, Exception):
                raise
        else:
            for token, box in group:
                box.put((_DONE, answers[token]))
        finally:
            self._hand_on()

    def _hand_on(self):
        if self._waiting:
            self._waiting[0][1].put((_LEAD, None))
        else:
            self._asking = False


class Principals(DependencyProvider):
    """One PrincipalCache per running gateway, sized by its configuration."""

    def setup(self):
        config = self.container.config
        self.cache = PrincipalCache(float(config.get("AUTH_CACHE_SECONDS", 1.0)),
                                    float(config.get("AUTH_WATCHED_SECONDS", 300.0)))

    def get_dependency(self, worker_ctx):
        return self.cache
