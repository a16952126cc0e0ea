"""XMP: parsed with defusedxml only, with DTDs refused outright.

XMP never needs a DTD, so any ``<!DOCTYPE`` (the carrier of entity-expansion "billion laughs" bombs and
external entity reads) is refused before a single entity is declared, let alone expanded. The RDF tree is
walked with an explicit stack, so a deeply nested packet cannot exhaust the interpreter's recursion limit.
"""

from __future__ import annotations

from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from civicshield.analyzers.meta.bounds import Bounds, clean
from civicshield.analyzers.meta.fields import Family, Field

__all__ = ["parse_xmp"]

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_XML = "http://www.w3.org/XML/1998/namespace"
_PREFIXES = {
    "http://ns.adobe.com/xap/1.0/": "xmp",
    "http://ns.adobe.com/xap/1.0/mm/": "xmpMM",
    "http://ns.adobe.com/xap/1.0/sType/ResourceEvent#": "stEvt",
    "http://ns.adobe.com/xap/1.0/rights/": "xmpRights",
    "http://purl.org/dc/elements/1.1/": "dc",
    "http://purl.org/dc/terms/": "dcterms",
    "http://ns.adobe.com/photoshop/1.0/": "photoshop",
    "http://ns.adobe.com/tiff/1.0/": "tiff",
    "http://ns.adobe.com/exif/1.0/": "exif",
    "http://ns.adobe.com/exif/1.0/aux/": "aux",
    "http://cipa.jp/exif/1.0/": "exifEX",
    "http://iptc.org/std/Iptc4xmpCore/1.0/xmlns/": "Iptc4xmpCore",
    "http://iptc.org/std/Iptc4xmpExt/2008-02-29/": "Iptc4xmpExt",
    "http://ns.useplus.org/ldf/xmp/1.0/": "plus",
    "http://ns.adobe.com/camera-raw-settings/1.0/": "crs",
    "http://ns.adobe.com/lightroom/1.0/": "lr",
    "http://ns.google.com/photos/1.0/camera/": "GCamera",
}
_STRUCTURE = {f"{{{RDF}}}{n}" for n in ("RDF", "Description", "Seq", "Bag", "Alt", "li")} | {
    "{adobe:ns:meta/}xmpmeta"
}


def parse_xmp(data: bytes | str, bounds: Bounds) -> tuple[list[Field], list[str]]:
    """Properties of an XMP packet as fields, or a problem line saying why it was not read."""
    raw = data.encode("utf-8", "replace") if isinstance(data, str) else bytes(data)
    if len(raw) > bounds.max_xmp_bytes:
        return [], [f"xmp: {len(raw)} bytes, over the {bounds.max_xmp_bytes}-byte limit; not parsed"]
    start, end = raw.find(b"<"), raw.rfind(b">")
    if start < 0 or end < start:
        return [], ["xmp: no XML found"]
    try:
        root = fromstring(raw[start : end + 1], forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        return [], [f"xmp: refused ({type(exc).__name__}): XMP may not carry a DTD or entity declarations"]
    except (ParseError, ValueError, LookupError) as exc:
        return [], [f"xmp: malformed XML ({type(exc).__name__})"]
    return _properties(root, bounds), []


def _properties(root: Element, bounds: Bounds) -> list[Field]:
    """Simple properties wherever they sit: attributes, element text, ``rdf:li`` items, ``rdf:resource``."""
    out: list[Field] = []
    stack: list[tuple[Element, str]] = [(root, "")]
    visited = 0
    while stack and visited < bounds.max_xmp_elements and len(out) < bounds.max_fields:
        elem, prop = stack.pop()
        visited += 1
        tag = elem.tag if isinstance(elem.tag, str) else ""
        current = prop if tag in _STRUCTURE or not tag else _qname(tag)
        for attr, value in elem.attrib.items():
            if attr == f"{{{RDF}}}resource":
                _add(out, current, value)
            elif not attr.startswith((f"{{{RDF}}}", f"{{{_XML}}}")):
                _add(out, _qname(attr), value)
        if len(elem) == 0 and elem.text:
            _add(out, current, elem.text)
        stack.extend((child, current) for child in reversed(elem))
    return out


def _add(out: list[Field], name: str, value: str) -> None:
    text = clean(value)
    if name and text:
        out.append(Field(Family.XMP, name, text))


def _qname(tag: str) -> str:
    if not tag.startswith("{"):
        return tag
    uri, _, local = tag[1:].partition("}")
    prefix = _PREFIXES.get(uri)
    return f"{prefix}:{local}" if prefix else local
