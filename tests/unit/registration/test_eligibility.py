from datetime import date
from types import SimpleNamespace

import pytest

from services.contracts.errors import Conflict, DomainError, Forbidden, ValidationFailed
from services.registration.domain.eligibility import check_can_open, normalise_name, prefill
from services.registration.domain.roster_import import RosterRow
from services.registration.domain.states import APPROVED, DISPATCHED, DRAFT, REJECTED, SUBMITTED

from .builders import AFTER, BEFORE, FEMALE_ID, INSIDE, MALE_ID, TODAY


def principal(**changes):
    return SimpleNamespace(**{"account_id": "u1", "verified": True, "name": "张三", "id_type": "RESIDENT_ID",
                              "id_number": MALE_ID, **changes})


def record(**changes):
    base = dict(row=2, name="张三", id_type="RESIDENT_ID", id_number=MALE_ID, level="ASSISTANT", exam_year=2019,
                management_number="0019110000012345", approval_date=date(2019, 12, 20))
    return RosterRow(**{**base, **changes})


def refusal(campaign, who=None, roster="default", existing=(), now=INSIDE):
    roster = record() if roster == "default" else roster
    with pytest.raises(DomainError) as caught:
        check_can_open(who or principal(), roster, campaign, list(existing), now)
    return caught.value


def test_an_eligible_person_may_open(campaign):
    assert check_can_open(principal(), record(), campaign, [], INSIDE) is None
    assert check_can_open(principal(), record(level="INTERMEDIATE"), campaign, [], INSIDE) is None


def test_each_refusal_has_its_code(campaign):
    cases = {
        "identity_not_verified": dict(who=principal(verified=False)),
        "roster_not_found": dict(roster=None),
        "roster_name_mismatch": dict(roster=record(name="张叁")),
        "not_eligible_year": dict(roster=record(exam_year=2018)),
        "not_eligible_level": dict(roster=record(level="SENIOR")),
        "local_only_excluded": dict(roster=record(local_only=True)),
        "campaign_closed": dict(now=AFTER),
        "already_applied": dict(existing=[SimpleNamespace(campaign_id=campaign.id, state=DRAFT)]),
    }
    for code, kwargs in cases.items():
        error = refusal(campaign, **kwargs)
        assert error.code == code, code
        assert isinstance(error, Conflict if code == "already_applied" else Forbidden)
        assert any("\u4e00" <= ch <= "\u9fff" for ch in error.message)


def test_checks_run_in_order(campaign):
    # Everything wrong at once; fixing the reason given reveals the next one, in the stated order.
    state = {"who": principal(verified=False), "roster": record(name="李四", exam_year=2018, level="SENIOR",
                                                                 local_only=True),
             "existing": [{"campaign_id": campaign.id, "state": SUBMITTED}], "now": BEFORE}
    fixes = {
        "identity_not_verified": lambda: state.update(who=principal()),
        "roster_name_mismatch": lambda: state.update(roster=record(**{**state["roster"].__dict__, "name": "张三"})),
        "not_eligible_year": lambda: state.update(roster=record(**{**state["roster"].__dict__, "exam_year": 2019})),
        "not_eligible_level": lambda: state.update(roster=record(**{**state["roster"].__dict__, "level": "ASSISTANT"})),
        "local_only_excluded": lambda: state.update(roster=record()),
        "campaign_closed": lambda: state.update(now=INSIDE),
        "already_applied": lambda: state.update(existing=[]),
    }
    seen = []
    while True:
        try:
            check_can_open(state["who"], state["roster"], campaign, state["existing"], state["now"])
            break
        except DomainError as error:
            seen.append(error.code)
            fixes[error.code]()
    assert seen == list(fixes)


def test_roster_not_found_comes_before_the_name(campaign):
    error = refusal(campaign, roster=None)
    assert error.code == "roster_not_found"
    assert "反馈" in error.message


def test_a_record_of_another_person_is_not_found(campaign):
    assert refusal(campaign, roster=record(id_number=FEMALE_ID)).code == "roster_not_found"


def test_reasons_name_the_campaign_rules(campaign):
    assert "2019年度" in refusal(campaign, roster=record(exam_year=2018)).message
    message = refusal(campaign, roster=record(level="SENIOR")).message
    assert "助理社会工作师" in message and "社会工作师（中级）" in message and "高级" in message
    assert "2020年7月31日24:00" in refusal(campaign, now=AFTER).message


def test_local_only_is_allowed_where_not_excluded(campaign):
    from services.registration.domain.campaigns import Campaign

    lenient = Campaign(**{**campaign.__dict__, "exclude_local_only": False})
    assert check_can_open(principal(), record(local_only=True), lenient, [], INSIDE) is None


@pytest.mark.parametrize("state, needle", [(DRAFT, "继续填写"), (SUBMITTED, "继续填写"), (REJECTED, "继续填写"),
                                            (APPROVED, "无需再次申请"), (DISPATCHED, "无需再次申请")])
def test_one_application_per_campaign(campaign, state, needle):
    error = refusal(campaign, existing=[{"campaign_id": campaign.id, "state": state}])
    assert error.code == "already_applied" and needle in error.message


def test_applications_of_other_campaigns_do_not_count(campaign):
    other = [{"campaign_id": "bj-2019-first", "state": APPROVED}]
    assert check_can_open(principal(), record(), campaign, other, INSIDE) is None


@pytest.mark.parametrize("verified, roster", [("张 三", "张三"), ("阿依古丽·买买提", "阿依古丽•买买提"),
                                              ("阿依古丽·买买提", "阿依古丽．买买提"), ("ZHANG San", "zhang  san")])
def test_names_match_as_people_mean_them(verified, roster):
    assert normalise_name(verified) == normalise_name(roster)


def test_mappings_work_as_well_as_objects(campaign):
    who = {"verified": True, "name": "张三", "id_type": "RESIDENT_ID", "id_number": MALE_ID.lower()}
    assert check_can_open(who, record().__dict__, campaign, [], INSIDE) is None


class TestPrefill:
    def test_locked_fields_from_roster_and_identity(self):
        form = prefill(record(), principal(), TODAY)
        assert form == {
            "name": "张三", "id_type": "RESIDENT_ID", "id_number": MALE_ID,
            "management_number": "0019110000012345", "cert_level": "ASSISTANT", "exam_year": 2019,
            "approval_date": "2019-12-20", "gender": "M", "birth_date": "1990-03-07",
        }

    def test_female_and_lowercase_x(self):
        form = prefill(record(id_number="11010519491231002X"), principal(id_number="11010519491231002x"), TODAY)
        assert (form["id_number"], form["gender"], form["birth_date"]) == ("11010519491231002X", "F", "1949-12-31")

    def test_documents_without_birth_date(self):
        form = prefill(record(id_type="PASSPORT", id_number="E12345678"),
                       principal(id_type="PASSPORT", id_number="E12345678", name="John Smith"), TODAY)
        assert "gender" not in form and "birth_date" not in form

    def test_an_invalid_id_is_refused(self):
        with pytest.raises(ValidationFailed):
            prefill(record(), principal(id_number="360426199101010072"), TODAY)

    def test_prefilled_locked_fields_pass_the_submit_check(self):
        from services.registration.domain.form import missing_for_submit

        from .builders import accepted_materials, editable_fields

        form = {**prefill(record(), principal(), TODAY), **editable_fields()}
        assert missing_for_submit(form, accepted_materials(), ["MAIL"]) == {}
