"""Test data of the registration domain tests: a clock under control, a complete form."""
from datetime import date, datetime, timezone

from services.registration.domain import codes

UTC = timezone.utc
# Inside the 2020 window: 2020-07-03 10:15 Beijing.
INSIDE = datetime(2020, 7, 3, 2, 15, tzinfo=UTC)
BEFORE = datetime(2020, 6, 30, 15, 59, 59, tzinfo=UTC)
AFTER = datetime(2020, 7, 31, 16, 0, tzinfo=UTC)
TODAY = date(2020, 7, 3)

MALE_ID = "110101199003071233"  # 17th digit 3: male, born 1990-03-07
FEMALE_ID = "110108198506150048"  # 17th digit 4: female, born 1985-06-15


def locked_fields(id_number=MALE_ID, gender="M", birth_date="1990-03-07"):
    return {
        "name": "张三", "id_type": "RESIDENT_ID", "id_number": id_number,
        "management_number": "0019110000012345", "cert_level": codes.ASSISTANT, "exam_year": 2019,
        "approval_date": "2019-12-20", "gender": gender, "birth_date": birth_date,
    }


def editable_fields():
    return {
        "ethnicity": "01", "political_status": "13", "education": "BACHELOR", "major": "社会工作",
        "graduated_from": "北京大学", "graduated_on": "2012-07", "employer": "东城区某社会工作事务所",
        "employer_category": "SOCIAL_WORK_AGENCY", "position": "社工", "years_in_social_work": 6,
        "service_district": "110101", "service_fields": ["SOCIAL_ASSISTANCE", "COMMUNITY_BUILDING"],
        "work_history": [{"start": "2012-08", "end": "2016-06", "employer": "某街道", "role": "干事"}],
        "mobile": "13812345678", "email": "zhangsan@example.com",
        "delivery": {"method": "MAIL", "recipient": "张三", "phone": "13812345678", "province": "北京市",
                     "city": "北京市", "district": "东城区", "address": "某街道1号", "postcode": "100010"},
        "attestation": True, "consent_sensitive": True,
    }


def complete_form():
    return {**locked_fields(), **editable_fields()}


def accepted_materials():
    return {kind: {"material_id": f"m-{kind}", "ok": True, "issues": []}
            for kind, _ in codes.MATERIAL_KIND}


