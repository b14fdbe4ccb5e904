"""Expected refusals are logged as one WARNING line without a traceback, by every service alike."""
import io
import json
import logging

import pytest
from nameko.exceptions import RemoteError

from services.common.logs import JsonFormatter, RefusalFilter
from services.contracts.errors import DomainError
from tests.support.system import system  # noqa: F401 — the whole system as a fixture

pytestmark = pytest.mark.integration

APPLICANT = {"account_id": "acc-nobody", "roles": ["applicant"]}
REVIEWER = {"account_id": "acc-reviewer", "roles": ["reviewer"]}


@pytest.fixture
def log_lines():
    """The JSON lines the services' own log handler writes (as services.common.logs sets it up)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter("test"))
    handler.addFilter(RefusalFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]
    root.removeHandler(handler)


def refused(call):
    with pytest.raises((DomainError, RemoteError)) as caught:
        call()
    assert isinstance(caught.value, DomainError), caught.value
    return caught.value


def test_refusals_are_one_warning_line_in_every_service(system, log_lines):  # noqa: F811
    with system.rpc() as rpc:
        refused(lambda: rpc.identity.authenticate("not-a-token"))
        refused(lambda: rpc.identity.register("13800138000", "000000", "Abcdef12345!"))
        refused(lambda: rpc.registration.get_application(APPLICANT, "no-such-application"))
        refused(lambda: rpc.review.get_task(REVIEWER, "no-such-task"))
        refused(lambda: rpc.notify.resend("no-such-notification"))
    client = system.client()
    client.token = "not-a-token"
    client.call("GET", "/api/v1/me", expect=401)
    client.call("GET", "/api/v1/applications/no-such-application", expect=401)

    lines = log_lines()
    alarms = [line for line in lines if line["level"] in ("ERROR", "CRITICAL")]
    assert not alarms
    refusals = [line for line in lines if line["message"].startswith("refused ")]
    assert all(line["level"] == "WARNING" and "exception" not in line for line in refusals), refusals
    where = {line["message"].split()[1] for line in refusals}
    assert {"identity.authenticate", "identity.register", "registration.get_application", "review.get_task",
            "notify.resend", "gateway.me"} <= where, where
    assert not [line for line in lines if "Traceback" in json.dumps(line)]
