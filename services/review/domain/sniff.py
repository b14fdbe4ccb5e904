"""What a file is, judged by its first bytes, and where a JPEG/PNG stream really ends.

The walkers below read only the container structure (segment and chunk headers), not pixels. They
give the dimensions before Pillow allocates anything (our own pixel limit, no global Pillow state),
refuse truncated files even if some other code set ImageFile.LOAD_TRUNCATED_IMAGES, and find
bytes appended after the end marker (a ZIP, a phone's motion-photo video).
"""
import re
import struct
import zlib
from dataclasses import dataclass

JPEG = "JPEG"
PNG = "PNG"
SUPPORTED = (JPEG, PNG)

_CONVERT = "请用手机相册或电脑的画图工具把它另存为JPEG格式后重新上传"


@dataclass(frozen=True)
class Sniffed:
    format: str | None  # JPEG, PNG, or the name of what it is instead
    what: str  # Chinese, for the message: what the file really is
    advice: str = ""  # Chinese: how to get a JPEG from it


# ISO base media (ftyp) brands: iPhones write HEIC, newer Androids AVIF; the rest are videos.
_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}
_AVIF_BRANDS = {b"avif", b"avis"}

_HEIC = Sniffed("HEIC", "HEIC格式（苹果手机默认的照片格式）",
                "请在手机“设置→相机→格式”中选择“兼容性最佳”后重新拍摄，或在相册中把照片导出/存储为JPEG后重新上传")


def _ftyp(data):
    brand = data[8:12]
    compatible = {data[i:i + 4] for i in range(16, min(len(data), 64), 4)}
    brands = {brand} | compatible
    if brand in _HEIF_BRANDS or (brand not in _AVIF_BRANDS and brands & _HEIF_BRANDS):
        return _HEIC
    if brands & _AVIF_BRANDS:
        return Sniffed("AVIF", "AVIF格式图片", _CONVERT)
    return Sniffed("VIDEO", "视频文件（MP4/MOV）", "请上传照片，不要上传视频或实况照片的视频部分")


def _gif(data):
    # Each frame of an animation carries its own graphic control block (delay, disposal); a loop
    # extension alone does not make an animation.
    animated = data.count(b"\x21\xf9\x04") > 1
    what = "GIF动图" if animated else "GIF图片"
    return Sniffed("GIF", what, "请上传用手机或相机拍摄的静态JPEG照片，不要上传动图或表情包")


def identify(data):
    """Name the content of `data` by its magic bytes; format is JPEG or PNG when accepted."""
    head = data[:64]
    if head.startswith(b"\xff\xd8\xff"):
        return Sniffed(JPEG, "JPEG图片")
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return Sniffed(PNG, "PNG图片")
    if head[4:8] == b"ftyp":
        return _ftyp(head)
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return _gif(data)
    if head.startswith(b"%PDF-"):
        return Sniffed("PDF", "PDF文档", "请把证件页面截图，或用手机拍照后上传JPEG图片")
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return Sniffed("WEBP", "WebP格式图片（常见于微信或网页保存的图片）", _CONVERT)
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return Sniffed("TIFF", "TIFF格式图片（常见于扫描仪）", "请在扫描软件中选择JPEG格式重新扫描，或另存为JPEG后上传")
    if head.startswith(b"BM") and len(head) >= 14:
        return Sniffed("BMP", "BMP位图", _CONVERT)
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return Sniffed("ZIP", "压缩包或Word/Excel文档（ZIP格式）", "请直接上传照片本身，不要压缩，也不要插入到文档里")
    if head.startswith(b"Rar!\x1a\x07") or head.startswith(b"7z\xbc\xaf\x27\x1c") or head.startswith(b"\x1f\x8b"):
        return Sniffed("ARCHIVE", "压缩包", "请解压后直接上传照片本身")
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return Sniffed("OFFICE", "旧版Word/Excel文档", "请直接上传照片本身，不要插入到文档里")
    if head.startswith(b"\x00\x00\x00\x0cjP  ") or head.startswith(b"\xff\x4f\xff\x51"):
        return Sniffed("JPEG2000", "JPEG 2000格式图片", _CONVERT)
    if head.startswith(b"8BPS"):
        return Sniffed("PSD", "Photoshop源文件（PSD）", "请在Photoshop中“导出为JPEG”后上传")
    if b"<svg" in head.lower() or head.lstrip().lower().startswith((b"<?xml", b"<!doctype html", b"<html")):
        return Sniffed("TEXT", "网页或矢量图文件", "请上传照片本身（JPEG格式），不要上传网页或图标文件")
    return Sniffed(None, "无法识别的文件", "请上传用手机或相机拍摄的JPEG照片")


@dataclass(frozen=True)
class Layout:
    """The container walk of a JPEG/PNG stream."""

    width: int | None
    height: int | None
    end: int | None  # offset just past the end marker; None when the stream never ends (truncated)
    animated: bool = False
    broken: str | None = None  # why the structure is unreadable, if it is

    @property
    def complete(self):
        return self.end is not None and self.broken is None


# Start-of-frame markers carry the dimensions; C4 (DHT), C8 (JPG), CC (DAC) share the range.
_SOF = {m for m in range(0xC0, 0xD0)} - {0xC4, 0xC8, 0xCC}
# Inside entropy-coded data FF is followed by 00 (stuffing), D0-D7 (restart) or more FF (fill):
# anything else is the next marker. A regex finds it in C instead of a byte loop.
_NEXT_MARKER = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")


def jpeg_layout(data):
    n = len(data)
    pos, width, height = 2, None, None
    while True:
        pos = data.find(b"\xff", pos)  # tolerate stray bytes between segments, as libjpeg does
        if pos < 0:
            return Layout(width, height, None)
        while pos < n and data[pos] == 0xFF:
            pos += 1
        if pos >= n:
            return Layout(width, height, None)
        marker = data[pos]
        pos += 1
        if marker == 0xD9:
            return Layout(width, height, pos)
        if marker in (0x01, 0xD8) or 0xD0 <= marker <= 0xD7:
            continue
        if pos + 2 > n:
            return Layout(width, height, None)
        (length,) = struct.unpack_from(">H", data, pos)
        if length < 2:
            return Layout(width, height, None, broken=f"segment length {length}")
        if pos + length > n:
            return Layout(width, height, None)
        if marker in _SOF and length >= 7 and width is None:
            height, width = struct.unpack_from(">HH", data, pos + 3)
        pos += length
        if marker == 0xDA:
            found = _NEXT_MARKER.search(data, pos)
            if found is None:
                return Layout(width, height, None)
            pos = found.start()


def png_layout(data):
    n = len(data)
    view = memoryview(data)  # slices of a memoryview do not copy the chunk
    pos, width, height, animated = 8, None, None, False
    while pos + 12 <= n:
        length, kind = struct.unpack_from(">I4s", data, pos)
        body_end = pos + 8 + length
        if body_end + 4 > n:
            return Layout(width, height, None, animated)
        (crc,) = struct.unpack_from(">I", data, body_end)
        # Pillow checks IDAT only through zlib; the CRC catches a flipped bit anywhere.
        if zlib.crc32(view[pos + 4:body_end]) != crc:
            return Layout(width, height, None, animated, broken=f"CRC mismatch in {kind!r}")
        if kind == b"IHDR" and length >= 8:
            width, height = struct.unpack_from(">II", data, pos + 8)
        elif kind == b"acTL":
            animated = True
        elif kind == b"IEND":
            return Layout(width, height, body_end + 4, animated)
        pos = body_end + 4
    return Layout(width, height, None, animated)


def layout(fmt, data):
    return jpeg_layout(data) if fmt == JPEG else png_layout(data)
