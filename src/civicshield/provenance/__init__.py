"""Content Credentials (C2PA): read a manifest store offline under a trust profile, and summarise it.

    >>> from civicshield.provenance import TrustPolicy, read_credentials
    >>> report = read_credentials(Path("photo.jpg"), trust=TrustPolicy("verify"))   # doctest: +SKIP
    >>> report.state, report.signer.organization, report.source_terms()             # doctest: +SKIP

Signing lives in ``civicshield.signing``; the analyzer that turns a report into a ``Signal`` in
``civicshield.analyzers.c2pa``.
"""

from civicshield.provenance.reader import classify_error, read_credentials
from civicshield.provenance.report import (
    Action,
    CredentialsReport,
    Ingredient,
    ManifestSummary,
    ReadError,
    ReadErrorCode,
    SignerInfo,
    SoftBinding,
    SourceTypeDeclaration,
    ValidationState,
)
from civicshield.provenance.trust import TrustList, TrustPolicy, trust_lists

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
    "TrustList",
    "TrustPolicy",
    "ValidationState",
    "classify_error",
    "read_credentials",
    "trust_lists",
]
