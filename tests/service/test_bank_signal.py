"""The service's own banks decide with the library's one match policy (issue 10: the service used fixed
scores, 0.97 / 0.85 / 0.9, that disagreed with ``banks/policy.py`` on identical bytes and official copies)."""

from __future__ import annotations

import pytest

from civicshield.analyzers.banks import KnownFakesAnalyzer, OfficialMediaAnalyzer
from civicshield.banks import Bank, BankEntry, BankKind, BankMatcher
from civicshield.banks.policy import DEFAULT_POLICY
from civicshield.hashing.cache import MediaHashes
from civicshield.hashing.pdq import PdqHash
from civicshield.media import MediaKind
from civicshield.service.domain.banks import EntryMeta, LiveMatch, signals_for

PDQ = "f8f8f0cce0f4e84d0e370a22028f67f0b36e2ed596623e1d33e6339c4e9c9b22"
NEAR = f"{int(PDQ, 16) ^ 0b111:064x}"  # three bits away
SHA = "ab" * 32


def _both(kind: BankKind, entries: list[BankEntry], hashes: MediaHashes) -> tuple[tuple[float, float], ...]:
    """(score, confidence) from the library's analyzer and from the service's signal, on the same matches."""
    matcher = BankMatcher([Bank("b", kind, tuple(entries))])
    analyzer = KnownFakesAnalyzer(matcher) if kind is BankKind.KNOWN_FAKE else OfficialMediaAnalyzer(matcher)
    library = analyzer._matched(hashes, matcher.match(hashes), {})
    live = [LiveMatch(m, EntryMeta(1, 1, 1, "GREEN", None)) for m in matcher.match(hashes)]
    (service,) = signals_for(live, hashes.sha256)
    assert library.score is not None and service.score is not None
    return (library.score, library.confidence), (service.score, service.confidence)


@pytest.mark.parametrize(
    ("kind", "entry", "hashes", "expected"),
    [
        (  # the very bytes of a known fake
            BankKind.KNOWN_FAKE,
            BankEntry.create("sha256", SHA, "fake"),
            MediaHashes(SHA, MediaKind.IMAGE),
            DEFAULT_POLICY.known_fake(exact=True),
        ),
        (  # a re-encoded copy of a known fake
            BankKind.KNOWN_FAKE,
            BankEntry.create("pdq", PDQ, "fake"),
            MediaHashes("cd" * 32, MediaKind.IMAGE, pdq=PdqHash(NEAR, 100)),
            DEFAULT_POLICY.known_fake(exact=False),
        ),
        (  # official media, the registered file itself (found by PDQ, registered from these bytes)
            BankKind.AUTHENTIC,
            BankEntry.create("pdq", PDQ, "official", original_sha256=SHA),
            MediaHashes(SHA, MediaKind.IMAGE, pdq=PdqHash(PDQ, 100)),
            DEFAULT_POLICY.official(exact=True),
        ),
        (  # an altered copy of official media
            BankKind.AUTHENTIC,
            BankEntry.create("pdq", PDQ, "official", original_sha256=SHA),
            MediaHashes("cd" * 32, MediaKind.IMAGE, pdq=PdqHash(NEAR, 100)),
            DEFAULT_POLICY.official(exact=False),
        ),
    ],
)
def test_library_and_service_banks_give_the_same_answer(
    kind: BankKind, entry: BankEntry, hashes: MediaHashes, expected: tuple[float, float]
) -> None:
    library, service = _both(kind, [entry], hashes)
    assert library == service == expected
