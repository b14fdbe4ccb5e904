"""Generated photos for tests (no binary fixtures beyond tests/data/images).

`photo()` is a 2-inch photo with a real face in it (the public-domain astronaut, see
tests/data/README.md) that passes every material check, the face check included; `id_card()`
is an ID card's 人像面 whose portrait the face detector finds, `id_card_back()` its 国徽面.
The synthetic corpus without faces (calibration of sharpness and exposure) stays with the review
unit tests.
"""
from tests.data import material_set as _set
from tests.unit.review.review_material_samples import (  # noqa: F401
    certificate,
    jpeg,
    png,
)


def photo(width=413, height=626, seed=0, background=(67, 142, 219), grain=0.04):
    """A head-and-shoulders 2-inch photo (413×626 by default) with one centred frontal face."""
    return _set.portrait(width, height, seed=seed, background=background, grain=grain)


def id_card(width=1600, height=1000, seed=0, background=(120, 96, 70), side="front"):
    """A phone shot of an ID card lying on a table: `side` "front" (人像面) or "back" (国徽面)."""
    if side == "back":
        return _set.id_back(width, height, seed=seed, background=background)
    return _set.id_front(width, height, seed=seed, background=background, mirror=bool(seed % 2))


def id_card_back(width=1600, height=1000, seed=0, background=(120, 96, 70)):
    return id_card(width, height, seed, background, side="back")
