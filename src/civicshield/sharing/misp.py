"""MISP event JSON for a published fact-check, for CERTs and election-security teams that run MISP.

The event follows the MISP core format (``{"Event": {..., "Attribute": [...], "Tag": [...]}}``) that
MISP imports from a file or a feed. Choices, against MISP's ``describeTypes.json``:

* SHA-256 is a ``sha256`` attribute in category ``Payload delivery`` with ``to_ids`` set: it is exact and
  safe to block on.
* MISP has no PDQ, vPDQ or audio-fingerprint attribute type, nor a misp-objects template for them. Each
  perceptual hash is therefore a ``civicshield-perceptual-hash`` object, a template of ours shipped as
  ``civicshield/data/misp/objects/civicshield-perceptual-hash/definition.json`` in misp-objects' own format
  (load it into MISP, or into PyMISP with ``misp_objects_path_custom``): ``algorithm``, ``hash``,
  ``match-rule`` in words, the thresholds as numbers, the media kind and the file's SHA-256, every
  attribute with ``to_ids`` off (an IDS cannot apply a Hamming-distance match).
* The fact-check page is a ``link`` in ``External analysis``; where the claim appeared, ``url`` attributes
  in the same category (context, not infrastructure to block, so ``to_ids`` off).
* The TLP label is a ``tlp:`` tag from MISP's TLP 2.0 taxonomy (``tlp:amber+strict``, ``tlp:clear``...),
  and the rating a ``civicshield:rating="..."`` machine tag.

MISP's ``distribution`` is who the *MISP instance* syncs the event to, so it follows the label: CLEAR may go
to all communities (3), GREEN to this community (1), and AMBER, AMBER+STRICT and RED stay in the
organization (0) until someone deliberately shares them with a sharing group or named people.
"""

from __future__ import annotations

from collections.abc import Iterable
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

from civicshield.sharing._ids import stable_uuid
from civicshield.sharing.model import FactCheck, HashKind, MediaItem
from civicshield.sharing.ratings import rating_label
from civicshield.sharing.stix import MATCH_RULES
from civicshield.sharing.tlp import TLP

__all__ = ["MISP_DISTRIBUTION", "OBJECT_TEMPLATE", "misp_event", "object_templates"]

#: MISP distribution per label: 0 your organisation only, 1 this community only, 3 all communities.
MISP_DISTRIBUTION: MappingProxyType[TLP, int] = MappingProxyType(
    {TLP.CLEAR: 3, TLP.GREEN: 1, TLP.AMBER: 0, TLP.AMBER_STRICT: 0, TLP.RED: 0}
)
_INHERIT = "5"  # attribute distribution "inherit event"
_ANALYSIS_COMPLETED = "2"
_THREAT_LEVEL_UNDEFINED = "4"
_HASH_NAMES = {HashKind.PDQ: "PDQ", HashKind.VPDQ: "vPDQ", HashKind.CHROMAPRINT: "Chromaprint"}
OBJECT_TEMPLATE = "civicshield-perceptual-hash"
OBJECT_TEMPLATE_UUID = "6f0f1a2c-5b8e-4f7a-9d3c-2a1b0c9d8e7f"
OBJECT_TEMPLATE_VERSION = "1"


def misp_event(fact_check: FactCheck, *, tlp: TLP) -> dict[str, Any]:
    """The MISP event (a plain dict, ready for ``json.dumps``) for ``fact_check`` labelled ``tlp``."""
    stamp = str(int(fact_check.last_modified.timestamp()))
    label = rating_label(fact_check.rating, fact_check.language)
    event_uuid = str(stable_uuid("misp-event", fact_check.publisher.key, fact_check.url))
    attributes: dict[str, dict[str, Any]] = {}  # by uuid: a hash listed twice is one attribute
    for attribute in [*_media_attributes(fact_check, label), *_context_attributes(fact_check)]:
        key = str(stable_uuid("misp-attribute", event_uuid, attribute["type"], attribute["value"]))
        attribute |= {"uuid": key, "timestamp": stamp, "distribution": _INHERIT}
        attributes.setdefault(key, attribute)
    return {
        "Event": {
            "uuid": event_uuid,
            "info": fact_check.headline or f"Fact-check ({label}): {fact_check.claim}",
            "date": fact_check.date_published.date().isoformat(),
            "timestamp": stamp,
            "published": False,
            "analysis": _ANALYSIS_COMPLETED,
            "threat_level_id": _THREAT_LEVEL_UNDEFINED,
            "distribution": str(MISP_DISTRIBUTION[tlp]),
            "Orgc": {
                "name": fact_check.publisher.name,
                "uuid": str(stable_uuid("misp-org", fact_check.publisher.key)),
            },
            "Tag": [{"name": f"tlp:{tlp.wire}"}, {"name": f'civicshield:rating="{fact_check.rating}"'}],
            "Attribute": list(attributes.values()),
            "Object": list(_media_objects(fact_check, label, event_uuid, stamp)),
        }
    }


def _media_attributes(fact_check: FactCheck, label: str) -> Iterable[dict[str, Any]]:
    for item in fact_check.media:
        for media_hash in item.hashes:
            if media_hash.kind is HashKind.SHA256:
                yield _attribute(
                    "sha256", "Payload delivery", media_hash.value, _what(item, label), to_ids=True
                )


def _media_objects(
    fact_check: FactCheck, label: str, event_uuid: str, stamp: str
) -> Iterable[dict[str, Any]]:
    seen: set[str] = set()
    for item in fact_check.media:
        for media_hash in item.hashes:
            if not media_hash.kind.perceptual:
                continue
            key = str(stable_uuid("misp-object", event_uuid, media_hash.kind, media_hash.value))
            if key in seen:
                continue
            seen.add(key)
            rule = MATCH_RULES[media_hash.kind]
            fields: list[tuple[str, str, Any]] = [
                ("algorithm", "text", str(media_hash.kind)),
                ("hash", "text", media_hash.value),
                ("match-rule", "text", f"{_HASH_NAMES[media_hash.kind]} {_rule(media_hash.kind)}"),
                ("media-kind", "text", str(item.kind)),
            ]
            if "max_distance" in rule:
                fields += [
                    ("max-distance", "counter", str(rule["max_distance"])),
                    ("min-quality", "counter", str(rule["min_quality"])),
                ]
            if media_hash.quality is not None:
                fields.append(("quality", "counter", str(media_hash.quality)))
            if item.sha256:
                fields.append(("sha256", "sha256", item.sha256))
            attributes = []
            for relation, kind, value in fields:
                attribute = _attribute(kind, "Payload delivery", value, _what(item, label), to_ids=False)
                attribute |= {
                    "object_relation": relation,
                    "uuid": str(stable_uuid("misp-attribute", key, relation, value)),
                    "timestamp": stamp,
                    "distribution": _INHERIT,
                }
                attributes.append(attribute)
            yield {
                "name": OBJECT_TEMPLATE,
                "meta-category": "file",
                "description": "A perceptual hash of a media file and the rule by which other files match it",
                "template_uuid": OBJECT_TEMPLATE_UUID,
                "template_version": OBJECT_TEMPLATE_VERSION,
                "uuid": key,
                "timestamp": stamp,
                "distribution": _INHERIT,
                "comment": _what(item, label),
                "Attribute": attributes,
            }


def _context_attributes(fact_check: FactCheck) -> Iterable[dict[str, Any]]:
    yield _attribute(
        "link", "External analysis", fact_check.url, "Fact-check (schema.org ClaimReview)", to_ids=False
    )
    yield _attribute("text", "External analysis", fact_check.claim, "Claim reviewed", to_ids=False)
    for url in dict.fromkeys([*filter(None, [fact_check.first_appearance]), *fact_check.appearances]):
        yield _attribute("url", "External analysis", url, "Where the claim appeared", to_ids=False)


def _attribute(kind: str, category: str, value: str, comment: str, *, to_ids: bool) -> dict[str, Any]:
    return {"type": kind, "category": category, "value": value, "comment": comment, "to_ids": to_ids}


def _what(item: MediaItem, label: str) -> str:
    return f"{item.kind} rated {label}" + (f" ({item.name})" if item.name else "")


def _rule(kind: HashKind) -> str:
    rule = MATCH_RULES[kind]
    if kind is HashKind.PDQ:
        return f"perceptual hash (256-bit hex); match at Hamming distance <= {rule['max_distance']}"
    if kind is HashKind.VPDQ:
        return (
            "video hash: a JSON list of 'hash,quality,timestamp' per frame (python-threatexchange's vpdq); "
            f"frames match at distance <= {rule['max_distance']}, "
            f"videos match when >= {rule['min_query_match_percent']}% of the query's "
            f"or {rule['min_target_match_percent']}% of this video's frames do"
        )
    return (
        "audio fingerprint (compressed, URL-safe base64); "
        f"match when 1 - bit error rate >= {rule['min_similarity']} over >= {rule['min_overlap_s']} s"
    )


def object_templates() -> Path:
    """The folder of our misp-objects templates (PyMISP's ``misp_objects_path_custom``)."""
    return Path(str(resources.files("civicshield").joinpath("data/misp/objects")))
