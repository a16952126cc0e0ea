"""Consume what other coalitions publish: STIX 2.1 bundles (and TAXII 2.1 envelopes) and MISP events.

CivicShield publishes fact-checks as STIX (``sharing.stix``) and MISP (``sharing.misp``); this module reads
the same shapes back into bank entries, so a coalition can bank another's debunks:

- **STIX**: every ``indicator`` whose pattern is one equality on a file hash — ``[file:hashes.'SHA-256' =
  '…']`` or a perceptual hash of the perceptual-match extension, ``[file:extensions.'extension-definition--
  0b7e5a62…'.pdq = '…']`` (also ``vpdq`` and ``chromaprint``). Revoked indicators are left out; any other
  pattern (a compound expression, another object) is counted as skipped, never guessed at. A TAXII 2.1
  envelope (``{"objects": [...], "more": …}``, what a collection's ``objects`` endpoint answers) reads the
  same as a bundle.
- **MISP**: ``sha256`` attributes and the perceptual hashes of ``civicshield-perceptual-hash`` objects (our
  published object template), in an ``{"Event": …}`` document or PyMISP's ``{"response": [...]}`` list.

Both report the most restrictive TLP marking they carry (TLP 2.0 marking definitions or ``tlp:`` tags), so a
caller can refuse to put the entries in a bank with a laxer label. Anything malformed — not JSON, the wrong
shape, an indicator hash that is not a hash of its kind — is a ``BankFormatError`` naming the object, raised
before a single entry is returned: nothing is half-imported. The STIX pattern grammar is not parsed in
general (``stix2-patterns`` would, but it is a development dependency here): the equality forms above are
recognised by one regular expression, which is all that published hash indicators use.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from civicshield.banks.io import entries_from_csv, entries_from_json
from civicshield.banks.model import BankEntry, SignalType
from civicshield.banks.threatexchange import entries_from_te, looks_like_te
from civicshield.errors import BankFormatError
from civicshield.sharing.stix import PERCEPTUAL_MATCH_EXTENSION_ID
from civicshield.sharing.tlp import TLP, most_restrictive, tlp_from_marking_ref

__all__ = [
    "Imported",
    "entries_from_document",
    "entries_from_exchange",
    "exchange_format",
    "parse_json",
    "read_bank_text",
]

MISP_OBJECT = "civicshield-perceptual-hash"
MAX_LABEL = 300
_PATTERN = re.compile(
    r"^\[\s*file:(?:hashes\.(?:'(?P<quoted>[A-Za-z0-9-]+)'|(?P<bare>[A-Za-z0-9_]+))"
    r"|extensions\.'(?P<ext>[a-z0-9-]+)'\.(?P<prop>\w+))"
    r"\s*=\s*'(?P<value>[^']*)'\s*\]$"
)
_TLP_TAGS = {*(t.value for t in TLP), "WHITE"}  # TLP 2.0 names, and 1.0's WHITE (= CLEAR)
_STIX_HASHES = {"SHA-256": SignalType.SHA256, "SHA256": SignalType.SHA256}
_PERCEPTUAL = {"pdq": SignalType.PDQ, "vpdq": SignalType.VPDQ, "chromaprint": SignalType.CHROMAPRINT}


@dataclass(frozen=True)
class Imported:
    entries: tuple[BankEntry, ...]
    tlp: TLP  # the most restrictive marking in the document (CLEAR when it carries none)
    skipped: Mapping[str, int]
    format: str  # stix | misp


def parse_json(text: str, source: str) -> Any:
    """The JSON document in ``text`` (``BankFormatError`` naming ``source`` when it is not JSON)."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise BankFormatError(f"{source}: not JSON ({exc.msg} at line {exc.lineno})") from None


def exchange_format(document: Any) -> str | None:
    """``stix`` (a bundle or a TAXII envelope), ``misp`` (an event), or ``None`` for anything else."""
    if not isinstance(document, dict):
        return None
    if document.get("type") == "bundle" or ("objects" in document and "type" not in document):
        return "stix"
    if "Event" in document or isinstance(document.get("response"), list) or "Attribute" in document:
        return "misp"  # an event, PyMISP's search answer, or a bare event (PyMISP's ``to_json``)
    return None


def _entry(kind: SignalType, value: str, label: str, link: str | None, quality: Any, where: str) -> BankEntry:
    try:
        return BankEntry.create(kind, value, label[:MAX_LABEL] or "imported", link=link, quality=quality)
    except BankFormatError as exc:
        raise BankFormatError(f"{where}: {exc.message}") from None


def _stix_link(indicator: Mapping[str, Any]) -> str | None:
    for ref in indicator.get("external_references") or ():
        if isinstance(ref, dict) and str(ref.get("url", "")).startswith(("https://", "http://")):
            return str(ref["url"])
    found = re.search(r"https?://\S+", str(indicator.get("description", "")))
    return found.group(0) if found else None


def _stix(document: Mapping[str, Any], source: str) -> Imported:
    objects = document.get("objects")
    if not isinstance(objects, list):
        raise BankFormatError(f"{source}: a STIX bundle or TAXII envelope needs an 'objects' list")
    entries: list[BankEntry] = []
    skipped: Counter[str] = Counter()
    marks: list[TLP] = []
    for n, obj in enumerate(objects):
        if not isinstance(obj, dict) or not isinstance(obj.get("type"), str):
            raise BankFormatError(f"{source}: object {n} is not a STIX object")
        where = f"{source}: {obj.get('id', f'object {n}')}"
        for ref in obj.get("object_marking_refs") or ():
            label = tlp_from_marking_ref(str(ref))
            if label is not None:
                marks.append(label)
        if obj["type"] != "indicator":
            continue
        if obj.get("revoked") is True:
            skipped["revoked indicator"] += 1
            continue
        if obj.get("pattern_type", "stix") != "stix" or not isinstance(obj.get("pattern"), str):
            skipped["indicator without a STIX pattern"] += 1
            continue
        found = _PATTERN.match(obj["pattern"].strip())
        if found is None:
            skipped["pattern other than one file-hash equality"] += 1
            continue
        hash_name = found["quoted"] or found["bare"]
        if hash_name:
            kind = _STIX_HASHES.get(hash_name.upper())
        elif found["ext"] == PERCEPTUAL_MATCH_EXTENSION_ID:
            kind = _PERCEPTUAL.get(found["prop"])
        else:
            kind = None
        if kind is None:
            skipped[f"hash kind {hash_name or found['prop']}"] += 1
            continue
        rule = (obj.get("extensions") or {}).get(PERCEPTUAL_MATCH_EXTENSION_ID) or {}
        quality = rule.get("quality") if isinstance(rule, dict) else None
        entries.append(
            _entry(kind, found["value"], str(obj.get("name", "")), _stix_link(obj), quality, where)
        )
    return Imported(tuple(entries), most_restrictive(marks), dict(skipped), "stix")


def _misp_events(document: Mapping[str, Any], source: str) -> Iterable[Mapping[str, Any]]:
    listed = document.get("response", [document])
    for n, wrapped in enumerate(listed):
        bare = isinstance(wrapped, dict) and "Event" not in wrapped and "Attribute" in wrapped
        event = wrapped if bare else wrapped.get("Event") if isinstance(wrapped, dict) else None
        if not isinstance(event, dict):
            raise BankFormatError(f"{source}: item {n} is not a MISP event ({{'Event': ...}})")
        yield event


def _misp_tlp(event: Mapping[str, Any]) -> list[TLP]:
    out = []
    for tag in event.get("Tag") or ():
        name = str(tag.get("name", "")) if isinstance(tag, dict) else ""
        if name.lower().startswith("tlp:") and name[4:].upper() in _TLP_TAGS:
            out.append(TLP.parse(name[4:]))  # other tlp: tags (tlp:ex:chr) are not labels we know
    return out


def _misp(document: Mapping[str, Any], source: str) -> Imported:
    entries: list[BankEntry] = []
    skipped: Counter[str] = Counter()
    marks: list[TLP] = []
    for event in _misp_events(document, source):
        where = f"{source}: event {event.get('uuid', '?')}"
        marks += _misp_tlp(event)
        label = str(event.get("info", ""))
        attributes = event.get("Attribute", [])
        objects = event.get("Object", [])
        if not isinstance(attributes, list) or not isinstance(objects, list):
            raise BankFormatError(f"{where}: Attribute and Object must be lists")
        for attribute in attributes:
            if not isinstance(attribute, dict):
                raise BankFormatError(f"{where}: an attribute is not an object")
            if attribute.get("type") == "sha256":
                entries.append(
                    _entry(SignalType.SHA256, str(attribute.get("value", "")), label, None, None, where)
                )
            else:
                skipped[f"attribute type {attribute.get('type')}"] += 1
        for obj in objects:
            if not isinstance(obj, dict):
                raise BankFormatError(f"{where}: an object is not an object")
            if obj.get("name") != MISP_OBJECT:
                skipped[f"object {obj.get('name')}"] += 1
                continue
            fields = {
                a.get("object_relation"): a.get("value")
                for a in obj.get("Attribute") or ()
                if isinstance(a, dict)
            }
            kind = _PERCEPTUAL.get(str(fields.get("algorithm", "")))
            if kind is None or not fields.get("hash"):
                raise BankFormatError(
                    f"{where}: object {obj.get('uuid', '?')} has no known algorithm and hash"
                )
            entries.append(
                _entry(
                    kind,
                    str(fields["hash"]),
                    label,
                    None,
                    fields.get("quality"),
                    f"{where}/{obj.get('uuid')}",
                )
            )
    return Imported(tuple(entries), most_restrictive(marks), dict(skipped), "misp")


def entries_from_exchange(text: str, *, source: str) -> Imported:
    """The bank entries of a STIX bundle / TAXII envelope or a MISP event (``BankFormatError`` otherwise)."""
    return entries_from_document(parse_json(text, source), source=source)


def entries_from_document(document: Any, *, source: str) -> Imported:
    """``entries_from_exchange`` of a document already parsed from JSON."""
    kind = exchange_format(document)
    if kind == "stix":
        return _stix(document, source)
    if kind == "misp":
        return _misp(document, source)
    raise BankFormatError(f"{source}: neither a STIX bundle, a TAXII envelope nor a MISP event")


def read_bank_text(text: str, *, source: str) -> Imported:
    """The entries of any file a bank imports, whatever wrote it: a STIX bundle or TAXII envelope, a MISP
    event, a bank file or entry list of ours (JSON), a python-threatexchange signal file (labelled with
    ``source``), or CSV with a header row. Only STIX and MISP carry a TLP marking (``CLEAR`` otherwise)."""
    if source.lower().endswith(".json") or text.lstrip("\ufeff \r\n\t")[:1] in {"[", "{"}:
        document = parse_json(text, source)
        if exchange_format(document) is not None:
            return entries_from_document(document, source=source)
        return Imported(tuple(entries_from_json(text, source=source)), TLP.CLEAR, {}, "json")
    if looks_like_te(text):
        entries, skipped = entries_from_te(text, source=source, label=f"imported from {source}")
        return Imported(entries, TLP.CLEAR, skipped, "threatexchange")
    return Imported(tuple(entries_from_csv(text, source=source)), TLP.CLEAR, {}, "csv")
