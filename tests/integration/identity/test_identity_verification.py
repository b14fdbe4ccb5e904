"""Real-name verification (实名认证) over RPC: local rules, one account per ID, attempt limit, verifiers."""
import json
from datetime import datetime, timedelta, timezone

import eventlet
import pytest
from eventlet import wsgi

from services.common.idnumbers import checksum_char
from services.contracts.errors import Conflict, DomainError, NotFound, TooManyRequests, ValidationFailed

from .conftest import PHONE, register

T0 = datetime(2020, 7, 1, 2, 0, tzinfo=timezone.utc)  # 10:00 Beijing
VALID_ID = "11010519491231002X"
RETIRED_AREA_ID = "11010319800101001" + checksum_char("11010319800101001")  # 110103 崇文, retired


def refused(exc_type, expected, call, *args, **kwargs):
    with pytest.raises(exc_type) as caught:
        call(*args, **kwargs)
    assert caught.value.code == expected, (caught.value.code, caught.value.message)
    return caught.value


def second_account(identity, api, phone="13900000000"):
    return register(identity, api, phone=phone)["account_id"]


def test_verify_identity_records_the_level_and_shows_it_masked(identity, api):
    answer = register(identity, api)
    account_id = answer["account_id"]
    result = api.verify_identity(account_id, " 张三 ", "RESIDENT_ID", "110105 19491231 002x")  # typed loosely
    assert result == {"level": "format_checked", "name_masked": "张*", "id_number_masked": "110105********002X"}
    principal = api.authenticate(answer["token"])
    assert (principal["verified"], principal["verification_level"]) == (True, "format_checked")
    assert (principal["name_masked"], principal["id_number_masked"]) == ("张*", "110105********002X")
    assert api.identity_of(account_id) == {
        "name": "张三", "id_type": "RESIDENT_ID", "id_number": VALID_ID, "gender": "F",
        "birth_date": "1949-12-31", "level": "format_checked", "verified_at": api.identity_of(account_id)["verified_at"]}
    # a second click with the same data answers the same; other data is refused
    assert api.verify_identity(account_id, "张三", "RESIDENT_ID", VALID_ID) == result
    refused(Conflict, "already_verified", api.verify_identity, account_id, "李四", "RESIDENT_ID", RETIRED_AREA_ID)


def test_retired_area_codes_pass_and_id_type_defaults_to_resident_id(identity, api):
    account_id = register(identity, api)["account_id"]
    assert api.verify_identity(account_id, "阿依古丽·买买提", None, RETIRED_AREA_ID)["level"] == "format_checked"
    assert api.identity_of(account_id)["gender"] == "M"


@pytest.mark.parametrize("name, id_type, number, code, hint", [
    ("张三", "RESIDENT_ID", "360426199101010072", "invalid_id_number", "校验位"),
    ("张三", "RESIDENT_ID", "11010519990230" + "0012", "invalid_id_number", "出生日期"),
    ("张三", "RESIDENT_ID", "11010520991231" + "0010", "invalid_id_number", "出生日期"),
    ("张三", "RESIDENT_ID", "110105491231002", "invalid_id_number", "15位"),
    ("Zhang San", "RESIDENT_ID", VALID_ID, "invalid_name", "汉字"),
    ("张", "RESIDENT_ID", VALID_ID, "invalid_name", "至少"),
    ("John Smith", "PASSPORT", "E12345678", "id_type_not_accepted", "居民身份证"),
    ("张三", "NO_SUCH_TYPE", VALID_ID, "id_type_not_accepted", "居民身份证"),
])
def test_local_rules_refuse_with_a_reason(identity, api, name, id_type, number, code, hint):
    account_id = register(identity, api)["account_id"]
    error = refused(ValidationFailed, code, api.verify_identity, account_id, name, id_type, number)
    assert hint in error.message and int(error.http_status) == 422
    assert api.authenticate(api.login(PHONE, password="Passw0rd!x")["token"])["verified"] is False


def test_other_id_types_behind_configuration(start_identity):
    harness = start_identity(IDENTITY_ID_TYPES="RESIDENT_ID,PASSPORT")
    with harness.rpc() as api:
        account_id = register(harness, api)["account_id"]
        refused(ValidationFailed, "invalid_name", api.verify_identity, account_id, "J", "PASSPORT", "E12345678")
        assert api.verify_identity(account_id, "John Smith", "PASSPORT", "e12345678") == {
            "level": "format_checked", "name_masked": "J*********", "id_number_masked": "E*******8"}
        assert api.identity_of(account_id)["birth_date"] is None


def test_the_same_id_on_a_second_account_is_refused(identity, api):
    first = register(identity, api)["account_id"]
    api.verify_identity(first, "张三", "RESIDENT_ID", VALID_ID)
    other = second_account(identity, api)
    error = refused(Conflict, "id_number_taken", api.verify_identity, other, "张三", "RESIDENT_ID", VALID_ID.lower())
    assert int(error.http_status) == 409 and "只能认证一个账号" in error.message
    refused(NotFound, "identity_not_verified", api.identity_of, other)
    refused(NotFound, "account_not_found", api.verify_identity, "no-such-account", "张三", "RESIDENT_ID", VALID_ID)


def test_at_most_five_attempts_in_six_hours(identity, api, frozen_clock):
    frozen_clock(T0)
    first = register(identity, api)["account_id"]
    api.verify_identity(first, "张三", "RESIDENT_ID", VALID_ID)
    other = second_account(identity, api)
    for _ in range(3):  # typos refused by the local rules cost nothing
        refused(ValidationFailed, "invalid_id_number", api.verify_identity, other, "李四", "RESIDENT_ID",
                "360426199101010072")
    for minute in range(5):
        frozen_clock(T0 + timedelta(minutes=minute))
        refused(Conflict, "id_number_taken", api.verify_identity, other, "李四", "RESIDENT_ID", VALID_ID)
    frozen_clock(T0 + timedelta(minutes=10))
    error = refused(TooManyRequests, "verification_attempts_exceeded", api.verify_identity, other, "李四",
                    "RESIDENT_ID", RETIRED_AREA_ID)
    assert "北京时间7月1日16:00" in error.message and int(error.details["retry_after"]) == 6 * 3600 - 600
    frozen_clock(T0 + timedelta(hours=6))  # the first attempt left the window
    assert api.verify_identity(other, "李四", "RESIDENT_ID", RETIRED_AREA_ID)["level"] == "format_checked"


@pytest.fixture
def verifier_stub():
    """A loopback HTTP verifier speaking docs/identity-verifier.md; `state["mode"]` picks the answer."""
    state = {"mode": "match", "requests": []}

    def app(environ, start_response):
        body = json.loads(environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0)))
        state["requests"].append({"auth": environ.get("HTTP_AUTHORIZATION"), "body": body})
        if state["mode"] == "down":
            start_response("500 Internal Server Error", [("Content-Type", "text/plain")])
            return [b"boom"]
        answer = {"match": True} if state["mode"] == "match" else {"match": False, "reason": "姓名与证件号码不一致"}
        start_response("200 OK", [("Content-Type", "application/json")])
        return [json.dumps(answer, ensure_ascii=False).encode()]

    sock = eventlet.listen(("127.0.0.1", 0))
    server = eventlet.spawn(wsgi.server, sock, app, log_output=False)
    state["url"] = f"http://127.0.0.1:{sock.getsockname()[1]}/verify"
    yield state
    server.kill()
    sock.close()


def test_http_verifier_levels_mismatch_and_outage(start_identity, verifier_stub, frozen_clock):
    frozen_clock(T0)
    harness = start_identity(IDENTITY_VERIFIER="http", IDENTITY_VERIFIER_URL=verifier_stub["url"],
                             IDENTITY_VERIFIER_TOKEN="stub-token", IDENTITY_VERIFIER_TIMEOUT="3")
    with harness.rpc() as api:
        account_id = register(harness, api)["account_id"]
        verifier_stub["mode"] = "down"
        for _ in range(6):  # outages are not the applicant's attempts
            error = refused(DomainError, "verifier_unavailable", api.verify_identity, account_id, "张三",
                            "RESIDENT_ID", VALID_ID)
            assert int(error.http_status) == 503 and "稍后再试" in error.message
        verifier_stub["mode"] = "mismatch"
        error = refused(ValidationFailed, "identity_mismatch", api.verify_identity, account_id, "张三",
                        "RESIDENT_ID", VALID_ID)
        assert error.message == "姓名与证件号码不一致"
        verifier_stub["mode"] = "match"
        assert api.verify_identity(account_id, "张三", "RESIDENT_ID", VALID_ID)["level"] == "externally_verified"
        assert api.identity_of(account_id)["level"] == "externally_verified"
    last = verifier_stub["requests"][-1]
    assert last == {"auth": "Bearer stub-token",
                    "body": {"name": "张三", "id_type": "RESIDENT_ID", "id_number": VALID_ID}}


def test_concurrent_attempts_respect_the_limit(identity, api):
    first = register(identity, api)["account_id"]
    api.verify_identity(first, "张三", "RESIDENT_ID", VALID_ID)
    other = second_account(identity, api)

    def attempt(_):
        with identity.rpc() as proxy:
            try:
                proxy.verify_identity(other, "李四", "RESIDENT_ID", VALID_ID)
            except (Conflict, TooManyRequests) as exc:
                return exc.code

    answers = [t.wait() for t in [eventlet.spawn(attempt, i) for i in range(10)]]
    assert sorted(answers) == ["id_number_taken"] * 5 + ["verification_attempts_exceeded"] * 5


def test_one_id_on_two_accounts_at_once_one_wins(identity, api):
    accounts = [register(identity, api, phone=p)["account_id"] for p in ("13800000001", "13800000002")]

    def attempt(account_id):
        with identity.rpc() as proxy:
            try:
                return proxy.verify_identity(account_id, "张三", "RESIDENT_ID", VALID_ID)["level"]
            except Conflict as exc:
                return exc.code

    answers = [t.wait() for t in [eventlet.spawn(attempt, a) for a in accounts]]
    assert sorted(answers) == ["format_checked", "id_number_taken"]


def test_two_clicks_at_once_by_one_account_answer_alike(identity, api):
    account_id = register(identity, api)["account_id"]

    def attempt(_):
        with identity.rpc() as proxy:
            return proxy.verify_identity(account_id, "张三", "RESIDENT_ID", VALID_ID)

    answers = [t.wait() for t in [eventlet.spawn(attempt, i) for i in range(2)]]
    assert answers[0] == answers[1] == {"level": "format_checked", "name_masked": "张*",
                                        "id_number_masked": "110105********002X"}
