"""The ``phash`` analyzer: perceptual hashes as evidence, never as a verdict.

A PDQ, vPDQ or Chromaprint hash says *which content* an item is, so that it can be looked up in banks, shared
with fact-checkers (ThreatExchange-compatible values) or compared with a later copy. On its own it says
nothing about whether the item is authentic, so this analyzer always abstains and carries the hashes in its
evidence (the full vPDQ frame list as a text artefact in the reference format). Hashes with quality below 50
are flagged: too little detail to match reliably, and the bank analyzers skip them.
"""

from __future__ import annotations

from typing import Any, Self

from civicshield.analyzers.base import Analyzer, Example
from civicshield.errors import AnalyzerUnavailable
from civicshield.hashing.cache import MediaHashes, media_hashes
from civicshield.hashing.vpdq import DEFAULT_SECONDS_PER_HASH
from civicshield.media import Media
from civicshield.settings import Settings
from civicshield.signals import Artefact, Finding, Signal

__all__ = ["PerceptualHashAnalyzer"]

REASON = "perceptual hashes identify content; they are not evidence either way"
MIN_QUALITY = 50
MAX_FRAMES_IN_EVIDENCE = 600


class PerceptualHashAnalyzer(Analyzer):
    name = "phash"
    examples = (
        Example("reupload_fake.jpg", evidence="pdq"),
        Example("reupload_clip.mp4", evidence="vpdq"),
        Example("voice_message.wav", evidence="chromaprint", needs="espeak-ng"),
    )
    description = (
        "PDQ (images), vPDQ at one frame per second (video) and Chromaprint (audio) hashes, for "
        "bank look-ups and sharing. Identifies content; says nothing about authenticity."
    )

    @classmethod
    def from_settings(cls, settings: Settings) -> Self:
        return cls()

    def analyze(self, media: Media) -> Signal:
        try:
            hashes = media_hashes(media)
        except AnalyzerUnavailable as exc:
            return Signal.abstain(self.name, f"audio fingerprinting unavailable here: {exc.message}")
        evidence, findings = _evidence(hashes)
        artefacts = []
        if hashes.vpdq is not None:
            artefacts.append(
                Artefact(
                    "vpdq.txt",
                    "text/plain",
                    (hashes.vpdq.to_text() + "\n").encode(),
                    "vPDQ frame hashes: FrameNumber,Quality,PDQHash,Timestamp_s",
                )
            )
        return Signal.abstain(self.name, REASON, findings=findings, evidence=evidence, artefacts=artefacts)


def _evidence(h: MediaHashes) -> tuple[dict[str, Any], list[Finding]]:
    evidence: dict[str, Any] = {"sha256": h.sha256}
    findings: list[Finding] = []
    if h.pdq is not None:
        evidence["pdq"] = {
            "hash": h.pdq.hex,
            "quality": h.pdq.quality,
            "low_quality": h.pdq.quality < MIN_QUALITY,
        }
        if h.pdq_oriented is not None:
            evidence["pdq_exif_oriented"] = {
                "hash": h.pdq_oriented.hex,
                "quality": h.pdq_oriented.quality,
                "exif_orientation": h.exif_orientation,
            }
        if h.pdq.quality < MIN_QUALITY:
            findings.append(
                Finding(
                    "phash.low_quality",
                    f"PDQ quality {h.pdq.quality} is below {MIN_QUALITY}: "
                    "too little detail for reliable matching; bank look-ups skip it",
                    {"signal_type": "pdq", "quality": h.pdq.quality},
                )
            )
    if h.vpdq is not None:
        summary = h.vpdq.summary(MIN_QUALITY)
        vpdq: dict[str, Any] = {**summary, "seconds_per_hash": DEFAULT_SECONDS_PER_HASH}
        if len(h.vpdq) <= MAX_FRAMES_IN_EVIDENCE:
            vpdq["frames"] = [f.to_line() for f in h.vpdq.frames]
        evidence["vpdq"] = vpdq
        low = int(summary["low_quality_frames"])  # type: ignore[call-overload]
        if low:
            findings.append(
                Finding(
                    "phash.low_quality",
                    f"{low} of {len(h.vpdq)} video frames have PDQ quality "
                    f"below {MIN_QUALITY} and are left out of matching",
                    {"signal_type": "vpdq", "low_quality_frames": low, "frames": len(h.vpdq)},
                )
            )
    if h.chromaprint is not None:
        evidence["chromaprint"] = h.chromaprint.to_dict()
    if h.notes:
        evidence["notes"] = list(h.notes)
    return evidence, findings
