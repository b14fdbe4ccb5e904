"""An applicant on a phone-sized page: register with an SMS code, verify the real name, open the
pre-filled form, upload four photos (progress and verdict shown), save, submit after the explicit
confirmation, and read the notice's wording."""
import pathlib
import subprocess
import sys

import pytest

from tests.support import images
from tests.support.infra import wait_for
from tests.support.journey import ADMIN_PHONE, import_roster, open_campaign, roster_row, staff

pytestmark = pytest.mark.browser
HERE = pathlib.Path(__file__).parent

PHONE, NAME, ID_NUMBER = "13800138000", "张三", "11010519491231002X"


def write_images(tmp_path):
    files = {}
    for kind, im in {"id_card_front": images.id_card(seed=1), "id_card_back": images.id_card(seed=2),
                     "certificate": images.certificate(seed=3), "photo": images.photo(seed=4)}.items():
        path = tmp_path / f"{kind}.jpg"
        path.write_bytes(images.jpeg(im))
        files[kind] = str(path)
    bad = tmp_path / "one_inch.jpg"
    bad.write_bytes(images.jpeg(images.photo(width=295, height=413, seed=5)))
    files["one_inch"] = str(bad)
    return files


def test_applicant_registers_fills_uploads_and_submits(system, chromium, tmp_path):
    admin = staff(system, ADMIN_PHONE, "admin")
    open_campaign(system, admin)
    import_roster(admin, [roster_row(NAME, ID_NUMBER, "20191100000012345")])
    write_images(tmp_path)
    proc = subprocess.Popen([sys.executable, str(HERE / "drive_applicant.py"), system.base_url,
                             str(system.var_dir / "outbox" / "sms.jsonl"), str(tmp_path),
                             str(tmp_path / "submitted.png")], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    wait_for(lambda: proc.poll() is not None, timeout=240, interval=0.2, message="the browser run")
    output = proc.stdout.read().decode(errors="replace")
    assert proc.returncode == 0, output
