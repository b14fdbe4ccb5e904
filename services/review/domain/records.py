"""What review keeps of an upload, as the service layer sees it (repository.py maps the rows)."""
from dataclasses import dataclass
from datetime import datetime


@dataclass
class Material:
    """One upload checked, accepted (`ok`, stored at `path`) or refused (its verdict only)."""
    id: str
    account_id: str
    application_id: str
    kind: str
    ok: bool
    verdict: dict  # Verdict.to_dict() of the upload as received
    created_at: datetime
    sha256: str | None = None  # of the re-encoded bytes; None for a refused upload
    path: str | None = None  # relative to the store root
    thumb_path: str | None = None
    content_type: str | None = None
    width: int | None = None
    height: int | None = None
    purged_at: datetime | None = None
