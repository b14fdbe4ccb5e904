"""verify_identity (services/identity/handlers.py) on a fake unit of work: one verified account per ID
number, at most 5 counted attempts in 6 hours, the verifier's answer stored as its outcome; a
second click answers the same; nothing personal is published in full."""
from dataclasses import replace
from datetime import datetime, timezone

import pytest

from services.common import clock
from services.contracts.errors import Conflict, NotFound, TooManyRequests, ValidationFailed
from services.identity import handlers
from services.identity.adapters.verifier import VerificationResult, VerifierUnavailable

from .fakes import World

NOW = datetime(2020, 7, 1, 2, 0, tzinfo=timezone.utc)
NAME, ID_NUMBER = "张三", "11010519491231002X"


class Verifier:
    """Answers as told: "ok", "mismatch" or "down"."""

    def __init__(self, answer="ok"):
        self.answer, self.asked = answer, 0

    def verify(self, name, id_type, id_number):
        self.asked += 1
        if self.answer == "down":
            raise VerifierUnavailable("实名认证服务暂时不可用，请稍后再试", "HTTP 500")
        if self.answer == "mismatch":
            return VerificationResult(level=None, ok=False, reason="姓名与证件号码不一致")
        return VerificationResult(level="externally_verified", ok=True)


@pytest.fixture
def w():
    clock.set_now(NOW)
    world = World()
    world.uow.accounts.put("u-1", "13812345678", ["applicant"], NOW)
    world.uow.accounts.put("u-2", "13987654321", ["applicant"], NOW)
    yield world
    clock.set_now(None)


def verify(w, account_id="u-1", name=NAME, number=ID_NUMBER, id_type="RESIDENT_ID", answer="ok"):
    return handlers.verify_identity(w.uow, replace(w.settings, verifier=Verifier(answer)), account_id, name,
                                    id_type, number)


def test_a_verified_identity_is_stored_and_published_in_masks(w):
    answer = verify(w)
    assert answer == {"level": "externally_verified", "name_masked": "张*", "id_number_masked": "110105********002X"}
    stored = w.uow.identities.get("u-1")
    assert (stored.name, stored.id_number, stored.verified_at) == (NAME, ID_NUMBER, NOW)
    [event] = w.uow.published
    assert event["type"] == "IdentityVerified" and ID_NUMBER not in str(event) and NAME not in str(event)
    assert w.uow.verification_attempts.outcomes() == ["verified"]


def test_a_second_click_answers_the_same_and_a_change_is_refused(w):
    first = verify(w)
    assert verify(w) == first and len(w.uow.published) == 1
    with pytest.raises(Conflict) as caught:
        verify(w, name="李四")
    assert caught.value.code == "already_verified"
    assert w.uow.verification_attempts.outcomes() == ["verified"]


def test_an_id_number_verified_on_another_account_is_refused_and_counted(w):
    verify(w, "u-2")
    with pytest.raises(Conflict) as caught:
        verify(w, "u-1")
    assert caught.value.code == "id_number_taken" and w.uow.identities.get("u-1") is None
    assert w.uow.verification_attempts.outcomes() == ["verified", "id_taken"]


def test_a_twin_that_won_the_race_on_another_account_is_refused(w, monkeypatch):
    verify(w, "u-2")
    monkeypatch.setattr(type(w.uow.identities), "owner", lambda self, number: None)  # not yet committed
    with pytest.raises(Conflict) as caught:
        verify(w, "u-1")
    assert caught.value.code == "id_number_taken" and w.uow.identities.get("u-1") is None
    assert w.uow.verification_attempts.outcomes() == ["verified", "id_taken"] and len(w.uow.published) == 1


def test_the_verifier_says_no_or_is_away(w):
    with pytest.raises(ValidationFailed) as caught:
        verify(w, answer="mismatch")
    assert caught.value.code == "identity_mismatch"
    with pytest.raises(VerifierUnavailable):
        verify(w, answer="down")
    assert w.uow.verification_attempts.outcomes() == ["mismatch", "unavailable"]
    assert w.uow.identities.get("u-1") is None and w.uow.published == []


def test_five_counted_attempts_in_six_hours_then_a_wait_the_outages_not_counted(w):
    for _ in range(3):
        with pytest.raises(VerifierUnavailable):
            verify(w, answer="down")
    for _ in range(5):
        with pytest.raises(ValidationFailed):
            verify(w, answer="mismatch")
    with pytest.raises(TooManyRequests) as caught:
        verify(w)
    assert caught.value.code == "verification_attempts_exceeded" and caught.value.details["retry_after"] == 6 * 3600
    assert len(w.uow.verification_attempts.stored) == 8


def test_local_rules_refuse_before_any_attempt_is_counted(w):
    with pytest.raises(ValidationFailed):
        verify(w, number="110105194912310021")  # a wrong check digit
    with pytest.raises(ValidationFailed) as caught:
        verify(w, id_type="PASSPORT", number="E12345678")
    assert caught.value.code == "id_type_not_accepted"
    with pytest.raises(NotFound):
        verify(w, "nobody")
    assert w.uow.verification_attempts.stored == {}
