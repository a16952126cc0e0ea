"""Invisible watermarks of the Stable Diffusion reference pipelines.

The CompVis Stable Diffusion 1.x scripts embed the bytes ``StableDiffusionV1`` (136 bits) and the SDXL
pipelines the 48 bits ``0xB3EC907BB19E``, both with the ``dwtDct`` method of ``invisible-watermark``. We
decode with that package's reference decoder and count how many decoded bits match the known payload.

Why the thresholds are what they are: on an unwatermarked image each decoded bit agrees with the payload about
half the time (the reference fixtures decode at 44-56 %), so the number of matching bits behaves like a
Binomial(n, 1/2) count. A scheme is reported only when its matching bits reach the smallest ``k`` whose chance
tail ``P[X >= k]`` is below ``WatermarkPolicy.false_alarm_per_scheme`` (1e-6): 96 of 136 bits for SD 1.x and
41 of 48 for SDXL. Both are far above what a constant decode reaches (68/136 and 27/48, the payloads' share of
ones or zeros) and far below what the watermarked fixtures decode at (127-130/136 and 47/48).

What it cannot tell: most generators embed no such watermark, the watermark does not survive JPEG re-encoding
(the q75 fixtures decode at chance), resizing or cropping, and anyone can embed it into any image with the
public encoder. So a miss is an abstention, and a hit is strong but forgeable evidence.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from math import comb
from types import MappingProxyType
from typing import Any, Self

import cv2
import numpy as np

from civicshield.analyzers._dwtdct import block_scores
from civicshield.analyzers._imwatermark import WatermarkDecoder
from civicshield.analyzers.base import Analyzer, Example
from civicshield.errors import CorruptMedia, MediaTooLarge
from civicshield.media import Media, MediaKind, decode_image
from civicshield.settings import Option, Settings
from civicshield.signals import Finding, Signal

__all__ = [
    "SD1",
    "SDXL",
    "SchemeReading",
    "WatermarkAnalyzer",
    "WatermarkPolicy",
    "WatermarkScheme",
    "binomial_tail",
    "min_matching_bits",
]

NO_WATERMARK = (
    "no known invisible watermark found; most generators do not embed one, and re-encoding can remove it"
)


def binomial_tail(n_bits: int, k: int) -> float:
    """``P[X >= k]`` for ``X ~ Binomial(n_bits, 1/2)``: the chance that a random decode matches ``k`` bits."""
    return sum(comb(n_bits, i) for i in range(max(k, 0), n_bits + 1)) / float(1 << n_bits)


def min_matching_bits(n_bits: int, false_alarm: float) -> int:
    """The smallest ``k`` whose chance tail is below ``false_alarm``: how the named thresholds were set."""
    for k in range(n_bits + 1):
        if binomial_tail(n_bits, k) < false_alarm:
            return k
    return n_bits + 1


@dataclass(frozen=True)
class WatermarkScheme:
    """One known ``dwtDct`` payload and the number of matching bits needed to report it."""

    key: str
    label: str
    payload_hex: str
    n_bits: int
    min_matching_bits: int

    @property
    def code(self) -> str:
        return f"watermark.{self.key}"

    @property
    def threshold(self) -> float:
        return self.min_matching_bits / self.n_bits

    def expected_bits(self) -> np.ndarray:
        bits = np.unpackbits(np.frombuffer(bytes.fromhex(self.payload_hex), dtype=np.uint8))
        return bits[: self.n_bits].astype(bool)


SD1 = WatermarkScheme(
    "sd1",
    "Stable Diffusion 1.x (CompVis scripts, payload 'StableDiffusionV1')",
    b"StableDiffusionV1".hex(),
    136,
    min_matching_bits=96,
)
SDXL = WatermarkScheme(
    "sdxl", "Stable Diffusion XL (payload 0xB3EC907BB19E)", "b3ec907bb19e", 48, min_matching_bits=41
)


@dataclass(frozen=True)
class WatermarkPolicy:
    """Named, versioned thresholds; ``false_alarm_per_scheme`` records how each bit count was chosen."""

    version: str = "watermark-2026.11.1"
    schemes: tuple[WatermarkScheme, ...] = (SD1, SDXL)
    false_alarm_per_scheme: float = 1e-6
    score: float = 0.95  # a hit is a strong trace of generation, but the encoder is public
    confidence: float = 0.9
    min_pixels: int = 256 * 256  # the reference decoder refuses smaller images (and pipelines skip them)
    max_pixels: int = 8192 * 8192  # generators' native outputs are far smaller; bounds decoding time


@dataclass(frozen=True)
class SchemeReading:
    """What the decoder returned for one scheme, compared with the expected payload."""

    scheme: WatermarkScheme
    decoded: np.ndarray = field(repr=False)

    @property
    def matching_bits(self) -> int:
        return int(np.count_nonzero(self.decoded == self.scheme.expected_bits()))

    @property
    def bit_accuracy(self) -> float:
        return self.matching_bits / self.scheme.n_bits

    @property
    def detected(self) -> bool:
        return self.matching_bits >= self.scheme.min_matching_bits

    @property
    def payload_hex(self) -> str:
        return np.packbits(self.decoded.astype(np.uint8)).tobytes().hex()

    def to_evidence(self) -> dict[str, Any]:
        return {
            "bit_accuracy": round(self.bit_accuracy, 4),
            "matching_bits": self.matching_bits,
            "n_bits": self.scheme.n_bits,
            "threshold": round(self.scheme.threshold, 4),
            "chance_probability": binomial_tail(self.scheme.n_bits, self.matching_bits),
            "payload_hex": self.payload_hex,
            "expected_hex": self.scheme.payload_hex,
        }


def read_scheme(bgr: np.ndarray, scheme: WatermarkScheme) -> SchemeReading:
    """Decode ``scheme``'s bits from a BGR uint8 array with the reference decoder (slow; tests compare)."""
    bits = WatermarkDecoder("bits", scheme.n_bits).decode(bgr, "dwtDct")
    return SchemeReading(scheme, np.asarray(bits, dtype=bool).reshape(-1))


def read_schemes(bgr: np.ndarray, schemes: tuple[WatermarkScheme, ...]) -> list[SchemeReading]:
    """All schemes from one pass of the vectorised decoder (bit-for-bit equal to ``read_scheme``)."""
    scores = block_scores(bgr)
    return [SchemeReading(scheme, scores.bits(scheme.n_bits)) for scheme in schemes]


def _bgr(media: Media) -> np.ndarray:
    rgb = np.asarray(decode_image(media, mode="RGB"), dtype=np.uint8)
    return np.ascontiguousarray(rgb[:, :, ::-1])


class WatermarkAnalyzer(Analyzer):
    name = "watermark"
    examples = (Example("watermarked_sdxl.png", "watermark.sdxl"),)
    description = (
        "Decodes the invisible watermarks of the Stable Diffusion 1.x and SDXL reference pipelines "
        "(invisible-watermark dwtDct). Absence says nothing: most generators embed none and "
        "re-encoding removes it."
    )
    kinds = frozenset({MediaKind.IMAGE})
    options = MappingProxyType(
        {
            "max_pixels": Option(
                "max_pixels",
                "Larger images are not decoded for watermarks (bounds the time per image).",
            ),
        }
    )

    def __init__(self, policy: WatermarkPolicy | None = None) -> None:
        self.policy = policy or WatermarkPolicy()

    @classmethod
    def from_settings(cls, settings: Settings) -> Self:
        return cls(cls.configured(WatermarkPolicy(), settings))

    def analyze(self, media: Media) -> Signal:
        size_reason = self._size_reason(media)
        if size_reason is not None:
            return Signal.abstain(self.name, size_reason, evidence={"policy": self.policy.version})
        readings = self._read_all(media)
        evidence = {
            "policy": self.policy.version,
            "schemes": {r.scheme.key: r.to_evidence() for r in readings},
        }
        findings = [_finding(r) for r in readings if r.detected]
        if not findings:
            return Signal.abstain(self.name, NO_WATERMARK, evidence=evidence)
        return Signal(
            analyzer=self.name,
            score=self.policy.score,
            confidence=self.policy.confidence,
            summary="; ".join(f.message for f in findings),
            findings=tuple(findings),
            evidence=evidence,
        )

    def _size_reason(self, media: Media) -> str | None:
        width, height = media.info.width or 0, media.info.height or 0
        if width * height < self.policy.min_pixels:
            return (
                f"image is {width}x{height}, smaller than 256x256 pixels: the watermark decoder refuses it "
                "(and the Stable Diffusion pipelines do not watermark images that small)"
            )
        if width * height > self.policy.max_pixels:
            return (
                f"image is {width}x{height}, larger than generators' native outputs "
                f"({self.policy.max_pixels} pixels); not decoded"
            )
        return None

    def _read_all(self, media: Media) -> list[SchemeReading]:
        bgr = _bgr(media)
        try:
            return read_schemes(bgr, tuple(self.policy.schemes))
        except MemoryError as exc:
            raise MediaTooLarge(f"{media.name}: watermark decoding needs more memory than allowed") from exc
        except (cv2.error, ValueError, RuntimeError, IndexError) as exc:
            raise CorruptMedia(
                f"{media.name}: watermark decoder failed ({type(exc).__name__}: {exc})"
            ) from exc


def _finding(reading: SchemeReading) -> Finding:
    scheme = reading.scheme
    message = (
        f"{scheme.label} invisible watermark: {reading.matching_bits}/{scheme.n_bits} bits match "
        f"(threshold {scheme.min_matching_bits})"
    )
    return Finding(scheme.code, message, detail=reading.to_evidence())
