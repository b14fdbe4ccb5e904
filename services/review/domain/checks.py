"""check_material: every rule on one upload, cheapest first, never an exception for bad bytes.

Order: size → type by content → container structure (truncation, pixel limit, before Pillow
allocates) → header geometry → reduced-scale decode → sharpness and exposure. A stage that cannot
run without the previous one stops there; the rest report together, so an applicant fixes
everything in one go.
"""
import io

from PIL import Image

from services.contracts.materials import KIND_SUBJECTS, PHOTO, require_kind

from .analysis import analysis_copy, measure_grey
from .geometry import geometry_issues
from .policy import CheckPolicy
from .sniff import SUPPORTED, identify, layout
from .verdict import Issue, MaterialRejected, Verdict

_RETAKE = {
    PHOTO: "请使用照相馆提供的电子版照片，或在光线均匀处对准焦点重新拍摄",
}
_RETAKE_DOCUMENT = "请在光线充足处，把证件放平、对准焦点后重新拍摄"
PILLOW_ERRORS = (Exception,)  # decoders raise OSError, SyntaxError, ValueError, struct.error, ...


def _human_size(n):
    return f"{n / (1024 * 1024):.1f}MB" if n >= 100 * 1024 else f"{n / 1024:.0f}KB"


def corrupt_issue(label):
    return Issue("corrupt", f"{label}文件不完整或已损坏，无法完整读取（可能上传中断或文件被截断），请重新导出照片后上传")


def _too_many_pixels(label, width, height, policy):
    return Issue("too_many_pixels", f"{label}尺寸过大（{width}×{height}，约{width * height / 1e6:.0f}百万像素），"
                                    f"最多{policy.max_pixels / 1e6:.0f}百万像素，请缩小尺寸后重新上传")


def orientation(im):
    """EXIF orientation 1-8 (1 when absent or unreadable), as ImageOps.exif_transpose reads it."""
    if im.format == "PNG" and "exif" not in im.info:
        return 1  # a PNG's eXIf may follow the pixels; getexif() would decode to find it
    try:
        value = im.getexif().get(0x0112, 1)
    except PILLOW_ERRORS:
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def open_checked(kind_label, data, policy):
    """Open JPEG/PNG bytes after the content, structure and pixel checks (header only, no decode).

    Returns (image, sniffed, layout); raises MaterialRejected with the issue otherwise. Shared by
    check_material and reencode/thumbnail, so nothing is decoded that has not passed these.
    """
    sniffed = identify(data)
    if sniffed.format not in SUPPORTED:
        raise MaterialRejected([Issue("unsupported_type", f"{kind_label}只接受JPEG或PNG格式的图片，"
                                                          f"上传的文件实际是{sniffed.what}。{sniffed.advice}")])
    shape = layout(sniffed.format, data)
    if shape.width and shape.height and shape.width * shape.height > policy.max_pixels:
        raise MaterialRejected([_too_many_pixels(kind_label, shape.width, shape.height, policy)])
    if not shape.complete or not shape.width or not shape.height:
        raise MaterialRejected([corrupt_issue(kind_label)])
    if shape.animated:
        raise MaterialRejected([Issue("unsupported_type", f"{kind_label}不接受动态PNG（APNG），请上传静态的JPEG照片")])
    try:
        im = Image.open(io.BytesIO(data), formats=[sniffed.format])
    except Image.DecompressionBombError:
        raise MaterialRejected([_too_many_pixels(kind_label, shape.width, shape.height, policy)]) from None
    except PILLOW_ERRORS:
        raise MaterialRejected([corrupt_issue(kind_label)]) from None
    if im.size != (shape.width, shape.height) or im.width * im.height > policy.max_pixels:
        raise MaterialRejected([corrupt_issue(kind_label)])
    return im, sniffed, shape


def check_material(kind, data, policy=CheckPolicy()):
    """Judge one upload of `kind`; returns a Verdict for any bytes (ValueError only for an unknown kind)."""
    return check_with_copy(kind, data, policy)[0]


def check_with_copy(kind, data, policy=CheckPolicy()):
    """check_material, also handing back what the content checks need: (verdict, grey analysis
    copy or None when nothing was decoded, EXIF orientation). The copy is not turned upright."""
    label = KIND_SUBJECTS[require_kind(kind)]
    data = bytes(data)
    verdict = Verdict(kind=kind, ok=False, size_bytes=len(data))
    if not data:
        verdict.issues.append(Issue("empty", f"{label}文件是空的（0字节），请重新选择照片上传"))
        return verdict, None, 1
    too_large = len(data) > policy.max_bytes
    if too_large:
        verdict.issues.append(Issue("too_large", f"{label}文件大小为{_human_size(len(data))}，超过{_human_size(policy.max_bytes)}的上限，"
                                                 "请压缩或用手机“编辑→调整大小”后重新上传"))
    verdict.format = identify(data).format
    try:
        im, _, shape = open_checked(label, data, policy)
    except MaterialRejected as rejected:
        verdict.issues += rejected.issues
        return verdict, None, 1
    verdict.trailing_bytes = len(data) - shape.end
    width, height = im.size
    dpi = im.info.get("dpi")
    if too_large:
        # Not decoded: the upload is refused anyway; report what the header already shows.
        _add_geometry(verdict, kind, width, height, orientation(im), dpi, policy)
        return verdict, None, 1
    try:
        grey = analysis_copy(im, policy.analysis_side)
        turn = orientation(im)
        measured = measure_grey(grey)
    except PILLOW_ERRORS:
        verdict.issues.append(corrupt_issue(label))
        return verdict, None, 1
    _add_geometry(verdict, kind, width, height, turn, dpi, policy)
    verdict.sharpness, verdict.brightness = measured.sharpness, measured.brightness
    verdict.issues += _quality_issues(kind, label, measured, policy)
    verdict.ok = not verdict.issues
    return verdict, grey, turn


def _add_geometry(verdict, kind, width, height, turn, dpi, policy):
    # Orientations 5-8 turn the picture by 90°: a phone's portrait-stored landscape shot.
    if turn >= 5:
        width, height = height, width
        dpi = tuple(reversed(dpi)) if isinstance(dpi, tuple) else dpi
    verdict.width, verdict.height = width, height
    verdict.issues += geometry_issues(kind, width, height, dpi, policy)


def _quality_issues(kind, label, measured, policy):
    retake = _RETAKE.get(kind, _RETAKE_DOCUMENT)
    issues = []
    if measured.sharpness is not None and measured.sharpness < policy.min_sharpness:
        issues.append(Issue("blurry", f"{label}不够清晰（清晰度{measured.sharpness:.2f}，至少需要{policy.min_sharpness:.2f}），"
                                      f"画面发虚、边缘不清。{retake}，拍摄时保持手机稳定"))
    if measured.highlights < policy.dark_highlights_max:
        issues.append(Issue("too_dark", f"{label}太暗（最亮处亮度仅{measured.highlights}，应不低于"
                                        f"{policy.dark_highlights_max}），{retake}"))
    # Blur spreads thin dark print into grey, so a blurred white page has no dark 1% either; the
    # retake advice for blur covers it, and "avoid glare" would be the wrong fix.
    if measured.shadows > policy.washed_shadows_min and not issues:
        issues.append(Issue("washed_out", f"{label}过亮发白（最暗处亮度为{measured.shadows}，应不高于"
                                          f"{policy.washed_shadows_min}），请避开强光和闪光灯反光后重新拍摄"))
    return issues
