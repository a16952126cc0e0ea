"""Helpers shared by the reference-agreement tests: what our report says, in the reference's vocabulary."""

from __future__ import annotations

from civicshield.provenance import CredentialsReport

NOT_FOUND = "_C2paManifestNotFound"


def error_type(report: CredentialsReport) -> str:
    """The c2pa-python exception class the reference records ('' when a manifest was read)."""
    if report.error is not None:
        return report.error.c2pa_error
    return "" if report.present else NOT_FOUND


def joined(codes: tuple[str, ...] | list[str]) -> str:
    return ";".join(sorted(set(codes)))
