"""Lookalikes of protected domains: each host below is a lookalike, the official domain or unrelated by
construction (a typo, a Cyrillic letter, the name inside another domain...), not by what the code says."""

from __future__ import annotations

import idna
import pytest

from civicshield.protection.domains import Lookalikes
from civicshield.protection.links import hosts_in_text
from civicshield.protection.watchlist import ProtectedDomain

PROTECTED = Lookalikes(
    (
        ProtectedDomain("kiesraad.nl", "Kiesraad"),
        ProtectedDomain("elections.europa.eu", "European Parliament"),
        ProtectedDomain("nos.nl", "NOS"),
    )
)


@pytest.mark.parametrize(
    ("host", "protected"),
    [
        ("kiesraad.nl", "kiesraad.nl"),
        ("www.kiesraad.nl", "kiesraad.nl"),
        ("KIESRAAD.NL.", "kiesraad.nl"),
        ("uitslagen.elections.europa.eu", "elections.europa.eu"),
    ],
)
def test_the_official_domain_and_its_subdomains_are_official(host: str, protected: str) -> None:
    check = PROTECTED.check(host)
    assert check is not None and (check.kind, check.protected.name) == ("official", protected)


@pytest.mark.parametrize(
    ("host", "protected"),
    [
        ("kiesrad.nl", "kiesraad.nl"),  # a letter left out
        ("kiesraadd.nl", "kiesraad.nl"),  # a letter doubled
        ("kiesraad.com", "kiesraad.nl"),  # another public suffix
        ("k1esraad.nl", "kiesraad.nl"),  # a digit for a letter
        ("kiesraad-nl.com", "kiesraad.nl"),  # the suffix folded into the name
        ("ki\u0435sraad.nl", "kiesraad.nl"),  # a Cyrillic е
        (idna.encode("ki\u0435sraad.com").decode(), "kiesraad.nl"),  # the same as it travels (IDNA), in .com
        ("kiesraad.nl.verify-login.com", "kiesraad.nl"),  # the whole domain as a subdomain of another one
        ("login.kiesraad-nl.secure-vote.net", "kiesraad.nl"),
        ("kiesraad-stemmen.com", "kiesraad.nl"),  # the name inside another name
        ("elections-europa.eu", "elections.europa.eu"),
    ],
)
def test_lookalikes_are_found(host: str, protected: str) -> None:
    check = PROTECTED.check(host)
    assert check is not None, host
    assert (check.kind, check.protected.name) == ("lookalike", protected)


@pytest.mark.parametrize(
    "host",
    [
        "example.com",
        "news.com",  # contains "nos"? no: short names are never searched inside other names
        "nos-news.org",
        "kiesraad-uitslagen.rtl.nl",  # a news site's page about the body, not an imitation of it
        "europa.eu",  # the protected site's own registrant is not a lookalike
        "other.europa.eu",
        "xn--zz",  # not valid IDNA
        "a" * 300 + ".com",  # too long for a host name
        "",
        "..",
    ],
)
def test_unrelated_and_malformed_hosts_are_not_lookalikes(host: str) -> None:
    assert PROTECTED.check(host) is None


def test_hosts_are_found_in_urls_bare_www_names_and_mail_addresses() -> None:
    text = (
        "Vote at https://kiesraad-stemmen.com/login?x=1, see www.kiesraad.nl or "
        "write to help@kiesrad.nl (also HTTPS://Kiesraad.nl:8443/path)."
    )
    assert hosts_in_text(text) == ["kiesraad-stemmen.com", "kiesraad.nl", "www.kiesraad.nl", "kiesrad.nl"]


def test_a_huge_text_is_read_up_to_its_bound() -> None:
    text = "https://a.example.com/ " * 100_000  # 2.3 MB
    assert hosts_in_text(text)[0] == "a.example.com" and len(hosts_in_text(text)) <= 2
