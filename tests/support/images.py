"""Generated photos for tests (no binary fixtures) — the corpus lives with the review unit tests."""
from tests.unit.review.review_material_samples import (  # noqa: F401
    certificate,
    id_card,
    jpeg,
    photo,
    png,
)
