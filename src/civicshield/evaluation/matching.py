"""``civicshield eval-matching``: how often a bank finds the copies people make, and how often it is wrong.

Why it is measured this way: a known fake comes back altered (mirrored to dodge the bank, cropped, shrunk,
framed with a caption, screenshotted on a phone). For every image of a set, each such copy is made here,
hashed as the matcher hashes an upload (``MediaHashes.pdq_queries``: PDQ as stored, its seven turned
versions, and the picture cut out of a frame when there is one), and compared with the original's hash:
*recall* is the share of copies within the match distance. *False matches* come from every pair of two
different images of the set, compared the same way: a set of n images gives n(n-1)/2 pairs, so 700 images
give about 245,000 chances to be wrong.

The copies are simple and named: what they cannot show is how a real platform's resampler, a real
screenshot's status bar or a real meme font differ from ours.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageOps

from civicshield.errors import MediaError
from civicshield.hashing.cache import MediaHashes
from civicshield.hashing.pdq import PdqHash, hex_to_codes, picture_pdq
from civicshield.media import Media, decode_image

__all__ = ["COPIES", "CopyRecall", "MatchingReport", "measure_matching"]

Copy = Callable[[Image.Image], Image.Image]


def _crop(share: float) -> Copy:
    """Cut ``share`` of the width and of the height away, around the centre."""

    def cut(image: Image.Image) -> Image.Image:
        w, h = image.size
        dx, dy = round(w * share / 2), round(h * share / 2)
        return image.crop((dx, dy, w - dx, h - dy))

    return cut


def _scale(factor: float) -> Copy:
    def scale(image: Image.Image) -> Image.Image:
        size = (max(1, round(image.size[0] * factor)), max(1, round(image.size[1] * factor)))
        return image.resize(size, Image.Resampling.LANCZOS)

    return scale


def _jpeg(quality: int) -> Copy:
    def recompress(image: Image.Image) -> Image.Image:
        buf = io.BytesIO()
        image.save(buf, format="JPEG", quality=quality)
        with Image.open(io.BytesIO(buf.getvalue())) as decoded:
            return decoded.convert("RGB")

    return recompress


def _border(image: Image.Image) -> Image.Image:
    pad = round(0.1 * max(image.size))
    return ImageOps.expand(image, border=pad, fill=(255, 255, 255))


def _caption(image: Image.Image) -> Image.Image:
    """A meme: a white band above the picture a fifth of its height, with a line of black text."""
    w, h = image.size
    band = round(0.2 * h)
    out = Image.new("RGB", (w, h + band), (255, 255, 255))
    out.paste(image, (0, band))
    ImageDraw.Draw(out).text((w // 20, band // 3), "THEY DON'T WANT YOU TO SEE THIS", fill=(0, 0, 0))
    return out


def _screenshot(image: Image.Image) -> Image.Image:
    """A phone screenshot: the picture fitted into a 1170 x 2532 dark screen under a status and title bar."""
    screen = Image.new("RGB", (1170, 2532), (18, 18, 18))
    draw = ImageDraw.Draw(screen)
    draw.rectangle((0, 0, 1170, 140), fill=(30, 30, 30))
    draw.text((40, 60), "12:41   Chat", fill=(230, 230, 230))
    scale = min(1170 / image.size[0], 2000 / image.size[1])  # shown fitted to the screen, as chat apps do
    size = (max(1, round(image.size[0] * scale)), max(1, round(image.size[1] * scale)))
    fitted = image.resize(size, Image.Resampling.BICUBIC)
    screen.paste(fitted, ((1170 - fitted.size[0]) // 2, 140 + (2000 - fitted.size[1]) // 2))
    return screen


COPIES: dict[str, Copy] = {
    "mirrored": ImageOps.mirror,
    "turned 90°": lambda image: image.transpose(Image.Transpose.ROTATE_90),
    "turned 180°": lambda image: image.transpose(Image.Transpose.ROTATE_180),
    "half size": _scale(0.5),
    "JPEG q50": _jpeg(50),
    "crop 5 %": _crop(0.05),
    "crop 10 %": _crop(0.10),
    "crop 20 %": _crop(0.20),
    "white border 10 %": _border,
    "caption band": _caption,
    "phone screenshot": _screenshot,
}


@dataclass(frozen=True)
class CopyRecall:
    copy: str
    n: int
    distances: np.ndarray  # per original: the smallest distance of the copy's eight hashes to it

    def within(self, radius: int) -> int:
        return int((self.distances <= radius).sum())


@dataclass(frozen=True)
class MatchingReport:
    images: int
    skipped: int  # unreadable, or PDQ quality under the minimum
    copies: list[CopyRecall]
    pair_distances: np.ndarray  # for every pair of different images: the smallest over the eight turns

    @property
    def pairs(self) -> int:
        return int(self.pair_distances.size)

    def false_matches(self, radius: int) -> int:
        return int((self.pair_distances <= radius).sum())


QUERIES = 9  # as stored, seven turns, cut out of a frame (padded with the stored hash when there is none)


def _codes(hexes: Sequence[str]) -> np.ndarray:
    return np.unpackbits(hex_to_codes(list(hexes)), axis=1)


def _queries(image: Image.Image) -> tuple[PdqHash, list[str]]:
    """The stored hash and the hashes a bank look-up of this picture tries, padded to ``QUERIES``."""
    picture = picture_pdq(image.convert("RGB"))
    tried = [q.hash.hex for q in MediaHashes.of_image("", picture).pdq_queries(0)]
    return picture.stored, tried + [picture.stored.hex] * (QUERIES - len(tried))


def _min_distance(queries: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """``queries`` (n, QUERIES, 256) bits, ``targets`` (n, 256) bits: for each row, the nearest query."""
    nearest: np.ndarray = (queries != targets[:, None, :]).sum(axis=2).min(axis=1)
    return nearest


def measure_matching(
    paths: Sequence[Path], *, min_quality: int = 50, tick: Callable[[int, int], None] | None = None
) -> MatchingReport:
    originals: list[str] = []
    tried: list[list[str]] = []
    copies: dict[str, list[list[str]]] = {name: [] for name in COPIES}
    skipped = 0
    for i, path in enumerate(paths):
        try:
            image = decode_image(Media.open(path))
            stored, queries = _queries(image)
        except MediaError:
            skipped += 1
            continue
        if stored.quality < min_quality:
            skipped += 1
            continue
        originals.append(stored.hex)
        tried.append(queries)
        for name, make in COPIES.items():
            copies[name].append(_queries(make(image))[1])
        if tick is not None:
            tick(i + 1, len(paths))
    n = len(originals)
    target = _codes(originals) if n else np.zeros((0, 256), dtype=np.uint8)
    recalls = [
        CopyRecall(name, n, _min_distance(_stack(rows), target) if n else np.zeros(0, dtype=np.int64))
        for name, rows in copies.items()
    ]
    return MatchingReport(n, skipped, recalls, _pair_distances(tried, target))


def _stack(rows: list[list[str]]) -> np.ndarray:
    return _codes([h for row in rows for h in row]).reshape(len(rows), QUERIES, 256)


def _pair_distances(tried: list[list[str]], target: np.ndarray) -> np.ndarray:
    """Image j's look-ups against image i's stored hash, for every i < j (a look-up of j in a bank holding
    i); one row at a time so that 1,000 images stay within a few hundred MB."""
    n = len(tried)
    if n < 2:
        return np.zeros(0, dtype=np.int64)
    queries = _stack(tried)
    out = [(queries[i + 1 :] != target[i][None, None, :]).sum(axis=2).min(axis=1) for i in range(n - 1)]
    return np.concatenate(out)
