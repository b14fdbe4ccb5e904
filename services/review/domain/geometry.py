"""Rules on the size and shape of each material, on dimensions after the EXIF orientation."""
from services.contracts.materials import CERTIFICATE, ID_CARD_KINDS, KIND_SUBJECTS, PHOTO

from .photo_sizes import PhotoSize, mm_matches, name_of, near, size_mm
from .verdict import Issue

ID_CARD_ASPECT = 85.6 / 54


def geometry_issues(kind, width, height, dpi, policy):
    if kind in ID_CARD_KINDS:
        return _id_card(kind, width, height, policy)
    if kind == CERTIFICATE:
        return _min_long_side(kind, width, height, policy.certificate_min_long_side,
                              "请把证书放平、拍全后上传原图（或扫描件），不要上传缩略图或截图")
    if kind == PHOTO:
        issue = _photo(width, height, dpi, policy)
        return [issue] if issue else []
    return []


def _min_long_side(kind, width, height, minimum, fix):
    if max(width, height) >= minimum:
        return []
    return [Issue("too_small", f"{KIND_SUBJECTS[kind]}的长边应至少{minimum}像素，当前为{width}×{height}，{fix}")]


def _id_card(kind, width, height, policy):
    label = KIND_SUBJECTS[kind]
    issues = []
    if width <= height:
        issues.append(Issue("not_landscape", f"{label}应为横向（宽大于高），当前为{width}×{height}的竖向图片，"
                                              "请把身份证横放拍摄，或把照片旋转后重新上传"))
    aspect = max(width, height) / max(1, min(width, height))
    if not policy.id_aspect_min <= aspect <= policy.id_aspect_max:
        issues.append(Issue("bad_aspect", f"{label}的长宽比应在{policy.id_aspect_min:g}到{policy.id_aspect_max:g}之间"
                                           f"（身份证本身约为{ID_CARD_ASPECT:.2f}），当前为{width}×{height}（{aspect:.2f}），"
                                           "请让身份证基本占满画面、四角完整，裁掉多余的背景后重新上传"))
    issues += _min_long_side(kind, width, height, policy.id_min_long_side,
                             "请靠近一些、用手机直接拍摄后上传原图，不要上传缩略图或截图")
    return issues


def _photo(width, height, dpi, policy):
    tol = policy.photo_tolerance
    want_w, want_h = policy.photo_width, policy.photo_height
    if near(width, want_w, tol) and near(height, want_h, tol):
        return None
    mm = size_mm(width, height, dpi)
    target = PhotoSize("两寸照片", policy.photo_width_mm, policy.photo_height_mm)
    # The notice also allows "3.5×5.3cm": a larger print scan whose DPI says so, never smaller.
    if (mm_matches(mm, target, policy.photo_mm_tolerance)
            and width >= want_w * (1 - tol) and height >= want_h * (1 - tol)):
        return None
    wanted = f"照片宽高应为{want_w}×{want_h}像素，当前为{width}×{height}"
    if near(width, want_h, tol) and near(height, want_w, tol):
        return Issue("wrong_photo_size", f"{wanted}，宽和高颠倒了（照片是横着的）。"
                                         f"通知中的“626*413”指高626、宽413，请把照片转为竖向后重新上传")
    name = name_of(width, height, mm, tol, policy.photo_mm_tolerance)
    if name:
        return Issue("wrong_photo_size", f"{wanted}（这是{name}），请上传两寸免冠照片"
                                         f"（{policy.photo_width_mm:g}×{policy.photo_height_mm:g}毫米）")
    if width > height:
        return Issue("wrong_photo_size", f"{wanted}（横向照片），请上传竖向的两寸免冠照片")
    if near(height / width, want_h / want_w, tol):
        return Issue("wrong_photo_size", f"{wanted}（比例正确但像素不对），请把照片缩放为{want_w}×{want_h}像素后重新上传")
    return Issue("wrong_photo_size", f"{wanted}，请上传两寸免冠照片（{policy.photo_width_mm:g}×{policy.photo_height_mm:g}"
                                     f"毫米，即300dpi下{want_w}×{want_h}像素）")
