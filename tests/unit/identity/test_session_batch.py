"""identity.authenticate_many: one answer per token, in order, each as authenticate would answer it;
a dead session is refused alone and the live ones beside it still answer (and are touched)."""
import pytest

from services.contracts.errors import Unauthenticated
from services.identity import session_batch
from services.identity.domain import sessions

from .test_handlers_sessions import NOW, POLICY, TOUCH, signed_in


def test_each_token_is_answered_in_order_and_a_dead_one_alone_is_refused():
    uow, token, token_hash = signed_in(verified=True)
    with uow:
        answers = session_batch.authenticate_many(uow, [token, "unknown-token", None, token],
                                                          POLICY, TOUCH, NOW + TOUCH)
    live, unknown, malformed, again = answers
    assert live["principal"]["account_id"] == "u-1" and live["principal"]["verified"]
    assert again == live
    assert unknown == malformed == {"refused": {"code": "unauthenticated", "message": "登录状态已失效，请重新登录"}}
    assert uow.sessions.stored[token_hash]["last_seen_at"] == NOW + TOUCH  # touched as authenticate would


def test_a_logged_out_session_is_refused_in_the_batch_after_it():
    uow, token, _ = signed_in()
    with uow:
        session_batch.authenticate_many(uow, [token], POLICY, TOUCH, NOW)
    with uow:
        uow.sessions.revoke(sessions.hash_token(token), NOW)
    with uow:
        assert "refused" in session_batch.authenticate_many(uow, [token], POLICY, TOUCH, NOW)[0]


@pytest.mark.parametrize("tokens", ["a-token", ["t"] * (session_batch.MAX_TOKENS + 1)])
def test_what_is_not_a_batch_of_requests_is_refused(tokens):
    uow, _, _ = signed_in()
    with pytest.raises(Unauthenticated), uow:
        session_batch.authenticate_many(uow, tokens, POLICY, TOUCH, NOW)
