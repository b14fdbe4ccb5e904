"""Any decoded JPEG/PNG mode to 8-bit RGB, the way a viewer would show it."""
import io

from PIL import Image, ImageCms

_SIXTEEN_BIT = ("I;16", "I;16B", "I;16L", "I;16N", "I")


def _from_profile(im):
    """Honour an embedded ICC profile (CMYK scans, Display P3 phones) before it is dropped."""
    icc = im.info.get("icc_profile")
    if not icc or im.mode not in ("RGB", "CMYK", "L"):
        return None
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        # a fresh sRGB profile per call: LittleCMS profile objects are not shared across threads
        return ImageCms.profileToProfile(im, source, ImageCms.createProfile("sRGB"), outputMode="RGB")
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return None  # a broken or mismatched profile: fall back to Pillow's plain conversion


def to_rgb(im):
    """A new RGB image: 16-bit scaled (Pillow clips it), palette/alpha flattened on white."""
    if im.mode in _SIXTEEN_BIT:
        # convert("L") clips 16-bit samples at 255 (a white image); scale to 8 bits first. A 16-bit
        # tRNS value means nothing once scaled, so that transparency is dropped.
        im = im.point(lambda v: v / 256).convert("L")
        im.info.pop("transparency", None)
    if im.mode == "P" or "transparency" in im.info:
        im = im.convert("RGBA")
    if im.mode in ("RGBA", "LA", "La", "RGBa", "PA"):
        rgba = im.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        white.alpha_composite(rgba)
        return white.convert("RGB")
    converted = _from_profile(im)
    if converted is not None:
        return converted
    return im.convert("RGB")
