"""Random command sequences keep the invariants of the application state machine."""
import copy
from datetime import timedelta

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from services.contracts.errors import DomainError
from services.registration.domain import codes, events
from services.registration.domain.campaigns import Campaign, beijing_2020_first_registration
from services.registration.domain.states import (
    APPROVED,
    DISPATCHED,
    DRAFT,
    REJECTED,
    STATES,
    SUBMITTED,
    Application,
)

from .builders import AFTER, BEFORE, INSIDE, accepted_materials, complete_form, locked_fields

DRAFTS = [
    {"major": "社会学"},
    {"major": None},  # makes the form incomplete
    {"major": "社会工作"},
    {"mobile": "123"},  # invalid
    {"id_number": "110108198506150048"},  # locked
    {"delivery": {"method": "PICKUP"}},  # not offered
]
TIMES = [BEFORE, INSIDE, INSIDE + timedelta(days=10), AFTER, AFTER + timedelta(days=30)]
FINAL = {APPROVED, DISPATCHED}


class ApplicationMachine(RuleBasedStateMachine):
    @initialize(lenient=st.booleans())
    def start(self, lenient):
        campaign = beijing_2020_first_registration()
        self.campaign = Campaign(**{**campaign.__dict__, "allow_resubmit_after_close": lenient})
        self.app = Application(id="a1", campaign_id=campaign.id, account_id="u1", form=complete_form(),
                               materials=accepted_materials())
        self.seen_attempt = 0
        self.decisions = {}
        self.registration_number = None

    def run(self, command, **kwargs):
        before = copy.deepcopy(self.app.__dict__)
        try:
            produced = self.app.apply(command, **kwargs)
        except DomainError:
            assert self.app.__dict__ == before, "a refused command changed the application"
            return
        state = before["state"]
        if state in FINAL and self.app.__dict__ != before:
            assert command == "dispatch" and state == APPROVED, "approved is terminal except dispatch"
        if command == "submit":
            assert state in (DRAFT, REJECTED)
            assert self.app.attempt == before["attempt"] + 1
            [event] = produced
            assert isinstance(event, events.ApplicationSubmitted) and event.attempt == self.app.attempt
        elif command.startswith("review_") and produced:
            assert state == SUBMITTED
            attempt = kwargs["attempt"]
            self.decisions[attempt] = self.decisions.get(attempt, 0) + 1
            assert self.decisions[attempt] == 1, "two decisions for one attempt"
        elif command.startswith("review_"):
            assert self.app.__dict__ == before, "an ignored decision changed the application"

    @rule(data=st.sampled_from(DRAFTS), now=st.sampled_from(TIMES))
    def save_draft(self, data, now):
        self.run("save_draft", data=data, campaign=self.campaign, now=now)

    @rule(kind=st.sampled_from([k for k, _ in codes.MATERIAL_KIND]), ok=st.booleans())
    def attach_material(self, kind, ok):
        issues = [] if ok else [{"code": "blurred", "message": "图片模糊"}]
        self.run("attach_material", kind=kind, material_id=f"m-{kind}", ok=ok, issues=issues, now=INSIDE)

    @rule(now=st.sampled_from(TIMES))
    def submit(self, now):
        self.run("submit", campaign=self.campaign, now=now)

    @rule(delta=st.integers(-2, 1), approve=st.booleans(), now=st.sampled_from(TIMES))
    def decide(self, delta, approve, now):
        attempt = max(1, self.app.attempt + delta)
        if approve:
            self.run("review_approved", attempt=attempt, registration_number=f"京社登2020{attempt:06d}", now=now)
        else:
            issues = [{"kind": "photo", "reason": "照片尺寸不符"}] if delta % 2 else []
            self.run("review_rejected", attempt=attempt, opinion="请补充材料", material_issues=issues, now=now)

    @rule(tracking=st.sampled_from(["", "1180000000000"]))
    def dispatch(self, tracking):
        self.run("dispatch", carrier="EMS", tracking_number=tracking, now=INSIDE)

    @invariant()
    def attempt_never_decreases(self):
        assert self.app.attempt >= self.seen_attempt
        self.seen_attempt = self.app.attempt

    @invariant()
    def submitted_exactly_while_a_decision_is_pending(self):
        assert self.app.state in STATES
        assert 0 <= self.app.decided_attempt <= self.app.attempt
        assert (self.app.state == SUBMITTED) == (self.app.attempt > self.app.decided_attempt)

    @invariant()
    def locked_fields_never_change(self):
        for key, value in locked_fields().items():
            assert self.app.form[key] == value

    @invariant()
    def a_registration_number_once_given_stays(self):
        if self.app.state in FINAL:
            assert self.app.registration_number
            if self.registration_number:
                assert self.app.registration_number == self.registration_number
            self.registration_number = self.app.registration_number
        else:
            assert self.app.registration_number is None


ApplicationMachine.TestCase.settings = settings(max_examples=300, stateful_step_count=30, deadline=None)
TestApplicationMachine = ApplicationMachine.TestCase
