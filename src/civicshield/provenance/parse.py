"""Turn c2pa-python's manifest-store JSON into a ``CredentialsReport``.

Two documents are read: ``Reader.json()`` (manifests, assertions, validation results) and, when the
reader can produce it, ``Reader.crjson()`` (certificate subject / issuer / validity per manifest, which
``json()`` reduces to a common name and an organization). Parsing is defensive: a hostile manifest can hold
any JSON shape, so every lookup tolerates a missing key or a wrong type instead of raising.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from civicshield.provenance.report import (
    Action,
    CredentialsReport,
    Ingredient,
    ManifestSummary,
    SignerInfo,
    SoftBinding,
    SourceTypeDeclaration,
    ValidationState,
)
from civicshield.provenance.vocab import TRUSTED_CODE, short_term

__all__ = ["parse_store"]

_ACTIONS_LABEL = re.compile(r"^c2pa\.actions(\.v\d+)?(__\d+)?$")
_SOFT_BINDING_LABEL = re.compile(r"^c2pa\.soft-binding(\.v\d+)?(__\d+)?$")
_CREATIVE_WORK_LABEL = re.compile(r"^stds\.schema-org\.CreativeWork(__\d+)?$")


def parse_store(
    store: Mapping[str, Any], certs: Mapping[str, Any] | None, trust_profile: str
) -> CredentialsReport:
    """The report for one manifest store. ``certs`` is the parsed ``crjson()`` output, or None."""
    manifests = _dict(store.get("manifests"))
    active_label = _str(store.get("active_manifest"))
    cert_info = _cert_info_by_label(certs)
    order = ([active_label] if active_label in manifests else []) + [
        k for k in manifests if k != active_label
    ]
    summaries = tuple(
        _manifest(label, _dict(manifests[label]), label == active_label, cert_info.get(label, {}))
        for label in order
    )
    results = _dict(store.get("validation_results"))
    active_results = _dict(results.get("activeManifest"))
    failures = _codes(active_results.get("failure"))
    ingredient_failures = sorted(
        {
            code
            for delta in _list(results.get("ingredientDeltas"))
            for code in _codes(_dict(_dict(delta).get("validationDeltas")).get("failure"))
        }
    )
    return CredentialsReport(
        present=True,
        trust_profile=trust_profile,
        state=_state(store.get("validation_state"), failures),
        active_manifest=active_label,
        manifests=summaries,
        active_failures=tuple(failures),
        active_informational=tuple(_codes(active_results.get("informational"))),
        ingredient_failures=tuple(ingredient_failures),
        signer_trusted=TRUSTED_CODE in _codes(active_results.get("success")),
        source_types=tuple(
            d for label in order for d in _source_types(label, manifests[label], label == active_label)
        ),
        soft_bindings=tuple(b for label in order for b in _soft_bindings(label, _dict(manifests[label]))),
    )


def _state(raw: Any, failures: list[str]) -> ValidationState:
    try:
        return ValidationState(raw)
    except ValueError:
        return ValidationState.INVALID if failures else ValidationState.VALID


def _manifest(label: str, m: Mapping[str, Any], active: bool, cert: Mapping[str, Any]) -> ManifestSummary:
    assertions = [_dict(a) for a in _list(m.get("assertions"))]
    return ManifestSummary(
        label=label,
        active=active,
        claim_generator=_claim_generator(m),
        title=_str(m.get("title")),
        format=_str(m.get("format")),
        claim_version=m.get("claim_version") if isinstance(m.get("claim_version"), int) else None,
        signer=_signer(_dict(m.get("signature_info")), cert),
        actions=tuple(_actions(assertions)),
        ingredients=tuple(_ingredient(_dict(i)) for i in _list(m.get("ingredients"))),
        authors=tuple(_authors(assertions)),
        assertion_labels=tuple(lbl for a in assertions if (lbl := _str(a.get("label")))),
    )


def _claim_generator(m: Mapping[str, Any]) -> str | None:
    """The claim generator string; v2 claims only carry ``claim_generator_info`` (name and version)."""
    if generator := _str(m.get("claim_generator")):
        return generator
    parts = [
        " ".join(p for p in (_str(info.get("name")), _str(info.get("version"))) if p)
        for info in map(_dict, _list(m.get("claim_generator_info")))
    ]
    return " ".join(p for p in parts if p) or None


def _signer(sig: Mapping[str, Any], cert: Mapping[str, Any]) -> SignerInfo:
    info = _dict(cert.get("certificateInfo"))
    subject, issuer, validity = (
        _dict(info.get("subject")),
        _dict(info.get("issuer")),
        _dict(info.get("validity")),
    )
    tsa = _dict(cert.get("timeStampInfo"))
    return SignerInfo(
        common_name=_str(sig.get("common_name")) or _str(subject.get("CN")),
        organization=_str(sig.get("issuer")) or _str(subject.get("O")),
        issuer=_str(issuer.get("CN")),
        issuer_organization=_str(issuer.get("O")),
        alg=_str(sig.get("alg")) or _str(cert.get("algorithm")),
        serial_number=_str(sig.get("cert_serial_number")),
        not_before=_str(validity.get("notBefore")),
        not_after=_str(validity.get("notAfter")),
        tsa_time=_str(sig.get("time")) or _str(tsa.get("timestamp")),
        tsa_signer=_str(_dict(_dict(tsa.get("certificateInfo")).get("subject")).get("CN")),
    )


def _actions(assertions: list[dict[str, Any]]) -> Iterator[Action]:
    for assertion in assertions:
        if not _ACTIONS_LABEL.match(_str(assertion.get("label")) or ""):
            continue
        for raw in map(_dict, _list(_dict(assertion.get("data")).get("actions"))):
            name = _str(raw.get("action"))
            if not name:
                continue
            declared = _str(raw.get("digitalSourceType")) or _str(
                _dict(raw.get("parameters")).get("com.adobe.digitalSourceType")
            )
            agent = raw.get("softwareAgent")
            agent_name = _str(_dict(agent).get("name")) if isinstance(agent, dict) else _str(agent)
            yield Action(name, short_term(declared) if declared else None, agent_name)


def _authors(assertions: list[dict[str, Any]]) -> Iterator[str]:
    for assertion in assertions:
        if _CREATIVE_WORK_LABEL.match(_str(assertion.get("label")) or ""):
            author = _dict(assertion.get("data")).get("author")
            for entry in author if isinstance(author, list) else [author]:
                if name := _str(_dict(entry).get("name")):
                    yield name


def _ingredient(raw: Mapping[str, Any]) -> Ingredient:
    results = _dict(_dict(raw.get("validation_results")).get("activeManifest"))
    codes = _codes(results.get("failure")) if results else _codes(raw.get("validation_status"))
    return Ingredient(
        title=_str(raw.get("title")),
        relationship=_str(raw.get("relationship")),
        format=_str(raw.get("format")),
        manifest=_str(raw.get("active_manifest")),
        failure_codes=tuple(codes),
    )


def _is_source_type_key(key: str) -> bool:
    """``digitalSourceType``, vendor fields such as ``com.adobe.digitalSourceType``, and IPTC's
    ``Iptc4xmpExt:DigitalSourceType`` in metadata assertions."""
    return key.rsplit(":", 1)[-1].rsplit(".", 1)[-1].lower() == "digitalsourcetype"


def _source_types(label: str, manifest: Any, active: bool) -> Iterator[SourceTypeDeclaration]:
    for path, key, value in _walk(manifest, ""):
        if _is_source_type_key(key) and isinstance(value, str) and value.strip():
            yield SourceTypeDeclaration(
                term=short_term(value),
                uri=value.strip(),
                manifest=label,
                location=path,
                active=active,
                field=key,
            )


def _walk(node: Any, path: str, depth: int = 0) -> Iterator[tuple[str, str, Any]]:
    if depth > 64:  # manifests are shallow; a deeper one is hostile
        return
    if isinstance(node, dict):
        for key, value in node.items():
            child = f"{path}/{key}"
            yield child, str(key), value
            yield from _walk(value, child, depth + 1)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _walk(value, f"{path}[{i}]", depth + 1)


def _soft_bindings(label: str, manifest: Mapping[str, Any]) -> Iterator[SoftBinding]:
    for assertion in map(_dict, _list(manifest.get("assertions"))):
        if _SOFT_BINDING_LABEL.match(_str(assertion.get("label")) or ""):
            data = _dict(assertion.get("data"))
            values = tuple(v for b in _list(data.get("blocks")) if (v := _str(_dict(b).get("value"))))
            yield SoftBinding(alg=_str(data.get("alg")) or "unknown", manifest=label, values=values)


def _cert_info_by_label(certs: Mapping[str, Any] | None) -> dict[str, Mapping[str, Any]]:
    out: dict[str, Mapping[str, Any]] = {}
    for m in map(_dict, _list((certs or {}).get("manifests"))):
        if (label := _str(m.get("label"))) is not None:
            out[label] = _dict(m.get("signature"))
    return out


def _codes(items: Any) -> list[str]:
    return sorted({code for item in _list(items) if (code := _str(_dict(item).get("code")))})


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
