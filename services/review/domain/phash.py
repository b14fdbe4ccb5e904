"""A perceptual hash: 64 bits that survive recompression, resizing and small changes of light.

pHash (Zauner 2010): the picture in grey, area-averaged to 32×32, its 2-D DCT, the 8×8 lowest
frequencies each compared with their median (the DC term left out of the median). Two uploads
of the same picture differ in a few bits; different pictures in about half of them, unless they
share a printed template (then the whole-image hash is near: compare a region, see duplicates.py).
"""
import numpy as np
from PIL import Image

SIZE, LOW = 32, 8
BITS = LOW * LOW


def _dct_matrix(n):
    k = np.arange(n)[:, None]
    x = np.arange(n)[None, :]
    m = np.cos(np.pi * (2 * x + 1) * k / (2 * n)) * np.sqrt(2 / n)
    m[0] /= np.sqrt(2)
    return m


_DCT = _dct_matrix(SIZE)


def phash(grey):
    """16 hex digits for a Pillow image (any mode; converted to grey)."""
    if grey.mode != "L":
        grey = grey.convert("L")
    small = np.asarray(grey.resize((SIZE, SIZE), Image.Resampling.BOX), dtype=np.float64)
    low = (_DCT @ small @ _DCT.T)[:LOW, :LOW].ravel()
    bits = low > np.median(low[1:])
    value = 0
    for bit in bits:
        value = (value << 1) | int(bit)
    return f"{value:016x}"


def hamming(a, b):
    return (int(a, 16) ^ int(b, 16)).bit_count()


def bands(value, count):
    """The hash cut into `count` equal bands: two hashes within count-1 bits share at least one
    band (pigeonhole), so an exact look-up on bands finds every near one without a full scan."""
    width = BITS // count
    number = int(value, 16)
    return [(number >> (width * (count - 1 - i))) & ((1 << width) - 1) for i in range(count)]
