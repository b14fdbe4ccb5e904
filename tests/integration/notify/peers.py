"""Test doubles of notify's peers on the real platform: small nameko services named "identity" and
"registration" that answer `contact_of` (and registration `contacts_of`, docs/rpc.md) from a table the test fills. The registration
stand-in also publishes events through its outbox (`emit`), as the real services do; the relay
sends each to its source's exchange (`review.events` for ReviewCompleted), so one publisher is
enough (every container costs the test about two seconds to stop)."""
from nameko.rpc import rpc
from sqlalchemy import MetaData

from services.common.providers import Database
from services.common.tables import add_platform_tables
from services.contracts.errors import NotFound
from services.contracts.events import new_event

peer_metadata = MetaData()
add_platform_tables(peer_metadata)

LONG_NAME = "买买提·艾力·阿不都热合曼"
LONG_ADDRESS = "北京市朝阳区建国路88号SOHO现代城A座1201室（物业前台代收，工作日9:00-18:00）"


class Directory:
    """What the stand-ins answer; reset by the fixture for every test."""
    phones = {}  # account_id → phone
    applications = {}  # application_id → registration.contact_of answer
    calls = []  # (service, account or application id)
    batches = []  # the ids of each registration.contacts_of call

    @classmethod
    def reset(cls):
        cls.phones = {"acc-1": "13812345678", "acc-2": "15098765432"}
        cls.applications = {
            "app-1": {"account_id": "acc-1", "name": LONG_NAME, "mobile": "13912345678",
                      "email": "Maimaiti@Example.com",
                      "delivery": {"method": "mail", "recipient": LONG_NAME, "phone": "13912345678",
                                   "address": LONG_ADDRESS, "postcode": "100022"},
                      "resubmit_until": "2020-07-31T23:59:00+08:00"},
            "app-2": {"account_id": "acc-2", "name": "张三", "mobile": "15098765432", "email": None,
                      "delivery": {"method": "mail", "recipient": "张三", "phone": "15098765432",
                                   "address": "北京市海淀区中关村大街1号", "postcode": "100080"},
                      "resubmit_until": None},
        }
        cls.calls = []
        cls.batches = []


class IdentityStandIn:
    name = "identity"

    @rpc
    def contact_of(self, account_id):
        Directory.calls.append(("identity", account_id))
        if account_id not in Directory.phones:
            raise NotFound("没有这个账号", code="account_not_found")
        return {"phone": Directory.phones[account_id]}


class RegistrationStandIn:
    name = "registration"
    db = Database(peer_metadata)

    @rpc
    def emit(self, event_type, subject, data):
        """Publish one event (of any source) through this service's outbox; returns the envelope."""
        event = new_event(event_type, subject, data)
        with self.db.uow() as uow:
            uow.publish(event)
        return event

    @rpc
    def contact_of(self, application_id):
        Directory.calls.append(("registration", application_id))
        if application_id not in Directory.applications:
            raise NotFound("没有这个申请", code="application_not_found")
        return dict(Directory.applications[application_id])

    @rpc
    def contacts_of(self, application_ids):
        """As registration's: {id: contact_of answer}, unknown ids left out; one call recorded."""
        Directory.batches.append(list(application_ids))
        Directory.calls.extend(("registration", application_id) for application_id in application_ids)
        return {application_id: dict(Directory.applications[application_id])
                for application_id in application_ids if application_id in Directory.applications}


class OlderRegistrationStandIn(RegistrationStandIn):
    """A registration from before contacts_of (a rolling upgrade): contact_of only."""
    contacts_of = None


# --- event data, as the owners publish it (services.contracts.events) ---------------------------------
def account_registered(account_id="acc-1"):
    return {"account_id": account_id, "phone_masked": "138****5678",
            "registered_at": "2020-07-03T10:00:00.000+08:00"}


def application_submitted(application_id="app-1", account_id="acc-1", attempt=1):
    return {"application_id": application_id, "campaign_id": "c-2020", "account_id": account_id,
            "kind": "FIRST", "attempt": attempt, "cert_level": "INTERMEDIATE", "exam_year": 2019,
            "district_code": "110105", "material_ids": {"photo": "m-1", "certificate": "m-2"},
            "submitted_at": "2020-07-03T10:15:00.123+08:00"}


def review_completed(application_id="app-1", attempt=1, decision="rejected"):
    return {"review_id": f"rv-{application_id}-{attempt}", "application_id": application_id, "attempt": attempt,
            "decision": decision, "opinion": "两寸照片不符合要求，身份证反面不清晰" if decision == "rejected" else None,
            "material_issues": [{"kind": "photo", "reason": "照片背景有杂物，请上传免冠正面照"},
                                {"kind": "id_card_back", "reason": "图片模糊，看不清有效期"}]
            if decision == "rejected" else [],
            "reviewer_id": "staff-9", "completed_at": "2020-07-05T16:00:00.000+08:00"}


def registration_completed(application_id="app-1"):
    contact = Directory.applications.get(application_id) or Directory.applications["app-1"]
    return {"application_id": application_id, "registration_number": "BJ2020-SG-000123",
            "name": contact["name"], "id_type": "resident_id", "id_number": "110105199001011234",
            "cert_level": "INTERMEDIATE", "management_number": "2019110105000123",
            "valid_from": "2020-07-06", "valid_until": "2023-07-05", "delivery": contact["delivery"]}


def certificate_dispatched(application_id="app-1"):
    return {"application_id": application_id, "registration_number": "BJ2020-SG-000123",
            "carrier": "中国邮政EMS", "tracking_number": "1187654321098",
            "dispatched_at": "2020-08-10T09:30:00.000+08:00"}
