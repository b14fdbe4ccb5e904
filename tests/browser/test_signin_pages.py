"""Sign-in pages in Debian's chromium: the 图形验证码 before an SMS code once a device is hammered
(JavaScript on, and off), and the security admin's reset of a reviewer's lost authenticator.

The captcha images are drawn for real; a spy beside the drawing writes each answer to a file the
driver reads, the way a person reads the picture."""
import pytest

from services.identity import captchas
from tests.browser.conftest import drive
from tests.support import staff_signin
from tests.support.journey import REVIEWER_PHONE, STAFF_PASSWORD, staff

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]
SECURITY_PHONE = "13900000031"


@pytest.fixture
def answers_file(monkeypatch, tmp_path):
    path = tmp_path / "captcha-answers.txt"
    draw = captchas.captcha_image.data_url

    def spy(answer):
        with open(path, "a", encoding="utf-8") as f:
            f.write(answer + "\n")
        return draw(answer)
    monkeypatch.setattr(captchas.captcha_image, "data_url", spy)
    return path


def test_captcha_before_the_code_and_a_reset_second_factor(system, chromium, answers_file):
    reviewer = staff(system, REVIEWER_PHONE, "reviewer")
    with system.rpc() as cluster:
        security = cluster.identity.create_staff(SECURITY_PHONE, "security_admin", STAFF_PASSWORD)
        reviewer_id = reviewer.call("GET", "/api/v1/me", expect=200).json()["account_id"]
    output = drive("drive_signin.py", system.base_url, answers_file, SECURITY_PHONE, STAFF_PASSWORD, reviewer_id)
    assert "sign-in pages: ok" in output
    # The reset took: sessions ended, enrolment again at the next login, and it is on record.
    assert reviewer.call("GET", "/api/v1/me").status_code == 401
    again = system.client()
    assert again.call("POST", "/api/v1/sessions", {"phone": REVIEWER_PHONE, "password": STAFF_PASSWORD},
                      expect=202).json()["second_factor"] == "enrol"
    staff_signin.via_api(again, REVIEWER_PHONE, STAFF_PASSWORD)
    with system.rpc() as cluster:
        events = cluster.identity.security_events(reviewer_id)
    assert [(e["action"], e["actor_id"]) for e in events] == [
        ("second_factor_enrolled", reviewer_id), ("second_factor_reset", security["account_id"]),
        ("second_factor_enrolled", reviewer_id)]
