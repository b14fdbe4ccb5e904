"""The stored copy: upright RGB JPEG with nothing of the upload but its pixels."""
import io

import pytest
from PIL import Image, ImageChops, ImageCms, ImageOps, ImageStat

from services.review.domain.materials import MaterialRejected, check_material, reencode, thumbnail
from services.review.domain.sniff import jpeg_layout
from tests.unit.review import review_material_samples as samples


def decoded(data):
    im = Image.open(io.BytesIO(data))
    im.load()
    return im


def markers(data):
    """JPEG segment markers in order, up to the first SOS."""
    found, pos = [], 2
    while data[pos] == 0xFF and data[pos + 1] != 0xDA:
        found.append(data[pos + 1])
        pos += 2 + int.from_bytes(data[pos + 2:pos + 4], "big")
    return found


def gps_exif():
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[0x0112] = 1
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2], gps[3], gps[4] = "N", (39.0, 54.0, 27.0), "E", (116.0, 23.0, 17.0)
    return exif.tobytes()


def assert_clean(data):
    im = decoded(data)
    assert im.format == "JPEG" and im.mode == "RGB"
    assert len(im.getexif()) == 0
    assert im.getexif().get_ifd(0x8825) == {}
    assert "icc_profile" not in im.info and "comment" not in im.info and "xmp" not in im.info
    # only JFIF, quantisation and frame/huffman tables before the scan; nothing after EOI
    assert set(markers(data)) <= {0xE0, 0xDB, 0xC0, 0xC4}
    assert jpeg_layout(data).end == len(data)


def test_gps_exif_icc_comment_and_xmp_are_removed(card_im):
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    data = samples.jpeg(card_im, exif=gps_exif(), icc_profile=icc, comment=b"secret", xmp=b"<x:xmpmeta/>")
    original = decoded(data)
    assert original.getexif().get_ifd(0x8825) and "comment" in original.info  # the sample really has them
    out, content_type, width, height = reencode("id_card_front", data)
    assert content_type == "image/jpeg" and (width, height) == (1600, 1000)
    assert_clean(out)
    assert b"secret" not in out and b"PhoneMaker" not in out


def test_appended_zip_is_not_in_the_stored_copy(card_jpeg):
    appended = b"PK\x03\x04" + b"PAYLOAD-" * 200 + b"PK\x05\x06" + b"\x00" * 18
    out, *_ = reencode("id_card_front", card_jpeg + appended)
    assert b"PAYLOAD-" not in out and b"PK\x03\x04" not in out
    assert_clean(out)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_orientation_is_applied_and_agrees_with_the_check(card_im, orientation):
    small = card_im.resize((800, 500))
    data = samples.jpeg_with_orientation(small, orientation)
    verdict = check_material("id_card_front", data)
    out, _, width, height = reencode("id_card_front", data)
    assert (width, height) == (verdict.width, verdict.height)
    expected = ImageOps.exif_transpose(decoded(data))
    assert decoded(out).size == expected.size
    assert_clean(out)


def test_orientation_6_card_is_stored_upright(card_im):
    stored = card_im.transpose(Image.Transpose.ROTATE_90)
    out, _, width, height = reencode("id_card_front", samples.jpeg_with_orientation(stored, 6))
    assert (width, height) == (1600, 1000)
    # the upright copy shows the card as it lay on the table, not merely the right size
    diff = ImageChops.difference(decoded(out).convert("L"), card_im.convert("L"))
    assert ImageStat.Stat(diff).mean[0] < 4
    flipped = ImageChops.difference(decoded(out).convert("L"), card_im.convert("L").rotate(180))
    assert ImageStat.Stat(flipped).mean[0] > 20


def _grey_close(data, expected, tolerance=12):
    pixel = decoded(data).convert("L").getpixel((5, 5))
    assert abs(pixel - expected) <= tolerance, pixel


def test_cmyk_jpeg(card_im):
    data = samples.jpeg(card_im.convert("CMYK"), 75)
    assert decoded(data).mode == "CMYK"
    assert check_material("id_card_front", data).ok
    out, *_ = reencode("id_card_front", data)
    assert_clean(out)
    assert decoded(out).size == (1600, 1000)


def test_grayscale_jpeg(card_im):
    data = samples.jpeg(card_im.convert("L"))
    assert check_material("id_card_front", data).ok
    out, *_ = reencode("id_card_front", data)
    assert_clean(out)


def test_progressive_jpeg(card_im):
    data = samples.jpeg(card_im, progressive=True)
    assert decoded(data).info.get("progressive")
    assert check_material("id_card_front", data).ok
    assert_clean(reencode("id_card_front", data)[0])


def test_sixteen_bit_png_is_scaled_not_clipped(photo_im):
    grey16 = photo_im.convert("L").convert("I").point(lambda v: v * 257).convert("I;16")
    data = samples.png(grey16)
    assert decoded(data).mode == "I;16"
    verdict = check_material("photo", data)
    assert verdict.ok, verdict.issues
    out, *_ = reencode("photo", data)
    expected = photo_im.convert("L").getpixel((5, 5))
    _grey_close(out, expected)  # Pillow's plain convert would make it 255 (white)


def test_palette_png(photo_im):
    data = samples.png(photo_im.convert("P", palette=Image.Palette.ADAPTIVE))
    assert decoded(data).mode == "P"
    assert check_material("photo", data).ok
    assert_clean(reencode("photo", data)[0])


def test_alpha_is_flattened_on_white(photo_im):
    rgba = photo_im.convert("RGBA")
    rgba.putalpha(Image.new("L", rgba.size, 0).point(lambda v: 0))
    see_through = samples.png(rgba)
    out, *_ = reencode("photo", see_through)
    _grey_close(out, 255, tolerance=2)
    half = photo_im.convert("RGBA")
    half.putalpha(128)
    assert check_material("photo", samples.png(half)).ok
    assert_clean(reencode("photo", samples.png(half))[0])


def test_palette_png_with_transparency_and_la(photo_im):
    pal = photo_im.convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
    pal.info["transparency"] = 0
    assert_clean(reencode("photo", samples.png(pal, transparency=0))[0])
    assert_clean(reencode("photo", samples.png(photo_im.convert("LA")))[0])


def test_reencode_refuses_what_is_not_a_safe_image(card_jpeg):
    with pytest.raises(MaterialRejected) as refused:
        reencode("photo", samples.heic_header())
    assert refused.value.code == "unsupported_type"
    with pytest.raises(MaterialRejected) as refused:
        reencode("photo", card_jpeg[:-500])
    assert refused.value.code == "corrupt"
    with pytest.raises(MaterialRejected) as refused:
        reencode("photo", samples.png_bomb_header())
    assert refused.value.code == "too_many_pixels"


def test_thumbnail_is_small_upright_and_clean(card_im):
    stored = card_im.transpose(Image.Transpose.ROTATE_90)
    thumb = thumbnail(samples.jpeg_with_orientation(stored, 6))
    assert decoded(thumb).size == (320, 200)
    assert_clean(thumb)
    assert max(decoded(thumbnail(samples.png(card_im), max_side=100)).size) == 100


def test_broken_icc_profile_falls_back_to_plain_conversion(card_im):
    data = samples.jpeg(card_im, icc_profile=b"not a profile" * 20)
    assert decoded(data).info.get("icc_profile")
    assert check_material("id_card_front", data).ok
    out, *_ = reencode("id_card_front", data)
    assert_clean(out)
