"""Where each service keeps values sealed with DATA_KEYS: what rotate-keys re-encrypts and the backup
reads the key ids of.

Every `*_enc` column of the services' models must be listed here, with the context its service binds
(tests/ops/test_key_rotation_registry.py fails on a new one that is not). Outbox payloads keep the
event's data sealed in the JSON field `data_sealed` (context "outbox") once the outbox seals at rest;
rows from before that hold no sealed field and are left alone. Material images are files, not
columns: `<kind>/<xx>/<sha256>[.thumb].jpg.enc` under the materials directory, sealed with the
material kind as context (services/review/adapters/storage.py).
"""
import json
from dataclasses import dataclass

from services.identity import models as identity
from services.notify import models as notify
from services.registration import models as registration


@dataclass(frozen=True)
class SealedColumn:
    service: str
    table: str
    column: str
    context: str
    key: str  # the primary key column (one column in every table listed)
    json_field: str | None = None  # the sealed value is this field of a JSON text

    @property
    def name(self):
        return f"{self.service}.{self.table}.{self.column}"

    def token_of(self, stored):
        """The sealed token inside a stored value (None: nothing sealed in it)."""
        if stored is None or self.json_field is None:
            return stored
        if f'"{self.json_field}"' not in stored:
            return None
        token = json.loads(stored).get(self.json_field)
        return token if isinstance(token, str) else None

    def with_token(self, stored, old, new):
        """The stored value with its sealed token replaced (the rest of a JSON text untouched)."""
        return new if self.json_field is None else stored.replace(old, new, 1)


OUTBOX_CONTEXT = "outbox"  # services.common.outbox seals an event's data with this context


def _outbox(service):
    return SealedColumn(service, "outbox", "payload", OUTBOX_CONTEXT, "id", json_field="data_sealed")


SEALED_COLUMNS = (
    SealedColumn("identity", "accounts", "phone_enc", identity.PHONE, "id"),
    SealedColumn("identity", "identities", "id_number_enc", identity.ID_NUMBER, "account_id"),
    SealedColumn("identity", "identities", "name_enc", identity.NAME, "account_id"),
    SealedColumn("identity", "staff_totp", "secret_enc", identity.TOTP_SECRET, "account_id"),
    _outbox("identity"),
    SealedColumn("registration", "roster_records", "id_number_enc", "roster.id_number", "id"),
    SealedColumn("registration", "roster_records", "name_enc", "roster.name", "id"),
    SealedColumn("registration", "applications", "personal_enc", "application.personal", "id"),
    SealedColumn("registration", "submissions", "personal_enc", "submission.personal", "id"),
    SealedColumn("registration", "submissions", "answer_enc", "submission.answer", "id"),
    SealedColumn("registration", "feedback", "name_enc", registration.FEEDBACK_NAME, "id"),
    SealedColumn("registration", "feedback", "id_number_enc", registration.FEEDBACK_ID_NUMBER, "id"),
    _outbox("registration"),
    _outbox("review"),
    SealedColumn("notify", "notifications", "recipient_enc", notify.RECIPIENT, "id"),
    SealedColumn("notify", "notifications", "body_enc", notify.BODY, "id"),
    SealedColumn("notify", "notifications", "params_enc", notify.PARAMS, "id"),
    SealedColumn("notify", "account_phones", "phone_enc", notify.PHONE, "account_id"),
    _outbox("notify"),
)


def columns_of(service):
    return [c for c in SEALED_COLUMNS if c.service == service]


def material_context(relative_path):
    """The context a material file is sealed with: its kind, the first component of its path."""
    return relative_path.replace("\\", "/").split("/", 1)[0]
