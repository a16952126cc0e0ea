"""Trust profiles: which certificate authorities make a C2PA signer *trusted* rather than merely *valid*.

A valid signature only proves that whoever held the key signed the bytes; anyone can make a key. Trust says
the signer's certificate chains to an authority that vets signers. Three profiles ship with the package:

``none``
    No anchors: every signer is untrusted (``signingCredential.untrusted``). Useful to see raw validity.
``c2pa``
    The official C2PA conformance trust list plus its time-stamp authority list.
``verify``
    What Content Credentials Verify (contentcredentials.org/verify) accepts: the official lists plus the
    frozen "interim trust list" with its allowed end-entity certificates and allowed EKUs. The default.

``Settings.extra_trust_anchors`` (a PEM file) adds anchors on top of any profile, e.g. a national election
body's CA or a test CA. Reading is always offline: remote manifests and OCSP are never fetched, so a verdict
never depends on, or leaks to, the network.

The c2pa settings are generated from files inside the package (``civicshield/data/trust``, see its
``ATTRIBUTION.md``) in the list-shaped ``trust.anchors`` form: c2pa-python silently ignores the flat
``trust.allowed_list`` key, so an allowed list only works inside an anchors entry.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache, cached_property
from importlib import resources
from typing import Any

from civicshield.errors import ConfigurationError
from civicshield.settings import TRUST_PROFILES, Settings, TrustProfile

__all__ = ["OFFLINE_VERIFY", "TrustList", "TrustPolicy", "trust_lists"]

OFFLINE_VERIFY: dict[str, bool] = {"remote_manifest_fetch": False, "ocsp_fetch": False}


@dataclass(frozen=True)
class TrustList:
    """One shipped list of anchors, as files relative to ``civicshield/data/trust``."""

    name: str
    kind: str  # c2pa trust_kind: "manifest" (claim signers) or "tsa" (time-stamp authorities)
    anchors: str
    uri: str
    allowed_list: str | None = None  # end-entity certificates accepted as such (base64 SHA-256 per line)
    trust_config: str | None = None  # allowed extended key usages (OIDs)

    def entry(self) -> dict[str, str]:
        out = {"trust_kind": self.kind, "trust_uri": self.uri, "trust_anchors": _data(self.anchors)}
        if self.allowed_list:
            out["allowed_list"] = _data(self.allowed_list)
        if self.trust_config:
            out["trust_config"] = _data(self.trust_config)
        return out


_C2PA = TrustList(
    "c2pa-conformance",
    "manifest",
    "c2pa-conformance/C2PA-TRUST-LIST.pem",
    "https://github.com/c2pa-org/conformance-public/blob/main/trust-list/C2PA-TRUST-LIST.pem",
)
_C2PA_TSA = TrustList(
    "c2pa-conformance-tsa",
    "tsa",
    "c2pa-conformance/C2PA-TSA-TRUST-LIST.pem",
    "https://github.com/c2pa-org/conformance-public/blob/main/trust-list/C2PA-TSA-TRUST-LIST.pem",
)
_CAI_ITL = TrustList(
    "cai-verify-interim",
    "manifest",
    "cai-verify-site/anchors.pem",
    "https://contentcredentials.org/trust/anchors.pem",
    allowed_list="cai-verify-site/allowed.sha256.txt",
    trust_config="cai-verify-site/store.cfg",
)

_PROFILES: dict[str, tuple[TrustList, ...]] = {
    "none": (),
    "c2pa": (_C2PA, _C2PA_TSA),
    "verify": (_C2PA, _C2PA_TSA, _CAI_ITL),
}


def trust_lists(profile: TrustProfile) -> tuple[TrustList, ...]:
    """The shipped lists a profile uses."""
    return _PROFILES[profile]


@cache
def _data(relative: str) -> str:
    return resources.files("civicshield").joinpath("data/trust", relative).read_text("utf-8")


@dataclass(frozen=True)
class TrustPolicy:
    """A trust profile plus optional extra anchors, turned into c2pa-python reader settings.

    Build it once (``from_settings``) and reuse it: a bad anchors file fails here, at startup, not on the
    thousandth item.
    """

    profile: TrustProfile = "verify"
    extra_anchors_pem: str | None = field(default=None, repr=False)
    extra_anchors_source: str | None = None

    def __post_init__(self) -> None:
        if self.profile not in TRUST_PROFILES:
            raise ConfigurationError(
                f"trust profile must be one of {', '.join(TRUST_PROFILES)}, not {self.profile!r}"
            )
        if self.extra_anchors_pem is not None and "-----BEGIN CERTIFICATE-----" not in self.extra_anchors_pem:
            raise ConfigurationError(
                f"extra trust anchors {self.extra_anchors_source or ''} hold no PEM certificate"
            )

    @classmethod
    def from_settings(cls, settings: Settings) -> TrustPolicy:
        path = settings.extra_trust_anchors
        if path is None:
            return cls(settings.trust)
        try:
            pem = path.read_text("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigurationError(f"cannot read extra trust anchors {path}: {exc}") from exc
        return cls(settings.trust, pem, str(path))

    @property
    def lists(self) -> tuple[TrustList, ...]:
        return trust_lists(self.profile)

    def c2pa_settings(self) -> dict[str, Any]:
        """The c2pa-python settings document (``Context.from_dict``) for this policy, offline."""
        anchors = [t.entry() for t in self.lists]
        if self.extra_anchors_pem:
            anchors.append({"trust_kind": "manifest", "trust_anchors": self.extra_anchors_pem})
        settings: dict[str, Any] = {"version": 1, "verify": dict(OFFLINE_VERIFY)}
        if anchors:
            settings["trust"] = {"anchors": anchors}
        if self.profile != "none":
            settings["verify"].update(verify_trust=True, verify_timestamp_trust=True)
        return settings

    @cached_property
    def c2pa_settings_json(self) -> str:
        return json.dumps(self.c2pa_settings())

    def describe(self) -> dict[str, Any]:
        """What evidence shows about the trust used: profile, list names, extra anchors file."""
        return {
            "profile": self.profile,
            "lists": [t.name for t in self.lists],
            "extra_anchors": self.extra_anchors_source if self.extra_anchors_pem else None,
        }
