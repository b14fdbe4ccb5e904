"""Faces in an upload, as the rules need them: boxes in fractions of the upright picture.

The detector is an adapter (services/review/adapters/face_detector.py: OpenCV's Haar cascade, or
a fake in unit tests); the domain hands it a small grey copy and the face sizes worth looking
for, and gets back square boxes with their `neighbours` (how many overlapping windows agreed: the
detector's own measure of how sure it is). Nothing here imports OpenCV.
"""
from dataclasses import dataclass
from typing import Protocol

from PIL import Image


@dataclass(frozen=True)
class Box:
    """A detector's answer in pixels of the image it was shown."""
    x: int
    y: int
    w: int
    h: int
    neighbours: int


class FaceDetector(Protocol):
    def detect(self, grey: Image.Image, min_size: int, max_size: int) -> list[Box]:
        """Frontal faces in an 8-bit grey image, no smaller than `min_size` px, no larger than `max_size`."""


@dataclass(frozen=True)
class Face:
    """A face box as fractions of the picture: left, top, width (of the picture's width), height
    (of its height); `size` is the box side as a fraction of the picture's width."""
    left: float
    top: float
    width: float
    height: float
    neighbours: int

    @property
    def centre_x(self):
        return self.left + self.width / 2

    @property
    def right(self):
        return self.left + self.width

    @property
    def bottom(self):
        return self.top + self.height


def detect_faces(detector, grey, detect_width, min_fraction, max_fraction=1.0):
    """Faces in `grey` (upright), looked for on a copy `detect_width` px wide, whose box is at
    least `min_fraction` (at most `max_fraction`) of the picture's width. Largest first."""
    w, h = grey.size
    scale = min(1.0, detect_width / w)
    small = grey if scale == 1.0 else grey.resize((max(1, round(w * scale)), max(1, round(h * scale))),
                                                  Image.Resampling.BOX)
    sw, sh = small.size
    min_px = max(20, round(min_fraction * sw))
    max_px = max(min_px, round(max_fraction * min(sw, sh)))
    faces = [Face(b.x / sw, b.y / sh, b.w / sw, b.h / sh, b.neighbours)
             for b in detector.detect(small, min_px, max_px)]
    return sorted(faces, key=lambda f: f.width, reverse=True)


def strong_faces(faces, min_neighbours, min_relative):
    """The faces that count: enough agreeing windows, and not a speck beside the main face (a
    pattern on a collar): at least `min_relative` of the largest box's width."""
    faces = [f for f in faces if f.neighbours >= min_neighbours]
    if not faces:
        return []
    largest = max(f.width for f in faces)
    return [f for f in faces if f.width >= min_relative * largest]
