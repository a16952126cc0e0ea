"""The C2PA and IPTC vocabularies the provenance code reasons with.

IPTC digital source types (CC BY 4.0, ``http://cv.iptc.org/newscodes/digitalsourcetype/<term>``) are what a
signer *declares* about how the content came to be. Readers see them in full-URI form (``http`` or ``https``),
in Adobe's vendor field ``com.adobe.digitalSourceType`` and in IPTC metadata assertions, so everything here
works on the short term (``trainedAlgorithmicMedia``).

Validation status codes come from the C2PA specification (section "Validation"): the sets below say which
failure codes mean *the content changed after signing* as opposed to *the credential itself fails*.

    >>> short_term("https://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia")
    'trainedAlgorithmicMedia'
    >>> source_type_uri("digitalCapture")
    'http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture'
    >>> is_content_mismatch("assertion.bmffHash.mismatch")
    True
    >>> is_content_mismatch("assertion.hashedURI.mismatch")
    False
"""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = [
    "AI_SOURCE_TYPES",
    "CAPTURE_SOURCE_TYPES",
    "CONTENT_MISMATCH_CODES",
    "CREDENTIAL_STATUSES",
    "IPTC_SOURCE_TYPES",
    "OFFLINE_ONLY_CODES",
    "UNTRUSTED_CODE",
    "credential_status",
    "is_content_mismatch",
    "short_term",
    "source_type_uri",
]

IPTC_PREFIX = "http://cv.iptc.org/newscodes/digitalsourcetype/"
C2PA_PREFIX = "http://c2pa.org/digitalsourcetype/"

IPTC_SOURCE_TYPES: frozenset[str] = frozenset(
    {
        "digitalCapture",
        "computationalCapture",
        "negativeFilm",
        "positiveFilm",
        "print",
        "minorHumanEdits",
        "humanEdits",
        "algorithmicallyEnhanced",
        "softwareImage",
        "digitalArt",
        "digitalCreation",
        "dataDrivenMedia",
        "trainedAlgorithmicMedia",
        "algorithmicMedia",
        "screenCapture",
        "virtualRecording",
        "composite",
        "compositeCapture",
        "compositeSynthetic",
        "compositeWithTrainedAlgorithmicMedia",
    }
)
C2PA_SOURCE_TYPES: frozenset[str] = frozenset({"empty"})

# Declarations that the content was generated (wholly or partly) by an algorithm rather than captured.
AI_SOURCE_TYPES: frozenset[str] = frozenset(
    {
        "trainedAlgorithmicMedia",
        "compositeWithTrainedAlgorithmicMedia",
        "algorithmicMedia",
        "compositeSynthetic",
    }
)
# Declarations that the content records light or sound from the real world (camera, scanner, film).
# screenCapture and virtualRecording are left out on purpose: they record a screen or a virtual event.
CAPTURE_SOURCE_TYPES: frozenset[str] = frozenset(
    {
        "digitalCapture",
        "computationalCapture",
        "negativeFilm",
        "positiveFilm",
        "print",
        "compositeCapture",
    }
)

# Hard-binding failures: the asset bytes no longer match what the signer hashed.
CONTENT_MISMATCH_CODES: frozenset[str] = frozenset(
    {
        "assertion.dataHash.mismatch",
        "assertion.bmffHash.mismatch",
        "assertion.boxesHash.mismatch",
        "assertion.boxesHash.unknownBox",
        "assertion.collectionHash.mismatch",
        "assertion.collectionHash.incorrectFileCount",
    }
)
# A future ``assertion.<x>Hash.mismatch`` is a hard binding too; ``hashedURI`` links assertions, not content.
_HASH_MISMATCH = re.compile(r"^assertion\.(?!hashedURI)[A-Za-z]+Hash\.mismatch$")

# Failures that only say a check needed the network, which reading never uses (DIDs resolve over HTTP).
OFFLINE_ONLY_CODES: frozenset[str] = frozenset({"cawg.ica.did_unavailable"})

UNTRUSTED_CODE = "signingCredential.untrusted"
TRUSTED_CODE = "signingCredential.trusted"


def short_term(value: str) -> str:
    """The short vocabulary term of a digital source type given as a URI (any scheme) or a term."""
    text = value.strip()
    if "/" in text:
        text = text.rstrip("/").rsplit("/", 1)[-1]
    return text


def source_type_uri(value: str) -> str:
    """The canonical URI for a short IPTC/C2PA term; a full ``http(s)`` URI is returned unchanged.

    Raises ``ValueError`` for a short term outside both vocabularies (a typo must not be signed).
    """
    text = value.strip()
    if text.startswith(("http://", "https://")):
        return text
    if text in IPTC_SOURCE_TYPES:
        return IPTC_PREFIX + text
    if text in C2PA_SOURCE_TYPES:
        return C2PA_PREFIX + text
    raise ValueError(
        f"unknown digital source type {value!r}; use an IPTC term such as 'digitalCapture' or a full URI"
    )


def is_content_mismatch(code: str) -> bool:
    """Whether a failure code says the content changed after signing."""
    return code in CONTENT_MISMATCH_CODES or bool(_HASH_MISMATCH.match(code))


#: What the Content Credentials of a file establish, in the words people are shown (``credential_status``).
CREDENTIAL_STATUSES = (
    "absent",
    "unreadable",
    "remote",
    "trusted",
    "valid_untrusted",
    "changed",
    "signer",
    "invalid",
)
_SIGNER_PREFIXES = ("signingCredential.", "timeStamp.")


def credential_status(
    *, present: bool, state: str | None, failures: Sequence[str], error_code: str | None = None
) -> str:
    """One exact state, so that only a failed hard binding ever reads as "changed":

    ``changed`` the content no longer matches what was signed; ``signer`` the signature itself holds but the
    signer's certificate is expired, revoked, invalid or on no trust list; ``remote`` the credentials live
    online and were not fetched (their contents are unknown here); ``invalid`` the manifest is damaged or
    incomplete; ``unreadable`` it could not be read; ``trusted`` / ``valid_untrusted`` as C2PA says.

    >>> credential_status(present=True, state="Invalid", failures=["signingCredential.expired"])
    'signer'
    >>> credential_status(present=True, state="Invalid", failures=["assertion.dataHash.mismatch"])
    'changed'
    >>> credential_status(present=True, state=None, failures=[], error_code="remote_manifest")
    'remote'
    """
    if not present:
        return "unreadable" if error_code else "absent"
    if error_code == "remote_manifest":
        return "remote"
    if error_code:
        return "unreadable"
    if any(is_content_mismatch(code) for code in failures):
        return "changed"
    if state == "Trusted":
        return "trusted"
    if state == "Valid":
        return "valid_untrusted"
    if failures and all(code.startswith(_SIGNER_PREFIXES) for code in failures):
        return "signer"
    return "invalid"
