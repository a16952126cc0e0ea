"""Lookalikes of protected domains in the links an item carries.

A host is the **official** domain when it is a protected domain or one of its subdomains, and a
**lookalike** when it is one of the permutations dnstwist's fuzzer generates for a protected domain
(typos, omissions, repetitions, transpositions, homoglyphs, bit flips, hyphenation, vowel swaps, plurals,
other public suffixes of ``SUFFIXES``) or when it carries the protected name inside another registered
domain (``kiesraad-stemmen.com``, or the whole domain as a subdomain: ``kiesraad.nl.verify-login.com``).
Only dnstwist's generator is used: no DNS, WHOIS or web request is made, so checking needs no network and
says nothing about whether a lookalike is registered.

Names shorter than ``MIN_EMBEDDED_CHARS`` are not searched inside other domains: ``ns.nl`` would be found in
every ``news.com``.
"""

from __future__ import annotations

from dataclasses import dataclass

import dnstwist

from civicshield.protection.hosts import Host, normalize_host, skeleton, split_host
from civicshield.protection.watchlist import ProtectedDomain

__all__ = ["DomainCheck", "Lookalikes"]

#: Public suffixes a lookalike may swap in (the protected domain's own is never a swap).
SUFFIXES = (
    "com", "net", "org", "info", "eu", "nl", "be", "de", "fr", "lu", "at", "ch", "it", "es", "pt", "pl", "uk",
    "co.uk", "us", "co", "io", "app", "online", "site", "website", "live", "news", "vote", "gov.uk", "int",
)  # fmt: skip
MIN_EMBEDDED_CHARS = 5
FUZZERS = (
    "addition", "bitsquatting", "cyrillic", "homoglyph", "hyphenation", "insertion", "omission", "plural",
    "repetition", "replacement", "transposition", "vowel-swap", "tld-swap", "various",
)  # fmt: skip


@dataclass(frozen=True)
class DomainCheck:
    host: str
    protected: ProtectedDomain
    kind: str  # official | lookalike
    how: str  # dnstwist's fuzzer name, "embedded", or "official"


class Lookalikes:
    """The protected domains with their permutations, generated once."""

    def __init__(self, domains: tuple[ProtectedDomain, ...]) -> None:
        self.domains = domains
        self._split = [(protected, split_host(protected.name)) for protected in domains]
        self._permutations: dict[str, tuple[ProtectedDomain, str]] = {}
        for protected in domains:
            fuzzer = dnstwist.Fuzzer(protected.name, tld_dictionary=list(SUFFIXES))
            fuzzer.generate(fuzzers=list(FUZZERS))
            for permutation in fuzzer.domains:
                name = permutation["domain"]
                if name != protected.name:
                    self._permutations.setdefault(name, (protected, str(permutation["fuzzer"])))

    def __len__(self) -> int:
        return len(self._permutations)

    def check(self, host_text: str) -> DomainCheck | None:
        """What ``host_text`` is to the protected domains, or ``None`` when it is unrelated (or no host)."""
        host = normalize_host(host_text)
        if host is None:
            return None
        for protected in self.domains:
            if host == protected.name or host.endswith("." + protected.name):
                return DomainCheck(host, protected, "official", "official")
        parts = split_host(host)
        found = self._permutations.get(parts.registered) or self._permutations.get(host)
        if found is not None:
            return DomainCheck(host, found[0], "lookalike", found[1])
        look = skeleton(parts.name)
        for protected, own in self._split:
            if parts.registered == own.registered:
                continue  # the same registrant's other sites are not lookalikes
            if look == own.name:
                return DomainCheck(host, protected, "lookalike", "confusable")
            if len(own.name) >= MIN_EMBEDDED_CHARS and _embedded(own, parts):
                return DomainCheck(host, protected, "lookalike", "embedded")
        return None


def _embedded(own: Host, other: Host) -> bool:
    """The protected name inside another registered domain: as a hyphen-separated part of the registered name
    (``kiesraad-stemmen.com``), or the whole protected domain inside its subdomain (``kiesraad.nl.login.com``,
    ``kiesraad-nl.login.com``). The protected name alone in someone else's subdomain
    (``kiesraad-uitslagen.nos.nl``, a news site's page about the body) is not a lookalike."""
    if own.name in other.name.split("-"):
        return True
    sub = f".{other.subdomain}."
    return any(f".{own.name}{sep}{own.suffix}." in sub for sep in (".", "-"))
