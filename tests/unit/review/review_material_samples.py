"""Generated material samples (no binary fixtures): cards, certificates, portraits, phone shots.

Everything is drawn with Pillow from a seed, so the corpus is the same on every machine. The
sharpness and brightness thresholds in services.review.domain were calibrated on `calibration_set()`;
run this file (`python tests/unit/review/review_material_samples.py`) to print the score table that
docs/material-checks.md quotes.
"""
import io
import random
import struct
import zlib

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageFont

_FONTS = {}


def font(size):
    if size not in _FONTS:
        _FONTS[size] = ImageFont.load_default(size=size)
    return _FONTS[size]


def _text_line(rnd, n):
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789abcdefghijkmnopqrstuvwxyz"
    return "".join(rnd.choice(alphabet) if rnd.random() > 0.15 else " " for _ in range(n))


def add_grain(im, sigma, amount, seed):
    """Sensor-like noise from a seeded generator. Not Pillow's effect_noise: it draws from C rand(),
    so the same call gives other pixels after other tests have drawn noise, and a face found when a
    test runs alone could be missed in a full run."""
    if amount <= 0:
        return im
    rng = np.random.default_rng(seed)
    noise = rng.normal(128, sigma, (im.height, im.width)).clip(0, 255).astype(np.uint8)
    return Image.blend(im, Image.fromarray(noise, "L").convert(im.mode), amount)


def id_card(width=1600, height=1000, seed=0, background=(120, 96, 70)):
    """A phone shot of an ID card lying on a table: card fills ~75% of a landscape frame."""
    rnd = random.Random(seed)
    im = Image.new("RGB", (width, height), background)
    im = add_grain(im, 30, 0.15, seed)
    d = ImageDraw.Draw(im)
    cw = int(width * 0.78)
    ch = int(cw / 1.585)
    x0, y0 = (width - cw) // 2, (height - ch) // 2
    d.rounded_rectangle((x0, y0, x0 + cw, y0 + ch), radius=cw // 30, fill=(236, 238, 242),
                        outline=(90, 90, 90), width=2)
    # faint guilloche-like security pattern
    for i in range(0, cw, max(4, cw // 120)):
        d.line((x0 + i, y0 + 4, x0 + i + cw // 8, y0 + ch - 4), fill=(214, 222, 232), width=1)
    size = max(12, ch // 16)
    f = font(size)
    for row in range(6):
        d.text((x0 + cw // 20, y0 + ch // 12 + row * int(size * 1.6)), _text_line(rnd, 18),
               fill=(20, 20, 20), font=f)
    d.text((x0 + cw // 20, y0 + ch - 2 * size), "".join(rnd.choice("0123456789") for _ in range(18)),
           fill=(10, 10, 10), font=font(int(size * 1.2)))
    px0, py0 = x0 + int(cw * 0.66), y0 + ch // 10
    portrait = photo(int(cw * 0.28), int(ch * 0.62), seed=seed, background=(236, 238, 242), grain=0)
    im.paste(portrait, (px0, py0))
    return im


def certificate(width=1240, height=1754, seed=0):
    """A scanned certificate page: mostly paper, a ruled table, small print and a red seal."""
    rnd = random.Random(seed)
    im = Image.new("RGB", (width, height), (250, 247, 238))
    im = add_grain(im, 10, 0.05, seed)
    d = ImageDraw.Draw(im)
    m = width // 12
    d.rectangle((m, m, width - m, height - m), outline=(150, 30, 30), width=max(2, width // 300))
    d.text((width // 2, m * 2), "CERTIFICATE OF SOCIAL WORK", fill=(30, 30, 30), anchor="mm",
           font=font(max(16, width // 24)))
    size = max(10, width // 60)
    f = font(size)
    y = m * 3
    while y < height - 3 * m:
        d.line((m * 1.5, y, width - m * 1.5, y), fill=(120, 120, 120), width=1)
        d.text((m * 1.6, y + 4), _text_line(rnd, 40), fill=(40, 40, 40), font=f)
        y += int(size * 2.2)
    cx, cy, r = int(width * 0.7), int(height * 0.8), width // 8
    d.ellipse((cx - r, cy - r, cx + r, cy + r), outline=(200, 30, 30), width=max(3, width // 200))
    d.regular_polygon((cx, cy, r // 3), 5, fill=(200, 30, 30))
    return im


def photo(width=413, height=626, seed=0, background=(67, 142, 219), grain=0.04):
    """A head-and-shoulders ID photo: flat background, smooth face, fine hair strands, collar."""
    rnd = random.Random(seed)
    im = Image.new("RGB", (width, height), background)
    d = ImageDraw.Draw(im)
    cx = width // 2
    d.polygon([(0, height), (width, height), (int(width * 0.85), int(height * 0.78)),
               (int(width * 0.15), int(height * 0.78))], fill=(30, 32, 40))
    d.polygon([(cx, int(height * 0.95)), (int(width * 0.38), int(height * 0.78)),
               (int(width * 0.62), int(height * 0.78))], fill=(245, 245, 245))
    fw, fh = int(width * 0.42), int(height * 0.42)
    fy = int(height * 0.2)
    d.rectangle((cx - fw // 5, fy + fh - 10, cx + fw // 5, int(height * 0.8)), fill=(226, 186, 160))
    d.ellipse((cx - fw // 2, fy, cx + fw // 2, fy + fh), fill=(232, 194, 168))
    d.chord((cx - fw // 2 - 6, fy - 12, cx + fw // 2 + 6, fy + fh // 2), 180, 360, fill=(25, 20, 18))
    for _ in range(max(40, width // 4)):  # hair strands: the fine detail blur removes first
        x = cx + rnd.randint(-fw // 2, fw // 2)
        d.line((x, fy - 8, x + rnd.randint(-12, 12), fy + fh // 4), fill=(60, 50, 45), width=1)
    ey = fy + int(fh * 0.45)
    for ex in (cx - fw // 5, cx + fw // 5):
        d.ellipse((ex - fw // 14, ey - fh // 30, ex + fw // 14, ey + fh // 30), fill=(250, 250, 250))
        d.ellipse((ex - fw // 40, ey - fh // 40, ex + fw // 40, ey + fh // 40), fill=(20, 20, 20))
        d.line((ex - fw // 10, ey - fh // 12, ex + fw // 10, ey - fh // 11), fill=(40, 30, 25), width=3)
    d.line((cx, ey, cx - fw // 20, ey + fh // 5), fill=(200, 160, 135), width=2)
    d.arc((cx - fw // 6, ey + fh // 5, cx + fw // 6, ey + fh // 3), 20, 160, fill=(160, 70, 70), width=3)
    return add_grain(im, 20, grain, seed)


def phone_scene(width=2400, height=1600, seed=0):
    """A busy phone photo (the benchmark's subject): gradient, grain, lines and print."""
    rnd = random.Random(seed)
    base = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    im = add_grain(base, 12, 0.5, seed)
    d = ImageDraw.Draw(im)
    for _ in range(300):
        x, y = rnd.randrange(width), rnd.randrange(height)
        d.line((x, y, x + rnd.randrange(-400, 400), y + rnd.randrange(-400, 400)),
               fill=tuple(rnd.randrange(256) for _ in range(3)), width=rnd.randrange(1, 4))
    f = font(40)
    for _ in range(40):
        d.text((rnd.randrange(width), rnd.randrange(height)), _text_line(rnd, 20), fill=(0, 0, 0), font=f)
    return im


# -- degradations -------------------------------------------------------------------------------

def gaussian(im, radius_at_analysis, analysis_side=800):
    """Blur by a radius expressed at the analysis scale (long side 800), whatever the image size."""
    scale = max(im.size) / analysis_side if max(im.size) > analysis_side else 1.0
    return im.filter(ImageFilter.GaussianBlur(radius_at_analysis * scale))


def motion(im, length_at_analysis, analysis_side=800):
    """Horizontal camera shake: squeeze the rows by the shake length and stretch them back."""
    scale = max(im.size) / analysis_side if max(im.size) > analysis_side else 1.0
    n = max(2.0, length_at_analysis * scale)
    narrow = im.resize((max(1, round(im.width / n)), im.height), Image.Resampling.BOX)
    return narrow.resize(im.size, Image.Resampling.BILINEAR)


def brightness(im, factor):
    return ImageEnhance.Brightness(im).enhance(factor)


def washed_out(im, amount):
    """Overexposure: push everything towards white."""
    return Image.blend(im, Image.new(im.mode, im.size, (255,) * len(im.getbands())), amount)


# -- encoders -----------------------------------------------------------------------------------

def jpeg(im, quality=90, **kw):
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=quality, **kw)
    return buf.getvalue()


def png(im, **kw):
    buf = io.BytesIO()
    im.save(buf, "PNG", **kw)
    return buf.getvalue()


def jpeg_with_orientation(im, orientation, **kw):
    exif = Image.Exif()
    exif[0x0112] = orientation
    return jpeg(im, exif=exif.tobytes(), **kw)


def png_bomb_header(width=100_000, height=100_000):
    """A tiny PNG whose IHDR claims a huge image (the decompression-bomb shape)."""
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1024)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def heic_header():
    """The first box of an iPhone HEIC file: ftyp with brand heic."""
    body = b"ftyp" + b"heic" + b"\x00\x00\x00\x00" + b"mif1heic"
    return struct.pack(">I", len(body) + 4) + body + b"\x00" * 64


# -- the calibration set ------------------------------------------------------------------------
# Blur is labelled by its Gaussian sigma at the analysis scale (long side 800). A box (camera
# shake) of length L has sigma L/sqrt(12). sharp: sigma <= 1; blurred: sigma >= 3; in between is
# a grey zone that is measured but not used to place the threshold.

SHARP_RADII = (0, 0.5, 1.0)
GREY_RADII = (1.5, 2.0, 2.5)
BLURRED_RADII = (3.0, 4.0, 6.0)
GREY_MOTION = (6, 8)  # sigma 1.7, 2.3
BLURRED_MOTION = (12, 20)  # sigma 3.5, 5.8


def _subjects():
    yield "id_card/0", id_card(1600, 1000, seed=0)
    yield "id_card/1", id_card(3000, 2000, seed=1)
    yield "id_card/2", id_card(1000, 640, seed=2)
    yield "certificate/0", certificate(1240, 1754, seed=0)
    yield "certificate/1", certificate(1754, 1240, seed=1)
    yield "certificate/2", certificate(840, 1188, seed=2)
    yield "photo/0", photo(413, 626, seed=0)
    yield "photo/1", photo(827, 1252, seed=1)  # 35x53 mm at 600 dpi
    yield "photo/2", photo(413, 626, seed=2, background=(200, 30, 40))
    for seed in range(3):
        yield f"phone/{seed}", phone_scene(1600, 1200, seed=seed)


def calibration_set():
    """Yields (name, label, jpeg_bytes); label is 'sharp', 'blurred' or 'grey' (not scored)."""
    for name, im in _subjects():
        for quality in (70, 92):
            for r in SHARP_RADII:
                yield f"{name} q{quality} gauss{r}", "sharp", jpeg(gaussian(im, r), quality)
            for r in GREY_RADII:
                yield f"{name} q{quality} gauss{r}", "grey", jpeg(gaussian(im, r), quality)
            for r in BLURRED_RADII:
                yield f"{name} q{quality} gauss{r}", "blurred", jpeg(gaussian(im, r), quality)
            for n in GREY_MOTION:
                yield f"{name} q{quality} motion{n}", "grey", jpeg(motion(im, n), quality)
            for n in BLURRED_MOTION:
                yield f"{name} q{quality} motion{n}", "blurred", jpeg(motion(im, n), quality)
        # low light: blurred and then grainy, the case that fools edge-energy scores
        yield f"{name} gauss4+grain", "blurred", jpeg(add_grain(gaussian(im, 4), 30, 0.08, 7), 85)
        yield f"{name} sharp+grain", "sharp", jpeg(add_grain(im, 30, 0.08, 7), 85)


def validation_set():
    """Held out from the calibration (other seeds, sizes, PNG): (name, label, bytes), sharp|blurred."""
    subjects = [("id_card", id_card(2400, 1500, seed=21)), ("certificate", certificate(1000, 1414, seed=22)),
                ("photo", photo(620, 939, seed=23, background=(230, 235, 240))),
                ("phone", phone_scene(1200, 900, seed=24))]
    for name, im in subjects:
        for r in (0, 1.0):
            yield f"{name} gauss{r} jpeg", "sharp", jpeg(gaussian(im, r), 80)
            yield f"{name} gauss{r} png", "sharp", png(gaussian(im, r))
        for r in (3.0, 5.0):
            yield f"{name} gauss{r}", "blurred", jpeg(gaussian(im, r), 80)
        for n in (12, 16):
            yield f"{name} motion{n}", "blurred", jpeg(motion(im, n), 80)


def lighting_set():
    """Yields (name, label, jpeg_bytes); label is 'normal', 'dark' or 'washed_out'."""
    for name, im in _subjects():
        yield f"{name}", "normal", jpeg(im)
        for f in (0.75, 1.2):
            yield f"{name} brightness{f}", "normal", jpeg(brightness(im, f))
        for f in (0.12, 0.2):
            yield f"{name} brightness{f}", "dark", jpeg(brightness(im, f))
        for a in (0.8, 0.9):
            yield f"{name} washed{a}", "washed_out", jpeg(washed_out(im, a))


def _summary(label, values):
    import statistics

    values = sorted(values)
    return f"{label}: n={len(values)} min={values[0]:.3f} median={statistics.median(values):.3f} max={values[-1]:.3f}"


if __name__ == "__main__":  # pragma: no cover - prints the calibration tables
    import sys

    sys.path.insert(0, ".")
    from services.review.domain import analysis

    scores = {}
    for name, label, data in calibration_set():
        score = analysis.measure(data).sharpness
        scores.setdefault(label, []).append(score)
        print(f"{label:8s} {score:7.3f}  {name}")
    print("\n".join(_summary(label, values) for label, values in scores.items()))
    held_out = {}
    for _name, label, data in validation_set():
        held_out.setdefault(label, []).append(analysis.measure(data).sharpness)
    print("\n".join(_summary("validation " + label, values) for label, values in held_out.items()))
    light = {}
    for _name, label, data in lighting_set():
        m = analysis.measure(data)
        light.setdefault(label, []).append(m)
    for label, ms in light.items():
        print(_summary(f"{label} p99 (highlights)", [m.highlights for m in ms]))
        print(_summary(f"{label} p01 (shadows)", [m.shadows for m in ms]))
        print(_summary(f"{label} mean", [m.brightness for m in ms]))
