"""The same picture twice: within one application (refused) and across accounts (flagged).

- One application: the whole picture's hash against the application's current uploads of the
  other kinds. The same picture as front and back, or the ID card as the 2-inch photo, is refused.
- Other accounts: only what is personal is compared: the portrait region (the face and hair,
  found by the face detector) of the 2-inch photo and of the ID front. Never the whole card or certificate: their printed template is the
  same for everyone (distinct cards' whole-image hashes are 0-6 bits apart on the labelled set).
  A match is flagged to the reviewer, not refused (families share phones), and the flag says
  nothing about the other account.
"""
from itertools import combinations

from services.contracts.materials import ID_CARD_FRONT, KIND_LABELS, PHOTO

from .findings import refused, wilson_lower
from .phash import BITS, bands, hamming
from .thresholds import DEFAULT

IMAGE, PORTRAIT = "image", "portrait"
# the kinds compared across accounts (on their PORTRAIT fingerprint)
CROSS_ACCOUNT_KINDS = (PHOTO, ID_CARD_FRONT)
# Multi-index look-up: 4 bands of 16 bits, each probed within 2 bits, finds every hash within 11.
INDEX_BANDS, INDEX_RADIUS = 4, 2
INDEX_REACH = INDEX_BANDS * (INDEX_RADIUS + 1) - 1


def same_application_findings(kind, image_hash, others, t=DEFAULT):
    """`others`: [(other_kind, image_hash)] of the application's current uploads of other kinds."""
    findings = []
    for other_kind, other_hash in others:
        if other_kind == kind or not other_hash:
            continue
        distance = hamming(image_hash, other_hash)
        if distance <= t.dup_same_max:
            this, that = KIND_LABELS[kind], KIND_LABELS[other_kind]
            findings.append(refused(
                "same_as_other_material",
                f"这张图片与本申请已上传的“{that}”是同一张图片，请上传{this}的照片；"
                f"如果之前把它传错了位置，请先重新上传“{that}”",
                wilson_lower(*t.dup_precision), other_kind=other_kind, distance=distance))
    return findings


def probe_values(value):
    """Per index band, the band values within INDEX_RADIUS bits of this hash's band."""
    width = BITS // INDEX_BANDS
    out = []
    for band in bands(value, INDEX_BANDS):
        values = {band}
        for r in range(1, INDEX_RADIUS + 1):
            for bits in combinations(range(width), r):
                flipped = band
                for b in bits:
                    flipped ^= 1 << b
                values.add(flipped)
        out.append(sorted(values))
    return out


def other_account_flag(kind, distances, t=DEFAULT):
    """The reviewer's flag for matches with other accounts' uploads (`distances`: one per other
    account, the nearest), or None. Counts only; never who."""
    near = [d for d in distances if d <= min(t.cross_account_max, INDEX_REACH)]
    if not near:
        return None
    if kind == PHOTO:
        code, what = "same_photo_other_account", "这张两寸免冠照片"
    else:
        code, what = "same_portrait_other_account", "身份证人像面上的人像照片"
    return {"code": code,
            "message": f"{what}与另外{len(near)}个账号上传的照片相同或几乎相同。可能是家人共用手机上传，"
                       "也可能是冒用他人照片，请核对照片是否为申请人本人",
            "accounts": len(near), "distance": min(near),
            "confidence": round(wilson_lower(*t.dup_precision), 2)}
