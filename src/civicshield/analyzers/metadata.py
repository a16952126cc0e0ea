"""Metadata analyzer: what EXIF, XMP, IPTC, PNG text chunks and container tags say about a file's origin.

A file may declare itself AI-made (IPTC digital source type ``trainedAlgorithmicMedia``, a "Made with Google
AI" credit), carry a generator's parameters (a Stable Diffusion ``parameters`` chunk, a ComfyUI graph) or name
a generator as its software. Those are strong signals: people rarely forge an AI label onto their own photo.
Camera make/model and capture declarations are weak signals the other way, because anyone can write them; and
missing metadata is no signal at all, since social networks strip it from everything they serve.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Self

from civicshield.analyzers.base import Analyzer, Example
from civicshield.analyzers.meta.bounds import Bounds, clip
from civicshield.analyzers.meta.container import read_container
from civicshield.analyzers.meta.fields import Family, RawMetadata, Role
from civicshield.analyzers.meta.image import read_image
from civicshield.analyzers.meta.rules import (
    AI_DECLARED,
    CAMERA,
    CAPTURE_DECLARED,
    GENERATOR,
    INCONSISTENT,
    assess,
)
from civicshield.media import Media, MediaKind
from civicshield.settings import Settings
from civicshield.signals import Finding, Signal

__all__ = ["NOTHING_DECISIVE", "NO_METADATA", "MetadataAnalyzer", "MetadataWeights", "Weight"]

NO_METADATA = "no metadata: stripping is normal on social media; not evidence either way"
NOTHING_DECISIVE = (
    "metadata present, but it neither declares nor traces generation or capture; not evidence either way"
)


@dataclass(frozen=True)
class Weight:
    score: float
    confidence: float


@dataclass(frozen=True)
class MetadataWeights:
    """Score and confidence per finding. The highest-priority finding present sets the signal.

    Priority follows how hard a signal is to fake by accident: a declaration or a generator's parameters beat
    a contradiction, which beats a camera or capture claim (any tool writes those: hence their low
    confidence). ``metadata.edited`` carries no weight: editing is routine.
    """

    version: str = "metadata-2026.11.1"
    ai_declared: Weight = Weight(score=0.95, confidence=0.85)
    generator: Weight = Weight(score=0.92, confidence=0.8)
    inconsistent: Weight = Weight(score=0.7, confidence=0.35)
    capture_declared: Weight = Weight(score=0.3, confidence=0.2)
    camera: Weight = Weight(score=0.35, confidence=0.15)

    def ranked(self) -> tuple[tuple[str, Weight], ...]:
        return (
            (AI_DECLARED, self.ai_declared),
            (GENERATOR, self.generator),
            (INCONSISTENT, self.inconsistent),
            (CAPTURE_DECLARED, self.capture_declared),
            (CAMERA, self.camera),
        )


class MetadataAnalyzer(Analyzer):
    name = "metadata"
    examples = (Example("generated_sd.png", "metadata.generator"),)
    description = (
        "Reads EXIF, XMP, IPTC, PNG text chunks and container tags for declared AI generation "
        "(IPTC digital source type), generator traces (Stable Diffusion, ComfyUI, NovelAI, named "
        "generators), editing software and camera fields. Metadata is easily stripped and forged; "
        "its absence is not evidence."
    )
    kinds = frozenset(MediaKind)

    def __init__(self, weights: MetadataWeights | None = None, bounds: Bounds | None = None) -> None:
        self.weights = weights or MetadataWeights()
        self.bounds = bounds or Bounds()

    @classmethod
    def from_settings(cls, settings: Settings) -> Self:
        return cls()

    def read(self, media: Media) -> RawMetadata:
        """Every metadata field of ``media``; raises only ``MediaError`` for unreadable files."""
        if media.kind is MediaKind.IMAGE:
            return read_image(media, self.bounds)
        return read_container(media, self.bounds)

    def analyze(self, media: Media) -> Signal:
        raw = self.read(media)
        findings = assess(raw, self.bounds)
        evidence = self._evidence(raw)
        if not raw.fields:
            return Signal.abstain(self.name, NO_METADATA, evidence=evidence)
        decisive = next(
            ((f, w) for code, w in self.weights.ranked() for f in findings if f.code == code), None
        )
        if decisive is None:
            reason = NOTHING_DECISIVE + (" (editing is recorded, and routine)" if findings else "")
            return Signal.abstain(self.name, reason, findings=findings, evidence=evidence)
        lead, weight = decisive
        return Signal(
            analyzer=self.name,
            score=weight.score,
            confidence=weight.confidence,
            summary=_summary(lead, findings),
            findings=tuple(findings),
            evidence=evidence,
        )

    def _evidence(self, raw: RawMetadata) -> dict[str, Any]:
        """The fields read, per family, bounded in keys, repeats and length."""
        bounds = self.bounds
        families: dict[str, dict[str, Any]] = {}
        # Fields with a known role first, so the cap never drops them; camera-raw develop settings skipped.
        ranked = sorted((f for f in raw if not f.name.startswith("crs:")), key=lambda f: f.role is Role.OTHER)
        for f in ranked:
            group = families.setdefault(str(f.family), {})
            if f.name not in group and len(group) >= bounds.max_keys:
                continue
            limit = bounds.max_prompt_chars if f.family is Family.TEXT else bounds.max_value_chars
            values = group.setdefault(f.name, [])
            if len(values) < bounds.max_values_per_key:
                values.append(clip(f.value, limit))
        fields = {
            fam: {k: v[0] if len(v) == 1 else v for k, v in group.items()} for fam, group in families.items()
        }
        evidence: dict[str, Any] = {"weights": self.weights.version, "fields": fields}
        if raw.problems:
            evidence["problems"] = list(raw.problems[: bounds.max_keys])
        return evidence


def _summary(lead: Finding, findings: list[Finding]) -> str:
    others = len(findings) - 1
    return lead.message + (f" (+{others} more finding{'s' if others > 1 else ''})" if others else "")
