"""authenticate_many: the principals of several session tokens in one RPC and one transaction.

The gateway sends the tokens of the requests that arrived while its previous batch was on the way
(services/gateway/principals.py, AuthBatch): under load one round trip, one reply and one commit
answer many requests; each answer is as fresh as a single authenticate asked at that moment. Each
answer also says how long the session lives if nothing else happens (`lives`, seconds): a gateway
keeps a principal no longer than that.
"""
from services.contracts.errors import Unauthenticated

from . import handlers

MAX_TOKENS = 100  # the gateway sends at most AuthBatch.limit (50); more is not a batch of requests


def authenticate_many(uow, tokens, session_policy, touch_interval, now):
    """[{"principal": ..., "lives": seconds} | {"refused": {"code", "message"}}], one per token, in order.

    A dead session is refused alone: `handlers.authenticate` raises before it writes anything."""
    if not isinstance(tokens, list) or len(tokens) > MAX_TOKENS:
        raise Unauthenticated("登录状态已失效，请重新登录", code="unauthenticated")
    answers = []
    for token in tokens:
        try:
            principal, lives = handlers.authenticate_session(uow, token, session_policy, touch_interval, now)
            answers.append({"principal": principal, "lives": lives})
        except Unauthenticated as exc:
            answers.append({"refused": {"code": exc.code, "message": exc.message}})
    return answers
