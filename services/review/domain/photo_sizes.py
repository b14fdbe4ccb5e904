"""Photo sizes applicants mix up with the two-inch photo, so a refusal can name what was sent."""
from dataclasses import dataclass

MM_PER_INCH = 25.4
PRINT_DPI = 300  # photo studios deliver these sizes at 300 dpi


@dataclass(frozen=True)
class PhotoSize:
    name: str
    width_mm: float
    height_mm: float

    @property
    def pixels(self):
        return (round(self.width_mm / MM_PER_INCH * PRINT_DPI), round(self.height_mm / MM_PER_INCH * PRINT_DPI))


# 小二寸 follows DOMAIN.md (35 × 49 mm); many studios call 35 × 45 mm 小二寸 too, so that one is
# named by its use instead of a name that could contradict.
NEIGHBOURS = (
    PhotoSize("一寸照片", 25, 35),  # 295 × 413, the exam-registration photo
    PhotoSize("小一寸照片", 22, 32),  # 260 × 378
    PhotoSize("大一寸照片", 33, 48),  # 390 × 567
    PhotoSize("小二寸照片（35×49毫米）", 35, 49),  # 413 × 579
    PhotoSize("护照/签证规格照片（35×45毫米）", 35, 45),  # 413 × 531
)


def near(value, target, tolerance):
    return abs(value - target) <= target * tolerance


def size_mm(width, height, dpi):
    """Printed size from DPI metadata, or None when there is none worth believing."""
    if not dpi:
        return None
    try:
        xdpi, ydpi = float(dpi[0]), float(dpi[1])
    except (TypeError, ValueError, IndexError):
        return None
    # 72/96 are screen defaults, not a print promise; still computed, the size check decides.
    if not (50 <= xdpi <= 4800 and 50 <= ydpi <= 4800):
        return None
    return width / xdpi * MM_PER_INCH, height / ydpi * MM_PER_INCH


def mm_matches(mm, size, mm_tolerance):
    return mm is not None and abs(mm[0] - size.width_mm) <= mm_tolerance and abs(mm[1] - size.height_mm) <= mm_tolerance


def matches(width, height, mm, size, pixel_tolerance, mm_tolerance):
    px_w, px_h = size.pixels
    if near(width, px_w, pixel_tolerance) and near(height, px_h, pixel_tolerance):
        return True
    return mm_matches(mm, size, mm_tolerance)


def name_of(width, height, mm, pixel_tolerance, mm_tolerance):
    for size in NEIGHBOURS:
        if matches(width, height, mm, size, pixel_tolerance, mm_tolerance):
            return size.name
    return None
