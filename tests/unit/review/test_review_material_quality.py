"""Sharpness and exposure: the calibrated thresholds hold on samples the calibration never saw."""
import pytest
from PIL import Image

from services.review.domain.materials import CheckPolicy, check_material
from tests.unit.review import review_material_samples as samples

POLICY = CheckPolicy()


def codes(verdict):
    return [issue.code for issue in verdict.issues]


def test_held_out_sharp_and_blurred_samples_are_told_apart():
    wrong = []
    for name, label, data in samples.validation_set():
        verdict = check_material("certificate", data, CheckPolicy(certificate_min_long_side=0))
        blurry = "blurry" in codes(verdict)
        if blurry != (label == "blurred"):
            wrong.append((name, label, verdict.sharpness))
    assert wrong == []


@pytest.mark.parametrize("radius", [3, 6])
def test_gaussian_blurred_card_is_blurry(card_im, radius):
    verdict = check_material("id_card_front", samples.jpeg(samples.gaussian(card_im, radius)))
    assert codes(verdict) == ["blurry"]
    message = verdict.issues[0].message
    assert "身份证人像面" in message and "不够清晰" in message and f"{POLICY.min_sharpness:.2f}" in message


def test_camera_shake_along_one_axis_is_blurry(certificate_im):
    verdict = check_material("certificate", samples.jpeg(samples.motion(certificate_im, 14)))
    assert codes(verdict) == ["blurry"]


def test_sharp_samples_have_real_detail_and_pass(card_im, certificate_im, photo_im):
    for kind, im in (("id_card_back", card_im), ("certificate", certificate_im), ("photo", photo_im)):
        verdict = check_material(kind, samples.jpeg(im))
        assert verdict.ok, (kind, verdict.issues)
        assert verdict.sharpness > 0.5


def test_a_blank_picture_scores_zero():
    verdict = check_material("certificate", samples.jpeg(Image.new("RGB", (1200, 900), (128, 128, 128))))
    assert verdict.sharpness == 0.0 and "blurry" in codes(verdict)


def test_noise_does_not_hide_blur(card_im):
    grainy = samples.add_grain(samples.gaussian(card_im, 4), 30, 0.08, 3)
    assert "blurry" in codes(check_material("id_card_front", samples.jpeg(grainy, 85)))


@pytest.mark.parametrize("factor", [0.12, 0.2])
def test_too_dark(card_im, factor):
    verdict = check_material("id_card_front", samples.jpeg(samples.brightness(card_im, factor)))
    assert "too_dark" in codes(verdict)
    assert "太暗" in next(i.message for i in verdict.issues if i.code == "too_dark")


@pytest.mark.parametrize("amount", [0.8, 0.9])
def test_washed_out(photo_im, amount):
    verdict = check_material("photo", samples.jpeg(samples.washed_out(photo_im, amount)))
    assert "washed_out" in codes(verdict)
    assert "过亮发白" in next(i.message for i in verdict.issues if i.code == "washed_out")


def test_white_paper_scan_is_not_washed_out(certificate_im):
    # Mean luminance ~232, as high as a washed-out photo: the dark print is what tells them apart.
    verdict = check_material("certificate", samples.jpeg(samples.brightness(certificate_im, 1.2)))
    assert verdict.brightness > 240
    assert verdict.ok, verdict.issues


def test_dim_but_readable_photo_passes(photo_im):
    verdict = check_material("photo", samples.jpeg(samples.brightness(photo_im, 0.75)))
    assert verdict.ok, verdict.issues
