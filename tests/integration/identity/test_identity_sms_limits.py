"""SMS limits per (phone, client) and the human check, on the real broker and database (docs/signin.md).

The captcha image is drawn for real; a spy beside the drawing reads the answer the way a person
reads the picture.
"""
from datetime import timedelta

import pytest

from services.contracts.errors import TooManyRequests, ValidationFailed
from services.identity import captchas

from .conftest import PHONE, NotifyStandIn
from .test_identity_accounts import T0, refused

STRANGER, OWNER = ("198.51.100.7", "stranger-device-0001"), ("203.0.113.5", "owner-device-000001")


@pytest.fixture
def answers(monkeypatch):
    seen = []
    draw = captchas.captcha_image.data_url

    def spy(answer):
        seen.append(answer)
        return draw(answer)
    monkeypatch.setattr(captchas.captcha_image, "data_url", spy)
    return seen


def send(api, client, purpose="login", captcha=None):
    return api.send_code(PHONE, purpose, client[0], client[1], captcha)


def test_a_stranger_cannot_spend_the_owners_codes(identity, frozen_clock, answers):
    with identity.rpc() as api:
        for minute in range(3):  # once a minute, from the stranger's own client
            frozen_clock(T0 + timedelta(minutes=minute))
            send(api, STRANGER)
        frozen_clock(T0 + timedelta(minutes=3))
        error = refused(TooManyRequests, "captcha_required", send, api, STRANGER)
        challenge = error.details["captcha"]
        assert challenge["image"].startswith("data:image/png;base64,") and int(challenge["wait_seconds"]) == 300
        assert "等待5分钟后可直接获取验证码" in error.message
        send(api, STRANGER, captcha={"captcha_id": challenge["captcha_id"], "captcha_answer": answers[-1]})
        frozen_clock(T0 + timedelta(minutes=4))
        error = refused(TooManyRequests, "captcha_required", send, api, STRANGER)
        send(api, STRANGER, captcha={"captcha_id": error.details["captcha"]["captcha_id"],
                                     "captcha_answer": answers[-1]})
        frozen_clock(T0 + timedelta(minutes=5))
        error = refused(TooManyRequests, "sms_code_daily_cap_client", send, api, STRANGER)
        assert int(error.details["retry_after"]) > 0
        # The owner, from their own client, still gets a login and a reset code (after the human check).
        for purpose in ("login", "reset_password"):
            error = refused(TooManyRequests, "captcha_required", send, api, OWNER, purpose)
            send(api, OWNER, purpose, captcha={"captcha_id": error.details["captcha"]["captcha_id"],
                                               "captcha_answer": answers[-1]})
    assert [m["purpose"] for m in NotifyStandIn.inbox][-2:] == ["login", "reset_password"]


def test_a_captcha_is_single_use_bound_and_can_be_waited_out(identity, frozen_clock, answers):
    with identity.rpc() as api:
        for minute in range(3):
            frozen_clock(T0 + timedelta(minutes=minute))
            send(api, OWNER)
        frozen_clock(T0 + timedelta(minutes=3))
        first = refused(TooManyRequests, "captcha_required", send, api, OWNER).details["captcha"]
        right = answers[-1]
        # Another client cannot use it (it is bound to phone and client).
        refused(TooManyRequests, "captcha_required", send, api, (OWNER[0], "another-device-00001"),
                captcha={"captcha_id": first["captcha_id"], "captcha_answer": right})
        wrong = refused(ValidationFailed, "captcha_wrong", send, api, OWNER,
                        captcha={"captcha_id": first["captcha_id"], "captcha_answer": "0000"})
        assert "看不清可换一张" in wrong.message
        fresh = wrong.details["captcha"]
        refused(ValidationFailed, "captcha_used", send, api, OWNER,
                captcha={"captcha_id": first["captcha_id"], "captcha_answer": right})
        # The non-visual way: no answer, five minutes later.
        refused(TooManyRequests, "captcha_required", send, api, OWNER, captcha={"captcha_id": fresh["captcha_id"]})
        frozen_clock(T0 + timedelta(minutes=8))
        before = len(NotifyStandIn.inbox)
        send(api, OWNER, captcha={"captcha_id": fresh["captcha_id"], "captcha_answer": ""})
        assert len(NotifyStandIn.inbox) == before + 1
        # 换一张: a new challenge for this phone and client.
        other = api.new_captcha(PHONE, *OWNER)
        assert other["captcha_id"] != fresh["captcha_id"] and other["image"].startswith("data:image/png")


def test_the_answers_do_not_tell_registered_phones_apart(identity, frozen_clock, answers):
    with identity.rpc() as api:
        outcomes = []
        for phone, device in ((PHONE, "stranger-device-0002"), ("13900000000", "stranger-device-0003")):
            if phone == PHONE:
                api.send_code(PHONE, "register", *OWNER)
                api.register(PHONE, identity.code_for(PHONE, "register"), "Passw0rd!x", OWNER[0])
            frozen_clock(T0)
            seen = []
            for minute in range(1, 5):
                frozen_clock(T0 + timedelta(minutes=minute))
                try:
                    seen.append(sorted(api.send_code(phone, "login", STRANGER[0], device)))
                except TooManyRequests as exc:
                    seen.append(exc.code)
            outcomes.append(seen)
        assert outcomes[0] == outcomes[1]
