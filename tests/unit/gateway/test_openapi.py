"""The OpenAPI document is enough to write a client: valid, every operation with its security, roles,
bodies, parameters and answers — all generated from the routes and schemas, none written by hand.
(tests/e2e/test_api_fuzz.py holds the running system to it.)"""
import inspect
import re

import pytest
from openapi_spec_validator import validate

from services.contracts.roles import ROLES
from services.gateway import openapi
from services.gateway.service import GatewayService


@pytest.fixture(scope="module")
def doc():
    return openapi.document(GatewayService)


def operations(doc):
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            yield method.upper(), path, op


def test_the_document_is_valid_openapi(doc):
    validate(doc)
    assert doc["openapi"] == "3.0.3"


def test_every_route_is_documented_once_with_a_unique_operation_id(doc):
    ids = [op["operationId"] for _, _, op in operations(doc)]
    assert len(ids) == len(set(ids)) == len(openapi.routes(GatewayService))


def test_every_operation_states_its_security_and_roles(doc):
    schemes = doc["components"]["securitySchemes"]
    assert schemes["bearer"] == {**schemes["bearer"], "type": "http", "scheme": "bearer"}
    assert schemes["session_cookie"]["in"] == "cookie" and schemes["csrf_token"]["name"] == "X-CSRF-Token"
    for method, path, op in operations(doc):
        assert "security" in op, (method, path)
        if not op["security"]:
            assert "x-roles" not in op, (method, path)
            continue
        assert set(op["x-roles"]) <= set(ROLES), (method, path)
        assert {"bearer": []} in op["security"], (method, path)
        cookie = next(s for s in op["security"] if "session_cookie" in s)
        # A browser's cookie must carry the CSRF token exactly when the request changes state.
        assert ("csrf_token" in cookie) == (method not in ("GET", "HEAD")), (method, path)
        assert {"401", "403"} <= set(op["responses"]), (method, path)


def test_public_routes_are_only_the_ones_before_login(doc):
    public = {(method, path) for method, path, op in operations(doc) if op["security"] == []}
    assert public == {
        ("POST", "/api/v1/sms-codes"), ("POST", "/api/v1/accounts"), ("POST", "/api/v1/sessions"),
        ("POST", "/api/v1/password-resets"), ("GET", "/api/v1/campaigns"), ("GET", "/api/v1/code-tables"),
        ("GET", "/health"), ("GET", "/metrics"), ("GET", "/api/v1/openapi.json"),
        # the human check before an SMS code, and the staff second step (it holds a pending token)
        ("POST", "/api/v1/captchas"), ("POST", "/api/v1/sessions/second-factor"),
        ("POST", "/api/v1/second-factor/enrolment"), ("POST", "/api/v1/second-factor/enrolment/confirm")}


def test_a_route_needs_a_principal_exactly_when_it_declares_roles():
    """Roles are declared once, in @api(roles=...), and _principal enforces them: a route that asks who
    is calling but declares no roles would be documented as public."""
    for operation_id, method, path, options in openapi.routes(GatewayService):
        source = inspect.getsource(getattr(GatewayService, operation_id))
        if options["deprecated"]:  # an older path answers through the current route's method
            source = inspect.getsource(getattr(GatewayService, re.search(r"self\.(\w+)\(request", source)[1]))
        assert ("self._principal(request)" in source) == bool(options["roles"]), (method, path)


def test_applicant_only_routes_say_so(doc):
    applicant_only = {(m, p) for m, p, op in operations(doc) if op.get("x-roles") == ["applicant"]}
    assert {("GET", "/api/v1/applications"), ("POST", "/api/v1/applications"),
            ("PATCH", "/api/v1/applications/{application_id}"), ("POST", "/api/v1/me/identity"),
            ("PUT", "/api/v1/applications/{application_id}/materials/{kind}"),
            ("POST", "/api/v1/applications/{application_id}/submit"), ("POST", "/api/v1/feedback"),
            ("POST", "/api/v1/appeals")} <= applicant_only
    for _, _, op in operations(doc):
        if op.get("x-roles"):
            assert "需要登录" in op["description"]


def test_every_answer_has_a_schema(doc):
    for method, path, op in operations(doc):
        success = [code for code in op["responses"] if code.startswith("2")]
        # Login alone has two: 201 a session, 202 staff go on to the second factor.
        assert len(success) == (2 if (method, path) == ("POST", "/api/v1/sessions") else 1), (method, path)
        answer = op["responses"][success[0]]
        if success[0] != "204":
            assert answer["content"], (method, path)
            for media in answer["content"].values():
                assert media["schema"], (method, path)
        assert op["responses"]["default"]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/ErrorBody"}


def test_every_state_changing_route_with_input_documents_its_body(doc):
    no_body = {("DELETE", "/api/v1/sessions/current"), ("POST", "/api/v1/applications/{application_id}/submit"),
               ("POST", "/api/v1/review/tasks/{task_id}/claim"), ("POST", "/api/v1/review/tasks/{task_id}/release"),
               ("POST", "/api/v1/admin/notifications/{notification_id}/resend")}
    for method, path, op in operations(doc):
        if method in ("POST", "PUT", "PATCH") and (method, path) not in no_body:
            assert op["requestBody"]["content"], (method, path)


def body(doc, method, path):
    return doc["paths"][path][method.lower()]["requestBody"]["content"]


def resolve(doc, schema):
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def test_uploads_are_documented_as_multipart_and_as_a_raw_body(doc):
    material = body(doc, "PUT", "/api/v1/applications/{application_id}/materials/{kind}")
    assert {"multipart/form-data", "image/jpeg", "image/png"} <= set(material)
    assert resolve(doc, material["multipart/form-data"]["schema"])["properties"]["file"]["format"] == "binary"
    assert material["image/jpeg"]["schema"] == {"type": "string", "format": "binary"}
    roster = body(doc, "POST", "/api/v1/admin/roster")
    assert {"multipart/form-data", "text/csv",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"} <= set(roster)
    [filename] = doc["paths"]["/api/v1/admin/roster"]["post"]["parameters"]
    assert filename["in"] == "header" and filename["name"] == "X-Filename"
    assert "RFC 5987" in filename["description"]


def test_json_bodies_of_campaign_feedback_resolve_and_dispatch(doc):
    campaign = resolve(doc, body(doc, "POST", "/api/v1/admin/campaigns")["application/json"]["schema"])
    assert {"name", "kind", "opens_at", "closes_at", "eligible_levels"} <= set(campaign["required"])
    assert "FIRST" in campaign["properties"]["kind"]["enum"]
    assert "MAIL" in campaign["properties"]["delivery_methods"]["items"]["enum"]
    for method, path, field in (("POST", "/api/v1/feedback", "message"),
                                ("POST", "/api/v1/admin/feedback/{feedback_id}/resolve", "note"),
                                ("POST", "/api/v1/admin/applications/{application_id}/dispatch", "tracking_number")):
        schema = resolve(doc, body(doc, method, path)["application/json"]["schema"])
        assert field in schema["required"] and schema["additionalProperties"] is False, path


def test_form_changes_lists_every_editable_field_with_its_type(doc):
    form = doc["components"]["schemas"]["FormChanges"]
    snapshot = openapi._load_snapshot()
    assert set(form["properties"]) == {f["name"] for f in snapshot["form_spec"]["fields"]}
    assert form["additionalProperties"] is False
    props = form["properties"]
    assert "01" in props["ethnicity"]["enum"] and None in props["ethnicity"]["enum"]
    assert props["major"] == {**props["major"], "type": "string", "maxLength": 50, "nullable": True}
    assert props["years_in_social_work"]["minimum"] == 0 and props["years_in_social_work"]["maximum"] == 60
    assert props["service_fields"]["items"]["enum"]
    assert props["work_history"]["items"]["properties"]["start"]["type"] == "string"
    assert props["delivery"]["properties"]["method"]["enum"] == ["MAIL", "PICKUP", None]
    assert props["attestation"]["type"] == "boolean"
    assert "id_number" in form["description"]  # locked fields are named as refused


def test_parameters_idempotency_export_and_task_filters(doc):
    def params(method, path):
        return {p["name"]: p for p in doc["paths"][path][method.lower()].get("parameters", [])}

    for method, path in (("POST", "/api/v1/applications/{application_id}/submit"),
                         ("POST", "/api/v1/review/tasks/{task_id}/decision")):
        key = params(method, path)["Idempotency-Key"]
        assert key["in"] == "header" and key["schema"]["minLength"] == 8
    export = params("GET", "/api/v1/admin/exports/approved")
    assert export["format"]["schema"]["enum"] == ["xlsx", "csv"] and export["campaign_id"]["in"] == "query"
    assert {"campaign_id", "district", "level", "state", "min_waiting_seconds", "limit"} <= set(
        params("GET", "/api/v1/review/tasks"))
    assert params("GET", "/api/v1/applications/{application_id}/materials/{kind}")["kind"]["schema"]["enum"]


def test_path_parameters_match_the_routes(doc):
    for method, path, op in operations(doc):
        names = set(re.findall(r"{([a-z_]+)}", path))
        assert names == {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}, (method, path)


def test_the_feedback_paths_before_1_1_are_deprecated_aliases_of_the_new_ones(doc):
    """反馈 is feedback on the roster, not an appeal: /feedback is the name; /appeals still answers."""
    assert doc["info"]["version"] == openapi.API_VERSION
    deprecated = {(m, p) for m, p, op in operations(doc) if op.get("deprecated")}
    aliases = {("POST", "/api/v1/appeals"): ("POST", "/api/v1/feedback"),
               ("GET", "/api/v1/admin/appeals"): ("GET", "/api/v1/admin/feedback"),
               ("POST", "/api/v1/admin/appeals/{feedback_id}/resolve"):
                   ("POST", "/api/v1/admin/feedback/{feedback_id}/resolve")}
    assert deprecated == set(aliases)
    ops = {(m, p): op for m, p, op in operations(doc)}
    for old, new in aliases.items():
        assert not ops[new].get("deprecated") and "/feedback" in ops[old]["description"]
        for part in ("requestBody", "x-roles", "security", "responses"):
            assert ops[old].get(part) == ops[new].get(part), (old, part)
