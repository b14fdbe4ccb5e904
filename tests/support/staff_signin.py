"""Staff sign-in for tests, whatever the transport: the password, then a TOTP code computed with
pyotp from the secret enrolment showed (enrolling at the first login, as a person would).

`codes` remembers each enrolled secret by phone and never hands out the same time-step twice
(the service refuses a replayed code), so a test can log the same person in several times.
"""
import pyotp

from services.common import clock

STEP = 30
_secrets = {}  # phone → TOTP secret enrolled in this process
_last_step = {}  # secret → last step handed out


def code(secret):
    """A TOTP code for the current step (services.common.clock, frozen or not), or the next step
    when this one was already handed out."""
    step = max(int(clock.now().timestamp()) // STEP, _last_step.get(secret, -1) + 1)
    _last_step[secret] = step
    return pyotp.TOTP(secret).at(step * STEP)


def remember(phone, secret):
    _secrets[phone] = secret


def secret_of(phone):
    return _secrets[phone]


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
    """Log a staff member in through the HTTP API (e2e tests); sets client.token."""
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
