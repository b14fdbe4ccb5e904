"""docs/asyncapi.yaml (AsyncAPI 3.0) generated from the event schemas in services.contracts.events.

    python -m services.common.asyncapi > docs/asyncapi.yaml

tests/unit/common/test_events_contract.py fails when the committed document and the code drift.
"""
import sys

import yaml
from apispec.ext.marshmallow import OpenAPIConverter

from services.contracts.events import CATALOGUE, CONTENT_TYPE, Envelope, exchange_of

_converter = OpenAPIConverter(openapi_version="3.0.3", schema_name_resolver=lambda schema: None, spec=None)


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
            "version": "1.0.0",
            "description": (
                "CloudEvents 1.0 (structured JSON) on AMQP 0-9-1. Messages are persistent, "
                "content_type application/cloudevents+json, message_id = event id, type = event type. "
                "Delivery is at-least-once: de-duplicate on (source, id). `dataversion` starts at 1; "
                "a breaking change makes a new event type. Generated from services/contracts/events.py."),
        },
        "defaultContentType": CONTENT_TYPE,
        "servers": {"local": {"host": "127.0.0.1:5672", "protocol": "amqp", "protocolVersion": "0.9.1"}},
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": schemas},
    }


def render():
    return yaml.safe_dump(document(), allow_unicode=True, sort_keys=False, width=100)


if __name__ == "__main__":
    sys.stdout.write(render())
