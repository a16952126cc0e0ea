"""Can a bank find cropped copies? Two measurements behind issue 11's "left out" (session of 2026-12-06).

1. PDQ with cropped copies registered at bank time: the banked picture plus centre crops of 5-30 %, each
   compared with copies cut around the centre or on one side, looked up as the matcher does
   (``MediaHashes.pdq_queries``: as stored, seven turns, cut out of a frame). Recall at distance 31, and
   false matches over every ordered pair of different images.
2. CLIP embeddings (the detector's encoder, whole picture resized to 224): how close a crop stays to its
   original, against how close two different pictures can be.

Run from the repository root: ``.venv/bin/python tools/research/crop_matching.py [N]`` (N images drawn
with a fixed seed from the development set and realcam; the closing note used 399 for PDQ, 250 for CLIP).
Research only: nothing here is used by the package.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import numpy as np
import pdqhash
from PIL import Image

from civicshield.analyzers.ml.clip_encoder import ClipEncoder, to_tensor
from civicshield.analyzers.ml.clip_views import CROPS
from civicshield.evaluation.matching import COPIES as MATCHING_COPIES
from civicshield.hashing.cache import MediaHashes
from civicshield.hashing.pdq import picture_pdq
from civicshield.media import Media, decode_image

DATASETS = Path(__file__).resolve().parents[3] / "shared" / "datasets"
Box = tuple[float, float, float, float]  # share cut from the left, top, right, bottom
REGISTERED: dict[str, Box] = {"orig": (0, 0, 0, 0)} | {
    f"c{round(s * 100)}": (s / 2,) * 4 for s in (0.05, 0.10, 0.15, 0.20, 0.25, 0.30)
}
COPIES: dict[str, Box] = {
    "crop 5 %": (0.025,) * 4,
    "crop 10 %": (0.05,) * 4,
    "crop 15 %": (0.075,) * 4,
    "crop 20 %": (0.1,) * 4,
    "crop 30 %": (0.15,) * 4,
    "bottom 10 %": (0, 0, 0, 0.1),
    "right 10 %": (0, 0, 0.1, 0),
    "top-left 10 %": (0.1, 0.1, 0, 0),
    "bottom 20 %": (0, 0, 0, 0.2),
}
BANKS = {
    "nothing (today)": ["orig"],
    "10 %": ["orig", "c10"],
    "5, 10, 20 %": ["orig", "c5", "c10", "c20"],
    "5, 10, 15, 20, 30 %": ["orig", "c5", "c10", "c15", "c20", "c30"],
}


def _paths(n: int, seed: int) -> list[Path]:
    with (DATASETS / "dev" / "manifest.csv").open(newline="", encoding="utf-8") as fh:
        paths = [DATASETS / "dev" / r["path"] for r in csv.DictReader(fh) if r["modality"] == "image"]
    paths += sorted((DATASETS / "realcam").glob("rc_*"))
    order = np.random.default_rng(seed).permutation(len(paths))
    return [paths[i] for i in order[:n]]


def _crop(image: Image.Image, box: Box) -> Image.Image:
    w, h = image.size
    left, top, right, bottom = box
    return image.crop((round(w * left), round(h * top), round(w * (1 - right)), round(h * (1 - bottom))))


def _bits(image: Image.Image) -> tuple[np.ndarray, int]:
    bits, quality = pdqhash.compute(np.ascontiguousarray(np.asarray(image.convert("RGB"))))
    return bits.astype(np.uint8), int(quality)


def _lookups(image: Image.Image) -> np.ndarray:
    """The matcher's PDQ look-ups of ``image`` as bits, padded to nine rows."""
    rows = [
        np.unpackbits(np.frombuffer(bytes.fromhex(q.hash.hex), np.uint8))
        for q in MediaHashes.of_image("", picture_pdq(image)).pdq_queries(0)
    ]
    return np.stack(rows + [rows[0]] * (9 - len(rows)))


def pdq_variants(paths: list[Path]) -> None:
    bank: list[np.ndarray] = []
    stored: list[np.ndarray] = []
    copies: dict[str, list[np.ndarray]] = {name: [] for name in COPIES}
    for path in paths:
        image = decode_image(Media.open(path)).convert("RGB")
        if _bits(image)[1] < 50:
            continue
        bank.append(np.stack([_bits(_crop(image, box))[0] for box in REGISTERED.values()]))
        for name, box in COPIES.items():
            copies[name].append(_lookups(_crop(image, box)))
        stored.append(_lookups(image))
    b, a = np.stack(bank), np.stack(stored)
    n, names = len(b), list(REGISTERED)
    print(f"PDQ: {n} images, {n * (n - 1)} ordered pairs of different images")
    print("| bank holds the picture plus centre crops of | " + " | ".join(COPIES) + " | false | nearest |")
    for label, keys in BANKS.items():
        held = b[:, [names.index(k) for k in keys]]
        recall = []
        for name in COPIES:
            q = np.stack(copies[name])
            nearest = (q[:, :, None, :] != held[:, None, :, :]).sum(-1).min(axis=(1, 2))
            recall.append(f"{(nearest <= 31).mean():.0%}")
        false, closest = 0, 256
        for i in range(n):
            d = (a[:, :, None, :] != held[i][None, None]).sum(-1).min(axis=(1, 2))
            d[i] = 999
            false += int((d <= 31).sum())
            closest = min(closest, int(d.min()))
        print(f"| {label} | " + " | ".join(recall) + f" | {false} | {closest} |")


def clip_cosines(paths: list[Path]) -> None:
    encoder = ClipEncoder.from_package(threads=2, what="crop research")
    names = ["crop 10 %", "crop 20 %", "mirrored", "phone screenshot"]
    rows: dict[str, list[np.ndarray]] = {name: [] for name in ["orig", *names]}
    for path in paths:
        image = decode_image(Media.open(path)).convert("RGB")
        made = [image] + [MATCHING_COPIES[name](image) for name in names]
        pooled = encoder.encode(np.stack([to_tensor(CROPS["resize"](x)) for x in made])).pooled
        for name, vector in zip(rows, pooled, strict=True):
            rows[name].append(vector / np.linalg.norm(vector))
    orig = np.stack(rows["orig"])
    pairs = (orig @ orig.T)[np.triu_indices(len(orig), 1)]
    top, q999 = float(pairs.max()), float(np.quantile(pairs, 0.999))
    print(
        f"CLIP: {len(orig)} images, {pairs.size} pairs; different pictures: max {top:.3f}, 99.9th {q999:.3f}"
    )
    for name in names:
        cos = (np.stack(rows[name]) * orig).sum(axis=1)
        above = f"above 99.9th {(cos > q999).mean():.0%} | above max {(cos > top).mean():.0%}"
        print(f"| {name} | median {np.median(cos):.3f} | {above} |")


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 250
    chosen = _paths(count, seed=1)
    pdq_variants(chosen)
    clip_cosines(chosen)
