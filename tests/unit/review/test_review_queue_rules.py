"""The pure queue rules (services/review/domain: access, decisions, tasks' leases, figures): no broker,
no database."""
from datetime import datetime, timedelta, timezone

import pytest

from services.contracts.errors import Forbidden, Unauthenticated, ValidationFailed
from services.review.domain import access, decisions, figures, tasks

NOW = datetime(2020, 7, 3, 2, 0, tzinfo=timezone.utc)


def test_principal_and_roles():
    assert access.principal_of({"account_id": "a", "roles": ["reviewer"]}) == ("a", ("reviewer",))
    for bad in (None, {}, {"account_id": ""}, {"account_id": 5}, "a"):
        with pytest.raises(Unauthenticated):
            access.principal_of(bad)
    with pytest.raises(Forbidden):
        access.require_staff({"account_id": "a", "roles": ["applicant"]})
    assert access.require_staff({"account_id": "a", "roles": ["admin"]})[0] == "a"
    with pytest.raises(Forbidden):
        tasks.forbid_own_application("a", "a")
    tasks.forbid_own_application("a", "b")


def test_decision_rules():
    assert decisions.clean_decision("approved", "  ", None, None) == ("approved", None, [], None)
    assert decisions.clean_decision("rejected", " 请重新上传 ", [{"kind": "photo", "reason": " 照片不清晰 "}],
                                "key-00001") == ("rejected", "请重新上传", [{"kind": "photo", "reason": "照片不清晰"}],
                                                 "key-00001")
    with pytest.raises(ValidationFailed) as no_opinion:
        decisions.clean_decision("rejected", None, [], None)
    assert list(no_opinion.value.details) == ["opinion"]
    with pytest.raises(ValidationFailed) as approved_with_issues:
        decisions.clean_decision("approved", None, [{"kind": "photo", "reason": "照片不清晰"}], None)
    assert "不应填写材料问题" in approved_with_issues.value.details["material_issues"][0]
    with pytest.raises(ValidationFailed) as long_opinion:
        decisions.clean_decision("rejected", "字" * 2001, [], None)
    assert "2000" in long_opinion.value.details["opinion"][0]
    with pytest.raises(ValidationFailed) as bad_issues:
        decisions.clean_decision("rejected", "x", [{"kind": "photo"}, "nope", {"kind": "photo", "reason": "r" * 501}], None)
    assert len(bad_issues.value.details["material_issues"]) == 3
    with pytest.raises(ValidationFailed):
        decisions.clean_decision("rejected", "x", "not a list", None)


def test_common_reasons_cover_the_known_mistakes():
    reasons = {r["reason"]: r for r in decisions.COMMON_REASONS}
    assert reasons["上传了身份证错误的一面"]["kinds"] == ["id_card_front", "id_card_back"]
    assert reasons["照片尺寸不符"]["kinds"] == ["photo"]
    assert len({r["code"] for r in decisions.COMMON_REASONS}) == len(decisions.COMMON_REASONS)


def test_an_expired_claim_is_pending():
    later = NOW + timedelta(seconds=1800)
    assert tasks.lease_until(NOW, 1800) == later
    assert tasks.effective_state("claimed", later, NOW) == "claimed"
    assert tasks.effective_state("claimed", later, later) == "pending"
    assert tasks.effective_state("claimed", None, NOW) == "pending"
    assert tasks.effective_state("decided", None, NOW) == "decided"


def test_figures_arithmetic():
    # The database counts (services/review/repository.figures_counts); the domain arranges them.
    assert figures.decided_per_reviewer_per_day([("r1", "2020-07-03", 2), ("r2", "2020-07-04", 1)]) == [
        {"reviewer_id": "r2", "day": "2020-07-04", "decided": 1},
        {"reviewer_id": "r1", "day": "2020-07-03", "decided": 2}]
    opened = figures.open_counts([("pending", "c1", "110105", "ASSISTANT", 3),
                                  ("claimed", "c1", "110108", "ASSISTANT", 1)], NOW - timedelta(hours=2), NOW)
    assert opened == {"by_state": {"pending": 3, "claimed": 1}, "by_campaign": {"c1": 4},
                      "by_district": {"110105": 3, "110108": 1}, "by_level": {"ASSISTANT": 4}, "open": 4,
                      "oldest_waiting_seconds": 7200.0}
    assert figures.open_counts([], None, NOW)["oldest_waiting_seconds"] is None


def test_recent_keeps_a_value_its_seconds_and_says_as_of_when():
    recent, computed = figures.Recent(60), []

    def compute():
        computed.append(1)
        return len(computed)

    assert recent.get(30, 100.0, compute, "t0") == (1, "t0")
    assert recent.get(30, 159.9, compute, "t1") == (1, "t0")  # kept: younger than a minute
    assert recent.get(7, 159.9, compute, "t1") == (2, "t1")  # another key is its own
    assert recent.get(30, 160.0, compute, "t2") == (3, "t2")  # a minute old: computed again
