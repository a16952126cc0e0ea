"""STIX 2.1 bundle for a published fact-check: the hashes partners should match, marked with TLP 2.0.

What a bundle holds, and why:

* the TLP 2.0 ``marking-definition`` it is marked with (`tlp.stix_marking`), on every content object;
* an ``identity`` for the publisher, the ``created_by_ref`` of everything it says;
* one ``indicator`` per hash of each reviewed media item, with a STIX pattern over ``file:hashes``;
* ``file`` and ``url`` observables (the media and where it appeared) in one ``observed-data``, which each
  indicator is ``based-on``;
* a ``report`` that names the fact-check (its ClaimReview page in ``external_references``) and lists it all.

How the hashes are written. SHA-256 is STIX's own ``file:hashes.'SHA-256'``. STIX has no perceptual
hashes, and neither MISP nor ThreatExchange publishes a STIX mapping for PDQ. They are carried in a STIX 2.1
property extension of ours, defined by the ``extension-definition`` object in the bundle (its JSON schema
ships as ``civicshield/data/schema/stix-perceptual-match-2.json``): the ``file`` gets
``extensions.'extension-definition--…'.pdq`` (and ``vpdq``, ``chromaprint``), and each perceptual
indicator's pattern names that path, e.g.
``[file:extensions.'extension-definition--…'.pdq = 'f8f8...']``. (Version 1 put them in ``file.hashes``
as ``x_pdq``: the spec allows custom hash names, but the OASIS ``stix2`` library refuses them unless told to
accept anything custom, so a consumer had to switch its checks off to read our bundles.) An equality pattern
alone would mislead a consumer into exact matching, so each perceptual indicator also carries the same
extension stating the algorithm and thresholds: PDQ matches at Hamming distance <= 31 with quality >= 50
(the PDQ reference); vPDQ compares frames the same way and matches when >= 80 % of the query's or of the
shared video's frames match; Chromaprint when 1 - bit error rate >= 0.8 at the best offset (`MATCH_RULES`,
the values our own bank matching uses). Consumers that do not know the extension see a property they cannot
compute, so they cannot match wrongly.

The report's external reference names the fact-check's ClaimReview document when the fact-check says where
it is served (``FactCheck.claimreview_url``), with the SHA-256 of exactly the bytes served there
(``claimreview_bytes``): a consumer can check that what it fetched is what was reported.

Ids are deterministic (`_ids`): exporting the same fact-check twice yields the same bundle, byte for byte
once serialised with sorted keys; an updated fact-check keeps its ids and gets a newer ``modified``.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

from civicshield.sharing import disarm
from civicshield.sharing._ids import sco_id, stable_uuid, stix_timestamp
from civicshield.sharing.claimreview import claimreview
from civicshield.sharing.model import FactCheck, HashKind, MediaHash, MediaItem, Party, PartyKind
from civicshield.sharing.ratings import Rating, rating_label, rating_summary
from civicshield.sharing.tlp import TLP, stix_marking

__all__ = [
    "CIVICSHIELD_IDENTITY_ID",
    "FILE_HASH_NAMES",
    "MATCH_RULES",
    "PERCEPTUAL_MATCH_EXTENSION_ID",
    "claimreview_bytes",
    "stix_bundle",
]

#: Where each hash kind goes on a ``file``: STIX's own ``hashes`` key, or a property of our extension.
FILE_HASH_NAMES: MappingProxyType[HashKind, str] = MappingProxyType(
    {
        HashKind.SHA256: "SHA-256",
        HashKind.PDQ: "pdq",
        HashKind.VPDQ: "vpdq",
        HashKind.CHROMAPRINT: "chromaprint",
    }
)
#: The match rule stated in each perceptual indicator (version 1 of the extension): what *we* count as a
#: match, i.e. the values of our bank matching policy ``bank-match/1`` (see ``civicshield.banks.policy`` for
#: why). Published rules are versioned with the extension, so they change only with a new version.
MATCH_RULES: MappingProxyType[HashKind, MappingProxyType[str, Any]] = MappingProxyType(
    {
        HashKind.PDQ: MappingProxyType({"max_distance": 31, "min_quality": 50}),
        HashKind.VPDQ: MappingProxyType(
            {
                "max_distance": 31,
                "min_quality": 50,
                "min_query_match_percent": 80,
                "min_target_match_percent": 80,
            }
        ),
        HashKind.CHROMAPRINT: MappingProxyType(
            {"min_similarity": 0.8, "min_contrast": 0.15, "min_overlap_s": 5}
        ),
    }
)

CIVICSHIELD_IDENTITY_ID = "identity--e4dffdb6-7331-4804-a87d-e9268ac9c058"
PERCEPTUAL_MATCH_EXTENSION_ID = "extension-definition--0b7e5a62-8f1c-4a4d-9c43-6d2e1f3a9b58"
_EXTENSION_CREATED = "2026-12-05T00:00:00.000Z"
#: ``created`` of every publisher identity: fixed, because all versions of one STIX object share it.
_IDENTITY_EPOCH = datetime(2020, 1, 1, tzinfo=UTC)


def stix_bundle(fact_check: FactCheck, *, tlp: TLP) -> dict[str, Any]:
    """The STIX 2.1 bundle (a plain dict) publishing ``fact_check`` under the TLP label ``tlp``."""
    marking = stix_marking(tlp)
    marks = [marking["id"]]
    publisher = _identity(fact_check.publisher)
    by = publisher["id"]
    files = list({f["id"]: f for f in (_file(item, marks) for item in fact_check.media)}.values())
    urls = [_url(u, marks) for u in _appearance_urls(fact_check)]
    observed = (
        _observed_data(fact_check, [o["id"] for o in files + urls], by, marks) if files + urls else None
    )
    indicators: list[dict[str, Any]] = []
    relationships: list[dict[str, Any]] = []
    for item in fact_check.media:
        for media_hash in item.hashes:
            indicator = _indicator(fact_check, item, media_hash, by, marks)
            if any(i["id"] == indicator["id"] for i in indicators):
                continue  # the same hash on two items (a re-upload listed twice) is one indicator
            indicators.append(indicator)
            if observed is not None:
                relationships.append(_based_on(fact_check, indicator["id"], observed["id"], by, marks))
    patterns = [disarm.attack_pattern(t) for t in fact_check.techniques]  # DISARM's own objects
    content = indicators + ([observed] if observed else []) + relationships + files + urls + patterns
    report = _report(fact_check, [by] + [o["id"] for o in content], by, marks)
    definitions = [_civicshield_identity(), _extension_definition()] if _uses_extension(content) else []
    objects = [marking, publisher, *definitions, report, *content]
    return {"type": "bundle", "id": _bundle_id(objects), "objects": objects}


def _common(
    kind: str, object_id: str, fact_check: FactCheck, created_by: str, marks: list[str]
) -> dict[str, Any]:
    return {
        "type": kind,
        "spec_version": "2.1",
        "id": object_id,
        "created_by_ref": created_by,
        "created": stix_timestamp(fact_check.date_published),
        "modified": stix_timestamp(fact_check.last_modified),
        "object_marking_refs": list(marks),
        **({"revoked": True} if fact_check.retracted else {}),
    }


def _sdo_id(kind: str, fact_check: FactCheck, *facts: str) -> str:
    return f"{kind}--{stable_uuid(kind, fact_check.publisher.key, fact_check.url, *facts)}"


def _identity(party: Party) -> dict[str, Any]:
    modified = max(party.updated or _IDENTITY_EPOCH, _IDENTITY_EPOCH)
    out: dict[str, Any] = {
        "type": "identity",
        "spec_version": "2.1",
        "id": f"identity--{stable_uuid('identity', party.key)}",
        "created": stix_timestamp(_IDENTITY_EPOCH),
        "modified": stix_timestamp(modified),
        "name": party.name,
        "identity_class": "individual" if party.kind is PartyKind.PERSON else "organization",
    }
    if party.url:
        out["contact_information"] = party.url
    return out


def _file(item: MediaItem, marks: list[str]) -> dict[str, Any]:
    perceptual = {FILE_HASH_NAMES[h.kind]: h.value for h in item.hashes if h.kind.perceptual}
    name = item.name or (None if item.sha256 else f"{item.kind} {next(iter(perceptual.values()))[:16]}")
    contributing: dict[str, Any] = {"hashes": {"SHA-256": item.sha256}} if item.sha256 else {}
    if name:
        contributing["name"] = name
    out: dict[str, Any] = {"type": "file", "spec_version": "2.1", "id": sco_id("file", contributing)}
    if item.sha256:
        out["hashes"] = {"SHA-256": item.sha256}
    if name:
        out["name"] = name
    if item.encoding_format:
        out["mime_type"] = item.encoding_format
    if perceptual:
        out["extensions"] = {
            PERCEPTUAL_MATCH_EXTENSION_ID: {"extension_type": "property-extension", **perceptual}
        }
    out["object_marking_refs"] = list(marks)
    return out


def _appearance_urls(fact_check: FactCheck) -> list[str]:
    extra = [fact_check.first_appearance] if fact_check.first_appearance else []
    return list(dict.fromkeys([*extra, *fact_check.appearances]))


def _url(value: str, marks: list[str]) -> dict[str, Any]:
    return {
        "type": "url",
        "spec_version": "2.1",
        "id": sco_id("url", {"value": value}),
        "value": value,
        "object_marking_refs": list(marks),
    }


def _observed_data(fact_check: FactCheck, refs: list[str], by: str, marks: list[str]) -> dict[str, Any]:
    out = _common("observed-data", _sdo_id("observed-data", fact_check), fact_check, by, marks)
    out["first_observed"] = stix_timestamp(fact_check.observed_since)
    out["last_observed"] = stix_timestamp(fact_check.date_published)
    out["number_observed"] = max(1, len(fact_check.appearances))
    out["object_refs"] = refs
    return out


def _pattern(media_hash: MediaHash) -> str:
    name = FILE_HASH_NAMES[media_hash.kind]
    if media_hash.kind.perceptual:
        return f"[file:extensions.'{PERCEPTUAL_MATCH_EXTENSION_ID}'.{name} = '{media_hash.value}']"
    return f"[file:hashes.'{name}' = '{media_hash.value}']"


def _indicator_type(rating: Rating) -> str:
    if rating.debunks:
        return "malicious-activity"
    return "benign" if rating is Rating.AUTHENTIC else "unknown"


def _indicator(
    fact_check: FactCheck, item: MediaItem, media_hash: MediaHash, by: str, marks: list[str]
) -> dict[str, Any]:
    object_id = _sdo_id("indicator", fact_check, media_hash.kind, media_hash.value)
    out = _common("indicator", object_id, fact_check, by, marks)
    label = rating_label(fact_check.rating, fact_check.language)
    out["name"] = f"{label}: {item.kind} {media_hash.kind}: {_shorten(fact_check.claim)}"
    out["description"] = f"{rating_summary(fact_check.rating, fact_check.language)} {fact_check.url}"
    out["indicator_types"] = [_indicator_type(fact_check.rating)]
    out["pattern"] = _pattern(media_hash)
    out["pattern_type"] = "stix"
    out["pattern_version"] = "2.1"
    out["valid_from"] = stix_timestamp(fact_check.date_published)
    out["lang"] = fact_check.language
    if media_hash.kind.perceptual:
        rule: dict[str, Any] = {"extension_type": "property-extension", "algorithm": str(media_hash.kind)}
        rule |= dict(MATCH_RULES[media_hash.kind])
        if media_hash.quality is not None:
            rule["quality"] = media_hash.quality
        out["extensions"] = {PERCEPTUAL_MATCH_EXTENSION_ID: rule}
    return out


def _based_on(fact_check: FactCheck, source: str, target: str, by: str, marks: list[str]) -> dict[str, Any]:
    out = _common("relationship", _sdo_id("relationship", fact_check, source, target), fact_check, by, marks)
    out["relationship_type"] = "based-on"
    out["source_ref"] = source
    out["target_ref"] = target
    return out


def _report(fact_check: FactCheck, refs: list[str], by: str, marks: list[str]) -> dict[str, Any]:
    out = _common("report", _sdo_id("report", fact_check), fact_check, by, marks)
    label = rating_label(fact_check.rating, fact_check.language)
    out["name"] = fact_check.headline or f"{label}: {_shorten(fact_check.claim)}"
    out["description"] = fact_check.summary or rating_summary(fact_check.rating, fact_check.language)
    out["report_types"] = ["indicator", "observed-data"] if fact_check.media else ["threat-report"]
    out["published"] = stix_timestamp(fact_check.date_published)
    out["object_refs"] = refs
    out["lang"] = fact_check.language
    out["labels"] = [f"rating-{fact_check.rating}"]
    reference: dict[str, Any] = {
        "source_name": fact_check.publisher.name,
        "description": f"Fact-check {fact_check.url} with schema.org ClaimReview markup; rating: {label}",
        "url": fact_check.url,
    }
    if fact_check.claimreview_url:
        reference["description"] = f"ClaimReview JSON-LD of the fact-check {fact_check.url}; rating: {label}"
        reference["url"] = fact_check.claimreview_url
        reference["hashes"] = {"SHA-256": hashlib.sha256(claimreview_bytes(fact_check)).hexdigest()}
    out["external_references"] = [reference]
    return out


def _uses_extension(objects: list[dict[str, Any]]) -> bool:
    return any(PERCEPTUAL_MATCH_EXTENSION_ID in o.get("extensions", {}) for o in objects)


def _civicshield_identity() -> dict[str, Any]:
    return {
        "type": "identity",
        "spec_version": "2.1",
        "id": CIVICSHIELD_IDENTITY_ID,
        "created": _EXTENSION_CREATED,
        "modified": _EXTENSION_CREATED,
        "name": "CivicShield",
        "description": "Open-source deepfake defence for elections; defines the perceptual-match extension.",
        "identity_class": "organization",
    }


def _extension_definition() -> dict[str, Any]:
    return {
        "type": "extension-definition",
        "spec_version": "2.1",
        "id": PERCEPTUAL_MATCH_EXTENSION_ID,
        "created_by_ref": CIVICSHIELD_IDENTITY_ID,
        "created": _EXTENSION_CREATED,
        "modified": _EXTENSION_CREATED,
        "name": "CivicShield perceptual hashes",
        "description": (
            "Perceptual hashes of a file and how to match them. On a file: pdq (64 hex digits, Meta's PDQ), "
            "vpdq (a video's frames as a JSON list of 'hash,quality,timestamp' strings, in order: "
            "python-threatexchange's vpdq signal), chromaprint (AcoustID "
            "compressed fingerprint, URL-safe base64). On an indicator whose pattern names one of them: "
            "algorithm (pdq, vpdq, chromaprint); quality (of this hash, 0-100); max_distance (Hamming "
            "bits per PDQ or vPDQ frame hash); min_quality (ignore hashes below it); min_query_match_percent "
            "/ min_target_match_percent (vPDQ: a video matches when at least this share of the query's, or "
            "of the shared video's, frames match); min_similarity (Chromaprint: 1 - bit error rate at the "
            "best offset), min_contrast (over the median offset), min_overlap_s. Perceptual hashes match by "
            "similarity, never by equality."
        ),
        "schema": "https://civicshield.org/schema/stix/perceptual-match/2",
        "version": "2.0.0",
        "extension_types": ["property-extension"],
    }


def claimreview_bytes(fact_check: FactCheck) -> bytes:
    """The ClaimReview JSON-LD of ``fact_check`` exactly as it is served (compact, UTF-8, key order as built):
    what the report's external reference hashes."""
    doc = claimreview(fact_check)
    return json.dumps(doc, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode("utf-8")


def _bundle_id(objects: list[dict[str, Any]]) -> str:
    facts = sorted(f"{o['id']}@{o.get('modified', o.get('created', ''))}" for o in objects)
    return f"bundle--{stable_uuid('bundle', *facts)}"


def _shorten(text: str, limit: int = 120) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"
