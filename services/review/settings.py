"""The review service's own configuration keys, read once from the nameko config with defaults."""
import os
from dataclasses import dataclass


@dataclass(frozen=True)
class ReviewSettings:
    max_upload_bytes: int = 1024 * 1024  # MAX_UPLOAD_BYTES (the notice: 不超过1M)
    claim_lease_seconds: int = 1800  # CLAIM_LEASE_SECONDS: a claim idle this long is free again
    thumbnail_side: int = 320  # THUMBNAIL_SIDE
    list_limit: int = 200  # REVIEW_LIST_LIMIT: most tasks one list_tasks answer carries
    figures_window_days: int = 30  # REVIEW_FIGURES_DAYS: decisions the figures look back over
    # MATERIALS_RETENTION_DAYS: ID-card and certificate images go this long after approval (one
    # three-year registration cycle); purged on the retention schedule (services/common/retention.py)
    materials_retention_days: int = 1095
    materials_dir: str = os.path.join("var", "materials")  # MATERIALS_DIR, else VAR_DIR/materials

    @classmethod
    def from_config(cls, config):
        def number(key, default):
            value = config.get(key)
            return default if value in (None, "") else int(value)
        return cls(
            max_upload_bytes=number("MAX_UPLOAD_BYTES", cls.max_upload_bytes),
            claim_lease_seconds=number("CLAIM_LEASE_SECONDS", cls.claim_lease_seconds),
            thumbnail_side=number("THUMBNAIL_SIDE", cls.thumbnail_side),
            list_limit=number("REVIEW_LIST_LIMIT", cls.list_limit),
            figures_window_days=number("REVIEW_FIGURES_DAYS", cls.figures_window_days),
            materials_retention_days=number("MATERIALS_RETENTION_DAYS", cls.materials_retention_days),
            materials_dir=os.path.abspath(config.get("MATERIALS_DIR")
                                          or os.path.join(config.get("VAR_DIR") or "var", "materials")),
        )
