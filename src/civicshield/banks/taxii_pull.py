"""Pull another coalition's TAXII 2.1 collection into a bank.

``pull(url)`` GETs a collection's ``objects`` endpoint (``…/collections/<id>/objects/``) as TAXII 2.1
specifies (``Accept: application/taxii+json;version=2.1``, an optional bearer token),
follows the envelope's ``more``/``next`` pages, and reads every page with ``banks.exchange`` (all pages are
read before anything is returned: a bad page imports nothing). Requests go through the egress guard (public
addresses, plus the networks the caller allows), bounded in size, pages and time.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from civicshield.banks.exchange import Imported, entries_from_document, parse_json
from civicshield.egress import GuardedClient
from civicshield.errors import BankFormatError, RemoteFetchFailed
from civicshield.sharing.tlp import most_restrictive

__all__ = ["PullLimits", "pull"]

TAXII_MEDIA_TYPE = "application/taxii+json;version=2.1"


@dataclass(frozen=True)
class PullLimits:
    max_pages: int = 50
    max_page_bytes: int = 8 * 1024 * 1024
    timeout_s: float = 20.0


def _page(client: GuardedClient, url: str, params: dict[str, str]) -> str:
    body, kind = client.fetch("GET", url, what=url[:200], params=params)
    if "taxii+json" not in kind and "application/json" not in kind and "stix+json" not in kind:
        raise RemoteFetchFailed(f"{url[:200]}: not a TAXII answer ({kind or 'no content type'})")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BankFormatError(f"{url[:200]}: the answer is not UTF-8") from exc


def pull(
    url: str,
    *,
    token: str | None = None,
    networks: Iterable[str] = (),
    limits: PullLimits | None = None,
) -> Imported:
    """Every page of the collection at ``url`` as bank entries (``RemoteFetchFailed`` when the server
    cannot be reached or answers wrongly, ``BankFormatError`` for a malformed page)."""
    limits = limits or PullLimits()
    if not url.lower().startswith(("http://", "https://")):
        raise RemoteFetchFailed(f"not an http(s) address: {url[:200]!r}")
    headers = {"Accept": TAXII_MEDIA_TYPE}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    pages: list[Imported] = []
    params: dict[str, str] = {}
    client = GuardedClient(
        networks, headers=headers, timeout_s=limits.timeout_s, max_bytes=limits.max_page_bytes
    )
    for n in range(limits.max_pages):
        where = f"{url} page {n + 1}"
        envelope = parse_json(_page(client, url, params), where)
        pages.append(entries_from_document(envelope, source=where))
        if not envelope.get("more"):
            break
        following = envelope.get("next")
        if not isinstance(following, str) or not following:
            raise BankFormatError(f"{url} page {n + 1}: 'more' is true but there is no 'next'")
        params = {"next": following}
    else:
        raise RemoteFetchFailed(f"{url[:200]}: more than {limits.max_pages} pages")
    skipped: Counter[str] = Counter()
    for page in pages:
        skipped.update(page.skipped)
    return Imported(
        entries=tuple(e for page in pages for e in page.entries),
        tlp=most_restrictive(p.tlp for p in pages),
        skipped=dict(skipped),
        format="taxii",
    )
