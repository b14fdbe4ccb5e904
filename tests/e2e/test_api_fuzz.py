"""Schemathesis drives every operation of the served OpenAPI document against the running system.

All five services run (the `system` fixture); an applicant with a draft, one whose application is
waiting in the review queue, a reviewer and an admin are signed in first. Each operation then gets
a capped number of generated requests, valid and invalid ones (negative mode), with the bearer token
of a role its `x-roles` names — or of a role it does not name, or none — and now and then aimed at
a real application, task, feedback or notification instead of a made-up id. Every answer must be
no 5xx, match what the document says (status, content type, body schema), and an error must say
what is wrong in Chinese.

API_FUZZ_EXAMPLES sets the examples per operation and mode in `make test` (default 6: about 400
requests, under two minutes with the setup on two busy cores; generating an example costs
schemathesis about as much as answering it); `make test-slow` runs API_FUZZ_DEEP_EXAMPLES (default
50: about 3,300 requests, two to three minutes). Generation is derandomized so a run is repeatable;
set API_FUZZ_SEED to explore other inputs, and API_FUZZ_DEEP_EXAMPLES=100 for a deeper run.
"""
import os
import re

import pytest
import requests
import schemathesis
import schemathesis.checks
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable

from tests.support import journey
from tests.support.infra import wait_for

pytestmark = pytest.mark.e2e

EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", "6"))
DEEP_EXAMPLES = int(os.environ.get("API_FUZZ_DEEP_EXAMPLES", "50"))
SEED = os.environ.get("API_FUZZ_SEED")
CJK = re.compile(r"[\u4e00-\u9fff]")
ROSTER = [("张三", "110105198001010032", "20191100000020001"), ("李四", "110105198102020045", "20191100000020002"),
          ("王五", "110105198203030058", "20191100000020003")]


def chinese_error(ctx, response, case):
    """An error answer says what is wrong, for people, in Chinese."""
    if response.status_code < 400:
        return None
    body = response.json()
    if "error" in body:
        messages = [body["error"]["message"]]
    else:  # a photo that failed its check: the verdict's issues say why
        messages = [issue["message"] for issue in body["verdict"]["issues"]]
    for message in messages:
        assert CJK.search(message), f"{response.status_code} error message is not Chinese: {message!r}"
    return None


CHECKS = [schemathesis.checks.not_a_server_error, schemathesis.checks.response_schema_conformance,
          schemathesis.checks.content_type_conformance, chinese_error]


class World:
    """Accounts and resources the fuzzer can aim at, created through the API before it starts."""

    def __init__(self, system):
        self.system = system
        self.admin = journey.staff(system, journey.ADMIN_PHONE, "admin")
        self.reviewer = journey.staff(system, journey.REVIEWER_PHONE, "reviewer")
        self.campaign = journey.open_campaign(system, self.admin)
        journey.import_roster(self.admin, [journey.roster_row(*row) for row in ROSTER])
        # A: a half-filled draft that PATCH, uploads and submit work on.
        self.applicant = journey.applicant(system, "13700000001", *ROSTER[0][:2])
        self.application_id = self._open(self.applicant)
        self.applicant.call("PATCH", f"/api/v1/applications/{self.application_id}",
                            {"major": "社会工作", "years_in_social_work": 3}, expect=200)
        # E: a submitted application, so the review queue holds a real task.
        submitter = journey.applicant(system, "13700000002", *ROSTER[1][:2])
        submitted = self._open(submitter)
        journey.fill_and_upload(submitter, submitted)
        assert journey.submit(submitter, submitted).status_code == 200
        tasks = wait_for(lambda: self.reviewer.call("GET", "/api/v1/review/tasks", expect=200).json(),
                         message="review task of the submitted application")
        self.task_id = tasks[0]["id"]
        # B signs in afresh for every logout; C (unverified) takes password changes and real-name tries.
        self.leaver = journey.applicant(system, "13700000003", *ROSTER[2][:2])
        self.changer = self._account("13700000004")
        self.feedback_id = self.applicant.call("POST", "/api/v1/feedback", {"message": "考试合格信息有误"},
                                               expect=201).json()["id"]
        delivered = wait_for(lambda: self.admin.call("GET", "/api/v1/admin/notifications?state=delivered",
                                                     expect=200).json(), message="a delivered notification")
        self.notification_id = next((n["id"] for n in delivered if n["kind"] != "verification_code"),
                                    delivered[0]["id"])

    def _open(self, client):
        return client.call("POST", "/api/v1/applications", {"campaign_id": self.campaign["id"]},
                           expect=201).json()["id"]

    def _account(self, phone):
        client = self.system.client()
        client.call("POST", "/api/v1/sms-codes", {"phone": phone, "purpose": "register"}, expect=202)
        client.token = client.call("POST", "/api/v1/accounts", {
            "phone": phone, "code": self.system.code_for(phone), "password": journey.APPLICANT_PASSWORD},
            expect=201).json()["token"]
        return client

    def fresh_token(self):
        phone = "13700000003"
        answer = requests.post(self.system.base_url + "/api/v1/sessions", timeout=30,
                               json={"phone": phone, "password": journey.APPLICANT_PASSWORD})
        assert answer.status_code == 201, answer.text
        return answer.json()["token"]

    def tokens(self):
        return {"applicant": self.applicant.token, "reviewer": self.reviewer.token, "admin": self.admin.token}

    def real_ids(self):
        return {"application_id": self.application_id, "task_id": self.task_id, "feedback_id": self.feedback_id,
                "notification_id": self.notification_id}


def callers(operation, world):
    """Who calls: a role the operation names (most often), a role it does not, or nobody."""
    roles = operation.definition.raw.get("x-roles")
    if not roles:
        return st.just("public")
    tokens = world.tokens()
    allowed = [role for role in tokens if role in roles] or ["applicant"]
    others = [role for role in tokens if role not in roles]
    return st.one_of(st.sampled_from(allowed), st.sampled_from(["nobody", *others]))


def token_for(caller, operation, world):
    if caller in ("public", "nobody"):
        return None
    if operation.method.upper() == "DELETE" and operation.path.endswith("/sessions/current"):
        return world.fresh_token()  # logging out ends the session: never one the others use
    if operation.path.endswith(("/me/password", "/me/identity")):
        return world.changer.token  # wrong old passwords lock the account: keep that away from A
    return world.tokens()[caller]


@pytest.mark.timeout(600)  # the default 120 s is for one journey, not the whole API
@pytest.mark.parametrize("examples", [
    pytest.param(EXAMPLES, id="capped"),
    pytest.param(DEEP_EXAMPLES, id="deep", marks=[pytest.mark.slow, pytest.mark.timeout(2400)])])
def test_the_whole_api_answers_as_documented(system, examples):
    world = World(system)
    http = requests.Session()  # one keep-alive connection
    schema = schemathesis.openapi.from_url(system.base_url + "/api/v1/openapi.json")
    failures, skipped, calls = [], [], 0
    operations = [result.ok() for result in schema.get_all_operations()]  # raises on an invalid one
    for operation in operations:
        for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):
            try:
                calls += fuzz(operation, mode, world, http, failures, examples)
            except Unsatisfiable:
                # Negative mode has nothing to break in an operation without parameters or body.
                assert mode == schemathesis.GenerationMode.NEGATIVE, operation.label
                skipped.append(operation.label)
    print(f"{calls} requests over {len(operations)} operations; no invalid input to make for {skipped}")
    assert not failures, f"{len(failures)} of {calls} answers broke the contract:\n" + "\n".join(failures[:40])


def fuzz(operation, mode, world, http, failures, examples):
    """Run `examples` generated requests of one operation in one mode; return how many were sent."""
    base_url, sent = world.system.base_url, []
    names = re.findall(r"{([a-z_]+)}", operation.path)
    aimed = {name: value for name, value in world.real_ids().items() if name in names}
    strategy = operation.as_strategy(generation_mode=mode)
    if aimed:
        strategy = st.one_of(strategy, operation.as_strategy(generation_mode=mode, path_parameters=aimed))

    @settings(max_examples=examples, deadline=None, database=None, derandomize=SEED is None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=strategy, caller=callers(operation, world))
    def run(case, caller):
        token = token_for(caller, operation, world)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = case.call(base_url=base_url, session=http, headers=headers, timeout=60)
        http.cookies.clear()  # a login's cookie must not sign in the next, anonymous, request
        sent.append(response.status_code)
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except Exception as exc:  # noqa: BLE001 — collect every failure, report them together
            failures.append(f"{operation.label} [{mode.value}, {caller}] → {response.status_code}: "
                            f"{str(exc)[:600]}\n    {case.as_curl_command()[:400]}")

    if SEED is not None:
        run = seed(int(SEED))(run)
    run()
    return len(sent)
