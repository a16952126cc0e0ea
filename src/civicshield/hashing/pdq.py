"""PDQ: Meta's 256-bit perceptual image hash, through the ``pdqhash`` binding of the C++ reference.

Preprocessing, and why: every image is converted to RGB with Pillow and hashed *as stored*, without applying
the EXIF orientation tag. That is what reproduces the published hashes (Java and python-threatexchange
exactly; the C++ tool and the pure-Python port within the PDQ README's tolerances) and what every partner
hashing with the reference tools computes, so our hashes can be exchanged with theirs. Converting to RGB
first matters for colour modes: hashing Pillow's raw arrays, as a naive ``np.asarray(img)`` does, inverts
CMYK (all 256 bits flip), hashes palette indices instead of colours for ``P`` and yields quality 0 for
1-bit images; after RGB conversion every colour-mode copy of one picture lands within 2 bits of the original.

Because a platform may bake an EXIF rotation into the pixels, ``image_pdq`` also returns the hash of the
orientation-corrected picture when the tag asks for a rotation or flip, so look-ups can try both. And because
a re-poster may mirror or turn a picture on purpose (mirroring is the oldest trick for dodging a hash bank),
it returns the seven other dihedral hashes of the stored pixels (PDQ's own ``compute_dihedral``: the
transforms come out of the same DCT at almost no cost), so a look-up can find a banked picture in any of the
eight orientations and say which one. Finally, a copy is often the picture inside something else: a white
frame, a meme's caption band, a phone screenshot with a dark screen and a status bar. ``content_box`` finds
the longest run of rows, then of columns within them, that carry picture detail (a flat band or a single line
of text is not a run); when that box is clearly smaller than the image, its PDQ is one more look-up.

Quality (0-100) measures how much gradient the picture has; hashes below 50 are not trusted for matching
(flat or tiny images collide easily). The recommended match threshold is a Hamming distance of at most 31.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import pdqhash
from PIL import Image, ImageOps

from civicshield.errors import BankFormatError, CorruptMedia
from civicshield.media import Media, decode_image

__all__ = [
    "FRAMED",
    "PDQ_HEX_LEN",
    "TURNS",
    "ImagePdq",
    "PdqHash",
    "content_box",
    "dihedral_from_rgb",
    "hamming",
    "hex_to_codes",
    "image_pdq",
    "parse_pdq_hex",
    "pdq_from_rgb",
    "picture_pdq",
]

PDQ_HEX_LEN = 64
PDQ_BYTES = 32
_EXIF_ORIENTATION = 0x0112
_HEX_DIGITS = frozenset("0123456789abcdef")

FRAMED = "cut out of a frame, caption band or screenshot"
# ``pdqhash.compute_dihedral``'s hashes 1..7, named for what was done to the banked picture to give the item
# (a quarter turn either way reads the same to a user; 0 is the picture as it is).
TURNS = (
    "turned a quarter turn",
    "turned upside down (180°)",
    "turned a quarter turn",
    "flipped top to bottom",
    "mirrored left to right",
    "mirrored across a diagonal",
    "mirrored across a diagonal",
)


@dataclass(frozen=True)
class PdqHash:
    """A PDQ hash as 64 lowercase hex digits (the ThreatExchange wire format) and its quality."""

    hex: str
    quality: int

    @property
    def trusted(self) -> bool:
        """Whether the hash has enough quality (>= 50) to be used for matching, per the PDQ README."""
        return self.quality >= 50

    def distance(self, other: PdqHash | str) -> int:
        return hamming(self.hex, other.hex if isinstance(other, PdqHash) else other)

    def to_dict(self) -> dict[str, object]:
        return {"hash": self.hex, "quality": self.quality}


@dataclass(frozen=True)
class ImagePdq:
    """The hash of the pixels as stored and, when EXIF asks to rotate or flip, of the corrected picture."""

    stored: PdqHash
    oriented: PdqHash | None = None
    orientation: int = 1
    turned: tuple[PdqHash, ...] = ()  # the stored pixels in the seven other orientations, as ``TURNS``
    framed: PdqHash | None = None  # the picture cut out of a frame, caption band or screenshot


def parse_pdq_hex(text: str) -> str:
    """Validate and normalise a PDQ hash given as hex (case-insensitive); ``BankFormatError`` otherwise."""
    value = text.strip().lower()
    if len(value) != PDQ_HEX_LEN or not set(value) <= _HEX_DIGITS:
        shown = value if len(value) <= 80 else value[:77] + "..."
        raise BankFormatError(f"not a PDQ hash (want {PDQ_HEX_LEN} hex digits): {shown!r}")
    return value


def hamming(a: str, b: str) -> int:
    """Hamming distance between two PDQ hex strings (both assumed valid)."""
    return (int(a, 16) ^ int(b, 16)).bit_count()


def hex_to_codes(hexes: list[str] | tuple[str, ...]) -> np.ndarray:
    """``(n, 32)`` uint8 codes, the byte layout faiss binary indexes expect (first hex digit = high bits)."""
    if not hexes:
        return np.zeros((0, PDQ_BYTES), dtype=np.uint8)
    return np.frombuffer(bytes.fromhex("".join(hexes)), dtype=np.uint8).reshape(-1, PDQ_BYTES)


def pdq_from_rgb(rgb: np.ndarray) -> PdqHash:
    """PDQ of an ``HxWx3`` uint8 RGB array."""
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise CorruptMedia(f"PDQ needs an HxWx3 uint8 array, got shape {rgb.shape} {rgb.dtype}")
    if not rgb.flags.c_contiguous:
        rgb = np.ascontiguousarray(rgb)
    bits, quality = pdqhash.compute(rgb)
    return _packed(bits, int(quality))


def _packed(bits: np.ndarray, quality: int) -> PdqHash:
    return PdqHash(np.packbits(bits.astype(np.uint8, copy=False)).tobytes().hex(), quality)


def dihedral_from_rgb(rgb: np.ndarray) -> tuple[PdqHash, tuple[PdqHash, ...]]:
    """PDQ of an ``HxWx3`` uint8 RGB array and of its seven other orientations (``TURNS`` order)."""
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise CorruptMedia(f"PDQ needs an HxWx3 uint8 array, got shape {rgb.shape} {rgb.dtype}")
    if not rgb.flags.c_contiguous:
        rgb = np.ascontiguousarray(rgb)
    vectors, quality = pdqhash.compute_dihedral(rgb)
    hashes = [
        PdqHash(np.packbits(v.astype(np.uint8, copy=False)).tobytes().hex(), int(quality)) for v in vectors
    ]
    return hashes[0], tuple(hashes[1:])


ACTIVE_STD = 6.0  # grey levels: a row of picture varies more than this, a flat band or a frame far less
MIN_SHRINK = 0.04  # the box must lose at least this share of a side to count as a frame
MIN_AREA = 0.2  # and keep at least this share of the image


def _longest_run(active: np.ndarray) -> tuple[int, int]:
    """Start and end (exclusive) of the longest run of True values."""
    best, start = (0, 0), None
    for i, flag in enumerate([*active.tolist(), False]):
        if flag and start is None:
            start = i
        elif not flag and start is not None:
            if i - start > best[1] - best[0]:
                best = (start, i)
            start = None
    return best


def content_box(image: Image.Image) -> tuple[int, int, int, int] | None:
    """The picture inside a frame, caption band or screenshot, as a crop box, or ``None`` when the image is
    (nearly) all picture. Measured on a greyscale copy at most 512 px on its long side."""
    w, h = image.size
    scale = min(1.0, 512 / max(w, h))
    small = image.convert("L").resize((max(1, round(w * scale)), max(1, round(h * scale))))
    grey = np.asarray(small, dtype=np.float32)
    r0, r1 = _longest_run(grey.std(axis=1) > ACTIVE_STD)
    if r1 - r0 < 8:
        return None
    c0, c1 = _longest_run(grey[r0:r1].std(axis=0) > ACTIVE_STD)
    if c1 - c0 < 8:
        return None
    sh, sw = grey.shape
    shrunk = (r1 - r0) < (1 - MIN_SHRINK) * sh or (c1 - c0) < (1 - MIN_SHRINK) * sw
    if not shrunk or (r1 - r0) * (c1 - c0) < MIN_AREA * sh * sw:
        return None
    box = (round(c0 / scale), round(r0 / scale), round(c1 / scale), round(r1 / scale))
    # A pixel of the small copy is 1/scale pixels of the image: a few pixels of frame left in, or of picture
    # cut off, move PDQ by tens of bits. So each edge is found again at full size, near where it was seen.
    return _refined(np.asarray(image.convert("L"), dtype=np.float32), box, math.ceil(2 / scale))


def _refined(full: np.ndarray, box: tuple[int, int, int, int], reach: int) -> tuple[int, int, int, int]:
    x0, y0, x1, y1 = box
    h, w = full.shape

    def first(values: np.ndarray, offset: int, default: int) -> int:
        active = np.flatnonzero(values > ACTIVE_STD)
        return offset + int(active[0]) if active.size else default

    def last(values: np.ndarray, offset: int, default: int) -> int:
        active = np.flatnonzero(values > ACTIVE_STD)
        return offset + int(active[-1]) + 1 if active.size else default

    top, bottom = max(0, y0 - reach), min(h, y1 + reach)
    y0 = first(full[top : min(h, y0 + reach), x0:x1].std(axis=1), top, y0)
    y1 = last(full[max(0, y1 - reach) : bottom, x0:x1].std(axis=1), max(0, y1 - reach), y1)
    left, right = max(0, x0 - reach), min(w, x1 + reach)
    x0 = first(full[y0:y1, left : min(w, x0 + reach)].std(axis=0), left, x0)
    x1 = last(full[y0:y1, max(0, x1 - reach) : right].std(axis=0), max(0, x1 - reach), x1)
    return (x0, y0, x1, y1)


def _orientation(img: Image.Image) -> int:
    try:
        value = img.getexif().get(_EXIF_ORIENTATION, 1)
    except Exception:  # a malformed EXIF block only means we cannot orient; the stored hash stands
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def picture_pdq(img: Image.Image) -> ImagePdq:
    """Every PDQ look-up of a decoded RGB picture as stored: its hash, its seven turns, and the hash of the
    picture cut out of a frame when it has one (no EXIF: see ``image_pdq``)."""
    stored, turned = dihedral_from_rgb(np.asarray(img))
    box = content_box(img)
    framed = pdq_from_rgb(np.asarray(img.crop(box))) if box is not None else None
    return ImagePdq(stored, turned=turned, framed=framed)


#: JPEGs are decoded by DCT scaling to no less than this on either side before hashing (issue 14: PDQ
#: filters the picture down to 64 x 64 anyway). Measured on the 79 genuine camera JPEGs of datasets/realcam
#: (``bench/bench_pdq_draft.py``): at most 4 bits from the full-resolution hash (mean 0.23; a match allows
#: 31), decoding and hashing about twice as fast; at 512 px the drift reached 12 bits, so 1024 it is.
PDQ_DECODE_SIDE = 1024


def image_pdq(media: Media) -> ImagePdq:
    """PDQ of an image item (first frame) with every look-up variant (``picture_pdq``), plus the
    EXIF-oriented variant when orientation is not 1."""
    img = decode_image(media, mode="RGB", draft_side=PDQ_DECODE_SIDE)
    picture = picture_pdq(img)
    orientation = _orientation(img)
    if orientation == 1:
        return picture
    try:
        upright = ImageOps.exif_transpose(img)
    except Exception:  # same reasoning as in _orientation
        return picture
    oriented = pdq_from_rgb(np.asarray(upright))
    return replace(
        picture, oriented=oriented if oriented.hex != picture.stored.hex else None, orientation=orientation
    )
