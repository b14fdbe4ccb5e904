"""The four uploaded materials and the names applicants see for them."""

ID_CARD_FRONT = "id_card_front"
ID_CARD_BACK = "id_card_back"
CERTIFICATE = "certificate"
PHOTO = "photo"

KINDS = (ID_CARD_FRONT, ID_CARD_BACK, CERTIFICATE, PHOTO)
ID_CARD_KINDS = (ID_CARD_FRONT, ID_CARD_BACK)

# Applicants confuse the ID sides, so the slots are named by what is printed on them.
KIND_LABELS = {
    ID_CARD_FRONT: "身份证人像面",
    ID_CARD_BACK: "身份证国徽面",
    CERTIFICATE: "职业水平证书",
    PHOTO: "两寸免冠照片",
}

# How a message names the upload ("身份证人像面照片不够清晰", "两寸免冠照片不够清晰").
KIND_SUBJECTS = {
    ID_CARD_FRONT: "身份证人像面照片",
    ID_CARD_BACK: "身份证国徽面照片",
    CERTIFICATE: "职业水平证书照片",
    PHOTO: "两寸免冠照片",
}


def require_kind(kind):
    """Kinds come from a URL path or a form: an unknown one is the caller's bug, not the applicant's."""
    if kind not in KIND_LABELS:
        raise ValueError(f"unknown material kind {kind!r}; expected one of {', '.join(KINDS)}")
    return kind
