"""python -m services.review.materials_cli check --kind KIND FILE..."""
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from services.review.materials_cli import main
from tests.support import images
from tests.unit.review import review_material_samples as samples

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def face_photo():
    """A 2-inch photo with a real face: the CLI runs the content checks too."""
    return images.photo(seed=3)


def run(argv):
    out = io.StringIO()
    code = main(argv, out=out)
    return code, [json.loads(line) for line in out.getvalue().splitlines()]


def test_one_json_verdict_per_file_and_exit_1_when_any_fails(tmp_path, face_photo):
    good = tmp_path / "good.jpg"
    good.write_bytes(samples.jpeg(face_photo))
    one_inch = tmp_path / "one_inch.png"
    one_inch.write_bytes(samples.png(face_photo.resize((295, 413))))
    code, verdicts = run(["check", "--kind", "photo", str(good), str(one_inch)])
    assert code == 1
    assert [v["ok"] for v in verdicts] == [True, False]
    assert verdicts[0]["file"] == str(good)
    for key in ("kind", "ok", "issues", "width", "height", "format", "sharpness"):
        assert key in verdicts[0]
    assert verdicts[1]["issues"][0]["code"] == "wrong_photo_size"
    assert "一寸照片" in verdicts[1]["issues"][0]["message"]
    assert [(c["code"], c["ok"]) for c in verdicts[0]["checks"]] == [("one_face", True)]
    assert 0 < verdicts[0]["checks"][0]["confidence"] < 1


def test_exit_0_when_all_pass(tmp_path, face_photo):
    good = tmp_path / "good.jpg"
    good.write_bytes(samples.jpeg(face_photo))
    assert run(["check", "--kind", "photo", str(good)])[0] == 0


def test_prints_the_content_checks_of_an_id_side(tmp_path):
    back = tmp_path / "back.jpg"
    back.write_bytes(samples.jpeg(images.id_card(seed=1)))  # the 人像面, given as the back
    code, [verdict] = run(["check", "--kind", "id_card_back", str(back)])
    assert code == 1 and verdict["checks"][0]["code"] == "portrait_on_back"
    assert verdict["reasons"] and "正反面" in verdict["reasons"][0]


def test_unreadable_file_is_reported_not_raised(tmp_path):
    code, verdicts = run(["check", "--kind", "certificate", str(tmp_path / "missing.jpg")])
    assert code == 1 and verdicts[0]["ok"] is False and "无法读取" in verdicts[0]["error"]


def test_runs_as_a_module(tmp_path):
    path = tmp_path / "empty.jpg"
    path.write_bytes(b"")
    done = subprocess.run([sys.executable, "-m", "services.review.materials_cli", "check", "--kind", "id_card_front",
                           str(path)], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1, done.stderr
    verdict = json.loads(done.stdout)
    assert verdict["issues"][0]["code"] == "empty" and "身份证人像面" in verdict["issues"][0]["message"]
