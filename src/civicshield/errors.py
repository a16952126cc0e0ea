"""The one error tree of CivicShield.

Every error carries a stable machine ``code`` (safe to store and to match on), the HTTP status a service
should answer with, and the exit code the CLI uses. Exactly one place renders them per surface
(``cli.errors.render_error``; the service's exception handler)::

    CivicShieldError                      internal_error        500  exit 1
    ├── UsageError                        usage_error           400  exit 2
    ├── ConfigurationError                configuration_error   500  exit 2
    │   ├── InvalidSetting                invalid_setting       500  exit 2
    │   └── AnalyzerUnavailable           analyzer_unavailable  500  exit 2
    ├── MediaError                        media_error           422  exit 3
    │   ├── UnsupportedMedia              unsupported_media     415  exit 3
    │   ├── MediaTooLarge                 media_too_large       413  exit 3
    │   └── CorruptMedia                  corrupt_media         422  exit 3
    ├── BankError                         bank_error            422  exit 2
    │   ├── BankFormatError               bank_format_error     422  exit 2
    │   └── BankNotFound                  bank_not_found        404  exit 2
    ├── SigningError                      signing_failed        422  exit 5
    ├── NotFound                          not_found             404  exit 2
    │   └── Gone                          gone                  410  exit 2
    ├── Unauthenticated                   unauthenticated       401  exit 2
    │   └── SecondFactorRequired          mfa_required          401  exit 2
    ├── CsrfFailed                        csrf_failed           403  exit 2
    ├── RateLimited                       rate_limited          429  exit 2
    ├── Busy                              busy                  503  exit 1
    └── NotAcceptable                     not_acceptable        406  exit 2
    UsageError
    ├── Forbidden                         forbidden             403  exit 2
    │   └── EnrolmentRequired             mfa_enrolment_required 403 exit 2
    └── Conflict                          conflict              409  exit 2

Library code raises these and nothing else for bad input: a raw ``OSError`` or ``av.error.InvalidDataError``
escaping to a caller is a bug.
"""

from __future__ import annotations

from typing import ClassVar

__all__ = [
    "AnalyzerUnavailable",
    "BankError",
    "BankFormatError",
    "BankNotFound",
    "Busy",
    "CivicShieldError",
    "ConfigurationError",
    "Conflict",
    "CorruptMedia",
    "CsrfFailed",
    "EnrolmentRequired",
    "Forbidden",
    "Gone",
    "InvalidSetting",
    "MediaError",
    "MediaTooLarge",
    "NotAcceptable",
    "NotFound",
    "RateLimited",
    "SecondFactorRequired",
    "SigningError",
    "Unauthenticated",
    "UnsupportedMedia",
    "UsageError",
]


class CivicShieldError(Exception):
    """Base of every error we raise on purpose."""

    code: ClassVar[str] = "internal_error"
    http_status: ClassVar[int] = 500
    exit_code: ClassVar[int] = 1

    def __init__(self, message: str, *, detail: dict[str, object] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail = dict(detail or {})

    def to_dict(self) -> dict[str, object]:
        """The wire shape: ``{"error": {"code": ..., "message": ...}}``."""
        body: dict[str, object] = {"code": self.code, "message": self.message}
        if self.detail:
            body["detail"] = self.detail
        return {"error": body}


class UsageError(CivicShieldError):
    code = "usage_error"
    http_status = 400
    exit_code = 2


class ConfigurationError(CivicShieldError):
    code = "configuration_error"
    exit_code = 2


class InvalidSetting(ConfigurationError):
    """A setting the deployment wrote is unknown or has the wrong type: starting stops, naming it."""

    code = "invalid_setting"


class AnalyzerUnavailable(ConfigurationError):
    """An analyzer could not be loaded (missing optional dependency, duplicate name, bad settings)."""

    code = "analyzer_unavailable"


class MediaError(CivicShieldError):
    code = "media_error"
    http_status = 422
    exit_code = 3


class UnsupportedMedia(MediaError):
    code = "unsupported_media"
    http_status = 415


class MediaTooLarge(MediaError):
    """Bytes, pixels, duration or decoded frames over the configured limits (decompression bombs too)."""

    code = "media_too_large"
    http_status = 413


class CorruptMedia(MediaError):
    code = "corrupt_media"


class BankError(CivicShieldError):
    code = "bank_error"
    http_status = 422
    exit_code = 2


class BankFormatError(BankError):
    code = "bank_format_error"


class BankNotFound(BankError):
    code = "bank_not_found"
    http_status = 404


class RemoteFetchFailed(CivicShieldError):
    """Something remote could not be fetched (stored Content Credentials, a partner's TAXII collection): off,
    refused address, HTTP error, size."""

    code = "remote_manifest_fetch_failed"
    http_status = 502
    exit_code = 2


class SigningError(CivicShieldError):
    code = "signing_failed"
    http_status = 422
    exit_code = 5


class NotFound(CivicShieldError):
    code = "not_found"
    http_status = 404
    exit_code = 2


class Gone(NotFound):
    """It existed and was withdrawn on purpose (a retracted fact-check's ClaimReview)."""

    code = "gone"
    http_status = 410


class Forbidden(UsageError):
    """The caller's role or key scope does not allow this action (says nothing about any object)."""

    code = "forbidden"
    http_status = 403


class EnrolmentRequired(Forbidden):
    """This person must set up a second factor before doing anything else."""

    code = "mfa_enrolment_required"


class Conflict(UsageError):
    """The action does not fit the object's current state (e.g. publishing an unrated case)."""

    code = "conflict"
    http_status = 409


class Unauthenticated(CivicShieldError):
    code = "unauthenticated"
    http_status = 401
    exit_code = 2


class SecondFactorRequired(Unauthenticated):
    """The password was right; a code from the person's authenticator (or a recovery code) is needed too."""

    code = "mfa_required"


class CsrfFailed(CivicShieldError):
    code = "csrf_failed"
    http_status = 403
    exit_code = 2


class RateLimited(CivicShieldError):
    code = "rate_limited"
    http_status = 429
    exit_code = 2


class Busy(CivicShieldError):
    """Capacity for this kind of work is in use; the caller should retry later."""

    code = "busy"
    http_status = 503
    exit_code = 1


class NotAcceptable(CivicShieldError):
    """The client asked for a media type the endpoint cannot produce (TAXII's ``Accept`` rules)."""

    code = "not_acceptable"
    http_status = 406
    exit_code = 2
