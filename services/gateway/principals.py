"""Who a session token belongs to, remembered for a second.

A page is one HTML request and then its photos and scripts, each of which would otherwise ask identity
again (an RPC hop each). The answer is kept AUTH_CACHE_SECONDS (1 s by default, 0 turns it off): a
logged-out, locked or password-changed session is refused by every gateway copy within that second,
and at once by the copy that logged it out. Keys are hashes: no token sits in memory longer than its
request needs.

Asking is batched (AuthBatch): the requests that arrive while one identity.authenticate_many is on
the way go together in the next one. A write still asks afresh, and gets an answer read after it
arrived; under load many requests share one round trip, one reply and one transaction of identity.
"""
import copy
import hashlib
import time

from eventlet.queue import LightQueue
from nameko.extensions import DependencyProvider

from services.contracts.errors import Unauthenticated


class PrincipalCache:
    def __init__(self, seconds=1.0, limit=10_000, clock=time.monotonic):
        self.seconds, self.limit, self.clock = seconds, limit, clock
        self._entries = {}  # token hash → (expires at, principal)
        self.batch = AuthBatch()

    @staticmethod
    def _key(token):
        return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()

    def get(self, token, authenticate, fresh=False):
        """The principal of `token`: remembered, or `authenticate(token)` (whose refusals pass through).

        `fresh` for a request that may change what the principal says (verifying one's identity,
        changing a password…): asked anew and nothing kept, and what was kept is dropped, so the page
        that follows reads the change."""
        if fresh:
            self.forget(token)
        if self.seconds <= 0 or fresh:
            return authenticate(token)
        key, now = self._key(token), self.clock()
        found = self._entries.get(key)
        if found and found[0] > now:
            return copy.deepcopy(found[1])
        principal = authenticate(token)
        if len(self._entries) >= self.limit:
            self._entries = {k: v for k, v in self._entries.items() if v[0] > now}
            if len(self._entries) >= self.limit:
                self._entries.clear()
        self._entries[key] = (now + self.seconds, copy.deepcopy(principal))
        return principal

    def forget(self, token):
        self._entries.pop(self._key(token), None)


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
        """The principal of `token`, or Unauthenticated as identity refused it."""
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
                return value["principal"]
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
        self.cache = PrincipalCache(float(self.container.config.get("AUTH_CACHE_SECONDS", 1.0)))

    def get_dependency(self, worker_ctx):
        return self.cache
