"""The links an item carries: URLs, bare ``www.`` hosts and e-mail domains in its texts, and the contents of
QR codes in its pictures (``zxing-cpp``)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

import numpy as np

__all__ = ["hosts_in", "hosts_in_text", "qr_texts"]

_URL = re.compile(r"(?i)\b(?:https?|ftp)://[^\s<>\"'()\[\]{}]+")
_WWW = re.compile(r"(?i)\bwww\.[\w.-]+\.[a-z]{2,}\b")
_MAIL = re.compile(r"(?i)\b[\w.+-]+@([\w-]+(?:\.[\w-]+)+)\b")
MAX_TEXT_CHARS = 200_000
MAX_HOSTS = 200


def hosts_in_text(text: str) -> list[str]:
    """Host names found in ``text``, in order, without duplicates."""
    text = text[:MAX_TEXT_CHARS]
    found: list[str] = []
    for match in _URL.finditer(text):
        try:
            host = urlsplit(match.group(0)).hostname
        except ValueError:
            continue
        if host:
            found.append(host)
    found += [m.group(0) for m in _WWW.finditer(text)]
    found += [m.group(1) for m in _MAIL.finditer(text)]
    return list(dict.fromkeys(h.lower().rstrip(".") for h in found))[:MAX_HOSTS]


def qr_texts(rgb: np.ndarray) -> list[str]:
    """The text of every QR code (and other 2-D code zxing reads) in an RGB picture."""
    import zxingcpp

    return [r.text for r in zxingcpp.read_barcodes(rgb) if r.text]


def hosts_in(texts: Iterable[str]) -> list[str]:
    """Host names found in any of ``texts``, in order, without duplicates."""
    return list(dict.fromkeys(h for text in texts for h in hosts_in_text(text)))
