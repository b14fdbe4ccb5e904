"""The stored copy: decoded in full, turned upright, RGB, JPEG, and nothing else carried over.

Re-encoding is what removes EXIF (GPS position, phone model), ICC profiles, comments, XMP and
anything appended after the image (a ZIP, a motion-photo video): only pixels survive.
"""
import io

from PIL import Image, ImageOps

from services.contracts.materials import KIND_SUBJECTS, require_kind

from .checks import PILLOW_ERRORS, corrupt_issue, open_checked, orientation
from .colour import to_rgb
from .policy import CheckPolicy
from .verdict import MaterialRejected

CONTENT_TYPE = "image/jpeg"
QUALITY = 90
THUMBNAIL_QUALITY = 85


# ImageOps.exif_transpose's table, for when it trips over the rest of a mangled EXIF block.
_TRANSPOSE = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180,
              4: Image.Transpose.FLIP_TOP_BOTTOM, 5: Image.Transpose.TRANSPOSE,
              6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE, 8: Image.Transpose.ROTATE_90}


def _upright(im):
    try:
        return ImageOps.exif_transpose(im)
    except PILLOW_ERRORS:
        # same orientation check_material used, so the stored size always matches the verdict
        method = _TRANSPOSE.get(orientation(im))
        return im.transpose(method) if method else im


def _jpeg(im, quality):
    im.info = {}  # Pillow's JPEG writer falls back to info["comment"]; the copy starts clean
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def _decode(label, data, policy, draft_to=None):
    im, _, _ = open_checked(label, bytes(data), policy)
    try:
        if draft_to and im.format in ("JPEG", "MPO"):
            im.draft("RGB" if im.mode == "RGB" else im.mode, draft_to)
        im.load()
        return to_rgb(_upright(im))
    except PILLOW_ERRORS:
        raise MaterialRejected([corrupt_issue(label)]) from None


def reencode(kind, data, policy=CheckPolicy()):
    """Stored form of an accepted upload: (jpeg_bytes, "image/jpeg", width, height).

    Meant for data check_material accepted; it re-runs only the safety gates (type, structure,
    pixel limit, full decode) and raises MaterialRejected if those fail.
    """
    rgb = _decode(KIND_SUBJECTS[require_kind(kind)], data, policy)
    return _jpeg(rgb, QUALITY), CONTENT_TYPE, rgb.width, rgb.height


def thumbnail(data, max_side=320, policy=CheckPolicy()):
    """A small upright JPEG for review lists; JPEG input decodes at reduced scale."""
    rgb = _decode("图片", data, policy, draft_to=(max_side, max_side))
    rgb.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    return _jpeg(rgb, THUMBNAIL_QUALITY)
