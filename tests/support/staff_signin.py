"""Staff sign-in for tests, whatever the transport: the password, then a TOTP code computed with
pyotp from the secret enrolment showed (enrolling at the first login, as a person would).

The service refuses a replayed code (a step at or before the last one accepted), and the same
person may be logged in by the test process and by a browser driver it starts. So the enrolled
secrets and the last step handed out live in one small JSON file named by $STAFF_TOTP_STATE, which
child processes inherit; `code` never hands out a step twice.
"""
import json
import os
import tempfile

import pyotp

from services.common import clock
from tests.support.infra import wait_for

STEP = 30
_ENV = "STAFF_TOTP_STATE"
if not os.environ.get(_ENV):
    os.environ[_ENV] = os.path.join(tempfile.mkdtemp(prefix="staff-totp-"), "state.json")


def _load():
    try:
        with open(os.environ[_ENV], encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        return {"secrets": {}, "steps": {}}


def _save(state):
    with open(os.environ[_ENV], "w", encoding="utf-8") as f:
        json.dump(state, f)


def _step():
    return int(clock.now().timestamp()) // STEP


def code(secret):
    """A code for a step not handed out before, from the current step on: the service accepts one
    step of drift each side, so it stays good for 30–60 s however slow the page is to send it (the
    earliest step, current − 1, can expire within a second of being handed out). Past current + 1,
    wait for the clock to move on (real time only: frozen clocks are moved by their tests)."""
    state = _load()
    step = max(_step(), state["steps"].get(secret, -1) + 1)
    if step > _step() + 1:
        wait_for(lambda: step <= _step() + 1, timeout=2 * STEP + 5, interval=0.5, message="the next TOTP step")
    state["steps"][secret] = step
    _save(state)
    return pyotp.TOTP(secret).at(step * STEP)


def remember(phone, secret):
    state = _load()
    state["secrets"][phone] = secret
    _save(state)


def secret_of(phone):
    return _load()["secrets"][phone]


def finish(phone, answer, begin, confirm, complete):
    """After the password step's `answer`: enrol (begin(pending) → secret; confirm(pending, code)) or
    complete(pending, code). Returns the session answer (with recovery_codes after enrolment)."""
    pending = answer["pending_token"]
    if answer["second_factor"] == "enrol":
        remember(phone, begin(pending))
        return confirm(pending, code(secret_of(phone)))
    return complete(pending, code(secret_of(phone)))


def via_rpc(identity, phone, password):
    """Log a staff member in through identity's RPCs (integration tests)."""
    return finish(phone, identity.login(phone, password=password),
                  lambda pending: identity.begin_enrolment(pending)["secret"],
                  identity.confirm_enrolment, identity.complete_login)


def via_api(client, phone, password):
    """Log a staff member in through the HTTP API (e2e tests); sets client.token (the client's
    requests session also holds the browser's session cookie)."""
    answer = client.call("POST", "/api/v1/sessions", {"phone": phone, "password": password}, expect=202).json()
    session = finish(
        phone, answer,
        lambda pending: client.call("POST", "/api/v1/second-factor/enrolment", {"pending_token": pending},
                                    expect=200).json()["secret"],
        lambda pending, c: client.call("POST", "/api/v1/second-factor/enrolment/confirm",
                                       {"pending_token": pending, "code": c}, expect=201).json(),
        lambda pending, c: client.call("POST", "/api/v1/sessions/second-factor",
                                       {"pending_token": pending, "code": c}, expect=201).json())
    client.token = session["token"]
    return session


def via_page(page, base, phone, password, next_path="", look=None):
    """Log a staff member in at /staff/login in a Playwright page (browser drivers): the password,
    then the code — or, at the first login, the QR page (the secret read from its text) and the
    recovery codes page. look(name), if given, is called on each of the second-step pages."""
    look = look or (lambda name: None)
    if "/staff/login" not in page.url:
        page.goto(base + "/staff/login" + (f"?next={next_path}" if next_path else ""))
    page.fill("#f-phone", phone)
    page.fill("#f-password", password)
    page.click("button.primary[name=action][value=login]")
    page.wait_for_selector("[data-totp-secret], input[name=action][value=second_factor]", state="attached")
    if page.locator("[data-totp-secret]").count():
        look("staff-2fa")
        remember(phone, "".join(page.inner_text("[data-totp-secret]").split()))
        page.fill("#f-code", code(secret_of(phone)))
        page.click("button.primary")
        page.wait_for_selector("[data-recovery-codes]")
        assert page.locator("[data-recovery-codes] li").count() == 10
        look("staff-recovery")
        page.click("a.button.primary")
    else:
        look("staff-totp")
        page.fill("#f-code", code(secret_of(phone)))
        page.click("button.primary")
    page.wait_for_load_state()
