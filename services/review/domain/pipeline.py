"""One upload through every check: the format and picture rules (checks.py), then what is in the
picture (content.py). Pure apart from the detector handed in."""
from .checks import check_with_copy
from .content import Inspection, inspect, upright
from .policy import CheckPolicy
from .thresholds import DEFAULT

_PICTURE_CODES = {"blurry", "too_dark", "washed_out"}


def check_upload(kind, data, detector, policy=CheckPolicy(), thresholds=DEFAULT):
    """(Verdict with its content findings, Inspection or None when the picture was not decoded).

    The content checks run whenever the picture decoded, even when a format rule already failed,
    so the applicant learns everything in one go."""
    verdict, grey, turn = check_with_copy(kind, data, policy)
    if grey is None:
        return verdict, None
    picture_ok = not any(issue.code in _PICTURE_CODES for issue in verdict.issues)
    inspection = inspect(kind, upright(grey, turn), detector, picture_ok, thresholds)
    verdict.add_findings(inspection.findings)
    return verdict, inspection


__all__ = ["Inspection", "check_upload"]
