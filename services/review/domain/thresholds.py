"""Every number the content checks use, with the evidence behind it, in one place.

Sources: GA 461-2004 (居民身份证制证用数字相片技术标准, as quoted by public pages; the standard itself
could not be read here) for the ID-photo layout; everything else was calibrated on the labelled
set in tests/data (one real face, the public-domain astronaut, under phone distortions; card
sides rendered from a template). Regenerate the figures with
`PYTHONPATH=. .venv/bin/python tests/data/material_set.py`; docs/material-checks.md has the tables.
Box fractions are of the Haar box (a square from the eyebrows' top to the upper lip's bottom,
about cheek to cheek), not of the head.
"""
from dataclasses import dataclass


@dataclass(frozen=True)
class ContentThresholds:
    # --- detection -------------------------------------------------------------------------
    # The 2-inch photo is searched on a 160 px wide copy for boxes ≥ 25% of the width (the set's
    # correct photos give 0.35-0.49, two people side by side 0.27-0.30; 160 px found every face of
    # the set, as 200 did, in ~4/5 of the time); only when that finds nothing, again for boxes
    # ≥ 12% on a 240 px copy (a small face needs the pixels: at 160 px the distant faces got 7
    # agreeing windows, at 240 px 8-11), so a too-small face is named, not "no face".
    photo_detect_width: int = 160
    photo_small_detect_width: int = 240
    photo_min_face: float = 0.25
    photo_small_face: float = 0.12
    # ID sides are searched on a 320 px wide copy for boxes 7-30% of the width: the card's
    # portrait (26 × 32 mm of 85.6 mm) gives 0.096-0.115 when the card fills ~3/4 of the frame.
    card_detect_width: int = 320
    card_min_face: float = 0.07
    card_max_face: float = 0.30
    # A box counts as a face with ≥ 3 agreeing windows (OpenCV's default); a face of the set had
    # 8-37 (the distant "far" faces 8-11), a stray box on card text (seen only when searching a
    # 560 px copy) 4; from `strong_neighbours` on, a finding may refuse.
    min_neighbours: int = 3
    strong_neighbours: int = 8
    # A box narrower than this share of the largest one is a speck (collar, badge), not a person.
    min_relative_face: float = 0.5

    # --- the 2-inch photo's face (GA 461-2004: face width 207 ± 14 px of 358, i.e. 0.578 ± 0.039
    # of the width, horizontally centred, crown 7-21 px below the top edge; a 2-inch photo shows
    # more shoulders, so the face is a smaller share: studio-like photos of the set give 0.35-0.49)
    face_min_width: float = 0.28  # below: a half-body or distant shot ("far" gives 0.18-0.20)
    face_max_width: float = 0.80  # above: a close-up that crops forehead and chin
    face_max_offset: float = 0.10  # |box centre - 0.5| of the width; the set: centred ≤ 0.03, shifted ≥ 0.19
    edge_margin: float = 0.02  # a box this close to the left/right edge: the head is cut there
    # Crown and chin from the box (measured on the astronaut: crown 0.49 box heights above the box
    # top, chin 1.19 below it); a crown above the top edge by more than crown_cut_margin of the
    # height is a cut-off head.
    crown_above_box: float = 0.49
    chin_below_box_top: float = 1.19
    crown_cut_margin: float = 0.02
    crown_max_gap: float = 0.25  # crown lower than this share of the height: the head sits too low

    # --- confidence (Wilson lower bounds of rates on the labelled set: successes, trials) -----
    # A strong face found is a real face: strong boxes on the set that were faces (91 on photos,
    # two-person photos counting two; 15 card fronts), none on the 40 pictures without a face.
    face_precision: tuple = (106, 106)
    # No face found means no face: pictures with a whole frontal face where it was found (84
    # photos, 15 card fronts; the detection rate).
    face_recall: tuple = (99, 99)
    # A weak box (min..strong neighbours): none at the chosen settings; the one seen at a larger
    # search scale was not a face. So a weak box alone never refuses.
    weak_face_precision: tuple = (0, 1)
    # ID sides: findings at or above this confidence refuse, below it they warn.
    side_refuse_confidence: float = 0.9

    # --- duplicates (64-bit pHash, Hamming distance) ------------------------------------------
    # Re-uploads of one picture (recompressed, half size, brighter, re-shot by phone) differ in
    # ≤ dup_same_max bits on the set; distinct pictures of one application (front against back of
    # one card) in ≥ 20; distinct cards' whole images in as few as 8 (the template), which is why
    # other accounts are compared on the portrait region only.
    dup_same_max: int = 10
    # Pairs at ≤ the bound that were the same picture, on the set: 12 re-uploads, and none of the
    # 6 front/back pairs (28-32 bits) that one application's slots are compared across.
    dup_precision: tuple = (12, 12)
    # Across accounts, portrait regions: a re-upload differs by 2-4 bits, a phone re-shot of the
    # same card by 10, the mirrored portrait (another picture of the same person) by 28-32.
    cross_account_max: int = 10
    # The portrait region: the face box grown by this factor (2.2: box jitter between detections
    # moves the hash least; 1.8 gave 12 bits for a re-shot, 2.2-3.0 gave 10).
    portrait_grow: float = 2.2



DEFAULT = ContentThresholds()
