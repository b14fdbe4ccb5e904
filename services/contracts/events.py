"""The public event contract (EVENTS.md): CloudEvents 1.0 envelope + one marshmallow schema per event.

These schemas are the single source: services validate what they publish and what they consume
against them, and docs/asyncapi.yaml is generated from them (tests/unit/common/test_events_contract.py
fails when the two drift).
"""
import functools
import json
import uuid

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from services.common import clock

from .materials import KINDS
from .plain_load import plain_loader

SPECVERSION = "1.0"
CONTENT_TYPE = "application/cloudevents+json"
ISSUE_KINDS = KINDS


class MalformedEvent(ValueError):
    """A message that is not a valid event of our contract; it goes to the dead-letter queue."""


class EventData(Schema):
    class Meta:
        # Adding an optional field keeps the data version: consumers ignore what they do not know.
        unknown = EXCLUDE
        ordered = True


Iso = fields.String  # ISO 8601 datetime with offset, e.g. 2020-07-03T10:15:00.123+08:00


class AccountRegistered(EventData):
    account_id = fields.String(required=True)
    phone_masked = fields.String(required=True, metadata={"description": "138****1234"})
    registered_at = Iso(required=True)


class IdentityVerified(EventData):
    account_id = fields.String(required=True)
    id_type = fields.String(required=True)
    id_number_masked = fields.String(required=True)
    name_masked = fields.String(required=True)
    level = fields.String(required=True, validate=validate.OneOf(["format_checked", "externally_verified"]),
                          metadata={"description": "how the identity was verified"})
    verified_at = Iso(required=True)


class ApplicationSubmitted(EventData):
    application_id = fields.String(required=True)
    campaign_id = fields.String(required=True)
    account_id = fields.String(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(["FIRST", "RENEWAL", "LATE", "REISSUE"]))
    attempt = fields.Integer(required=True, validate=validate.Range(min=1))
    cert_level = fields.String(required=True)
    exam_year = fields.Integer(required=True)
    district_code = fields.String(required=True)
    material_ids = fields.Dict(keys=fields.String(), values=fields.String(), required=True,
                               metadata={"description": "material kind → stored material id"})
    submitted_at = Iso(required=True)


class Mailing(EventData):
    """The certificate's mailing (取证方式及邮寄信息): how and where the certificate is sent."""
    method = fields.String(required=True, metadata={"description": "MAIL (邮寄) or PICKUP (自取)"})
    recipient = fields.String(required=True)
    phone = fields.String(required=True)
    address = fields.String(required=True)
    postcode = fields.String(required=True)


class RegistrationCompleted(EventData):
    application_id = fields.String(required=True)
    registration_number = fields.String(required=True)
    name = fields.String(required=True)
    id_type = fields.String(required=True)
    id_number = fields.String(required=True, metadata={"description": "in full: the registry needs it"})
    cert_level = fields.String(required=True)
    management_number = fields.String(required=True)
    valid_from = fields.String(required=True, metadata={"description": "date, YYYY-MM-DD"})
    valid_until = fields.String(required=True, metadata={"description": "date, YYYY-MM-DD"})
    delivery = fields.Nested(Mailing, required=True, metadata={"description": (
        "the certificate's mailing (邮寄信息), not message delivery; the name is kept for compatibility "
        "(docs/contract-versions.md, 1.1)")})


class CertificateDispatched(EventData):
    application_id = fields.String(required=True)
    registration_number = fields.String(required=True)
    carrier = fields.String(required=True)
    tracking_number = fields.String(required=True)
    dispatched_at = Iso(required=True)


class MaterialIssue(EventData):
    kind = fields.String(required=True, validate=validate.OneOf(ISSUE_KINDS))
    reason = fields.String(required=True)


class ReviewCompleted(EventData):
    review_id = fields.String(required=True, metadata={"description": (
        "one per decision: from 1.1 on the review task's id; decisions made before keep the separate id "
        "they were published with (docs/contract-versions.md)")})
    application_id = fields.String(required=True)
    attempt = fields.Integer(required=True, validate=validate.Range(min=1))
    decision = fields.String(required=True, validate=validate.OneOf(["approved", "rejected"]))
    opinion = fields.String(required=True, allow_none=True)
    material_issues = fields.List(fields.Nested(MaterialIssue), required=True)
    reviewer_id = fields.String(required=True)
    completed_at = Iso(required=True)


class NotificationDelivered(EventData):
    notification_id = fields.String(required=True)
    channel = fields.String(required=True, validate=validate.OneOf(["sms", "email"]))
    template = fields.String(required=True)
    recipient_masked = fields.String(required=True)
    cause_event_id = fields.String(required=True, allow_none=True)
    attempts = fields.Integer(required=True)


class NotificationFailed(NotificationDelivered):
    reason = fields.String(required=True)


# event type → (source service, data schema, one-line description)
CATALOGUE = {
    "AccountRegistered": ("identity", AccountRegistered, "an account was created"),
    "IdentityVerified": ("identity", IdentityVerified, "real-name verification succeeded"),
    "ApplicationSubmitted": ("registration", ApplicationSubmitted,
                             "an applicant submitted (first time or after a rejection)"),
    "RegistrationCompleted": ("registration", RegistrationCompleted,
                              "the application was approved and a registration number assigned"),
    "CertificateDispatched": ("registration", CertificateDispatched, "staff recorded the mailing"),
    "ReviewCompleted": ("review", ReviewCompleted, "a reviewer decided"),
    "NotificationDelivered": ("notify", NotificationDelivered, "a message reached the provider"),
    "NotificationFailed": ("notify", NotificationFailed, "a message gave up"),
}


class Envelope(Schema):
    specversion = fields.String(required=True, validate=validate.Equal(SPECVERSION))
    id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    source = fields.String(required=True)
    type = fields.String(required=True)
    subject = fields.String(required=True)
    time = Iso(required=True)
    datacontenttype = fields.String(required=True, validate=validate.Equal("application/json"))
    dataversion = fields.Integer(required=True)
    data = fields.Dict(required=True)

    class Meta:
        unknown = EXCLUDE
        ordered = True


def exchange_of(source):
    return f"{source}.events"


@functools.cache
def _schema(cls):
    """One instance per schema class: building one costs more than validating an event with it, and
    an instance keeps no state between calls (no context, no partial, no only/exclude)."""
    return cls()


@functools.cache
def _plain(cls):
    """The quick path of `_schema(cls).load` (plain_load.py); None for a schema it does not cover."""
    return plain_loader(_schema(cls)) or (lambda data: None)


def _load(cls, data):
    """`_schema(cls).load(data)`, through the quick path when the data is plain."""
    loaded = _plain(cls)(data)
    return _schema(cls).load(data) if loaded is None else loaded


def new_event(event_type, subject, data, time=None):
    """Build a valid envelope, or raise ValueError: we never publish what breaks our own contract."""
    source, schema_cls, _ = CATALOGUE[event_type]
    schema = _schema(schema_cls)
    # plain data loads to what dump writes (the same fields, values unchanged): no second pass
    dumped = _plain(schema_cls)(data)
    if dumped is None:
        errors = schema.validate(data)
        if errors:
            raise ValueError(f"{event_type} data breaks the contract: {errors}")
        dumped = schema.dump(data)
    return {
        "specversion": SPECVERSION,
        "id": str(uuid.uuid4()),
        "source": source,
        "type": event_type,
        "subject": str(subject),
        "time": clock.iso(time or clock.now()),
        "datacontenttype": "application/json",
        "dataversion": 1,
        "data": dumped,
    }


def parse_event(body):
    """bytes/str/dict from the wire → a valid envelope dict; MalformedEvent otherwise."""
    try:
        if isinstance(body, (bytes, bytearray)):
            body = body.decode("utf-8")
        if isinstance(body, str):
            body = json.loads(body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise MalformedEvent(f"not JSON: {exc}") from None
    if not isinstance(body, dict):
        raise MalformedEvent("not a JSON object")
    try:
        envelope = _load(Envelope, body)
    except ValidationError as exc:
        raise MalformedEvent(f"bad envelope: {exc.messages}") from None
    entry = CATALOGUE.get(envelope["type"])
    if entry is None or entry[0] != envelope["source"]:
        raise MalformedEvent(f"unknown event {envelope['source']}/{envelope['type']}")
    try:
        envelope["data"] = _load(entry[1], envelope["data"])
    except ValidationError as exc:
        raise MalformedEvent(f"bad {envelope['type']} data: {exc.messages}") from None
    return envelope
