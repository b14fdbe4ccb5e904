"""Domain events the Application aggregate returns. Plain frozen dataclasses.

`public` events are the contract of EVENTS.md: `data()` gives exactly the dict that
`services.contracts.events.new_event(type, subject, data, time=occurred_at)` validates and publishes.
Non-public events are facts for the application's own history (登记历史), never published.
"""
from dataclasses import dataclass, fields
from datetime import date, datetime
from typing import ClassVar

from services.common.clock import iso


class _Event:
    type: ClassVar[str]
    public: ClassVar[bool] = True

    @property
    def subject(self):
        return self.application_id

    def data(self):
        # Field by field, not dataclasses.asdict: _jsonable copies the dicts and lists anyway, and
        # asdict's deep copy of every value (datetimes included) cost more than the rest of it.
        return {f.name: _jsonable(getattr(self, f.name)) for f in fields(self)}


@dataclass(frozen=True)
class ApplicationSubmitted(_Event):
    type: ClassVar[str] = "ApplicationSubmitted"
    application_id: str
    campaign_id: str
    account_id: str
    kind: str
    attempt: int
    cert_level: str
    exam_year: int
    district_code: str
    material_ids: dict
    submitted_at: datetime

    @property
    def occurred_at(self):
        return self.submitted_at


@dataclass(frozen=True)
class ApplicationRejected(_Event):
    type: ClassVar[str] = "ApplicationRejected"
    public: ClassVar[bool] = False  # subscribers learn this from review's ReviewCompleted
    application_id: str
    attempt: int
    opinion: str
    material_issues: list
    rejected_at: datetime

    @property
    def occurred_at(self):
        return self.rejected_at


@dataclass(frozen=True)
class RegistrationCompleted(_Event):
    type: ClassVar[str] = "RegistrationCompleted"
    application_id: str
    registration_number: str
    name: str
    id_type: str
    id_number: str  # in full: the registry needs it (EVENTS.md)
    cert_level: str
    management_number: str
    valid_from: date
    valid_until: date
    mailing: dict  # method, recipient, phone, address, postcode — published as `delivery`
    approved_at: datetime

    @property
    def occurred_at(self):
        return self.approved_at

    def data(self):
        data = super().data()
        del data["approved_at"]  # the envelope's `time` carries it
        data["delivery"] = data.pop("mailing")  # the contract's name for the mailing, kept (docs/contract-versions.md)
        return data


@dataclass(frozen=True)
class CertificateDispatched(_Event):
    type: ClassVar[str] = "CertificateDispatched"
    application_id: str
    registration_number: str
    carrier: str
    tracking_number: str
    dispatched_at: datetime

    @property
    def occurred_at(self):
        return self.dispatched_at


def _jsonable(value):
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(item) for item in value]
    return value
