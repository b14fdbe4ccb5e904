from tests.integration.identity.conftest import NotifyStandIn, Harness
import pytest
from tests.integration.identity.conftest import *  # noqa

def test_smoke(identity, api):
    phone = "13812345678"
    print(api.send_code(phone, "register", "10.0.0.1"))
    code = Harness.code_for(phone, "register")
    answer = api.register(phone, code, "Passw0rd!x", "10.0.0.1")
    print(answer)
    print(api.authenticate(answer["token"]))
    print(api.login(phone, password="Passw0rd!x"))
    print(api.verify_identity(answer["account_id"], "张三", "RESIDENT_ID", "11010519491231002x"))
    print(api.identity_of(answer["account_id"]))
    print(api.authenticate(answer["token"]))
