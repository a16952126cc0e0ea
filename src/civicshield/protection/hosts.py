"""Host names as they are compared: ASCII (IDNA 2008 with UTS 46 mapping), lower case, no trailing dot, and
split into subdomain, registered name and public suffix."""

from __future__ import annotations

from dataclasses import dataclass

import dnstwist
import idna

__all__ = ["Host", "normalize_host", "skeleton", "split_host"]

MAX_HOST_CHARS = 253


@dataclass(frozen=True)
class Host:
    subdomain: str  # "login" of login.kiesraad.nl
    name: str  # "kiesraad"
    suffix: str  # "nl", "co.uk"

    @property
    def registered(self) -> str:
        """The registered domain: ``kiesraad.nl``."""
        return f"{self.name}.{self.suffix}" if self.suffix else self.name


def normalize_host(text: str) -> str | None:
    """``text`` as an ASCII host name, or ``None`` when it is not one (bad IDNA, too long, empty labels)."""
    host = text.strip().rstrip(".")
    if not host or len(host) > MAX_HOST_CHARS * 2:
        return None
    try:
        ascii_host = idna.encode(host, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError, ValueError):
        return None
    return ascii_host.lower() if len(ascii_host) <= MAX_HOST_CHARS else None


def split_host(host: str) -> Host:
    """Subdomain, name and public suffix of an ASCII host (dnstwist's suffix list: common multi-part ones
    such as ``co.uk`` included)."""
    subdomain, name, suffix = dnstwist.domain_tld(host)
    return Host(subdomain, name, suffix)


def _confusables() -> dict[str, str]:
    """Letters that look like Latin ones (dnstwist's glyph tables, inverted: Cyrillic ``а`` reads ``a``)."""
    table: dict[str, str] = {}
    glyphs = {**dnstwist.Fuzzer.glyphs_unicode}
    for latin, cyrillic in dnstwist.Fuzzer.latin_to_cyrillic.items():
        glyphs.setdefault(latin, ())
        glyphs[latin] = (*glyphs[latin], cyrillic)
    for latin, looks in glyphs.items():
        for glyph in looks:
            if len(latin) == 1 and len(glyph) == 1 and not glyph.isascii():
                table.setdefault(glyph, latin)
    return table


_CONFUSABLES = _confusables()


def skeleton(ascii_name: str) -> str:
    """The Latin letters an (IDNA-encoded) name looks like: ``xn--kisraad-...`` with a Cyrillic ``е`` reads
    ``kiesraad``."""
    try:
        text = idna.decode(ascii_name)
    except (idna.IDNAError, UnicodeError, ValueError):
        return ascii_name
    return "".join(_CONFUSABLES.get(c, c) for c in text)
