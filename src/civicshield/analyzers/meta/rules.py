"""From metadata fields to findings: what the file declares, which tools left traces, and contradictions.

One finding per code, carrying every supporting field in its detail, so fusion matches on codes while people
see each field that led there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from civicshield.analyzers.meta.bounds import Bounds, clip
from civicshield.analyzers.meta.camera import CameraFacts, camera_facts, inconsistencies
from civicshield.analyzers.meta.fields import RawMetadata, Role
from civicshield.analyzers.meta.names import (
    AI_SOURCE_TYPES,
    CAPTURE_SOURCE_TYPES,
    EDIT_SOURCE_TYPES,
    ai_label,
    editors_in,
    generators_in,
    source_type_term,
    source_type_uris_in,
)
from civicshield.analyzers.meta.payloads import Trace, payload_traces
from civicshield.signals import Finding

__all__ = [
    "AI_DECLARED",
    "CAMERA",
    "CAPTURE_DECLARED",
    "EDITED",
    "GENERATOR",
    "INCONSISTENT",
    "Declaration",
    "assess",
    "declarations",
    "named_traces",
]

AI_DECLARED = "metadata.ai_declared"
CAPTURE_DECLARED = "metadata.capture_declared"
GENERATOR = "metadata.generator"
EDITED = "metadata.edited"
CAMERA = "metadata.camera"
INCONSISTENT = "metadata.inconsistent"
_FULLY_SYNTHETIC = frozenset({"trainedalgorithmicmedia", "algorithmicmedia"})
_SOURCE_TYPE_NAMES = ("digitalsourcetype", "digitalsourcefiletype")


@dataclass(frozen=True)
class Declaration:
    """A statement the file makes about its own origin: an IPTC source type term or an AI credit label."""

    where: str
    value: str
    term: str

    def to_dict(self) -> dict[str, str]:
        return {"field": self.where, "value": self.value, "term": self.term}


def declarations(raw: RawMetadata, bounds: Bounds) -> list[Declaration]:
    found: dict[tuple[str, str], Declaration] = {}
    for f in raw:
        if f.role is Role.SOURCE_TYPE or f.name.lower().rsplit(":", 1)[-1] in _SOURCE_TYPE_NAMES:
            terms = [t] if (t := source_type_term(f.value)) else []
        elif f.role is not Role.PAYLOAD:
            terms = source_type_uris_in(f.value)
        else:
            continue
        for term in terms:
            found.setdefault(
                (f.where, term.lower()), Declaration(f.where, clip(f.value, bounds.max_value_chars), term)
            )
    # The IPTC field itself first (``DigitalSourceFileType`` is its deprecated twin).
    return sorted(found.values(), key=lambda d: not d.where.lower().endswith("digitalsourcetype"))


def named_traces(raw: RawMetadata, bounds: Bounds) -> list[Trace]:
    """Generators named in fields whose job is to name software (and IPTC's "AI System Used")."""
    traces = []
    for f in raw.with_role(Role.TOOL, Role.MAKE, Role.MODEL, Role.AI_SYSTEM):  # not titles or credits
        names = generators_in(f.value[:2000])
        if f.role is Role.AI_SYSTEM and not names:
            names = [clip(f.value, 80)]
        traces += [Trace(name, f.where, value=clip(f.value, bounds.max_value_chars)) for name in names]
    return traces


def _editors(raw: RawMetadata, bounds: Bounds) -> list[dict[str, str]]:
    seen: dict[str, dict[str, str]] = {}
    for f in raw.with_role(Role.TOOL):
        for name in editors_in(f.value[:2000]):
            seen.setdefault(
                name, {"editor": name, "field": f.where, "value": clip(f.value, bounds.max_value_chars)}
            )
    return list(seen.values())[: bounds.max_list_items]


def assess(raw: RawMetadata, bounds: Bounds) -> list[Finding]:
    declared = declarations(raw, bounds)
    labels = [
        Declaration(f.where, clip(f.value, bounds.max_value_chars), "label")
        for f in raw.with_role(Role.LABEL)
        if ai_label(f.value)
    ]
    ai = [d for d in declared if d.term.lower() in AI_SOURCE_TYPES] + labels
    capture = [d for d in declared if d.term.lower() in CAPTURE_SOURCE_TYPES]
    edits = [d for d in declared if d.term.lower() in EDIT_SOURCE_TYPES]
    traces = (named_traces(raw, bounds) + payload_traces(raw, bounds))[: bounds.max_list_items]
    editors = _editors(raw, bounds)
    camera = camera_facts(raw)
    findings = []
    if ai:
        findings.append(_ai_finding(ai))
    if traces:
        findings.append(_generator_finding(traces))
    if capture:
        findings.append(_capture_finding(capture))
    if camera is not None:
        findings.append(_camera_finding(camera))
    if editors or edits:
        findings.append(_edited_finding(editors, edits))
    reasons = _contradictions(camera, traces, ai, capture)
    if reasons:
        findings.append(
            Finding(
                INCONSISTENT,
                "Metadata contradicts itself: " + "; ".join(reasons),
                detail={"reasons": reasons},
            )
        )
    return findings


def _ai_finding(ai: list[Declaration]) -> Finding:
    first = ai[0]
    what = f"{first.where} = {first.term}" if first.term != "label" else f"{first.where} = {first.value!r}"
    return Finding(
        AI_DECLARED,
        f"The file declares AI generation ({what})",
        detail={"declarations": [d.to_dict() for d in ai]},
    )


def _generator_finding(traces: list[Trace]) -> Finding:
    names = list(dict.fromkeys(t.generator for t in traces))
    return Finding(
        GENERATOR,
        f"Generator traces in metadata: {', '.join(names)} (in {traces[0].where})",
        detail={"generators": names, "traces": [t.to_dict() for t in traces]},
    )


def _capture_finding(capture: list[Declaration]) -> Finding:
    terms = ", ".join(dict.fromkeys(d.term for d in capture))
    return Finding(
        CAPTURE_DECLARED,
        f"The file declares a capture ({terms}); metadata is easily forged",
        detail={"declarations": [d.to_dict() for d in capture]},
    )


def _camera_finding(camera: CameraFacts) -> Finding:
    when = f", taken {camera.taken.value}" if camera.taken is not None else ", no DateTimeOriginal"
    return Finding(
        CAMERA,
        f"Camera recorded: {camera.label}{when}; camera metadata is easily forged",
        detail=camera.to_dict(),
    )


def _edited_finding(editors: list[dict[str, str]], edits: list[Declaration]) -> Finding:
    names = [e["editor"] for e in editors] + [d.term for d in edits]
    detail: dict[str, Any] = {"editors": editors}
    if edits:
        detail["declared_edits"] = [d.to_dict() for d in edits]
    return Finding(
        EDITED,
        f"Editing recorded ({', '.join(names)}); editing is routine and not evidence by itself",
        detail=detail,
    )


def _contradictions(
    camera: CameraFacts | None, traces: list[Trace], ai: list[Declaration], capture: list[Declaration]
) -> list[str]:
    reasons = inconsistencies(camera) if camera is not None else []
    if camera is not None and traces:
        reasons.append(
            f"camera fields ({camera.label}) alongside a generator trace ({traces[0].generator} in "
            f"{traces[0].where}): forged camera fields, or a photo run through a generator"
        )
    synthetic = [d for d in ai if d.term.lower() in _FULLY_SYNTHETIC]
    if capture and synthetic:
        reasons.append(
            f"declared both a capture ({capture[0].term}) and generated media ({synthetic[0].term})"
        )
    return reasons
