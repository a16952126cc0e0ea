"""``impersonation``: the people and domains of a watchlist, found in the item.

What it reads: the file name, every metadata field (EXIF, XMP, IPTC, PNG text, container tags) and, in
pictures, the text of QR codes. In those it finds the names and aliases of protected people
(``protection.names``) and the hosts of every link, checked against the protected domains
(``protection.domains``: official, or a lookalike).

What it concludes: a lookalike of a protected domain is strong evidence of impersonation by itself — nobody
links to ``kiesraad-stemmen.com`` in good faith — and is reported with a score. A protected person's name is
**not** evidence of a fake (genuine photos are captioned with the people in them): it is reported in an
abstaining signal, and the fusion policy calls an item ``impersonation_suspected`` only when another line
of evidence says the item is synthetic or altered. Faces and voices of protected people are not compared
yet (issue 12 plans reference embeddings with measured thresholds).

The watchlist comes from ``Settings.watchlist`` (``--watchlist`` / ``CIVICSHIELD_WATCHLIST``); without one
the analyzer abstains. A watchlist file that cannot be read stops the start (``InvalidSetting``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Self

import numpy as np

from civicshield.analyzers.base import Analyzer, Example
from civicshield.analyzers.metadata import MetadataAnalyzer
from civicshield.errors import InvalidSetting, UsageError
from civicshield.media import Media, MediaKind, decode_image
from civicshield.protection.domains import DomainCheck, Lookalikes
from civicshield.protection.links import hosts_in_text, qr_texts
from civicshield.protection.names import NameHit, find_names
from civicshield.protection.watchlist import Watchlist
from civicshield.settings import Settings
from civicshield.signals import Finding, Signal

__all__ = ["ImpersonationAnalyzer", "ImpersonationPolicy"]

_METADATA = MetadataAnalyzer()  # only its reader: fields as the metadata analyzer sees them


@dataclass(frozen=True)
class ImpersonationPolicy:
    version: str = "impersonation-2026.12.1"
    lookalike_score: float = 0.9
    lookalike_confidence: float = 0.8
    qr_max_pixels: int = 40_000_000  # larger pictures are not searched for QR codes (bounds the time)
    max_findings: int = 10


class ImpersonationAnalyzer(Analyzer):
    name = "impersonation"
    description = (
        "Finds the people and domains of a watchlist in the item: protected names in the file name and "
        "metadata, lookalikes of protected domains in its links (metadata URLs, QR codes). A lookalike "
        "domain is evidence of impersonation; a name alone is not evidence of a fake."
    )
    kinds = frozenset(MediaKind)
    examples = (Example("phishing_poster.png", "impersonation.lookalike_domain"),)
    policy: ClassVar[ImpersonationPolicy] = ImpersonationPolicy()

    def __init__(self, watchlist: Watchlist) -> None:
        self.watchlist = watchlist
        self.lookalikes = Lookalikes(watchlist.domains)

    @classmethod
    def from_settings(cls, settings: Settings) -> Self:
        if settings.watchlist is None:
            return cls(Watchlist())
        try:
            return cls(Watchlist.load(settings.watchlist))
        except UsageError as exc:
            raise InvalidSetting(f"watchlist: {exc.message}") from exc

    def analyze(self, media: Media) -> Signal:
        if not len(self.watchlist):
            return Signal.abstain(self.name, "no watchlist configured (--watchlist or CIVICSHIELD_WATCHLIST)")
        return self.judge(self.read(media))

    @classmethod
    def read(cls, media: Media) -> list[tuple[str, str]]:
        """The texts of ``media`` the checks look in, as ``(where, text)``: its file name, every metadata
        field, and the QR codes in a picture. Independent of any watchlist, so read once per item."""
        texts = [("file name", media.name)] + [(f.where, f.value) for f in _METADATA.read(media)]
        return texts + [("QR code", text) for text in cls._qr_codes(media)]

    def judge(self, texts: list[tuple[str, str]]) -> Signal:
        """What ``read``'s texts say about this analyzer's watchlist."""
        evidence: dict[str, Any] = {"policy": self.policy.version, "watchlist_entries": len(self.watchlist)}
        names = find_names(self.watchlist.people, texts)
        checks = [
            (where, check)
            for where, text in texts
            for host in hosts_in_text(text)
            if (check := self.lookalikes.check(host)) is not None
        ]
        lookalikes = [(w, c) for w, c in checks if c.kind == "lookalike"][: self.policy.max_findings]
        official = sorted({c.host for _, c in checks if c.kind == "official"})
        if official:
            evidence["official_links"] = official
        findings = [_lookalike(where, check) for where, check in lookalikes]
        findings += [_named(hit) for hit in names[: self.policy.max_findings]]
        if lookalikes:
            first = lookalikes[0][1]
            return Signal(
                self.name,
                self.policy.lookalike_score,
                self.policy.lookalike_confidence,
                f"links to {first.host}, a lookalike of protected domain {first.protected.name}",
                findings=tuple(findings),
                evidence=evidence,
            )
        if names:
            people = ", ".join(hit.person.name for hit in names)
            reason = (
                f"names protected {'people' if len(names) > 1 else 'person'} {people}; naming is not evidence"
            )
            return Signal.abstain(self.name, reason, findings=findings, evidence=evidence)
        return Signal.abstain(self.name, "no protected person or domain lookalike found", evidence=evidence)

    @classmethod
    def _qr_codes(cls, media: Media) -> list[str]:
        if media.kind is not MediaKind.IMAGE:
            return []
        image = decode_image(media, mode="RGB")
        if image.width * image.height > cls.policy.qr_max_pixels:
            return []
        return qr_texts(np.asarray(image, dtype=np.uint8))


def _lookalike(where: str, check: DomainCheck) -> Finding:
    owner = f" ({check.protected.organization})" if check.protected.organization else ""
    return Finding(
        "impersonation.lookalike_domain",
        f"a link to {check.host} (in {where}) imitates the protected domain {check.protected.name}{owner}: "
        f"{check.how.replace('-', ' ')}",
        {"host": check.host, "protected": check.protected.name, "how": check.how, "where": where},
    )


def _named(hit: NameHit) -> Finding:
    owner = f" ({hit.person.organization})" if hit.person.organization else ""
    return Finding(
        "impersonation.person_named",
        f"names protected person {hit.person.name}{owner} (in {hit.where})",
        {"person": hit.person.name, "matched": hit.name, "where": hit.where},
    )
