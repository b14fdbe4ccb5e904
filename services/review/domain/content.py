"""What is in the picture: faces for the 2-inch photo and the ID sides, and the hashes that find
the same picture twice. Pure: the face detector is handed in (adapters/face_detector.py).
"""
from dataclasses import dataclass, field

from PIL import Image

from services.contracts.materials import ID_CARD_BACK, ID_CARD_FRONT, PHOTO

from .card_sides import side_findings
from .duplicates import IMAGE, PORTRAIT
from .faces import detect_faces, strong_faces
from .phash import phash
from .photo_face import photo_findings
from .thresholds import DEFAULT

# EXIF orientation → the turn that makes the analysis copy upright (as ImageOps.exif_transpose).
_UPRIGHT = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180,
            4: Image.Transpose.FLIP_TOP_BOTTOM, 5: Image.Transpose.TRANSPOSE,
            6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE, 8: Image.Transpose.ROTATE_90}


@dataclass
class Inspection:
    findings: list = field(default_factory=list)  # findings.Finding
    fingerprints: dict = field(default_factory=dict)  # region ("image", "portrait") → 16 hex digits


def upright(grey, orientation):
    method = _UPRIGHT.get(orientation)
    return grey.transpose(method) if method else grey


def _portrait_hash(grey, face, grow):
    w, h = grey.size
    side = face.width * w * grow
    cx, cy = face.centre_x * w, (face.top + face.height / 2) * h
    box = (max(0, round(cx - side / 2)), max(0, round(cy - side * 0.55)),
           min(w, round(cx + side / 2)), min(h, round(cy + side * 0.65)))
    return phash(grey.crop(box)) if box[2] - box[0] >= 16 and box[3] - box[1] >= 16 else None


def inspect(kind, grey, detector, picture_ok=True, t=DEFAULT):
    """Findings and fingerprints for one upright grey analysis copy of an upload of `kind`."""
    out = Inspection(fingerprints={IMAGE: phash(grey)})
    if kind == PHOTO:
        faces = detect_faces(detector, grey, t.photo_detect_width, t.photo_min_face)
        if not faces:  # only then pay for the small-face search, to name a too-small face
            faces = detect_faces(detector, grey, t.photo_small_detect_width, t.photo_small_face)
        faces = strong_faces(faces, t.min_neighbours, t.min_relative_face)
        out.findings = photo_findings(faces, *grey.size, t=t)
        if len(faces) == 1 and faces[0].neighbours >= t.strong_neighbours and all(f.ok for f in out.findings):
            portrait = _portrait_hash(grey, faces[0], t.portrait_grow)
            if portrait:
                out.fingerprints[PORTRAIT] = portrait
    elif kind in (ID_CARD_FRONT, ID_CARD_BACK):
        faces = strong_faces(detect_faces(detector, grey, t.card_detect_width, t.card_min_face, t.card_max_face),
                             t.min_neighbours, t.min_relative_face)
        out.findings = side_findings(kind, faces, picture_ok, t)
        if kind == ID_CARD_FRONT and faces and faces[0].neighbours >= t.strong_neighbours:
            portrait = _portrait_hash(grey, faces[0], t.portrait_grow)
            if portrait:
                out.fingerprints[PORTRAIT] = portrait
    return out
