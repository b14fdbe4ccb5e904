"""The event contract: schemas, envelope, and the published AsyncAPI document stay in step."""
import json
import pathlib

import jsonschema
import pytest
import yaml

from services.common import asyncapi
from services.contracts.events import CATALOGUE, MalformedEvent, new_event, parse_event

ROOT = pathlib.Path(__file__).resolve().parents[3]

# EVENTS.md, "data (at least)" column — the public promise.
PROMISED = {
    "AccountRegistered": {"account_id", "phone_masked", "registered_at"},
    "IdentityVerified": {"account_id", "id_type", "id_number_masked", "name_masked", "level", "verified_at"},
    "ApplicationSubmitted": {"application_id", "campaign_id", "account_id", "kind", "attempt", "cert_level",
                             "exam_year", "district_code", "material_ids", "submitted_at"},
    "RegistrationCompleted": {"application_id", "registration_number", "name", "id_type", "id_number",
                              "cert_level", "management_number", "valid_from", "valid_until", "delivery"},
    "CertificateDispatched": {"application_id", "registration_number", "carrier", "tracking_number",
                              "dispatched_at"},
    "ReviewCompleted": {"review_id", "application_id", "attempt", "decision", "opinion", "material_issues",
                        "reviewer_id", "completed_at"},
    "NotificationDelivered": {"notification_id", "channel", "template", "recipient_masked", "cause_event_id",
                              "attempts"},
    "NotificationFailed": {"notification_id", "channel", "template", "recipient_masked", "cause_event_id",
                           "attempts", "reason"},
}
SOURCES = {"AccountRegistered": "identity", "IdentityVerified": "identity", "ApplicationSubmitted": "registration",
           "RegistrationCompleted": "registration", "CertificateDispatched": "registration",
           "ReviewCompleted": "review", "NotificationDelivered": "notify", "NotificationFailed": "notify"}


def test_every_promised_event_has_a_schema_with_the_promised_fields():
    assert set(CATALOGUE) >= set(PROMISED)
    for event_type, fields in PROMISED.items():
        source, schema, _ = CATALOGUE[event_type]
        assert source == SOURCES[event_type]
        required = {name for name, field in schema().fields.items() if field.required}
        assert fields <= required, event_type


def test_asyncapi_document_matches_the_code():
    committed = (ROOT / "docs" / "asyncapi.yaml").read_text(encoding="utf-8")
    assert committed == asyncapi.render(), "docs/asyncapi.yaml is stale: run `make asyncapi`"


def test_asyncapi_document_describes_the_transport():
    doc = yaml.safe_load(asyncapi.render())
    assert doc["asyncapi"].startswith("3.")
    for event_type, source in SOURCES.items():
        channel = doc["channels"][f"{source}_{event_type}"]
        assert channel["address"] == event_type
        assert channel["bindings"]["amqp"]["exchange"] == {
            "name": f"{source}.events", "type": "topic", "durable": True, "autoDelete": False, "vhost": "/"}
        data = doc["components"]["schemas"][f"{event_type}Data"]
        assert PROMISED[event_type] <= set(data["required"])


def _submitted(**over):
    data = {"application_id": "a1", "campaign_id": "c1", "account_id": "u1", "kind": "FIRST", "attempt": 1,
            "cert_level": "ASSISTANT", "exam_year": 2019, "district_code": "110105",
            "material_ids": {"photo": "m1"}, "submitted_at": "2020-07-03T10:15:00.000+08:00"}
    data.update(over)
    return data


def test_new_event_is_a_cloudevent_and_round_trips():
    event = new_event("ApplicationSubmitted", "a1", _submitted())
    assert event["specversion"] == "1.0" and event["source"] == "registration"
    assert event["datacontenttype"] == "application/json" and event["dataversion"] == 1
    assert event["time"].endswith("+08:00")
    assert parse_event(json.dumps(event).encode()) == event


def test_new_event_refuses_data_that_breaks_the_contract():
    with pytest.raises(ValueError):
        new_event("ApplicationSubmitted", "a1", _submitted(attempt=0))
    with pytest.raises(ValueError):
        new_event("ApplicationSubmitted", "a1", {"application_id": "a1"})


def test_consumers_ignore_unknown_optional_fields():
    event = new_event("ApplicationSubmitted", "a1", _submitted())
    event["data"]["added_later"] = "x"
    event["extension"] = "y"
    assert "added_later" not in parse_event(json.dumps(event))["data"]


@pytest.mark.parametrize("body", [b"\xff\xfe", b"not json", b"[]", b'{"specversion": "0.3"}',
                                  json.dumps({**new_event("ApplicationSubmitted", "a", _submitted()),
                                              "source": "identity"}).encode(),
                                  json.dumps({**new_event("ApplicationSubmitted", "a", _submitted()),
                                              "type": "Nope"}).encode()],
                         ids=["not-utf8", "not-json", "array", "old-spec", "wrong-source", "unknown-type"])
def test_parse_event_refuses_what_is_not_our_contract(body):
    with pytest.raises(MalformedEvent):
        parse_event(body)


# --- the published document against a standard JSON Schema validator -------------------------------

def _published():
    return yaml.safe_load((ROOT / "docs" / "asyncapi.yaml").read_text(encoding="utf-8"))


def _payload_validator(doc, event_type):
    schema = {"$ref": f"#/components/messages/{event_type}/payload", "components": doc["components"]}
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


def test_the_document_uses_no_openapi_only_keywords():
    text = (ROOT / "docs" / "asyncapi.yaml").read_text(encoding="utf-8")
    assert "nullable" not in text and "x-nullable" not in text


def test_every_published_example_is_valid_by_the_published_schema_and_by_the_code():
    doc = _published()
    seen = set()
    for event_type, message in doc["components"]["messages"].items():
        assert message["examples"], f"{event_type} has no example"
        validator = _payload_validator(doc, event_type)
        for example in message["examples"]:
            errors = [e.message for e in validator.iter_errors(example["payload"])]
            assert not errors, (event_type, example["name"], errors)
            assert parse_event(json.dumps(example["payload"], ensure_ascii=False)) is not None
            seen.add(event_type)
    assert seen == set(CATALOGUE)


def test_null_where_the_contract_allows_it_passes_a_standard_validator():
    doc = _published()
    review = new_event("ReviewCompleted", "a1", {
        "review_id": "r1", "application_id": "a1", "attempt": 1, "decision": "approved", "opinion": None,
        "material_issues": [], "reviewer_id": "s1", "completed_at": "2020-07-03T10:15:00.000+08:00"})
    delivered = new_event("NotificationDelivered", "n1", {
        "notification_id": "n1", "channel": "sms", "template": "approved", "recipient_masked": "138****5678",
        "cause_event_id": None, "attempts": 1})
    for event in (review, delivered):
        assert not list(_payload_validator(doc, event["type"]).iter_errors(event))


def test_a_standard_validator_still_refuses_what_breaks_the_contract():
    doc = _published()
    [(_, example)] = [e for e in asyncapi.example_events("ReviewCompleted") if e[1]["data"]["opinion"] is None][:1]
    broken = {**example, "data": {**example["data"], "decision": "maybe", "attempt": "one"}}
    assert len(list(_payload_validator(doc, "ReviewCompleted").iter_errors(broken))) >= 2
