"""The numbers the material checks use, in one place, so a campaign can tighten or relax them."""
from dataclasses import dataclass


@dataclass(frozen=True)
class CheckPolicy:
    # The notice: every image "不超过1M".
    max_bytes: int = 1024 * 1024
    # A 1 MB phone JPEG is at most ~24 MP; 40 MP leaves room and keeps a full decode under ~160 MB.
    max_pixels: int = 40_000_000

    # ID card (85.6 × 54 mm, 1.585): a phone shot includes some table, hence the wide band.
    id_aspect_min: float = 1.25
    id_aspect_max: float = 2.0
    id_min_long_side: int = 600
    certificate_min_long_side: int = 800

    # Two-inch photo: the notice's "626*413" is height × width, i.e. 35 × 53 mm at 300 dpi.
    photo_width: int = 413
    photo_height: int = 626
    photo_tolerance: float = 0.02  # of each side, in pixels
    photo_width_mm: float = 35.0
    photo_height_mm: float = 53.0
    photo_mm_tolerance: float = 1.0

    # Image analysis runs on a grey copy whose long side is at most this (JPEG decodes at reduced
    # scale to get there); the thresholds below were calibrated at this scale, see
    # docs/material-checks.md before changing either.
    analysis_side: int = 800
    min_sharpness: float = 0.18
    # Too dark: even the brightest 1% of pixels is darker than this (0-255).
    dark_highlights_max: int = 97
    # Washed out: even the darkest 1% of pixels is lighter than this (0-255).
    washed_shadows_min: int = 141
