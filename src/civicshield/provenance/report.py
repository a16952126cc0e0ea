"""Frozen results of reading Content Credentials: what a report (or a person) needs to draw the manifest tree.

The store is summarised, not copied: signer, generator, actions, ingredients, declared source types and the
validation codes, each manifest under its label so ingredients can point at the manifest that describes them.
``CredentialsReport.to_dict`` is the JSON shape analyzers put into ``Signal.evidence``.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, is_dataclass
from enum import StrEnum
from typing import Any

__all__ = [
    "Action",
    "CredentialsReport",
    "Ingredient",
    "ManifestSummary",
    "ReadError",
    "ReadErrorCode",
    "SignerInfo",
    "SoftBinding",
    "SourceTypeDeclaration",
    "ValidationState",
]


class ValidationState(StrEnum):
    """The C2PA validation state of the active manifest."""

    TRUSTED = "Trusted"  # well-formed, signature valid, signer chains to an anchor of the trust profile
    VALID = "Valid"  # well-formed and signature valid, signer not trusted under the profile
    INVALID = "Invalid"  # at least one failure code (signature, certificate, hash, structure)


class ReadErrorCode(StrEnum):
    """Why a manifest store could not be read. Stable: stored in reports and matched on."""

    REMOTE_MANIFEST = "remote_manifest"  # the asset points at a cloud manifest; we never fetch (offline)
    UNSUPPORTED_TYPE = "unsupported_type"  # the reader does not handle this container format
    UNKNOWN_ALGORITHM = "unknown_algorithm"  # signed with an algorithm the reader does not know
    PRERELEASE = "prerelease_manifest"  # written by a pre-1.0 draft of the specification
    INVALID_JUMBF = "invalid_jumbf"  # a manifest store is there but its JUMBF boxes are broken
    MALFORMED_MANIFEST = "malformed_manifest"  # claim, assertion or signature cannot be decoded
    CORRUPT_ASSET = "corrupt_asset"  # the container itself cannot be parsed (truncated, damaged)
    READ_FAILED = "read_failed"  # anything else the reader refused


# Codes where a manifest store is known to be there (the asset is not merely unparseable or unsupported).
MANIFEST_PRESENT_ERRORS: frozenset[ReadErrorCode] = frozenset(
    {
        ReadErrorCode.REMOTE_MANIFEST,
        ReadErrorCode.UNKNOWN_ALGORITHM,
        ReadErrorCode.PRERELEASE,
        ReadErrorCode.INVALID_JUMBF,
        ReadErrorCode.MALFORMED_MANIFEST,
    }
)


@dataclass(frozen=True)
class ReadError:
    code: ReadErrorCode
    message: str
    c2pa_error: str = ""  # the c2pa-python exception class, for diagnosis only
    remote_url: str | None = None

    @property
    def manifest_present(self) -> bool:
        return self.code in MANIFEST_PRESENT_ERRORS


@dataclass(frozen=True)
class SignerInfo:
    """Who signed a claim. ``organization`` is the signer certificate's O (c2pa calls it ``issuer``);
    ``issuer`` is the certificate authority that issued the signer's certificate."""

    common_name: str | None = None
    organization: str | None = None
    issuer: str | None = None
    issuer_organization: str | None = None
    alg: str | None = None
    serial_number: str | None = None
    not_before: str | None = None
    not_after: str | None = None
    tsa_time: str | None = None  # trusted time stamp; None = signed without a time-stamp authority
    tsa_signer: str | None = None


@dataclass(frozen=True)
class Action:
    action: str
    source_type: str | None = None  # short IPTC term declared on the action, if any
    software_agent: str | None = None


@dataclass(frozen=True)
class Ingredient:
    title: str | None
    relationship: str | None  # parentOf | componentOf | inputTo
    format: str | None = None
    manifest: str | None = None  # label of the ingredient's own manifest in this store, if it had one
    failure_codes: tuple[str, ...] = ()


@dataclass(frozen=True)
class SourceTypeDeclaration:
    """One digital source type found in the store, and where."""

    term: str  # short term, e.g. trainedAlgorithmicMedia
    uri: str
    manifest: str  # label of the manifest that declares it
    location: str  # JSON path inside that manifest
    active: bool  # declared by the active manifest (False: by an ingredient's manifest)
    field: str = "digitalSourceType"  # or a vendor field such as com.adobe.digitalSourceType


@dataclass(frozen=True)
class SoftBinding:
    """A soft-binding assertion (watermark or fingerprint that can re-find the manifest)."""

    alg: str
    manifest: str
    values: tuple[str, ...] = ()


@dataclass(frozen=True)
class ManifestSummary:
    label: str
    active: bool
    claim_generator: str | None
    title: str | None
    format: str | None
    claim_version: int | None
    signer: SignerInfo
    actions: tuple[Action, ...] = ()
    ingredients: tuple[Ingredient, ...] = ()
    authors: tuple[str, ...] = ()  # schema.org CreativeWork author names
    assertion_labels: tuple[str, ...] = ()


@dataclass(frozen=True)
class CredentialsReport:
    """Everything read from one asset's manifest store under one trust profile."""

    present: bool
    trust_profile: str
    state: ValidationState | None = None
    active_manifest: str | None = None
    manifests: tuple[ManifestSummary, ...] = ()  # the active manifest first
    active_failures: tuple[str, ...] = ()
    active_informational: tuple[str, ...] = ()
    ingredient_failures: tuple[str, ...] = ()
    signer_trusted: bool = False
    source_types: tuple[SourceTypeDeclaration, ...] = ()
    soft_bindings: tuple[SoftBinding, ...] = ()
    error: ReadError | None = None
    fetched_from: str | None = None  # the manifest was stored remotely and fetched from here (opt-in)

    @property
    def active(self) -> ManifestSummary | None:
        return self.manifests[0] if self.manifests and self.manifests[0].active else None

    @property
    def signer(self) -> SignerInfo | None:
        return self.active.signer if self.active else None

    @property
    def claim_generator(self) -> str | None:
        return self.active.claim_generator if self.active else None

    @property
    def actions(self) -> tuple[Action, ...]:
        return self.active.actions if self.active else ()

    @property
    def n_manifests(self) -> int:
        return len(self.manifests)

    def source_terms(self) -> tuple[str, ...]:
        """Distinct declared source types anywhere in the store, sorted."""
        return tuple(sorted({d.term for d in self.source_types}))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = _plain(self)
        out["n_manifests"] = self.n_manifests
        return out


def _plain(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, StrEnum):
        return str(value)
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value
