"""What a file's Content Credentials say, in one plain sentence: "Made with Adobe Firefly, which declares it
AI-generated", "Photo taken with a Nikon Z 9, edited in Adobe Lightroom", "Signed with Adobe Photoshop".

Why a sentence: the manifest tree, failure codes and IPTC terms are for experts; the public page and the
report lead with this and keep the rest under "details". The sentence only repeats what the credentials
*declare* (who made it with what); whether they can be believed is the status next to it (trusted signer,
changed after signing, ...), never folded into these words.

Tool names come from the claim generator (``Adobe_Firefly/1.0 c2pa-rs/0.17.0`` -> "Adobe Firefly"): the
first product token, without its version, underscores as spaces; a generator without versions
(``C2PA Testing``) is taken whole. A software agent named on the creating action wins over the generator.
"""

from __future__ import annotations

from civicshield.provenance.report import CredentialsReport, ManifestSummary
from civicshield.provenance.vocab import AI_SOURCE_TYPES, CAPTURE_SOURCE_TYPES

__all__ = ["plain_summary", "tool_name"]

_COMPOSITE_AI = frozenset({"compositeWithTrainedAlgorithmicMedia", "compositeSynthetic"})


def tool_name(claim_generator: str | None) -> str | None:
    """The product a claim generator string names, for people."""
    if not claim_generator or not claim_generator.strip():
        return None
    text = claim_generator.strip()
    if "/" not in text:
        return text.replace("_", " ")
    first = text.split()[0].split("/", 1)[0]
    return first.replace("_", " ").strip() or None


def _maker(manifest: ManifestSummary) -> str | None:
    created = next((a for a in manifest.actions if a.action in ("c2pa.created", "c2pa.opened")), None)
    if created is not None and created.software_agent:
        return tool_name(created.software_agent)
    return tool_name(manifest.claim_generator)


def plain_summary(report: CredentialsReport) -> str | None:
    """One sentence of what the credentials declare, or ``None`` when there are none to read."""
    if not report.present or report.active is None:
        return None
    active = report.active
    tool = _maker(active)
    terms = {d.term for d in report.source_types}
    by_label = {m.label: m for m in report.manifests}
    if terms & (AI_SOURCE_TYPES - _COMPOSITE_AI):
        return f"Made with {tool or 'an unnamed tool'}, which declares it AI-generated"
    if terms & _COMPOSITE_AI:
        return f"Edited with {tool or 'an unnamed tool'}, which declares AI-generated parts"
    capture = next((d for d in report.source_types if d.term in CAPTURE_SOURCE_TYPES), None)
    if capture is not None:
        device = _maker(by_label[capture.manifest]) if capture.manifest in by_label else None
        editor = tool_name(active.claim_generator) if not capture.active else None
        sentence = f"Photo taken with {device}" if device else "A capture (photo, film or scan)"
        return sentence + (f", edited in {editor}" if editor and editor != device else "")
    signer = report.signer.organization if report.signer else None
    return f"Signed with {tool or 'an unnamed tool'}" + (f" by {signer}" if signer else "")
