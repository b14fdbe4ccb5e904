"""The labelled set for the content checks: 2-inch photos, both ID-card sides, duplicates.

Drawn in code from the public-domain astronaut head and CC0 non-faces in tests/data/images
(README.md there gives each licence) and from card templates; phone-camera distortions are applied
here too. Nothing is a real person's document. Run this file to print the rates that
docs/material-checks.md quotes:

    PYTHONPATH=. .venv/bin/python tests/data/material_set.py
"""
import io
import os
import random
from functools import lru_cache

from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageOps

from tests.unit.review.review_material_samples import _text_line, add_grain, font

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "images")

# Where the head lies inside astronaut_head.jpg (200×250): hair outline, face, neck.
_HAIR = (32, 14, 170, 150)
_FACE = (50, 50, 150, 188)
_NECK = (72, 150, 128, 250)
_HEAD_TOP, _HEAD_WIDTH = 14, _HAIR[2] - _HAIR[0]


@lru_cache(maxsize=None)
def picture(name):
    with Image.open(os.path.join(HERE, name)) as im:
        return im.convert("RGB")


@lru_cache(maxsize=None)
def _mask():
    m = Image.new("L", (200, 250), 0)
    d = ImageDraw.Draw(m)
    d.ellipse(_HAIR, fill=255)
    d.ellipse(_FACE, fill=255)
    d.rectangle(_NECK, fill=255)
    return m.filter(ImageFilter.GaussianBlur(2))


def paste_head(im, head_width, centre_x, top, mirror=False):
    """Paste the astronaut's head so its hair spans `head_width` px, centred at `centre_x`, its
    crown at `top` (all in pixels of `im`; the head may run off the edges: a cut-off head)."""
    scale = head_width / _HEAD_WIDTH
    size = (max(1, round(200 * scale)), max(1, round(250 * scale)))
    head, mask = picture("astronaut_head.jpg"), _mask()
    if mirror:
        head, mask = ImageOps.mirror(head), ImageOps.mirror(mask)
    x = round(centre_x - (_HAIR[0] + _HEAD_WIDTH / 2) * scale)
    y = round(top - _HEAD_TOP * scale)
    im.paste(head.resize(size, Image.Resampling.LANCZOS), (x, y), mask.resize(size, Image.Resampling.LANCZOS))
    return im


def _shoulders(d, width, height, centre, span, top):
    d.polygon([(centre - span, height), (centre + span, height), (centre + span * 0.7, top),
               (centre - span * 0.7, top)], fill=(30, 32, 40))
    d.polygon([(centre, min(height, top + (height - top) * 0.8)), (centre - span * 0.2, top),
               (centre + span * 0.2, top)], fill=(245, 245, 245))


def portrait(width=413, height=626, seed=0, background=(67, 142, 219), grain=0.04, head=0.58,
             centre=0.5, top=0.08, heads=1, mirror=False):
    """A head-and-shoulders ID photo with the astronaut's head.

    `head`: hair width / photo width; `centre`, `top`: the head's centre and crown as fractions of
    the width and height. `heads=2` puts two people side by side (a shared photo); `heads=0`
    draws the shoulders and background only (a photo with nobody's face in it).
    """
    im = Image.new("RGB", (width, height), background)
    d = ImageDraw.Draw(im)
    hw = head * width
    head_height = hw * (188 - _HEAD_TOP) / _HEAD_WIDTH  # crown to chin
    centres = [centre * width] if heads <= 1 else [width * (0.5 - 0.25), width * (0.5 + 0.25)]
    if heads >= 2:
        hw = min(hw, width * 0.42)
        head_height = hw * (188 - _HEAD_TOP) / _HEAD_WIDTH
    for cx in centres:
        _shoulders(d, width, height, cx, hw * 1.25, top * height + head_height * 1.12)
    if heads:
        for i, cx in enumerate(centres):
            paste_head(im, hw, cx, top * height, mirror=mirror ^ bool(i))
    return add_grain(im, 20, grain, seed)


# -- ID cards (templates, not a real card: Latin placeholder text, a drawn emblem) -------------

CARD_RATIO = 85.6 / 54


def _card_frame(width, height, seed, background):
    rnd = random.Random(seed)
    im = add_grain(Image.new("RGB", (width, height), background), 30, 0.15, seed)
    d = ImageDraw.Draw(im)
    cw = int(width * 0.78)
    ch = int(cw / CARD_RATIO)
    x0, y0 = (width - cw) // 2, (height - ch) // 2
    d.rounded_rectangle((x0, y0, x0 + cw, y0 + ch), radius=cw // 30, fill=(236, 238, 242),
                        outline=(90, 90, 90), width=2)
    for i in range(0, cw, max(4, cw // 120)):  # faint guilloche
        d.line((x0 + i, y0 + 4, x0 + i + cw // 8, y0 + ch - 4), fill=(214, 222, 232), width=1)
    return im, d, rnd, (x0, y0, cw, ch)


def id_front(width=1600, height=1000, seed=0, background=(120, 96, 70), face=True, mirror=False):
    """人像面: name/sex/birth/address rows on the left, the holder's portrait on the right, the
    18-digit number below (placeholder text). `face=False` leaves the portrait frame empty."""
    im, d, rnd, (x0, y0, cw, ch) = _card_frame(width, height, seed, background)
    size = max(12, ch // 16)
    for row in range(6):
        d.text((x0 + cw // 20, y0 + ch // 12 + row * int(size * 1.6)), _text_line(rnd, 16),
               fill=(20, 20, 20), font=font(size))
    d.text((x0 + cw // 20, y0 + ch - 2 * size), "".join(rnd.choice("0123456789") for _ in range(18)),
           fill=(10, 10, 10), font=font(int(size * 1.2)))
    # The portrait: 26 × 32 mm on the 85.6 × 54 mm card, right of centre (GA 461 photo layout).
    pw, ph = int(cw * 0.30), int(ch * 0.59)
    px, py = x0 + int(cw * 0.62), y0 + int(ch * 0.1)
    d.rectangle((px, py, px + pw, py + ph), fill=(246, 246, 246))
    if face:
        holder = Image.new("RGB", (pw, ph), (246, 246, 246))
        paste_head(holder, pw * 0.62, pw / 2, ph * 0.05, mirror=mirror)
        im.paste(holder, (px, py))
    return im


def _emblem(d, cx, cy, r):
    """A drawn red-and-gold seal (a stand-in for the emblem: circle, stars, rays, a gate)."""
    d.ellipse((cx - r, cy - r, cx + r, cy + r), fill=(200, 30, 30), outline=(230, 180, 40), width=max(2, r // 12))
    for k in range(24):
        d.pieslice((cx - r * 0.8, cy - r * 0.8, cx + r * 0.8, cy + r * 0.8), k * 15, k * 15 + 6, fill=(225, 60, 40))
    d.regular_polygon((cx, cy - r * 0.45, r * 0.22), 5, fill=(240, 200, 50))
    for k, dx in enumerate((-0.45, -0.22, 0.22, 0.45)):
        d.regular_polygon((cx + dx * r, cy - r * (0.15 if k in (0, 3) else 0.2), r * 0.08), 5, fill=(240, 200, 50))
    d.rectangle((cx - r * 0.45, cy + r * 0.05, cx + r * 0.45, cy + r * 0.45), fill=(240, 200, 50))
    d.rectangle((cx - r * 0.3, cy + r * 0.15, cx + r * 0.3, cy + r * 0.3), fill=(200, 30, 30))


def id_back(width=1600, height=1000, seed=0, background=(120, 96, 70)):
    """国徽面: the emblem top left, the title to its right, issuing office and validity below."""
    im, d, rnd, (x0, y0, cw, ch) = _card_frame(width, height, seed, background)
    _emblem(d, x0 + int(cw * 0.14), y0 + int(ch * 0.25), int(ch * 0.16))
    d.text((x0 + int(cw * 0.3), y0 + int(ch * 0.12)), "ZHONGHUA RENMIN GONGHEGUO", fill=(30, 30, 30),
           font=font(max(12, ch // 14)))
    d.text((x0 + int(cw * 0.3), y0 + int(ch * 0.28)), "JUMIN SHENFENZHENG", fill=(20, 20, 20),
           font=font(max(16, ch // 8)))
    size = max(12, ch // 16)
    for row, label in enumerate(("QIANFA JIGUAN", "YOUXIAO QIXIAN")):
        y = y0 + int(ch * 0.66) + row * int(size * 2)
        d.text((x0 + int(cw * 0.18), y), label, fill=(20, 20, 20), font=font(size))
        d.text((x0 + int(cw * 0.45), y), _text_line(rnd, 14), fill=(20, 20, 20), font=font(size))
    return im


# -- phone-camera distortions and encoders -----------------------------------------------------

def jpeg(im, quality=90):
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def phone(im, seed):
    """A phone re-shot: a small tilt, light and contrast off, slight softness, sensor noise, a
    lower JPEG quality; the size is kept (the geometry rules are not under test here)."""
    rnd = random.Random(seed)
    out = im.rotate(rnd.uniform(-4, 4), Image.Resampling.BICUBIC, expand=False, fillcolor=im.getpixel((2, 2)))
    out = ImageEnhance.Brightness(out).enhance(rnd.uniform(0.8, 1.15))
    out = ImageEnhance.Contrast(out).enhance(rnd.uniform(0.8, 1.15))
    out = out.filter(ImageFilter.GaussianBlur(rnd.uniform(0, 0.8)))
    return jpeg(add_grain(out, 25, rnd.uniform(0.02, 0.06), seed), rnd.choice((70, 80, 90)))


# -- the labelled set ----------------------------------------------------------------------------
# Each yields (name, label, jpeg bytes). Labels for the 2-inch photo:
#   one_face: a correct photo | no_face | two_faces | cut_top | cut_side | too_small | off_centre

PHOTO_VARIANTS = 6  # distortion seeds per layout


def photo_set():
    layouts = [
        ("centred", "one_face", {}),
        ("larger", "one_face", {"head": 0.66, "top": 0.06}),
        ("smaller", "one_face", {"head": 0.5, "top": 0.1}),
        ("red", "one_face", {"background": (200, 30, 40)}),
        ("white", "one_face", {"background": (246, 246, 246), "head": 0.55}),
        ("mirrored", "one_face", {"mirror": True, "centre": 0.53}),
        ("nobody", "no_face", {"heads": 0}),
        ("two", "two_faces", {"heads": 2, "head": 0.4, "top": 0.12}),
        ("crown_cut", "cut_top", {"top": -0.1}),
        ("left_cut", "cut_side", {"centre": 0.08}),
        ("right_cut", "cut_side", {"centre": 0.93}),
        ("far", "too_small", {"head": 0.22, "top": 0.2}),
        ("off_left", "off_centre", {"centre": 0.3}),
        ("off_right", "off_centre", {"centre": 0.71, "head": 0.5}),
        ("low", "too_low", {"top": 0.3}),
    ]
    for name, label, kw in layouts:
        im = portrait(seed=11, **kw)
        yield f"photo/{name} clean", label, jpeg(im, 92)
        for s in range(PHOTO_VARIANTS):
            yield f"photo/{name} phone{s}", label, phone(portrait(seed=s, **kw), 100 + s)
    for name in ("chelsea.jpg", "coffee.jpg", "rocket.jpg"):  # not people at all
        canvas = Image.new("RGB", (413, 626), (200, 200, 200))
        pic = picture(name)
        canvas.paste(pic.resize((413, round(413 * pic.height / pic.width))), (0, 150))
        yield f"photo/{name}", "no_face", jpeg(canvas, 90)


def side_set():
    """(name, label, bytes): label 'front' (a portrait) or 'back' (the emblem side)."""
    sizes = ((1600, 1000), (1200, 760), (2400, 1500))
    for i, (w, h) in enumerate(sizes):
        for s in range(4):
            seed = 10 * i + s
            yield f"front {w}x{h} phone{s}", "front", phone(id_front(w, h, seed=seed, mirror=bool(s % 2)), seed)
            yield f"back {w}x{h} phone{s}", "back", phone(id_back(w, h, seed=seed), seed)
        yield f"front {w}x{h} clean", "front", jpeg(id_front(w, h, seed=i))
        yield f"back {w}x{h} clean", "back", jpeg(id_back(w, h, seed=i))
    # The front with its portrait frame empty (a card whose photo was covered) is not a back;
    # it is labelled "front_no_face" and kept out of the rates.
    yield "front empty portrait", "front_no_face", jpeg(id_front(seed=5, face=False))


def duplicate_pairs():
    """(name, same, a, b): `same` when b is a re-upload of a (recompressed, resized, re-shot)."""
    subjects = [("photo", portrait(seed=1)), ("front", id_front(seed=1)), ("back", id_back(seed=1))]
    for name, im in subjects:
        yield f"{name} q60", True, jpeg(im, 92), jpeg(im, 60)
        half = im.resize((im.width // 2, im.height // 2), Image.Resampling.LANCZOS)
        yield f"{name} half size", True, jpeg(im, 92), jpeg(half, 85)
        yield f"{name} brighter", True, jpeg(im, 92), jpeg(ImageEnhance.Brightness(im).enhance(1.1), 85)
        yield f"{name} phone", True, jpeg(im, 92), phone(im, 3)
    # Distinct pictures that look alike: other holders' cards, front against back of one card,
    # other people's photos on the same background.
    for s in range(2, 8):
        yield f"front 1 / front {s}", False, jpeg(id_front(seed=1)), jpeg(id_front(seed=s, mirror=bool(s % 2)))
        yield f"back 1 / back {s}", False, jpeg(id_back(seed=1)), jpeg(id_back(seed=s))
        yield f"front {s} / back {s}", False, jpeg(id_front(seed=s)), jpeg(id_back(seed=s))
    for s, kw in enumerate(({"mirror": True}, {"head": 0.5}, {"head": 0.66, "top": 0.06},
                            {"background": (200, 30, 40)}, {"centre": 0.46, "mirror": True}), start=2):
        yield f"photo / other photo {s}", False, jpeg(portrait(seed=1)), jpeg(portrait(seed=s, **kw))


if __name__ == "__main__":  # pragma: no cover - prints the tables docs/material-checks.md quotes
    import sys

    sys.path.insert(0, ".")
    from tests.data import measure

    measure.main()
