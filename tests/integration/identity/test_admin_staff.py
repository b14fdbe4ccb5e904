"""Staff accounts for the admin console: the new roles (三员分立), who may create which, the list."""
from datetime import datetime, timedelta, timezone

import pytest

from services.contracts.errors import Forbidden, ValidationFailed
from tests.support import staff_signin

from .conftest import register

pytestmark = pytest.mark.integration

T0 = datetime(2020, 7, 1, 2, 0, tzinfo=timezone.utc)
PASSWORD = "Staff-passw0rd!"


def refused(exc_type, expected, call, *args, **kwargs):
    with pytest.raises(exc_type) as caught:
        call(*args, **kwargs)
    assert caught.value.code == expected, (caught.value.code, caught.value.message)
    return caught.value


def principal(account_id, *roles):
    return {"account_id": account_id, "roles": list(roles)}


def test_who_may_create_which_staff_role(identity, api, frozen_clock):
    frozen_clock(T0)
    security = api.create_staff("13700000010", "security_admin", PASSWORD)  # the operator's first account
    admin = api.create_staff("13700000011", "admin", PASSWORD)
    sec, adm = principal(security["account_id"], "security_admin"), principal(admin["account_id"], "admin")

    for role, phone in (("auditor", "13700000012"), ("admin", "13700000013"), ("security_admin", "13700000014"),
                        ("reviewer", "13700000015")):
        assert api.create_staff(phone, role, PASSWORD, sec)["account_id"]
    assert api.create_staff("13700000016", "reviewer", PASSWORD, adm)["account_id"]
    for role in ("admin", "security_admin", "auditor"):
        error = refused(Forbidden, "role_not_allowed", api.create_staff, "13700000017", role, PASSWORD, adm)
        assert "安全管理员" in error.message
    auditor = principal("someone", "auditor")
    refused(Forbidden, "forbidden", api.create_staff, "13700000017", "reviewer", PASSWORD, auditor)
    refused(Forbidden, "forbidden", api.create_staff, "13700000017", "reviewer", PASSWORD,
            principal("r", "reviewer"))
    refused(ValidationFailed, "invalid_role", api.create_staff, "13700000017", "applicant", PASSWORD, sec)
    refused(ValidationFailed, "invalid_role", api.create_staff, "13700000017", "root", PASSWORD)


def test_list_staff_masks_phones_and_leaves_applicants_out(identity, api, frozen_clock):
    frozen_clock(T0)
    register(identity, api)  # an applicant
    admin = api.create_staff("13700000021", "admin", PASSWORD)
    reviewer = api.create_staff("13700000022", "reviewer", PASSWORD)
    auditor = api.create_staff("13700000023", "auditor", PASSWORD)
    frozen_clock(T0 + timedelta(minutes=1))
    staff_signin.via_rpc(api, "13700000022", PASSWORD)
    for viewer in ("admin", "security_admin", "auditor"):
        answer = api.list_staff(principal("v", viewer))
        listed = answer["staff"]
        assert answer["creatable_roles"] == {"admin": ["reviewer"], "auditor": [],
                                             "security_admin": ["admin", "auditor", "reviewer", "security_admin"]
                                             }[viewer]
        assert {s["account_id"] for s in listed} == {admin["account_id"], reviewer["account_id"],
                                                     auditor["account_id"]}
    by_id = {s["account_id"]: s for s in listed}
    assert by_id[reviewer["account_id"]]["phone_masked"] == "137****0022"
    assert by_id[reviewer["account_id"]]["last_seen_at"].startswith("2020-07-01T10:01")
    assert by_id[admin["account_id"]]["last_seen_at"] is None
    assert by_id[admin["account_id"]]["second_factor"] and by_id[reviewer["account_id"]]["second_factor"]
    assert (by_id[admin["account_id"]]["totp_enrolled"], by_id[reviewer["account_id"]]["totp_enrolled"]) == (
        False, True)
    assert "13700000022" not in str(listed)
    refused(Forbidden, "forbidden", api.list_staff, principal("r", "reviewer"))
    refused(Forbidden, "forbidden", api.list_staff, principal("a", "applicant"))
