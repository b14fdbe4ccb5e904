"""The four uploaded materials (上传材料) and the one set of Chinese names everybody shows.

The codes travel in URLs, events (ReviewCompleted.material_issues[].kind) and databases; the
labels are what applicants, reviewers, SMS and email read. Applicants confuse the ID card's
sides, so the slots are named by what is printed on them: 人像面 / 国徽面, never 正面 / 反面.
"""
from .errors import NotFound

ID_CARD_FRONT = "id_card_front"
ID_CARD_BACK = "id_card_back"
CERTIFICATE = "certificate"
PHOTO = "photo"

KINDS = (ID_CARD_FRONT, ID_CARD_BACK, CERTIFICATE, PHOTO)
ID_CARD_KINDS = (ID_CARD_FRONT, ID_CARD_BACK)

KIND_LABELS = {
    ID_CARD_FRONT: "身份证人像面",
    ID_CARD_BACK: "身份证国徽面",
    CERTIFICATE: "职业水平证书",
    PHOTO: "两寸免冠照片",
}
# Images purged once the certificate is issued (DOMAIN.md privacy); the 2-inch photo is kept.
PURGEABLE_KINDS = (ID_CARD_FRONT, ID_CARD_BACK, CERTIFICATE)

# How a message names the upload ("身份证人像面照片不够清晰", "两寸免冠照片不够清晰").
KIND_SUBJECTS = {
    ID_CARD_FRONT: "身份证人像面照片",
    ID_CARD_BACK: "身份证国徽面照片",
    CERTIFICATE: "职业水平证书照片",
    PHOTO: "两寸免冠照片",
}


class UnknownMaterialKind(NotFound):
    """A kind outside KINDS: the same 404 from the gateway and from review."""

    def __init__(self):
        super().__init__(f"材料类型无效，应为 {'、'.join(KINDS)} 之一", code="unknown_material_kind",
                         details={"kind": ["材料类型无效"]})


def require_kind(kind):
    """Kinds come from a URL path or a form: an unknown one is the caller's bug, not the applicant's."""
    if kind not in KIND_LABELS:
        raise ValueError(f"unknown material kind {kind!r}; expected one of {', '.join(KINDS)}")
    return kind
