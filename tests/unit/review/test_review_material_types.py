"""Size, type by content, structure and the pixel limit: the gates before any pixel is judged."""
import io
import struct

import pytest
from PIL import Image, ImageFile

from services.review.domain.materials import CheckPolicy, check_material
from tests.unit.review import review_material_samples as samples


def codes(verdict):
    return [issue.code for issue in verdict.issues]


def message(verdict, code):
    return next(issue.message for issue in verdict.issues if issue.code == code)


def test_accepts_a_clear_card_photo(card_jpeg):
    verdict = check_material("id_card_front", card_jpeg)
    assert verdict.ok, verdict.issues
    assert (verdict.width, verdict.height, verdict.format) == (1600, 1000, "JPEG")
    assert verdict.sharpness > CheckPolicy().min_sharpness


def test_zero_bytes_is_empty():
    verdict = check_material("id_card_back", b"")
    assert codes(verdict) == ["empty"] and not verdict.ok
    assert "身份证国徽面" in verdict.issues[0].message


def test_over_one_megabyte_is_too_large_and_not_decoded(card_jpeg):
    policy = CheckPolicy(max_bytes=len(card_jpeg) - 1)
    verdict = check_material("id_card_front", card_jpeg, policy)
    assert codes(verdict) == ["too_large"]
    assert verdict.sharpness is None  # refused before the decode
    assert (verdict.width, verdict.height) == (1600, 1000)  # the header still tells the size
    assert check_material("id_card_front", card_jpeg, CheckPolicy(max_bytes=len(card_jpeg))).ok


def test_too_large_still_reports_the_shape(photo_im):
    data = samples.jpeg(photo_im.resize((295, 413)))
    verdict = check_material("photo", data, CheckPolicy(max_bytes=100))
    assert codes(verdict) == ["too_large", "wrong_photo_size"]


def test_default_limit_is_one_mebibyte():
    assert CheckPolicy().max_bytes == 1024 * 1024
    verdict = check_material("certificate", b"\xff\xd8\xff" + b"\x00" * (1024 * 1024))
    assert "too_large" in codes(verdict)


def _gif(frames):
    ims = [Image.new("RGB", (40, 30), (80 * i, 0, 0)) for i in range(frames)]
    buf = io.BytesIO()
    ims[0].save(buf, "GIF", save_all=frames > 1, append_images=ims[1:], loop=0, duration=100)
    return buf.getvalue()


def _saved(fmt, **kw):
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 100, 50)).save(buf, fmt, **kw)
    return buf.getvalue()


@pytest.mark.parametrize("data, fmt, words", [
    (samples.heic_header(), "HEIC", ["HEIC", "兼容性最佳"]),
    (_gif(1), "GIF", ["GIF图片"]),
    (_gif(3), "GIF", ["GIF动图"]),
    (b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n", "PDF", ["PDF", "截图"]),
    (_saved("BMP"), "BMP", ["BMP", "JPEG"]),
    (_saved("WEBP"), "WEBP", ["WebP"]),
    (_saved("TIFF"), "TIFF", ["TIFF", "扫描"]),
    (b"PK\x03\x04" + b"\x00" * 100, "ZIP", ["压缩包"]),
    (b"hello, this is not a picture", None, ["无法识别"]),
], ids=["heic", "gif", "gif-animated", "pdf", "bmp", "webp", "tiff", "zip", "text"])
def test_other_types_are_named_with_what_to_upload_instead(data, fmt, words):
    verdict = check_material("certificate", data)
    assert codes(verdict) == ["unsupported_type"]
    assert verdict.format == fmt
    text = verdict.issues[0].message
    assert "只接受JPEG或PNG" in text
    for word in words:
        assert word in text


def test_a_file_is_judged_by_content_not_by_name(tmp_path):
    # The API never sees a name; the CLI reads files: a JPEG called .png or .heic is still a JPEG.
    # (The CLI runs the content checks too, so the photo has a real face in it.)
    from services.review.materials_cli import main
    from tests.support import images

    path = tmp_path / "renamed.heic"
    path.write_bytes(images.jpeg(images.photo(seed=3), 92))
    out = io.StringIO()
    assert main(["check", "--kind", "photo", str(path)], out=out) == 0
    assert '"format": "JPEG"' in out.getvalue()


@pytest.mark.parametrize("progressive", [False, True])
@pytest.mark.parametrize("cut", [1, 2, 100, 0.5])
def test_truncated_jpeg_is_corrupt(card_im, progressive, cut):
    data = samples.jpeg(card_im, 85, progressive=progressive)
    keep = int(len(data) * cut) if cut < 1 else len(data) - cut
    verdict = check_material("id_card_front", data[:keep])
    assert codes(verdict) == ["corrupt"]
    assert "不完整" in verdict.issues[0].message


def test_truncated_jpeg_refused_even_when_pillow_is_told_to_load_truncated_images(monkeypatch, card_im):
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    data = samples.jpeg(card_im, 85)
    assert codes(check_material("id_card_front", data[:-2])) == ["corrupt"]
    assert codes(check_material("id_card_front", data[: len(data) * 2 // 3])) == ["corrupt"]


@pytest.mark.parametrize("progressive", [False, True])
def test_reduced_scale_decode_itself_refuses_truncation(monkeypatch, card_im, progressive):
    """Even without the structure walk, the 1/2-scale draft decode reads the whole stream."""
    from services.review.domain import checks, sniff

    data = samples.jpeg(card_im, 85, progressive=progressive)
    monkeypatch.setattr(checks, "layout", lambda fmt, d: sniff.Layout(1600, 1000, len(d)))
    seen = []
    real = checks.analysis_copy
    monkeypatch.setattr(checks, "analysis_copy", lambda im, side: seen.append(im) or real(im, side))
    assert codes(check_material("id_card_front", data[: len(data) - 300])) == ["corrupt"]
    assert seen and seen[0].size == (800, 500)  # decoded at half scale, not 1600x1000
    assert check_material("id_card_front", data).ok


@pytest.mark.parametrize("cut", [1, 12, 0.5])
def test_truncated_png_is_corrupt(photo_im, cut):
    data = samples.png(photo_im)
    keep = int(len(data) * cut) if cut < 1 else len(data) - cut
    assert codes(check_material("photo", data[:keep])) == ["corrupt"]


def test_png_with_a_flipped_bit_is_corrupt(photo_im):
    data = bytearray(samples.png(photo_im))
    data[len(data) // 2] ^= 0x01
    assert codes(check_material("photo", bytes(data))) == ["corrupt"]


def test_png_decompression_bomb_is_refused_before_decoding():
    pixels_before = Image.MAX_IMAGE_PIXELS
    verdict = check_material("certificate", samples.png_bomb_header(100_000, 100_000))
    assert codes(verdict) == ["too_many_pixels"]
    assert "100000×100000" in verdict.issues[0].message
    assert Image.MAX_IMAGE_PIXELS == pixels_before  # no global Pillow setting touched


def test_pixel_limit_fits_phone_photos_but_not_more():
    assert codes(check_material("certificate", samples.png_bomb_header(7000, 6000))) == ["too_many_pixels"]
    verdict = check_material("certificate", samples.png_bomb_header(6000, 4000))  # 24 MP: allowed size
    assert "too_many_pixels" not in codes(verdict)


def test_jpeg_header_claiming_huge_dimensions_is_refused(photo_jpeg):
    data = bytearray(photo_jpeg)
    sof = data.find(b"\xff\xc0")
    struct.pack_into(">HH", data, sof + 5, 60000, 60000)
    assert codes(check_material("photo", bytes(data))) == ["too_many_pixels"]


def test_animated_png_is_refused(photo_im):
    buf = io.BytesIO()
    photo_im.save(buf, "PNG", save_all=True, append_images=[photo_im.rotate(5)], duration=100)
    verdict = check_material("photo", buf.getvalue())
    assert codes(verdict) == ["unsupported_type"] and "APNG" in verdict.issues[0].message


def test_zip_appended_to_a_jpeg_is_found_and_not_judged(card_jpeg):
    appended = b"PK\x03\x04" + b"\xff\xd9 not the end \xff\xd8" * 50
    verdict = check_material("id_card_front", card_jpeg + appended)
    assert verdict.ok
    assert verdict.trailing_bytes == len(appended)


def test_unknown_kind_is_a_programming_error():
    with pytest.raises(ValueError):
        check_material("passport", b"")
