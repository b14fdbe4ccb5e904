"""The applicant's whole path through the pages, in Debian's chromium, leaving and coming back:
apply (phone size), a reviewer rejects the photo, resubmit from a fresh browser by keyboard
(desktop size), approval and mailing, then the result and 登记历史 (phone size). A second run
does the first phase with JavaScript off: the pages must work without it."""
import pytest

from tests.browser.conftest import drive
from tests.support import images
from tests.support.infra import wait_for
from tests.support.journey import (
    ADMIN_PHONE,
    REVIEWER_PHONE,
    import_roster,
    open_campaign,
    roster_row,
    staff,
)

pytestmark = [pytest.mark.browser, pytest.mark.timeout(900)]
NAME, ID_NUMBER = "张三", "11010519491231002X"
PHONE_SIZE, DESKTOP_SIZE = "390x844", "1366x900"


def write_images(folder):
    made = {"id_card_front": images.id_card(seed=1), "id_card_back": images.id_card_back(seed=2),
            "certificate": images.certificate(seed=3), "photo": images.photo(seed=4),
            "photo2": images.photo(seed=9), "one_inch": images.photo(width=295, height=413, seed=5)}
    for name, im in made.items():
        (folder / f"{name}.jpg").write_bytes(images.jpeg(im))
    return folder


def prepared(system):
    admin = staff(system, ADMIN_PHONE, "admin")
    open_campaign(system, admin)
    import_roster(admin, [roster_row(NAME, ID_NUMBER, "20191100000012345")])
    return admin


def decide(system, reviewer, application_id, attempt, decision, issues=()):
    def task():
        found = [t for t in reviewer.call("GET", "/api/v1/review/tasks", expect=200).json()
                 if t["application_id"] == application_id and t["attempt"] == attempt]
        return found[0] if found else None
    t = wait_for(task, message=f"review task for attempt {attempt}")
    reviewer.call("POST", f"/api/v1/review/tasks/{t['id']}/claim", expect=200)
    reviewer.call("POST", f"/api/v1/review/tasks/{t['id']}/decision",
                  {"decision": decision, "opinion": "请按意见修改" if issues else None,
                   "material_issues": list(issues)}, expect=200)


def application_id_of(output):
    return next(line.split()[1] for line in output.splitlines() if line.startswith("APPLICATION "))


def test_apply_come_back_rejected_resubmit_approved(system, chromium, tmp_path):
    admin = prepared(system)
    reviewer = staff(system, REVIEWER_PHONE, "reviewer")
    folder = write_images(tmp_path)
    base, var = system.base_url, system.var_dir

    app_id = application_id_of(drive("drive_applicant.py", "apply", base, var, folder, PHONE_SIZE))
    decide(system, reviewer, app_id, 1, "rejected", [{"kind": "photo", "reason": "照片背景有杂物，请重新拍摄"}])
    wait_for(lambda: system.sms_to("13800138000", "未通过"), message="the rejection SMS")

    drive("drive_applicant.py", "resubmit", base, var, folder, DESKTOP_SIZE)
    decide(system, reviewer, app_id, 2, "approved")
    wait_for(lambda: system.sms_to("13800138000", "审核通过"), message="the approval SMS")
    admin.call("POST", f"/api/v1/admin/applications/{app_id}/dispatch",
               {"carrier": "顺丰速运", "tracking_number": "SF1234567890"}, expect=200)

    drive("drive_applicant.py", "approved", base, var, folder, PHONE_SIZE)


@pytest.mark.slow  # the full matrix runs in make test-slow; make test keeps the smoke path above
def test_apply_without_javascript(system, chromium, tmp_path):
    prepared(system)
    drive("drive_applicant.py", "apply", system.base_url, system.var_dir, write_images(tmp_path), DESKTOP_SIZE,
          "nojs")
