"""Lookalikes of protected social-media handles in the links an item carries.

Impersonators open ``@kiesraad_nI`` next to ``@kiesraad_nl`` and put it on a poster or in a QR code. A link
to a profile on a platform we know (``PLATFORMS``: X, Facebook, Instagram, TikTok, YouTube, Telegram,
Threads, Bluesky) gives a (platform, handle) pair. A handle is **official** when it is a protected handle
of that platform, and a **lookalike** of it when it differs only in separators (``_ . -``) on the same
platform, or when, compared without case and separators, it reads the same through confusable letters
(``0``/``o``, ``1``/``l``/``i``, ``rn``/``m``, ``vv``/``w``, Cyrillic letters), is one edit away (two for
handles of ten characters or more), or holds the whole protected handle with more added
(``kiesraadnl_official``). The same name on another platform is left alone: it may be the organization's
own account. Handles shorter than ``MIN_HANDLE_CHARS`` are compared exactly only. Written by hand: a few
lines of string comparison, and no maintained library covers social handles.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from civicshield.protection.hosts import skeleton

__all__ = ["PLATFORMS", "HandleCheck", "ProtectedHandle", "check_handle", "handles_in_text"]

#: Profile hosts -> platform name (as written in watchlists).
PLATFORMS = {
    "x.com": "x",
    "twitter.com": "x",
    "facebook.com": "facebook",
    "fb.com": "facebook",
    "instagram.com": "instagram",
    "tiktok.com": "tiktok",
    "youtube.com": "youtube",
    "t.me": "telegram",
    "telegram.me": "telegram",
    "threads.net": "threads",
    "bsky.app": "bluesky",
}
MIN_HANDLE_CHARS = 5
_URL = re.compile(r"(?i)\bhttps?://[^\s<>\"'()\[\]{}]+")
_HANDLE = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")
_RESERVED = {
    "home",
    "share",
    "intent",
    "search",
    "watch",
    "hashtag",
    "explore",
    "login",
    "i",
    "p",
    "reel",
    "status",
}
_LOOKS = (("rn", "m"), ("vv", "w"), ("0", "o"), ("1", "l"), ("i", "l"), ("5", "s"), ("3", "e"))


@dataclass(frozen=True)
class ProtectedHandle:
    platform: str  # a value of PLATFORMS
    handle: str  # lower case, without "@"
    organization: str = ""

    @property
    def label(self) -> str:
        return f"@{self.handle} on {self.platform}"


@dataclass(frozen=True)
class HandleCheck:
    platform: str
    handle: str
    protected: ProtectedHandle
    kind: str  # official | lookalike
    how: str  # official | separators | confusable | one-edit | embedded


def handles_in_text(text: str) -> list[tuple[str, str]]:
    """(platform, handle) of every profile link in ``text``, in order, without duplicates."""
    found: list[tuple[str, str]] = []
    for match in _URL.finditer(text[:200_000]):
        try:
            parts = urlsplit(match.group(0))
        except ValueError:
            continue
        host = (parts.hostname or "").lower().removeprefix("www.").removeprefix("m.").removeprefix("mobile.")
        platform = PLATFORMS.get(host)
        segments = [unquote(s) for s in parts.path.split("/") if s]
        if platform is None or not segments:
            continue
        first = (
            segments[1]
            if platform == "bluesky" and segments[0] == "profile" and len(segments) > 1
            else segments[0]
        )
        handle = first.removeprefix("@").lower().rstrip(".,;:!?")
        if handle in _RESERVED or not _HANDLE.match(handle):
            continue
        if platform == "bluesky":
            handle = handle.removesuffix(".bsky.social")
        found.append((platform, handle))
    return list(dict.fromkeys(found))


def _plain(handle: str) -> str:
    return re.sub(r"[_.\-]", "", handle.lower())


def _looks(handle: str) -> str:
    text = skeleton(handle) if handle.startswith("xn--") else handle
    for seen, meant in _LOOKS:
        text = text.replace(seen, meant)
    return text


def _one_edit(a: str, b: str, limit: int) -> bool:
    """Damerau-Levenshtein distance of ``a`` and ``b`` at most ``limit`` (small strings: plain DP)."""
    if abs(len(a) - len(b)) > limit:
        return False
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        row = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            row[j] = min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                row[j] = min(row[j], prev2[j - 2] + 1)
        prev2, prev = prev, row
    return prev[-1] <= limit


def check_handle(platform: str, handle: str, protected: tuple[ProtectedHandle, ...]) -> HandleCheck | None:
    """What ``handle`` on ``platform`` is to the protected handles, or ``None`` when it is unrelated."""
    for p in protected:
        if p.platform == platform and p.handle == handle:
            return HandleCheck(platform, handle, p, "official", "official")
    mine = _plain(handle)
    for p in protected:
        theirs = _plain(p.handle)
        if mine == theirs:
            if p.platform == platform:  # another account that differs only in separators
                return HandleCheck(platform, handle, p, "lookalike", "separators")
            continue  # the same name on another platform may well be the organization's own
        if len(theirs) < MIN_HANDLE_CHARS:
            continue
        if _looks(mine) == _looks(theirs):
            return HandleCheck(platform, handle, p, "lookalike", "confusable")
        if _one_edit(mine, theirs, 2 if len(theirs) >= 10 else 1):
            return HandleCheck(platform, handle, p, "lookalike", "one-edit")
        if theirs in mine:
            return HandleCheck(platform, handle, p, "lookalike", "embedded")
    return None
