"""Which side of the ID card is it: the 人像面 carries the holder's portrait, the 国徽面 does not.

A front without a face or a back with one is "正反面上传反了". It refuses only when the evidence is
strong (a clear face on the back; no face on a front that is sharp and well lit, where the
detector found every portrait of the labelled set); otherwise it warns, with its confidence.
"""
from services.contracts.materials import ID_CARD_BACK, ID_CARD_FRONT

from .findings import passed, refused, warned, wilson_lower
from .thresholds import DEFAULT

_SWAPPED = "身份证正反面可能上传反了"


def side_findings(kind, faces, picture_ok=True, t=DEFAULT):
    """Findings for an ID side; `faces` are boxes ≥ min_neighbours (largest first); `picture_ok`:
    the picture passed the sharpness and exposure checks (a blurred or dark one hides a face)."""
    strong = [f for f in faces if f.neighbours >= t.strong_neighbours]
    if kind == ID_CARD_FRONT:
        if strong or faces:
            best = (strong or faces)[0]
            sure = wilson_lower(*(t.face_precision if strong else t.weak_face_precision))
            return [passed("portrait_found", "身份证人像面上检测到证件照人像", sure, neighbours=best.neighbours)]
        sure = wilson_lower(*t.face_recall) if picture_ok else 0.5
        message = (f"{_SWAPPED}：身份证人像面照片上没有检测到持证人的照片。“人像面”是有本人照片的一面，"
                   "“国徽面”是有国徽和签发机关的一面，请核对后重新上传；如确为人像面，请把证件放平、避免反光后重拍")
        make = refused if sure >= t.side_refuse_confidence else warned
        return [make("no_portrait_on_front", message, sure)]
    if kind == ID_CARD_BACK:
        if not faces:
            return [passed("no_portrait_on_back", "身份证国徽面上没有人像，正反面无误",
                           wilson_lower(*t.face_recall) if picture_ok else 0.5)]
        best = (strong or faces)[0]
        sure = wilson_lower(*(t.face_precision if strong else t.weak_face_precision))
        message = (f"{_SWAPPED}：身份证国徽面照片上检测到人像，这可能是人像面。“国徽面”是有国徽和签发机关、"
                   "有效期限的一面，请翻到背面重新拍摄上传")
        make = refused if strong and sure >= t.side_refuse_confidence else warned
        return [make("portrait_on_back", message, sure, neighbours=best.neighbours)]
    return []
