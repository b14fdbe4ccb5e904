"""Steps of the applicant and staff journeys through the HTTP API, shared by the e2e tests."""
import uuid

from nameko.standalone.rpc import ClusterRpcProxy

from services.common.idnumbers import checksum_char
from tests.support import images, staff_signin
from tests.support.system import beijing_window_around_now

ADMIN_PHONE, REVIEWER_PHONE = "13900000001", "13900000002"
STAFF_PASSWORD = "Staff-Passw0rd!"
APPLICANT_PASSWORD = "Appl1cant-Pass!"
ROSTER_HEADER = "姓名,证件类型,证件号码,级别,考试年度,职业水平证书管理号,批准日期,本地有效\n"


def staff(system, phone, role):
    """A new staff account, logged in through the API (enrolling its TOTP: tests/support/staff_signin.py)."""
    with ClusterRpcProxy({"AMQP_URI": system.amqp_uri}) as cluster:
        cluster.identity.create_staff(phone, role, STAFF_PASSWORD)
    client = system.client()
    staff_signin.via_api(client, phone, STAFF_PASSWORD)
    return client


def open_campaign(system, admin):
    opens_at, closes_at = beijing_window_around_now()
    campaign = admin.call("POST", "/api/v1/admin/campaigns", {
        "name": "2020年北京市社会工作者职业水平证书首次登记", "kind": "FIRST",
        "eligible_exam_years": [2019], "eligible_levels": ["ASSISTANT", "INTERMEDIATE"],
        "opens_at": opens_at, "closes_at": closes_at, "delivery_methods": ["MAIL"],
        "exclude_local_only": True, "allow_resubmit_after_close": True}, expect=201).json()
    return campaign


def import_roster(admin, rows):
    csv = ROSTER_HEADER + "".join(",".join(row) + "\n" for row in rows)
    return admin.call("POST", "/api/v1/admin/roster", data=csv.encode("utf-8"),
                      headers={"X-Filename": "roster.csv", "Content-Type": "text/csv"}, expect=200).json()


def roster_row(name, id_number, management_number, level="中级"):
    return [name, "居民身份证", id_number, level, "2019", management_number, "2019-12-20", "否"]


def numbered_id_number(i):
    """The i-th of a run of valid resident ID numbers (Beijing 朝阳, born in the 1990s), for rosters."""
    first17 = f"110105199{i % 10}0101{i:03d}"[:17]
    return first17 + checksum_char(first17)


def applicant(system, phone, name, id_number):
    client = system.client()
    client.call("POST", "/api/v1/sms-codes", {"phone": phone, "purpose": "register"}, expect=202)
    answer = client.call("POST", "/api/v1/accounts", {"phone": phone, "code": system.code_for(phone),
                                                      "password": APPLICANT_PASSWORD}, expect=201).json()
    client.token = answer["token"]
    verified = client.call("POST", "/api/v1/me/identity", {"name": name, "id_type": "RESIDENT_ID",
                                                           "id_number": id_number}, expect=200).json()
    assert verified["id_number_masked"] == id_number[:6] + "********" + id_number[-4:]
    return client


FORM = {
    "ethnicity": "01", "political_status": "13", "education": "BACHELOR", "major": "社会工作",
    "graduated_from": "北京大学", "graduated_on": "2015-07", "employer": "朝阳区阳光社会工作服务中心",
    "employer_category": "SOCIAL_WORK_AGENCY", "position": "社工", "years_in_social_work": 5,
    "service_district": "110105", "service_fields": ["SOCIAL_WELFARE", "COMMUNITY_BUILDING"],
    "mobile": "13800138000", "email": "applicant@example.com",
    "delivery": {"method": "MAIL", "recipient": "张三", "phone": "13800138000", "province": "北京市",
                 "city": "北京市", "district": "朝阳区", "address": "建国路88号院3号楼2单元501", "postcode": "100022"},
    "attestation": True, "consent_sensitive": True,
}

MATERIALS = {
    "id_card_front": lambda: images.jpeg(images.id_card(seed=1)),
    "id_card_back": lambda: images.jpeg(images.id_card_back(seed=2)),
    "certificate": lambda: images.jpeg(images.certificate(seed=3)),
    "photo": lambda: images.jpeg(images.photo(seed=4)),
}


def upload(client, application_id, kind, data, expect=200):
    return client.call("PUT", f"/api/v1/applications/{application_id}/materials/{kind}", data=data,
                       headers={"Content-Type": "image/jpeg"}, expect=expect).json()


def fill_and_upload(client, application_id):
    client.call("PATCH", f"/api/v1/applications/{application_id}", FORM, expect=200)
    for kind, make in MATERIALS.items():
        answer = upload(client, application_id, kind, make())
        assert answer["verdict"]["ok"], answer


def submit(client, application_id, key=None):
    return client.call("POST", f"/api/v1/applications/{application_id}/submit",
                       headers={"Idempotency-Key": key or uuid.uuid4().hex})
