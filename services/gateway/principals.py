"""Who a session token belongs to, remembered for a second.

A page is one HTML request and then its photos and scripts, each of which would otherwise ask identity
again (an RPC hop each). The answer is kept AUTH_CACHE_SECONDS (1 s by default, 0 turns it off): a
logged-out, locked or password-changed session is refused by every gateway copy within that second,
and at once by the copy that logged it out. Keys are hashes: no token sits in memory longer than its
request needs.
"""
import copy
import hashlib
import time

from nameko.extensions import DependencyProvider


class PrincipalCache:
    def __init__(self, seconds=1.0, limit=10_000, clock=time.monotonic):
        self.seconds, self.limit, self.clock = seconds, limit, clock
        self._entries = {}  # token hash → (expires at, principal)

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


class Principals(DependencyProvider):
    """One PrincipalCache per running gateway, sized by its configuration."""

    def setup(self):
        self.cache = PrincipalCache(float(self.container.config.get("AUTH_CACHE_SECONDS", 1.0)))

    def get_dependency(self, worker_ctx):
        return self.cache
