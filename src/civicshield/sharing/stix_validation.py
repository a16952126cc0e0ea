"""Check STIX 2.1 documents with the OASIS reference validator, the way OASIS checks its own examples.

OASIS's cti-stix2-json-schemas validates its example bundles with ``stix2_validator --strict --ignore 302``:
strict turns every "SHOULD" warning into an error, and check 302 (an external reference with a URL but no
hash of the page) is ignored because a reference to a web page rarely has a stable hash, which is our case
too: a report points at a fact-check page. `validate_stix` uses those options by default, so "valid" here
means what it means for the official examples.

``stix2-validator`` is a development dependency (it pulls in a schema set and takes ~1 s to import), so it
is imported on first use; without it `validate_stix` raises ``ConfigurationError`` naming the package.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from civicshield.errors import ConfigurationError

__all__ = ["REFERENCE_IGNORED_CHECKS", "validate_stix"]

#: Checks OASIS ignores when validating its example bundles (``--ignore 302``).
REFERENCE_IGNORED_CHECKS: tuple[str, ...] = ("302",)


def validate_stix(
    document: Mapping[str, Any], *, ignore: Sequence[str] = REFERENCE_IGNORED_CHECKS
) -> list[str]:
    """Problems the reference validator finds in a STIX 2.1 object or bundle (strict); empty when valid."""
    try:
        from stix2validator import ValidationOptions, validate_instance  # type: ignore[import-untyped]
        from stix2validator.errors import ValidationError  # type: ignore[import-untyped]
    except ImportError as exc:
        raise ConfigurationError(
            "validating STIX needs the stix2-validator package (pip install 'stix2-validator>=3.2')"
        ) from exc
    options = ValidationOptions(version="2.1", strict=True, disabled=list(ignore))
    try:
        result = validate_instance(dict(document), options)
    except ValidationError as exc:
        return [str(exc)]
    return [str(e) for e in result.errors] + [str(w) for w in result.warnings]
