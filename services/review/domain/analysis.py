"""Sharpness and exposure measured on a small grey copy (the scale the thresholds were calibrated at).

Sharpness is an edge-steepness ratio, not raw edge energy: per direction, the mean of the strongest
0.1% one-pixel steps over the mean of the strongest 0.1% twelve-pixel steps. A crisp edge climbs
in one pixel (ratio near 1); a blur of sigma s spreads it over ~2.5 s pixels (ratio ~0.4 / s),
whatever the contrast and whether the picture is text, a face or empty paper. The smaller of the
two directions counts, so camera shake along one axis is caught. Raw Laplacian variance was tried
and rejected: it ranks a shaken busy certificate above a sharp portrait (docs/material-checks.md).

Exposure uses percentiles, not the mean: a clean scan of white paper has a mean as high as a
washed-out photo, but it still has dark print (its darkest 1% is dark).
"""
import io
from dataclasses import dataclass

from PIL import Image, ImageChops

from .colour import to_rgb

NEAR, FAR = 1, 12
TOP_FRACTION = 0.001
# Below this 8-pixel step (0-255) the picture has no edges to judge: it scores 0 (nothing legible).
MIN_EDGE_CONTRAST = 16


@dataclass(frozen=True)
class Measurements:
    sharpness: float | None  # None when the image is too small to measure
    brightness: float  # mean luminance
    shadows: int  # 1st percentile luminance
    highlights: int  # 99th percentile luminance


def analysis_copy(im, side):
    """Decode `im` (opened, not loaded) into a grey image whose long side is at most `side`.

    JPEG decodes at 1/2, 1/4 or 1/8 scale (libjpeg's DCT scaling) straight to luminance; that still
    reads every byte of the entropy-coded stream, so a truncated file still fails here.
    """
    w, h = im.size
    scale = side / max(w, h)
    if im.format in ("JPEG", "MPO") and scale < 1:
        im.draft("L" if im.mode == "RGB" else im.mode, (max(1, int(w * scale)), max(1, int(h * scale))))
    im.load()
    # Plain RGB/L go straight to grey (no full-size RGB copy of a big PNG); other modes need the
    # 16-bit scaling and alpha flattening of to_rgb first.
    grey = im.convert("L") if im.mode in ("L", "RGB") else to_rgb(im).convert("L")
    w, h = grey.size
    scale = side / max(w, h)
    if scale < 1:
        grey = grey.resize((max(1, round(w * scale)), max(1, round(h * scale))), Image.Resampling.BOX)
    return grey


def _top_mean(steps):
    hist = steps.histogram()
    want = max(1.0, sum(hist) * TOP_FRACTION)
    taken = total = 0.0
    for value in range(255, -1, -1):
        if taken >= want:
            break
        take = min(hist[value], want - taken)
        taken += take
        total += take * value
    return total / taken if taken else 0.0


def _steps(grey, distance, horizontal):
    w, h = grey.size
    if horizontal:
        return ImageChops.difference(grey.crop((distance, 0, w, h)), grey.crop((0, 0, w - distance, h)))
    return ImageChops.difference(grey.crop((0, distance, w, h)), grey.crop((0, 0, w, h - distance)))


def sharpness(grey):
    if min(grey.size) <= 2 * FAR:
        return None
    ratios = []
    for horizontal in (True, False):
        far = _top_mean(_steps(grey, FAR, horizontal))
        if far < MIN_EDGE_CONTRAST:
            return 0.0
        ratios.append(_top_mean(_steps(grey, NEAR, horizontal)) / far)
    return round(min(ratios), 3)


def _percentile(hist, fraction):
    limit = sum(hist) * fraction
    seen = 0
    for value, count in enumerate(hist):
        seen += count
        if seen >= limit:
            return value
    return 255


def measure_grey(grey):
    hist = grey.histogram()
    pixels = sum(hist) or 1
    mean = sum(value * count for value, count in enumerate(hist)) / pixels
    return Measurements(sharpness(grey), round(mean, 1), _percentile(hist, 0.01), _percentile(hist, 0.99))


def measure(data, side=800):
    """Measure JPEG/PNG bytes directly (calibration and benchmarks; checks go through check_material)."""
    return measure_grey(analysis_copy(Image.open(io.BytesIO(data), formats=["JPEG", "PNG"]), side))
