from datetime import datetime, timezone

import pytest

from services.contracts.errors import ValidationFailed
from services.registration.domain import codes
from services.registration.domain.campaigns import Campaign, beijing_time

UTC = timezone.utc


def at(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.mark.parametrize("instant, is_open", [
    ("2020-06-30T15:59:59Z", False),
    ("2020-06-30T16:00:00Z", True),
    ("2020-07-15T04:00:00Z", True),
    ("2020-07-31T15:59:59Z", True),
    ("2020-07-31T16:00:00Z", False),
    ("2020-08-01T00:00:00Z", False),
])
def test_window_edges_of_the_2020_campaign(campaign, instant, is_open):
    assert campaign.is_open(at(instant)) is is_open


def test_2020_campaign_is_the_notice(campaign):
    assert campaign.kind == codes.FIRST
    assert campaign.region == "110000"
    assert campaign.eligible_exam_years == {2019}
    assert campaign.eligible_levels == {codes.ASSISTANT, codes.INTERMEDIATE}
    assert campaign.delivery_methods == (codes.MAIL,)
    assert campaign.opens_at == datetime(2020, 6, 30, 16, tzinfo=UTC)
    assert campaign.closes_at == datetime(2020, 7, 31, 16, tzinfo=UTC)
    assert campaign.window_text() == "2020年7月1日00:00至2020年7月31日24:00"


def test_beijing_24_00_is_the_next_midnight():
    assert beijing_time(2020, 7, 31, 24) == beijing_time(2020, 8, 1)
    assert beijing_time(2020, 7, 1) == datetime(2020, 6, 30, 16, tzinfo=UTC)


def make(**changes):
    base = dict(id="c1", name="测试批次", kind=codes.FIRST, eligible_exam_years={2019},
                eligible_levels={codes.ASSISTANT}, opens_at=datetime(2020, 7, 1),
                closes_at=datetime(2020, 8, 1), delivery_methods=[codes.MAIL])
    return Campaign(**{**base, **changes})


def test_naive_times_are_beijing_wall_clock_and_stored_utc():
    campaign = make()
    assert campaign.opens_at == datetime(2020, 6, 30, 16, tzinfo=UTC)
    assert campaign.opens_at.tzinfo == UTC


def test_bad_settings_are_refused_with_every_reason():
    with pytest.raises(ValidationFailed) as caught:
        make(name=" ", kind="NEW", closes_at=datetime(2020, 6, 1), eligible_levels={"EXPERT"},
             eligible_exam_years=set(), delivery_methods=["DRONE"])
    assert set(caught.value.details) == {"name", "kind", "closes_at", "eligible_levels",
                                         "eligible_exam_years", "delivery_methods"}


def test_naive_now_is_a_programming_error(campaign):
    with pytest.raises(ValueError):
        campaign.is_open(datetime(2020, 7, 3))


class TestResubmission:
    inside = at("2020-07-30T08:00:00Z")
    after = at("2020-08-02T08:00:00Z")

    def test_inside_the_window_always(self, campaign):
        assert campaign.may_resubmit(at("2020-07-31T15:59:59Z"), self.inside)

    def test_after_close_not_as_the_notice_says(self, campaign):
        assert not campaign.may_resubmit(at("2020-07-31T16:00:00Z"), self.inside)

    def test_after_close_when_allowed_for_applications_first_submitted_inside(self):
        campaign = make(allow_resubmit_after_close=True)
        assert campaign.may_resubmit(self.after, self.inside)
        assert not campaign.may_resubmit(self.after, at("2020-06-30T15:00:00Z"))
        assert not campaign.may_resubmit(self.after, None)

    def test_after_close_until_the_resubmission_deadline(self):
        campaign = make(allow_resubmit_after_close=True, resubmit_closes_at=datetime(2020, 8, 15))
        assert campaign.may_resubmit(at("2020-08-14T15:59:59Z"), self.inside)
        assert not campaign.may_resubmit(at("2020-08-14T16:00:00Z"), self.inside)


def test_admin_strings_are_beijing_wall_clock():
    campaign = make(opens_at="2020-07-01T00:00", closes_at="2020-07-31T24:00")
    assert campaign.opens_at == datetime(2020, 6, 30, 16, tzinfo=UTC)
    assert campaign.closes_at == datetime(2020, 7, 31, 16, tzinfo=UTC)
    assert make(opens_at="2020-07-01 08:00:00+08:00").opens_at == datetime(2020, 7, 1, 0, tzinfo=UTC)
    with pytest.raises(ValidationFailed) as caught:
        make(opens_at="7月1日")
    assert list(caught.value.details) == ["opens_at"]


def test_resubmit_deadline():
    inside = at("2020-07-30T08:00:00Z")
    strict = make()
    assert strict.resubmit_deadline(inside) == strict.closes_at
    assert make(allow_resubmit_after_close=True).resubmit_deadline(inside) is None
    lenient = make(allow_resubmit_after_close=True, resubmit_closes_at=datetime(2020, 8, 15))
    assert lenient.resubmit_deadline(inside) == datetime(2020, 8, 14, 16, tzinfo=UTC)
    assert lenient.resubmit_deadline(None) == lenient.closes_at
