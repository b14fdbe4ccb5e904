"""Any bytes at all get a Verdict, never an exception; what passes can always be stored."""
import os
import struct
import zlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw

from services.review.domain.materials import (
    ISSUE_CODES,
    KINDS,
    MaterialRejected,
    Verdict,
    check_material,
    reencode,
)
from tests.unit.review import review_material_samples as samples

# MATERIAL_FUZZ_EXAMPLES=5000 for a longer hunt; 150 keeps the unit suite fast.
# Pillow warns (and carries on) about mangled EXIF blocks; that is expected here.
pytestmark = pytest.mark.filterwarnings("ignore:Corrupt EXIF data:UserWarning")

FUZZ = settings(max_examples=int(os.environ.get("MATERIAL_FUZZ_EXAMPLES", "150")), deadline=None,
                suppress_health_check=[HealthCheck.too_slow])


def _small_picture():
    im = samples.add_grain(Image.new("RGB", (96, 64), (128, 128, 128)), 60, 1.0, seed=0)
    draw = ImageDraw.Draw(im)
    for i in range(0, 96, 7):
        draw.line((i, 0, 95 - i, 63), fill=(255, i * 2, 0), width=2)
    return im


SMALL = _small_picture()
SEEDS = [
    samples.jpeg(SMALL, 80),
    samples.jpeg(SMALL, 80, progressive=True),
    samples.jpeg_with_orientation(SMALL, 6),
    samples.jpeg(SMALL.convert("CMYK")),
    samples.png(SMALL),
    samples.png(SMALL.convert("P")),
]


def judge(kind, data):
    verdict = check_material(kind, data)
    assert isinstance(verdict, Verdict)
    assert verdict.ok == (not verdict.issues)
    assert {issue.code for issue in verdict.issues} <= set(ISSUE_CODES)
    assert all(issue.message for issue in verdict.issues)
    try:
        stored, content_type, width, height = reencode(kind, data)
    except MaterialRejected:
        assert not verdict.ok  # an accepted upload can always be stored
    else:
        assert stored[:3] == b"\xff\xd8\xff" and content_type == "image/jpeg"
        if verdict.width is not None and "too_large" not in verdict.codes:
            assert (width, height) == (verdict.width, verdict.height)
    return verdict


@FUZZ
@given(st.sampled_from(KINDS), st.binary(max_size=4096))
def test_arbitrary_bytes(kind, data):
    judge(kind, data)


@FUZZ
@given(st.sampled_from([b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF89a", b"RIFF\x00\x00\x00\x00WEBP"]),
       st.binary(max_size=2048))
def test_arbitrary_bytes_behind_a_magic_number(magic, rest):
    judge("certificate", magic + rest)


mutation = st.one_of(
    st.tuples(st.just("flip"), st.integers(0, 10**6), st.integers(1, 255)),
    st.tuples(st.just("cut"), st.integers(0, 10**6), st.just(0)),
    st.tuples(st.just("insert"), st.integers(0, 10**6), st.integers(0, 255)),
    st.tuples(st.just("delete"), st.integers(0, 10**6), st.integers(1, 64)),
)


def mutate(data, operations):
    data = bytearray(data)
    for op, where, value in operations:
        if not data:
            break
        at = where % len(data)
        if op == "flip":
            data[at] ^= value
        elif op == "cut":
            del data[at:]
        elif op == "insert":
            data[at:at] = bytes([value])
        else:
            del data[at:at + value]
    return bytes(data)


@FUZZ
@given(st.sampled_from(SEEDS), st.lists(mutation, min_size=1, max_size=6))
def test_mutated_valid_images(seed, operations):
    judge("photo", mutate(seed, operations))


def _chunk(kind, body):
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


@FUZZ
@given(width=st.integers(0, 300), height=st.integers(0, 300),
       depth=st.sampled_from([1, 2, 4, 8, 16, 3]), colour=st.sampled_from([0, 2, 3, 4, 6, 5]),
       interlace=st.integers(0, 2), pixels=st.binary(max_size=3000), compress=st.booleans(),
       palette=st.binary(max_size=60))
def test_well_formed_png_containers_with_arbitrary_contents(width, height, depth, colour, interlace,
                                                           pixels, compress, palette):
    """Valid chunk CRCs get past the structure walk, so Pillow's decoder sees the garbage."""
    ihdr = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, interlace)
    body = _chunk(b"IHDR", ihdr)
    if colour == 3:
        body += _chunk(b"PLTE", palette)
    body += _chunk(b"IDAT", zlib.compress(pixels) if compress else pixels) + _chunk(b"IEND", b"")
    judge("photo", b"\x89PNG\r\n\x1a\n" + body)
