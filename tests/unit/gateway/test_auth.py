"""The gateway's edge without a broker: CSRF bound to the session, tokens, roles from the route."""
import pytest
from nameko.testing.services import worker_factory
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from services.contracts.errors import Forbidden, Unauthenticated, ValidationFailed
from services.gateway import auth
from services.gateway.principals import PrincipalCache
from services.gateway.service import GatewayService
from services.gateway.web import ROUTES

SECRET = "test-csrf-secret-of-enough-length"


def request(method="POST", cookies=None, headers=None, form=None):
    builder = EnvironBuilder(method=method, path="/api/v1/x", headers=headers or {}, data=form)
    for name, value in (cookies or {}).items():
        builder.headers.add("Cookie", f"{name}={value}")
    return Request(builder.get_environ())


def test_csrf_token_is_the_sessions_hmac_and_nothing_else_passes():
    session = "session-token-abc"
    good = auth.csrf_token(SECRET, session)
    auth.check_csrf(request(cookies={"sid": session}, headers={"X-CSRF-Token": good}), SECRET)
    auth.check_csrf(request(cookies={"sid": session}, form={"csrf_token": good}), SECRET, {"csrf_token": good})
    for sent in ("", "x" * 64, auth.csrf_token(SECRET, "another-session"), auth.csrf_token("other-secret", session)):
        with pytest.raises(Forbidden) as refused:
            auth.check_csrf(request(cookies={"sid": session}, headers={"X-CSRF-Token": sent}), SECRET)
        assert refused.value.code == "csrf_failed" and "刷新页面" in refused.value.message


def test_an_attacker_who_sets_a_cookie_cannot_pick_a_matching_header():
    # The old double-submit accepted any cookie equal to the header; a set cookie no longer helps.
    forged = request(cookies={"sid": "victim-session", "csrf": "chosen"}, headers={"X-CSRF-Token": "chosen"})
    with pytest.raises(Forbidden):
        auth.check_csrf(forged, SECRET)


def test_before_login_the_token_is_bound_to_the_pre_session_cookie():
    pre = "pre-session-random"
    auth.check_csrf(request(cookies={"pre": pre}, form={"csrf_token": auth.csrf_token(SECRET, pre)}), SECRET,
                    {"csrf_token": auth.csrf_token(SECRET, pre)})
    with pytest.raises(Forbidden):
        auth.check_csrf(request(form={"csrf_token": auth.csrf_token(SECRET, pre)}), SECRET,
                        {"csrf_token": auth.csrf_token(SECRET, pre)})


def test_an_oversized_bearer_token_is_a_clear_400():
    with pytest.raises(ValidationFailed) as refused:
        auth.token_of(request(headers={"Authorization": "Bearer " + "a" * 10_000}))
    assert refused.value.http_status == 400 and "重新登录" in refused.value.message
    assert auth.token_of(request()) == (None, False)
    assert auth.token_of(request(headers={"Authorization": "Bearer abc"})) == ("abc", False)
    assert auth.token_of(request(cookies={"sid": "abc"})) == ("abc", True)


def gateway(roles):
    service = worker_factory(GatewayService, config={"RPC_TIMEOUT": "5", "CSRF_SECRET": SECRET},
                             principals=PrincipalCache(seconds=0))  # every call asks identity
    service.identity.authenticate_many.side_effect = lambda tokens: [
        {"principal": {"account_id": "a1", "roles": roles}} for _ in tokens]
    return service


def test_roles_declared_on_the_route_are_enforced():
    req = request("GET", headers={"Authorization": "Bearer t"})
    req.api_roles = ["admin"]
    with pytest.raises(Forbidden):
        gateway(["applicant"])._principal(req)
    assert gateway(["admin"])._principal(req)["account_id"] == "a1"
    req.api_roles = None  # any logged-in account
    assert gateway(["applicant"])._principal(req)["account_id"] == "a1"
    with pytest.raises(Unauthenticated):
        gateway(["admin"])._principal(request("GET"))


def test_a_cookie_session_must_carry_the_csrf_token_on_writes():
    service = gateway(["applicant"])
    with pytest.raises(Forbidden):
        service._principal(request("POST", cookies={"sid": "s1"}))
    ok = request("POST", cookies={"sid": "s1"}, headers={"X-CSRF-Token": auth.csrf_token(SECRET, "s1")})
    assert service._principal(ok)["account_id"] == "a1"


def test_every_staff_and_applicant_route_declares_its_roles():
    for method, path, options in ROUTES:
        if path.startswith("/api/v1/admin/") and path != "/api/v1/admin/exports/approved":
            assert options.get("roles") and "admin" in options.get("roles"), (method, path)
        if path.startswith("/api/v1/review/"):
            assert set(options.get("roles") or ()) == {"reviewer", "admin"}, (method, path)
    applicant_only = {(m, p) for m, p, o in ROUTES if o.get("roles") == ["applicant"]}
    assert ("POST", "/api/v1/applications/<string:application_id>/submit") in applicant_only
    assert ("GET", "/api/v1/applications") in applicant_only
