"""The gateway asks identity for the requests waiting meanwhile in one authenticate_many: each answer
is read after its request arrived, a refusal refuses only its own request, a failed batch fails its
requests (503) and the next request asks again."""
import eventlet
import pytest

from services.contracts.errors import Unauthenticated, Unavailable
from services.gateway.principals import AuthBatch


class Identity:
    """identity.authenticate_many with a round trip that holds the batch until `release`."""

    def __init__(self):
        self.batches, self.revoked, self.verified = [], set(), False
        self.release, self.fail = eventlet.event.Event(), None

    def authenticate_many(self, tokens):
        self.batches.append(list(tokens))
        answers = [{"refused": {"code": "unauthenticated", "message": "登录状态已失效，请重新登录"}}
                   if token in self.revoked else
                   {"principal": {"account_id": f"acct-{token}", "verified": self.verified}} for token in tokens]
        if len(self.batches) == 1:
            self.release.wait()  # read; the answer is on the way back while the others arrive
        if self.fail:
            raise self.fail
        return answers


def ask(batch, identity, token):
    try:
        return batch.principal(token, identity.authenticate_many)[0]
    except Exception as exc:  # noqa: BLE001 — the test compares what each request got
        return exc


def test_requests_arriving_meanwhile_go_together_in_the_next_batch_each_answer_read_after_it_arrived():
    batch, identity = AuthBatch(), Identity()
    first = eventlet.spawn(ask, batch, identity, "t1")
    eventlet.sleep(0)  # t1's batch is on the way
    identity.verified = True  # t1's answer was read before this; those arriving now must see it
    later = [eventlet.spawn(ask, batch, identity, token) for token in ("t2", "t3", "t2", "t4")]
    eventlet.sleep(0)
    identity.release.send()
    assert first.wait() == {"account_id": "acct-t1", "verified": False}
    assert [g.wait()["account_id"] for g in later] == ["acct-t2", "acct-t3", "acct-t2", "acct-t4"]
    assert all(g.wait()["verified"] for g in later)
    assert identity.batches == [["t1"], ["t2", "t3", "t4"]]  # the same token asked once per batch


def test_a_refusal_refuses_only_its_own_request():
    batch, identity = AuthBatch(), Identity()
    identity.release.send()
    identity.revoked.add("gone")
    threads = [eventlet.spawn(ask, batch, identity, token) for token in ("ok", "gone", "ok2")]
    answers = [g.wait() for g in threads]
    assert isinstance(answers[1], Unauthenticated) and answers[1].code == "unauthenticated"
    assert answers[0]["account_id"] == "acct-ok" and answers[2]["account_id"] == "acct-ok2"


def test_a_failed_batch_fails_each_of_its_requests_and_the_next_request_asks_again():
    batch, identity = AuthBatch(), Identity()
    identity.fail = Unavailable("服务暂时不可用，请稍后再试")
    first = eventlet.spawn(ask, batch, identity, "t1")
    eventlet.sleep(0)
    waiting = [eventlet.spawn(ask, batch, identity, token) for token in ("t2", "t3")]
    eventlet.sleep(0)
    identity.release.send()
    assert all(isinstance(g.wait(), Unavailable) for g in [first, *waiting])
    identity.fail = None
    assert batch.principal("t5", identity.authenticate_many)[0]["account_id"] == "acct-t5"
    assert identity.batches[-1] == ["t5"]


def test_a_batch_holds_at_most_its_limit_and_the_rest_follow():
    batch, identity = AuthBatch(limit=2), Identity()
    first = eventlet.spawn(ask, batch, identity, "t0")
    eventlet.sleep(0)
    later = [eventlet.spawn(ask, batch, identity, f"t{n}") for n in range(1, 6)]
    eventlet.sleep(0)
    identity.release.send()
    assert [g.wait()["account_id"] for g in [first, *later]] == [f"acct-t{n}" for n in range(6)]
    assert identity.batches == [["t0"], ["t1", "t2"], ["t3", "t4"], ["t5"]]


def test_a_single_request_asks_at_once():
    batch, identity = AuthBatch(), Identity()
    identity.release.send()
    assert batch.principal("t1", identity.authenticate_many)[0]["account_id"] == "acct-t1"
    with pytest.raises(Unauthenticated):
        identity.revoked.add("t1")
        batch.principal("t1", identity.authenticate_many)


def test_a_request_killed_while_waiting_does_not_hold_the_turn():
    batch, identity = AuthBatch(), Identity()
    first = eventlet.spawn(ask, batch, identity, "t1")
    eventlet.sleep(0)
    doomed = eventlet.spawn(ask, batch, identity, "t2")
    after = eventlet.spawn(ask, batch, identity, "t3")
    eventlet.sleep(0)
    doomed.kill()  # the gateway stopping while t2 waits for the next batch
    identity.release.send()
    assert first.wait()["account_id"] == "acct-t1" and after.wait()["account_id"] == "acct-t3"
    assert identity.batches == [["t1"], ["t3"]]


def test_a_request_killed_just_as_it_was_handed_the_turn_hands_it_on():
    batch, identity = AuthBatch(), Identity()
    first = eventlet.spawn(ask, batch, identity, "t1")
    eventlet.sleep(0)
    doomed = eventlet.spawn(ask, batch, identity, "t2")
    eventlet.sleep(0)
    identity.release.send()
    assert first.wait()["account_id"] == "acct-t1"  # and t2, first in line, was handed the turn
    after = eventlet.spawn(ask, batch, identity, "t3")
    doomed.kill()
    assert after.wait()["account_id"] == "acct-t3"
