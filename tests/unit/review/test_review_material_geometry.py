"""Shape rules per kind, on dimensions after the EXIF orientation."""
import pytest
from PIL import Image

from services.review.domain.geometry import geometry_issues
from services.review.domain.materials import CheckPolicy, check_material
from tests.unit.review import review_material_samples as samples

POLICY = CheckPolicy()


def codes(issues):
    return [issue.code for issue in issues]


def shape(kind, width, height, dpi=None):
    return geometry_issues(kind, width, height, dpi, POLICY)


# -- ID card -------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["id_card_front", "id_card_back"])
def test_id_card_landscape_in_the_band_passes(kind):
    assert shape(kind, 1600, 1000) == []
    assert shape(kind, 1585, 1000) == []
    assert shape(kind, 600, 480) == []  # 1.25 and 600 px: both limits inclusive
    assert shape(kind, 2000, 1000) == []


def test_id_card_portrait_is_not_landscape_and_names_the_side():
    issues = shape("id_card_front", 1000, 1600)
    assert codes(issues) == ["not_landscape"]
    assert "身份证人像面" in issues[0].message and "1000×1600" in issues[0].message
    assert "身份证国徽面" in shape("id_card_back", 1000, 1600)[0].message


@pytest.mark.parametrize("width, height", [(1200, 1000), (3000, 1000)])
def test_id_card_aspect_outside_the_band(width, height):
    issues = shape("id_card_front", width, height)
    assert codes(issues) == ["bad_aspect"]
    assert f"{width}×{height}" in issues[0].message and "1.59" in issues[0].message


def test_id_card_long_side_at_least_600():
    issues = shape("id_card_back", 599, 378)
    assert codes(issues) == ["too_small"]
    assert "600像素" in issues[0].message and "599×378" in issues[0].message


def test_id_card_square_thumbnail_collects_every_issue():
    assert codes(shape("id_card_front", 300, 300)) == ["not_landscape", "bad_aspect", "too_small"]


# -- certificate ---------------------------------------------------------------------------------

def test_certificate_long_side_at_least_800_either_orientation():
    assert shape("certificate", 800, 1100) == []
    assert shape("certificate", 1100, 800) == []
    issues = shape("certificate", 560, 799)
    assert codes(issues) == ["too_small"] and "800像素" in issues[0].message


# -- two-inch photo ------------------------------------------------------------------------------

@pytest.mark.parametrize("width, height", [(413, 626), (405, 614), (421, 638)])
def test_photo_413_by_626_within_two_percent(width, height):
    assert shape("photo", width, height) == []


@pytest.mark.parametrize("width, height", [(400, 626), (413, 610)])
def test_photo_beyond_the_tolerance(width, height):
    issues = shape("photo", width, height)
    assert codes(issues) == ["wrong_photo_size"]
    assert issues[0].message.startswith(f"照片宽高应为413×626像素，当前为{width}×{height}")


def test_photo_one_inch_exam_photo_is_named():
    (issue,) = shape("photo", 295, 413)
    assert issue.message == "照片宽高应为413×626像素，当前为295×413（这是一寸照片），请上传两寸免冠照片（35×53毫米）"


def test_photo_small_two_inch_is_named():
    (issue,) = shape("photo", 413, 579)
    assert "当前为413×579（这是小二寸照片（35×49毫米））" in issue.message


@pytest.mark.parametrize("width, height, name", [(260, 378, "小一寸"), (390, 567, "大一寸"), (413, 531, "护照/签证")])
def test_photo_other_common_sizes_are_named(width, height, name):
    (issue,) = shape("photo", width, height)
    assert name in issue.message


def test_photo_width_and_height_swapped_explains_626_by_413():
    (issue,) = shape("photo", 626, 413)
    assert "颠倒" in issue.message and "高626、宽413" in issue.message


def test_photo_by_dpi_metadata_35_by_53_mm():
    assert shape("photo", 827, 1252, dpi=(600, 600)) == []  # 35.0 × 53.0 mm
    assert shape("photo", 827, 1275, dpi=(600, 600)) == []  # 53.97 mm: within 1 mm
    assert codes(shape("photo", 827, 1300, dpi=(600, 600))) == ["wrong_photo_size"]  # 55 mm


def test_photo_dpi_route_never_accepts_fewer_pixels_than_413_by_626():
    # 35 × 53 mm at 150 dpi is honest metadata but too few pixels for print.
    assert codes(shape("photo", 207, 313, dpi=(150, 150))) == ["wrong_photo_size"]


def test_photo_right_proportion_without_dpi_says_to_scale():
    (issue,) = shape("photo", 826, 1252)
    assert "比例正确" in issue.message and "缩放为413×626" in issue.message


def test_photo_one_inch_recognised_by_dpi_too():
    (issue,) = shape("photo", 591, 827, dpi=(600, 600))  # 25 × 35 mm at 600 dpi
    assert "一寸照片" in issue.message


# -- through check_material: real files, DPI metadata and EXIF orientation --------------------------

def test_photo_file_with_dpi_metadata(photo_im):
    big = photo_im.resize((827, 1252))
    assert check_material("photo", samples.jpeg(big, dpi=(600, 600))).ok
    assert not check_material("photo", samples.jpeg(big)).ok
    assert check_material("photo", samples.png(big, dpi=(600, 600))).ok


def test_photo_one_inch_file_is_refused(photo_im):
    verdict = check_material("photo", samples.jpeg(photo_im.resize((295, 413))))
    assert [i.code for i in verdict.issues] == ["wrong_photo_size"]
    assert "一寸照片" in verdict.issues[0].message


def test_phone_stores_landscape_card_as_portrait_with_orientation_6(card_im):
    # A phone held upright writes the sensor's pixels (portrait) plus "rotate 90° clockwise".
    stored = card_im.transpose(Image.Transpose.ROTATE_90)
    assert stored.size == (1000, 1600)
    verdict = check_material("id_card_front", samples.jpeg_with_orientation(stored, 6))
    assert verdict.ok, verdict.issues
    assert (verdict.width, verdict.height) == (1600, 1000)
    # the same pixels without the tag really are a portrait picture
    assert [i.code for i in check_material("id_card_front", samples.jpeg(stored)).issues] == ["not_landscape"]


def test_orientation_tag_that_turns_a_landscape_card_upright_is_refused(card_im):
    verdict = check_material("id_card_back", samples.jpeg_with_orientation(card_im, 8))
    assert (verdict.width, verdict.height) == (1000, 1600)
    assert "not_landscape" in [i.code for i in verdict.issues]


@pytest.mark.parametrize("orientation", [0, 9, 300])
def test_nonsense_orientation_is_ignored(card_im, orientation):
    verdict = check_material("id_card_front", samples.jpeg_with_orientation(card_im, orientation))
    assert verdict.ok and (verdict.width, verdict.height) == (1600, 1000)
