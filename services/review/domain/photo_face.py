"""The 2-inch photo (两寸免冠照片): exactly one frontal face, of a plausible size and place.

The ranges (thresholds.py) come from GA 461-2004's ID-photo layout, widened for a 2-inch photo's
extra shoulder room and calibrated on the labelled set; each refusal says which way to fix it.
"""
from .findings import passed, refused, warned, wilson_lower
from .thresholds import DEFAULT

_RETAKE = "请使用照相馆提供的电子版两寸免冠照片，或在纯色背景前正对镜头重新拍摄头肩部正面照"


def _confidence(pair):
    return wilson_lower(*pair)


def photo_findings(faces, width, height, t=DEFAULT):
    """Findings for the photo's faces (faces.strong_faces already applied, largest first)."""
    if not faces:
        return [refused("no_face", "两寸免冠照片中未检测到人像。请上传本人正面、免冠、头部完整、五官清晰的证件照，"
                                   f"不要上传证件、风景或侧脸照片。{_RETAKE}", _confidence(t.face_recall))]
    if len(faces) > 1:
        return [refused("several_faces", f"两寸免冠照片中检测到{len(faces)}张人脸，只能是申请人本人的单人照，"
                                         f"请上传只有本人的证件照。{_RETAKE}", _confidence(t.face_precision),
                        faces=len(faces))]
    face = faces[0]
    sure = _confidence(t.face_precision if face.neighbours >= t.strong_neighbours else t.weak_face_precision)
    aspect = width / height
    box_h = face.width * aspect  # the box is square in pixels
    crown = face.top - t.crown_above_box * box_h
    chin = face.top + t.chin_below_box_top * box_h
    share = round(face.width * 100)
    problems = []
    if face.width < t.face_min_width:
        problems.append(("face_too_small", f"两寸免冠照片中的人像过小（面部宽度只占照片宽度的{share}%），请拍摄头肩部近照，"
                                           f"使面部约占照片宽度的一半"))
    elif face.width > t.face_max_width:
        problems.append(("face_too_large", f"两寸免冠照片中的人像过大（面部宽度占照片宽度的{share}%），头部可能被裁切，"
                                           "请离镜头稍远，拍出完整的头部和双肩"))
    if face.left < t.edge_margin:
        problems.append(("face_cut_off", "两寸免冠照片中的人像左侧被裁切，请让头部完整地位于照片中间"))
    elif face.right > 1 - t.edge_margin:
        problems.append(("face_cut_off", "两寸免冠照片中的人像右侧被裁切，请让头部完整地位于照片中间"))
    elif abs(face.centre_x - 0.5) > t.face_max_offset:
        side = "左" if face.centre_x < 0.5 else "右"
        problems.append(("face_off_centre", f"两寸免冠照片中的人像偏{side}，请裁剪或重新拍摄，使头部位于照片水平居中的位置"))
    if crown < -t.crown_cut_margin:
        problems.append(("face_cut_off", "两寸免冠照片中的头顶被裁切，请在头顶上方留出少许空白后重新裁剪或拍摄"))
    elif crown > t.crown_max_gap:
        problems.append(("face_too_low", "两寸免冠照片中的人像位置偏低，头顶上方空白过多，请把头部上移后重新裁剪"))
    if chin > 1:
        problems.append(("face_cut_off", "两寸免冠照片中的下巴被裁切，请拍出完整的头部和双肩"))
    details = {"face_width": round(face.width, 3), "centre_x": round(face.centre_x, 3),
               "crown": round(crown, 3), "neighbours": face.neighbours}
    if not problems:
        return [passed("one_face", "检测到一张正面人像，大小和位置符合证件照要求", sure, **details)]
    make = refused if face.neighbours >= t.strong_neighbours else warned
    return [make(code, f"{message}。{_RETAKE}", sure, **details) for code, message in problems]
