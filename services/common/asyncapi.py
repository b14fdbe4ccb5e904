"""docs/asyncapi.yaml (AsyncAPI 3.0) generated from the event schemas in services.contracts.events.

    python -m services.common.asyncapi > docs/asyncapi.yaml

Schemas are JSON Schema (a nullable field is `type: [string, "null"]`, not OpenAPI 3.0's
`nullable`, which JSON Schema validators ignore). Each message carries example events;
tests/unit/common/test_events_contract.py checks every example against the published schema with
a standard JSON Schema validator and against the code, and fails when document and code drift.
"""
import sys
import uuid

import yaml
from apispec.ext.marshmallow import OpenAPIConverter

from services.contracts.events import CATALOGUE, CONTENT_TYPE, Envelope, exchange_of

_converter = OpenAPIConverter(openapi_version="3.1.0", schema_name_resolver=lambda schema: None, spec=None)


EXAMPLE_TIME = "2020-07-03T10:15:00.123+08:00"

# event type → [(example name, subject, data)]; the null cases are there on purpose.
EXAMPLES = {
    "AccountRegistered": [("registered", "3f1c2d4e-0000-4000-8000-000000000001", {
        "account_id": "3f1c2d4e-0000-4000-8000-000000000001", "phone_masked": "138****5678",
        "registered_at": EXAMPLE_TIME})],
    "IdentityVerified": [("verified", "3f1c2d4e-0000-4000-8000-000000000001", {
        "account_id": "3f1c2d4e-0000-4000-8000-000000000001", "id_type": "RESIDENT_ID",
        "id_number_masked": "110105********0021", "name_masked": "张*", "level": "format_checked",
        "verified_at": EXAMPLE_TIME})],
    "ApplicationSubmitted": [("first submission", "a7d0c9e2-0000-4000-8000-000000000002", {
        "application_id": "a7d0c9e2-0000-4000-8000-000000000002", "campaign_id": "bj-2020-first",
        "account_id": "3f1c2d4e-0000-4000-8000-000000000001", "kind": "FIRST", "attempt": 1,
        "cert_level": "ASSISTANT", "exam_year": 2019, "district_code": "110105",
        "material_ids": {"id_card_front": "m-1", "id_card_back": "m-2", "certificate": "m-3", "photo": "m-4"},
        "submitted_at": EXAMPLE_TIME})],
    "RegistrationCompleted": [("approved and numbered", "a7d0c9e2-0000-4000-8000-000000000002", {
        "application_id": "a7d0c9e2-0000-4000-8000-000000000002", "registration_number": "京社登2020000001",
        "name": "张三", "id_type": "RESIDENT_ID", "id_number": "110105194912310021", "cert_level": "ASSISTANT",
        "management_number": "2019110000001", "valid_from": "2020-07-10", "valid_until": "2023-07-09",
        "delivery": {"method": "MAIL", "recipient": "张三", "phone": "13812345678",
                     "address": "北京市朝阳区某某街道1号", "postcode": "100020"}})],
    "CertificateDispatched": [("mailed", "a7d0c9e2-0000-4000-8000-000000000002", {
        "application_id": "a7d0c9e2-0000-4000-8000-000000000002", "registration_number": "京社登2020000001",
        "carrier": "EMS", "tracking_number": "1100000000000", "dispatched_at": EXAMPLE_TIME})],
    "ReviewCompleted": [
        ("approved without an opinion", "a7d0c9e2-0000-4000-8000-000000000002", {
            "review_id": "c41b7e0a-0000-4000-8000-000000000003", "application_id": "a7d0c9e2-0000-4000-8000-000000000002", "attempt": 1,
            "decision": "approved", "opinion": None, "material_issues": [], "reviewer_id": "staff-1",
            "completed_at": EXAMPLE_TIME}),
        ("rejected with reasons", "a7d0c9e2-0000-4000-8000-000000000002", {
            "review_id": "c41b7e0a-0000-4000-8000-000000000004", "application_id": "a7d0c9e2-0000-4000-8000-000000000002", "attempt": 1,
            "decision": "rejected", "opinion": "证书照片不清晰",
            "material_issues": [{"kind": "certificate", "reason": "照片模糊，无法辨认管理号"}],
            "reviewer_id": "staff-1", "completed_at": EXAMPLE_TIME})],
    "NotificationDelivered": [
        ("caused by an event", "n-1", {
            "notification_id": "n-1", "channel": "sms", "template": "approved", "recipient_masked": "138****5678",
            "cause_event_id": "4f0e8a64-6a0e-4a49-9d1e-2b8f5a0b6c11", "attempts": 1}),
        ("sent by hand, no cause", "n-2", {
            "notification_id": "n-2", "channel": "email", "template": "approved",
            "recipient_masked": "z***@example.com", "cause_event_id": None, "attempts": 2})],
    "NotificationFailed": [("gave up", "n-3", {
        "notification_id": "n-3", "channel": "sms", "template": "rejected", "recipient_masked": "138****5678",
        "cause_event_id": None, "attempts": 5, "reason": "号码已停机"})],
}


def example_events(event_type):
    """[(name, CloudEvents envelope)] for `event_type`, with fixed ids so the document is stable."""
    source = CATALOGUE[event_type][0]
    return [(name, {
        "specversion": "1.0", "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"example/{event_type}/{index}")),
        "source": source, "type": event_type, "subject": subject, "time": EXAMPLE_TIME,
        "datacontenttype": "application/json", "dataversion": 1, "data": data})
        for index, (name, subject, data) in enumerate(EXAMPLES.get(event_type, []), start=1)]


def _json_schema(schema_cls):
    return _converter.schema2jsonschema(schema_cls())


def document():
    channels, operations, messages, schemas = {}, {}, {}, {}
    envelope = _json_schema(Envelope)
    for event_type, (source, schema_cls, description) in CATALOGUE.items():
        exchange = exchange_of(source)
        channel_id = f"{source}_{event_type}"
        schemas[f"{event_type}Data"] = _json_schema(schema_cls)
        payload = {"allOf": [{"$ref": "#/components/schemas/CloudEventEnvelope"}, {
            "type": "object",
            "properties": {"type": {"const": event_type}, "source": {"const": source},
                           "data": {"$ref": f"#/components/schemas/{event_type}Data"}}}]}
        messages[event_type] = {
            "name": event_type, "title": event_type, "summary": description,
            "contentType": CONTENT_TYPE, "payload": payload,
            "bindings": {"amqp": {"messageType": event_type, "bindingVersion": "0.3.0"}},
            "examples": [{"name": name, "payload": event} for name, event in example_events(event_type)],
        }
        channels[channel_id] = {
            "address": event_type,
            "description": f"Routing key `{event_type}` on the durable topic exchange `{exchange}`.",
            "messages": {event_type: {"$ref": f"#/components/messages/{event_type}"}},
            "bindings": {"amqp": {"is": "routingKey", "exchange": {
                "name": exchange, "type": "topic", "durable": True, "autoDelete": False, "vhost": "/"},
                "bindingVersion": "0.3.0"}},
        }
        operations[f"receive{event_type}"] = {
            "action": "receive", "channel": {"$ref": f"#/channels/{channel_id}"},
            "summary": f"Subscribe to {event_type}: bind your own durable queue to `{exchange}` "
                       f"with routing key `{event_type}` (or `#`).",
            "messages": [{"$ref": f"#/channels/{channel_id}/messages/{event_type}"}],
        }
    schemas = {"CloudEventEnvelope": envelope, **schemas}
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "社会工作者职业水平证书登记 — events",
            "version": "1.1.0",
            "description": (
                "CloudEvents 1.0 (structured JSON) on AMQP 0-9-1. Messages are persistent, "
                "content_type application/cloudevents+json, message_id = event id, type = event type. "
                "Delivery is at-least-once: de-duplicate on (source, id); a replay of the archive "
                "(docs/operations.md, \"Outside subscribers\") sends events again with the same id and body. "
                "An outside system gets an account that may declare and bind only queues named "
                "`<account>.<anything>`. `dataversion` starts at 1; a breaking change makes a new event type. "
                "What changed in each version (no field was renamed or removed): docs/contract-versions.md. "
                "Generated from services/contracts/events.py."),
        },
        "defaultContentType": CONTENT_TYPE,
        "servers": {
            "local": {"host": "127.0.0.1:5672", "protocol": "amqp", "protocolVersion": "0.9.1"},
            "production": {"host": "{server_name}:5671", "protocol": "amqps", "protocolVersion": "0.9.1",
                           "description": "TLS with the operator's certificate (the web site's host name)",
                           "variables": {"server_name": {"description": "SERVER_NAME of the deployment"}}},
        },
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": schemas},
    }


def render():
    return yaml.safe_dump(document(), allow_unicode=True, sort_keys=False, width=100)


if __name__ == "__main__":
    sys.stdout.write(render())
