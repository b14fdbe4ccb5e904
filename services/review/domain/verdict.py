"""What a check says about one upload: the issues (code for machines, Chinese for people)."""
from dataclasses import dataclass, field

from services.contracts.materials import KIND_LABELS


@dataclass(frozen=True)
class Issue:
    code: str
    message: str

    def to_dict(self):
        return {"code": self.code, "message": self.message}


@dataclass
class Verdict:
    kind: str
    ok: bool
    issues: list[Issue] = field(default_factory=list)
    width: int | None = None  # after the EXIF orientation is applied
    height: int | None = None
    format: str | None = None  # what the content is (JPEG, PNG, HEIC, PDF, ...), not the file name
    sharpness: float | None = None
    brightness: float | None = None  # mean luminance 0-255
    size_bytes: int = 0
    trailing_bytes: int = 0  # data after the image's end marker; discarded by reencode()
    # What is in the picture (findings.Finding): faces, ID side, duplicates; refusing ones are
    # also among `issues`, warnings only here.
    checks: list = field(default_factory=list)

    @property
    def codes(self):
        return [issue.code for issue in self.issues]

    def to_dict(self):
        return {
            "kind": self.kind,
            "kind_label": KIND_LABELS.get(self.kind, self.kind),
            "ok": self.ok,
            "issues": [issue.to_dict() for issue in self.issues],
            "width": self.width,
            "height": self.height,
            "format": self.format,
            "sharpness": self.sharpness,
            "brightness": self.brightness,
            "size_bytes": self.size_bytes,
            "trailing_bytes": self.trailing_bytes,
            "checks": [finding.to_dict() for finding in self.checks],
            # everything the applicant should read: refusals first, then warnings
            "reasons": [issue.message for issue in self.issues]
                       + [f.message for f in self.checks if not f.ok and f.severity != "refuse"],
        }

    def add_findings(self, findings):
        """Record content findings; a refusing one becomes an issue and the verdict fails."""
        for finding in findings:
            self.checks.append(finding)
            if finding.severity == "refuse":
                self.issues.append(Issue(finding.code, finding.message))
        self.ok = self.ok and not any(f.severity == "refuse" for f in findings)


class MaterialRejected(ValueError):
    """reencode()/thumbnail() were handed bytes that are not a safe JPEG/PNG image."""

    def __init__(self, issues, verdict=None):
        self.issues = list(issues)
        self.verdict = verdict
        super().__init__("; ".join(f"{i.code}: {i.message}" for i in self.issues))

    @property
    def code(self):
        return self.issues[0].code if self.issues else "rejected"
