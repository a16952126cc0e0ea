"""Fusion: a versioned policy (data) turns signals into a ``Verdict``.

The policy is an ordered list of rules over finding codes; the first rule whose findings are present decides
the label. Thresholds and confidences live in the policy file, not in code, and every verdict names the
policy version that produced it. Abstentions never count as evidence: they appear in the reasons as what was
*not* established.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any

from civicshield.errors import ConfigurationError
from civicshield.signals import Finding, Signal

__all__ = ["CAUTIONS", "Label", "Policy", "Reason", "Rule", "fuse"]

# Findings that must be in every short explanation whatever decided the label: a credential that failed to
# validate, content changed after signing, a manifest that cannot be read. A "likely authentic" from a
# detector next to an invalid signature must never hide the signature.
CAUTIONS = frozenset({"c2pa.invalid", "c2pa.tampered", "c2pa.unreadable"})


class Label(StrEnum):
    KNOWN_FAKE = "known_fake"
    IMPERSONATION_SUSPECTED = "impersonation_suspected"
    ALTERED_OFFICIAL = "altered_official"
    TAMPERED = "tampered"
    AI_GENERATED_DECLARED = "ai_generated_declared"
    LIKELY_SYNTHETIC = "likely_synthetic"
    POSSIBLY_SYNTHETIC = "possibly_synthetic"
    LIKELY_AUTHENTIC = "likely_authentic"
    AUTHENTIC_PROVENANCE = "authentic_provenance"
    INCONCLUSIVE = "inconclusive"


@dataclass(frozen=True)
class Rule:
    label: Label
    any_of: frozenset[str]
    none_of: frozenset[str] = frozenset()
    # Each group must also have one of its codes present (``"all": [[...], ...]`` in the policy file).
    all_of: tuple[frozenset[str], ...] = ()
    confidence: float = 0.5
    boost: Mapping[str, float] = field(default_factory=dict)
    headline: str = ""
    # "score": confidence = the strongest calibrated probability among the decisive signals;
    # "inverse_score": 1 - the weakest (for "likely authentic"). Empty: the fixed ``confidence``.
    confidence_from: str = ""

    def matches(self, codes: set[str]) -> bool:
        return (
            bool(self.any_of & codes)
            and all(group & codes for group in self.all_of)
            and not (self.none_of & codes)
        )

    def confidence_for(self, codes: set[str]) -> float:
        return min(1.0, self.confidence + sum(v for k, v in self.boost.items() if k in codes))


@dataclass(frozen=True)
class Policy:
    name: str
    version: str
    rules: tuple[Rule, ...]
    fallback: Rule

    @property
    def id(self) -> str:
        return f"{self.name}@{self.version}"

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Policy:
        try:
            rules = tuple(_rule(r) for r in raw["rules"])
            fb = raw["fallback"]
            fallback = Rule(
                Label(fb["label"]),
                frozenset(),
                confidence=float(fb.get("confidence", 0.0)),
                headline=str(fb.get("headline", "")),
            )
            return cls(name=str(raw["name"]), version=str(raw["version"]), rules=rules, fallback=fallback)
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigurationError(f"invalid fusion policy: {exc!r}") from exc

    @classmethod
    def load(cls, path: Path | None = None) -> Policy:
        """The policy at ``path``, or the shipped default."""
        try:
            if path is None:
                text = resources.files("civicshield").joinpath("data/policy/default.json").read_text("utf-8")
            else:
                text = Path(path).read_text("utf-8")
            return cls.from_dict(json.loads(text))
        except (OSError, json.JSONDecodeError) as exc:
            raise ConfigurationError(f"cannot read fusion policy {path or 'default'}: {exc}") from exc


def _rule(raw: Mapping[str, Any]) -> Rule:
    return Rule(
        label=Label(raw["label"]),
        any_of=frozenset(raw["any"]),
        none_of=frozenset(raw.get("none", ())),
        all_of=tuple(frozenset(group) for group in raw.get("all", ())),
        confidence=float(raw["confidence"]),
        boost={str(k): float(v) for k, v in dict(raw.get("boost", {})).items()},
        headline=str(raw.get("headline", "")),
        confidence_from=str(raw.get("confidence_from", "")),
    )


@dataclass(frozen=True)
class Reason:
    """One line of the explanation, citing the analyzer and finding it comes from."""

    text: str
    analyzer: str
    code: str | None = None
    decisive: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "analyzer": self.analyzer, "code": self.code, "decisive": self.decisive}


@dataclass(frozen=True)
class Fused:
    label: Label
    confidence: float
    headline: str
    reasons: tuple[Reason, ...]


def fuse(signals: Sequence[Signal], policy: Policy) -> Fused:
    """Apply the first matching rule; order reasons: decisive findings, cautions (``CAUTIONS``), other
    findings, scores that crossed no threshold, abstentions."""
    by_code: dict[str, list[tuple[Signal, Finding]]] = {}
    for sig in signals:
        for f in sig.findings:
            by_code.setdefault(f.code, []).append((sig, f))
    codes = set(by_code)
    rule = next((r for r in policy.rules if r.matches(codes)), policy.fallback)
    decisive_codes = [c for c in rule.any_of.union(*rule.all_of) if c in codes]
    decisive = [
        Reason(f.message, sig.analyzer, f.code, decisive=True)
        for code in sorted(decisive_codes)
        for sig, f in by_code[code]
    ]
    others = [
        Reason(f.message, sig.analyzer, f.code)
        for sig in signals
        for f in sig.findings
        if f.code not in decisive_codes and not sig.abstained
    ]
    others.sort(key=lambda r: r.code not in CAUTIONS)
    # A score under every threshold is still a line of evidence someone may need (a speech score of 0.61
    # against a threshold of 0.66): it is stated, never silently dropped.
    quiet = [
        Reason(sig.summary, sig.analyzer, None) for sig in signals if not sig.abstained and not sig.findings
    ]
    abstained = [Reason(sig.summary, sig.analyzer, None) for sig in signals if sig.abstained]
    confidence = rule.confidence_for(codes) if rule is not policy.fallback else rule.confidence
    if rule.confidence_from and decisive_codes:
        scores = [sig.score for code in decisive_codes for sig, _ in by_code[code] if sig.score is not None]
        if scores:
            confidence = max(scores) if rule.confidence_from == "score" else 1.0 - min(scores)
    return Fused(rule.label, round(confidence, 4), rule.headline, (*decisive, *others, *quiet, *abstained))
