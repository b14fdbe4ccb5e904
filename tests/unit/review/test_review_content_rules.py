"""The content rules on their own, with the fake detector: faces in the 2-inch photo, ID sides,
duplicates, the verdict's checks and reasons. The real detector on the labelled set is in
test_review_content_labelled_set.py."""
import random

import pytest
from PIL import Image

from services.review.adapters.face_detector import FakeFaceDetector
from services.review.domain import card_sides, content, duplicates
from services.review.domain.faces import Face, detect_faces, strong_faces
from services.review.domain.findings import wilson_lower
from services.review.domain.phash import bands, hamming, phash
from services.review.domain.photo_face import photo_findings
from services.review.domain.thresholds import DEFAULT as T
from services.review.domain.verdict import Verdict

W, H = 413, 626
GREY = Image.new("L", (W, H), 128)


def face(left=0.285, top=0.22, width=0.43, neighbours=25):
    return Face(left, top, width, width * W / H, neighbours)


def codes(findings):
    return [(f.code, f.severity) for f in findings]


def test_a_centred_face_of_the_right_size_passes_with_a_confidence():
    [finding] = photo_findings([face()], W, H)
    assert (finding.code, finding.ok, finding.severity) == ("one_face", True, "info")
    assert 0.9 < finding.confidence < 1 and "证件照" in finding.message


@pytest.mark.parametrize("faces, expected", [
    ([], "no_face"),
    ([face(left=0.08, width=0.3), face(left=0.6, width=0.3)], "several_faces"),
    ([face(left=0.41, width=0.19)], "face_too_small"),
    ([face(left=0.05, width=0.9)], "face_too_large"),
    ([face(left=0.005)], "face_cut_off"),
    ([face(left=0.6, width=0.395)], "face_cut_off"),
    ([face(left=0.07)], "face_off_centre"),
    ([face(top=0.04)], "face_cut_off"),
    ([face(top=0.5)], "face_too_low"),
])
def test_each_problem_refuses_and_says_how_to_fix_it(faces, expected):
    findings = photo_findings(faces, W, H)
    assert (findings[0].code, findings[0].severity, findings[0].ok) == (expected, "refuse", False)
    assert "两寸免冠照片" in findings[0].message and "请" in findings[0].message


def test_which_way_is_named():
    assert "偏左" in photo_findings([face(left=0.07)], W, H)[0].message
    assert "偏右" in photo_findings([face(left=0.5)], W, H)[0].message
    assert "头顶" in photo_findings([face(top=0.04)], W, H)[0].message
    assert "左侧" in photo_findings([face(left=0.005)], W, H)[0].message


def test_a_weak_face_with_a_problem_only_warns():
    [finding] = photo_findings([face(left=0.07, neighbours=4)], W, H)
    assert (finding.code, finding.severity) == ("face_off_centre", "warn")


def test_specks_and_weak_boxes_do_not_count_as_people():
    main, speck, weak = face(), face(left=0.1, top=0.8, width=0.1), face(left=0.6, width=0.3, neighbours=2)
    assert strong_faces([main, speck, weak], T.min_neighbours, T.min_relative_face) == [main]


def test_the_detector_sees_a_small_copy_and_boxes_come_back_as_fractions():
    fake = FakeFaceDetector([(0.25, 0.2, 0.45, 30)])
    [found] = detect_faces(fake, GREY, 200, 0.25)
    [(size, min_px, max_px)] = fake.calls
    assert size == (200, 303) and min_px == 50 and max_px == 200
    assert found.left == pytest.approx(0.25, abs=0.01) and found.width == pytest.approx(0.45, abs=0.01)


def test_inspect_looks_for_small_faces_only_when_no_large_one_is_found():
    fake = FakeFaceDetector([(0.4, 0.24, 0.18, 9)])
    result = content.inspect("photo", GREY, fake)
    assert len(fake.calls) == 2 and codes(result.findings) == [("face_too_small", "refuse")]
    assert set(result.fingerprints) == {"image"}  # a portrait hash only for an accepted face
    good = content.inspect("photo", GREY, FakeFaceDetector([(0.285, 0.22, 0.43, 25)]))
    assert codes(good.findings) == [("one_face", "info")] and set(good.fingerprints) == {"image", "portrait"}


def test_certificate_gets_a_hash_and_no_face_search():
    fake = FakeFaceDetector([(0.3, 0.3, 0.2, 30)])
    result = content.inspect("certificate", GREY, fake)
    assert fake.calls == [] and result.findings == [] and len(result.fingerprints["image"]) == 16


# --- ID sides ----------------------------------------------------------------------------------

CARD_FACE = Face(0.65, 0.29, 0.107, 0.17, 20)


def test_front_with_a_portrait_and_back_without_pass():
    assert codes(card_sides.side_findings("id_card_front", [CARD_FACE])) == [("portrait_found", "info")]
    assert codes(card_sides.side_findings("id_card_back", [])) == [("no_portrait_on_back", "info")]


def test_swapped_sides_refuse_when_the_evidence_is_strong():
    [front] = card_sides.side_findings("id_card_front", [])
    [back] = card_sides.side_findings("id_card_back", [CARD_FACE])
    for finding in (front, back):
        assert finding.severity == "refuse" and "正反面可能上传反了" in finding.message
        assert finding.confidence >= T.side_refuse_confidence


def test_swapped_sides_only_warn_when_the_evidence_is_weak():
    blurred_front = card_sides.side_findings("id_card_front", [], picture_ok=False)
    weak_back = card_sides.side_findings("id_card_back", [Face(0.1, 0.3, 0.13, 0.2, 4)])
    assert codes(blurred_front) == [("no_portrait_on_front", "warn")] and blurred_front[0].confidence == 0.5
    assert codes(weak_back) == [("portrait_on_back", "warn")] and weak_back[0].confidence < 0.9


# --- verdict -----------------------------------------------------------------------------------

def test_refusing_findings_become_issues_and_warnings_only_reasons():
    verdict = Verdict(kind="id_card_back", ok=True)
    verdict.add_findings(card_sides.side_findings("id_card_back", [Face(0.1, 0.3, 0.13, 0.2, 4)]))
    out = verdict.to_dict()
    assert out["ok"] is True and out["issues"] == [] and out["reasons"] == [out["checks"][0]["message"]]
    assert set(out["checks"][0]) >= {"code", "ok", "message", "confidence"}
    verdict.add_findings(card_sides.side_findings("id_card_back", [CARD_FACE]))
    out = verdict.to_dict()
    assert out["ok"] is False and [i["code"] for i in out["issues"]] == ["portrait_on_back"]
    assert out["reasons"][0] == out["issues"][0]["message"]


def test_wilson_lower_bound_claims_less_on_few_samples():
    assert wilson_lower(30, 30) == pytest.approx(0.886, abs=0.01)
    assert wilson_lower(300, 300) > 0.98 and wilson_lower(0, 1) == 0.0 and wilson_lower(0, 0) == 0.0


# --- hashes and duplicates ---------------------------------------------------------------------

def test_phash_is_stable_under_resizing_and_differs_for_other_pictures():
    rnd = random.Random(1)
    im = Image.new("L", (300, 400))
    im.putdata([rnd.randrange(256) // 64 * 64 for _ in range(300 * 400)])
    im = im.resize((30, 40)).resize((300, 400))
    assert hamming(phash(im), phash(im.resize((150, 200)))) <= 4
    assert hamming(phash(im), phash(im.transpose(Image.Transpose.FLIP_LEFT_RIGHT))) > 10


def test_band_probes_find_every_hash_within_reach():
    rnd = random.Random(7)
    for _ in range(200):
        value = rnd.getrandbits(64)
        other = value
        for bit in rnd.sample(range(64), rnd.randint(0, duplicates.INDEX_REACH)):
            other ^= 1 << bit
        probes = duplicates.probe_values(f"{value:016x}")
        assert any(b in p for b, p in zip(bands(f"{other:016x}", 4), probes, strict=True))


def test_same_picture_in_another_slot_is_refused_and_named():
    h = "0f0f0f0f0f0f0f0f"
    near = f"{int(h, 16) ^ 0b111:016x}"
    [finding] = duplicates.same_application_findings("certificate", h, [("id_card_back", near), ("photo", "f" * 16)])
    assert finding.code == "same_as_other_material" and finding.severity == "refuse"
    assert "身份证国徽面" in finding.message and "职业水平证书" in finding.message
    assert duplicates.same_application_findings("certificate", h, [("certificate", h)]) == []


def test_other_account_flag_counts_accounts_and_names_nobody():
    flag = duplicates.other_account_flag("photo", [3, 9, 30])
    assert flag["code"] == "same_photo_other_account" and flag["accounts"] == 2 and flag["distance"] == 3
    assert duplicates.other_account_flag("id_card_front", [2])["code"] == "same_portrait_other_account"
    assert duplicates.other_account_flag("photo", [T.cross_account_max + 1]) is None
