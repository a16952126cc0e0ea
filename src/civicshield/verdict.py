"""``Verdict``: the fused answer for one item, and its versioned JSON form."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from civicshield.fusion import Label, Reason
from civicshield.media import Media
from civicshield.signals import Signal, Unavailable

__all__ = ["SCHEMA_ID", "Verdict"]

#: Bump on any incompatible change of ``Verdict.to_dict``; the JSON Schema ships in data/schema/.
SCHEMA_ID = "https://civicshield.org/schema/verdict/1"
SCHEMA_VERSION = 1


@dataclass(frozen=True)
class Verdict:
    label: Label
    confidence: float
    headline: str
    reasons: tuple[Reason, ...]
    signals: tuple[Signal, ...]
    policy: str
    media_name: str
    media_sha256: str
    media_kind: str
    media_format: str
    media_info: dict[str, Any]
    elapsed_ms: float = 0.0
    # Lines of evidence that could not run here (a model that failed to load...), with the reason: the
    # verdict was reached without them, and says so.
    unavailable: tuple[Unavailable, ...] = ()

    @classmethod
    def describe(cls, media: Media) -> dict[str, Any]:
        info = media.info
        return {k: v for k, v in vars(info).items() if v is not None} if info else {}

    def signal(self, analyzer: str) -> Signal | None:
        return next((s for s in self.signals if s.analyzer == analyzer), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "$schema": SCHEMA_ID,
            "schema_version": SCHEMA_VERSION,
            "media": {
                "name": self.media_name,
                "sha256": self.media_sha256,
                "kind": self.media_kind,
                "format": self.media_format,
                "info": self.media_info,
            },
            "verdict": {
                "label": str(self.label),
                "confidence": self.confidence,
                "headline": self.headline,
                "policy": self.policy,
                "reasons": [r.to_dict() for r in self.reasons],
            },
            "signals": [s.to_dict() for s in self.signals],
            "unavailable": [u.to_dict() for u in self.unavailable],
            "elapsed_ms": round(self.elapsed_ms, 2),
        }
