"""Lookalikes of protected social handles, made by construction: separators, confusable letters, one edit,
the whole handle with more added; and what must not be flagged."""

from __future__ import annotations

import pytest

from civicshield.errors import UsageError
from civicshield.protection.handles import ProtectedHandle, check_handle, handles_in_text
from civicshield.protection.watchlist import Watchlist

PROTECTED = (ProtectedHandle("x", "kiesraad_nl", "Kiesraad"), ProtectedHandle("instagram", "anna.devries"))


@pytest.mark.parametrize(
    ("url", "platform", "handle"),
    [
        ("https://x.com/kiesraad_nl/status/123", "x", "kiesraad_nl"),
        ("see https://twitter.com/@Kiesraad_NL.", "x", "kiesraad_nl"),
        ("https://www.instagram.com/anna.devries/", "instagram", "anna.devries"),
        ("https://www.tiktok.com/@kiesraad", "tiktok", "kiesraad"),
        ("https://bsky.app/profile/kiesraad.bsky.social", "bluesky", "kiesraad"),
        ("https://t.me/kiesraad_nl", "telegram", "kiesraad_nl"),
    ],
)
def test_profile_links_give_platform_and_handle(url: str, platform: str, handle: str) -> None:
    assert handles_in_text(url) == [(platform, handle)]


def test_links_that_are_not_profiles_are_ignored() -> None:
    assert handles_in_text("https://x.com/home https://x.com/search?q=x https://example.org/kiesraad") == []


@pytest.mark.parametrize(
    ("platform", "handle", "how"),
    [
        ("x", "kiesraadnl", "separators"),
        ("x", "kiesraad_nI".lower(), "confusable"),  # capital I for l
        ("x", "kiesraad_n1", "confusable"),
        ("x", "kiesrad_nl", "one-edit"),
        ("x", "kiesraad_nl_official", "embedded"),
        ("facebook", "kiesraad_mi", "one-edit"),  # on another platform too
        ("instagram", "anna.deviries", "one-edit"),
    ],
)
def test_lookalikes_are_found_with_how(platform: str, handle: str, how: str) -> None:
    found = check_handle(platform, handle, PROTECTED)
    assert found is not None and (found.kind, found.how) == ("lookalike", how)


def test_official_and_unrelated_handles() -> None:
    official = check_handle("x", "kiesraad_nl", PROTECTED)
    assert official is not None and official.kind == "official"
    assert check_handle("instagram", "kiesraad_nl", PROTECTED) is None  # maybe its own account there
    assert check_handle("x", "nos", PROTECTED) is None
    assert check_handle("x", "kieskompas", PROTECTED) is None


def test_watchlist_handles_are_checked() -> None:
    listed = Watchlist.from_dict({"handle": [{"platform": "X", "name": "@Kiesraad_NL"}]})
    assert listed.handles == (ProtectedHandle("x", "kiesraad_nl"),)
    for bad in ({"platform": "myspace", "name": "kiesraad"}, {"platform": "x", "name": "not a handle"}):
        with pytest.raises(UsageError, match="handle 1"):
            Watchlist.from_dict({"handle": [bad]})
