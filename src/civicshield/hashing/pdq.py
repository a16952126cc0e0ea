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
eight orientations and say which one.

Quality (0-100) measures how much gradient the picture has; hashes below 50 are not trusted for matching
(flat or tiny images collide easily). The recommended match threshold is a Hamming distance of at most 31.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pdqhash
from PIL import Image, ImageOps

from civicshield.errors import BankFormatError, CorruptMedia
from civicshield.media import Media, decode_image

__all__ = [
    "PDQ_HEX_LEN",
    "TURNS",
    "ImagePdq",
    "PdqHash",
    "dihedral_from_rgb",
    "hamming",
    "hex_to_codes",
    "image_pdq",
    "parse_pdq_hex",
    "pdq_from_rgb",
]

PDQ_HEX_LEN = 64
PDQ_BYTES = 32
_EXIF_ORIENTATION = 0x0112
_HEX_DIGITS = frozenset("0123456789abcdef")

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


def _orientation(img: Image.Image) -> int:
    try:
        value = img.getexif().get(_EXIF_ORIENTATION, 1)
    except Exception:  # a malformed EXIF block only means we cannot orient; the stored hash stands
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def image_pdq(media: Media) -> ImagePdq:
    """PDQ of an image item (first frame), plus the EXIF-oriented variant when orientation is not 1."""
    img = decode_image(media, mode="RGB")
    stored, turned = dihedral_from_rgb(np.asarray(img))
    orientation = _orientation(img)
    if orientation == 1:
        return ImagePdq(stored, turned=turned)
    try:
        upright = ImageOps.exif_transpose(img)
    except Exception:  # same reasoning as in _orientation
        return ImagePdq(stored, turned=turned)
    oriented = pdq_from_rgb(np.asarray(upright))
    return ImagePdq(stored, oriented if oriented.hex != stored.hex else None, orientation, turned)
