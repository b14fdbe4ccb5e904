"""Material (photo) checks for the four uploads: the public API of the review domain.

    verdict = check_material("photo", data)          # never raises for bad bytes
    if verdict.ok:
        stored, content_type, width, height = reencode("photo", data)

Rules, codes and calibration: docs/material-checks.md.
"""
from services.contracts.materials import CERTIFICATE, ID_CARD_BACK, ID_CARD_FRONT, KIND_LABELS, KINDS, PHOTO

from .checks import check_material
from .findings import Finding
from .pipeline import check_upload
from .policy import CheckPolicy
from .reencode import CONTENT_TYPE, reencode, thumbnail
from .verdict import Issue, MaterialRejected, Verdict

# Every issue code a Verdict can carry; clients may switch on these.
ISSUE_CODES = (
    "empty", "too_large", "unsupported_type", "corrupt", "too_many_pixels",
    "not_landscape", "bad_aspect", "too_small", "wrong_photo_size",
    "blurry", "too_dark", "washed_out",
    # content checks that refuse (docs/material-checks.md, "What is in the picture")
    "no_face", "several_faces", "face_too_small", "face_too_large", "face_cut_off", "face_off_centre",
    "face_too_low", "no_portrait_on_front", "portrait_on_back", "same_as_other_material",
)

__all__ = [
    "CERTIFICATE", "CONTENT_TYPE", "ID_CARD_BACK", "ID_CARD_FRONT", "ISSUE_CODES", "KINDS", "KIND_LABELS",
    "PHOTO", "CheckPolicy", "Finding", "Issue", "MaterialRejected", "Verdict", "check_material", "check_upload", "reencode", "thumbnail",
]
