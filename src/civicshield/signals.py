"""``Signal``: the frozen result of one analyzer on one media item.

A signal either carries a score in [0, 1] (0 = the evidence says authentic / unaltered, 1 = the evidence says
synthetic, fake or manipulated) with a confidence, or it *abstains* with a reason. Abstaining is a first-class
answer: "no Content Credentials" or "no watermark found" says nothing about authenticity, and fusion must not
read it as if it did.

``findings`` are the discrete facts an analyzer established, each with a stable ``code`` that the fusion
policy matches on (``c2pa.ai_declared``, ``known_fakes.match``, ...). ``evidence`` is the JSON-serialisable
detail shown to people (signer, actions, hashes, distances).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

__all__ = ["Artefact", "Finding", "Signal", "Unavailable"]


def _freeze(mapping: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(mapping or {}))


@dataclass(frozen=True)
class Finding:
    """One fact an analyzer established. ``code`` is stable (policies and stored reports refer to it)."""

    code: str
    message: str
    detail: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "detail", _freeze(self.detail))

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "detail": dict(self.detail)}


@dataclass(frozen=True)
class Artefact:
    """A file an analyzer produced for people: a heatmap PNG, a per-frame plot, face boxes as JSON."""

    name: str
    media_type: str
    data: bytes = field(repr=False)
    caption: str = ""


@dataclass(frozen=True)
class Signal:
    analyzer: str
    score: float | None
    confidence: float
    summary: str
    findings: tuple[Finding, ...] = ()
    evidence: Mapping[str, Any] = field(default_factory=dict)
    artefacts: tuple[Artefact, ...] = ()
    abstain_reason: str | None = None
    elapsed_ms: float = 0.0

    def __post_init__(self) -> None:
        if self.score is None and self.abstain_reason is None:
            raise ValueError(f"{self.analyzer}: a signal without a score must give an abstain_reason")
        if self.score is not None and not 0.0 <= self.score <= 1.0:
            raise ValueError(f"{self.analyzer}: score {self.score} outside [0, 1]")
        if not 0.0 <= self.confidence <= 1.0:
            raise ValueError(f"{self.analyzer}: confidence {self.confidence} outside [0, 1]")
        object.__setattr__(self, "evidence", _freeze(self.evidence))
        object.__setattr__(self, "findings", tuple(self.findings))
        object.__setattr__(self, "artefacts", tuple(self.artefacts))

    @property
    def abstained(self) -> bool:
        return self.score is None

    def has(self, code: str) -> bool:
        return any(f.code == code for f in self.findings)

    @classmethod
    def abstain(
        cls,
        analyzer: str,
        reason: str,
        *,
        findings: Sequence[Finding] = (),
        evidence: Mapping[str, Any] | None = None,
        artefacts: Sequence[Artefact] = (),
    ) -> Signal:
        """No opinion, with the reason (no manifest, no face, audio too short, dependency missing...)."""
        return cls(
            analyzer=analyzer,
            score=None,
            confidence=0.0,
            summary=reason,
            findings=tuple(findings),
            evidence=_freeze(evidence),
            artefacts=tuple(artefacts),
            abstain_reason=reason,
        )

    def with_elapsed(self, elapsed_ms: float) -> Signal:
        from dataclasses import replace

        return replace(self, elapsed_ms=elapsed_ms)

    def to_dict(self) -> dict[str, Any]:
        return {
            "analyzer": self.analyzer,
            "score": self.score,
            "confidence": self.confidence,
            "abstained": self.abstained,
            "abstain_reason": self.abstain_reason,
            "summary": self.summary,
            "findings": [f.to_dict() for f in self.findings],
            "evidence": _jsonable(self.evidence),
            "artefacts": [
                {"name": a.name, "media_type": a.media_type, "caption": a.caption, "bytes": len(a.data)}
                for a in self.artefacts
            ],
            "elapsed_ms": round(self.elapsed_ms, 2),
        }


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, bytes):
        return value.hex()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


@dataclass(frozen=True)
class Unavailable:
    """A line of evidence that is missing from this run, and why (shown with every verdict)."""

    analyzer: str
    reason: str
    kinds: frozenset[str] = frozenset()  # media kinds it would have looked at (empty: unknown)

    def applies_to(self, kind: str) -> bool:
        return not self.kinds or kind in self.kinds

    def to_dict(self) -> dict[str, str]:
        return {"analyzer": self.analyzer, "reason": self.reason}
