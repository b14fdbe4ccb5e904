"""What a content check says about one upload: a finding per check, with how sure it is.

`severity` decides what a finding does: "refuse" stops the upload (it also becomes an Issue of the
Verdict, so existing clients see it among the reasons), "warn" lets it through and shows the
applicant and the reviewer the doubt, "info" records a check that passed. `confidence` (0..1, or
None where the check is exact) is how often the label was right on the labelled set, as the
Wilson lower bound, so a rate measured on few samples claims less (docs/material-checks.md).
"""
from dataclasses import dataclass, field

REFUSE, WARN, INFO = "refuse", "warn", "info"


@dataclass(frozen=True)
class Finding:
    code: str
    ok: bool
    message: str
    confidence: float | None = None
    severity: str = INFO
    details: dict = field(default_factory=dict)

    def to_dict(self):
        out = {"code": self.code, "ok": self.ok, "message": self.message,
               "confidence": None if self.confidence is None else round(self.confidence, 2),
               "severity": self.severity}
        if self.details:
            out["details"] = dict(self.details)
        return out


def passed(code, message, confidence=None, **details):
    return Finding(code, True, message, confidence, INFO, details)


def refused(code, message, confidence=None, **details):
    return Finding(code, False, message, confidence, REFUSE, details)


def warned(code, message, confidence=None, **details):
    return Finding(code, False, message, confidence, WARN, details)


def wilson_lower(successes, trials, z=1.96):
    """95% Wilson lower bound of a rate: 30/30 gives 0.89, 300/300 gives 0.99, never 1.0."""
    if trials <= 0:
        return 0.0
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = p + z * z / (2 * trials)
    margin = z * ((p * (1 - p) + z * z / (4 * trials)) / trials) ** 0.5
    return max(0.0, (centre - margin) / denominator)
