"""The service's own banks decide with the library's analyzers and their one match policy (issue 10: the
service used fixed scores, 0.97 / 0.85 / 0.9, under an analyzer name nobody registered, that disagreed with
``banks/policy.py`` on identical bytes and official copies).

The same entries go into a bank file's ``BankMatcher`` and into a database bank read through the live index
(``OrgBanks``); the registered ``known_fakes`` / ``official_media`` analyzers must answer the same on both,
and with the scores the policy gives each case.
"""

from __future__ import annotations

import io

import pytest
from PIL import Image

from civicshield.analyzers.banks import KnownFakesAnalyzer, OfficialMediaAnalyzer
from civicshield.banks import Bank, BankEntry, BankKind, BankMatcher
from civicshield.banks.policy import DEFAULT_POLICY
from civicshield.banks.source import BankSource
from civicshield.hashing.cache import MediaHashes
from civicshield.hashing.pdq import PdqHash
from civicshield.media import Media, MediaKind
from civicshield.service.domain import banks
from civicshield.service.domain.tables import BankRow
from civicshield.service.infra.bank_index import LiveIndex, OrgBanks
from civicshield.service.infra.db.engine import Database
from civicshield.signals import Signal

from .conftest import World
from .test_live_index import principal

PDQ = "f8f8f0cce0f4e84d0e370a22028f67f0b36e2ed596623e1d33e6339c4e9c9b22"
NEAR = f"{int(PDQ, 16) ^ 0b111:064x}"  # three bits away
SHA = "ab" * 32


def _signal(kind: BankKind, source: BankSource, hashes: MediaHashes) -> Signal:
    analyzer = KnownFakesAnalyzer(source) if kind is BankKind.KNOWN_FAKE else OfficialMediaAnalyzer(source)
    matches = source.match(hashes)
    assert matches, "the entry must match for this comparison to mean anything"
    return analyzer._matched(hashes, matches, {})


def _database_source(world: World, kind: BankKind, entry: BankEntry) -> OrgBanks:
    db: Database = world.client.app.state.rt.db  # type: ignore[attr-defined]
    reviewer = principal(db, world, "factcheck:reviewer")
    with db.session() as s:
        bank = banks.create_bank(s, reviewer, "compared", kind.value, "GREEN")
        row = s.get(BankRow, bank.id)
        assert row is not None
        banks.add_entries(s, reviewer, row, [entry])
    live = LiveIndex(db)
    live.rebuild()
    return OrgBanks(live, reviewer.org_id, kind)


@pytest.mark.parametrize(
    ("kind", "entry", "hashes", "expected", "code"),
    [
        (  # the very bytes of a known fake
            BankKind.KNOWN_FAKE,
            BankEntry.create("sha256", SHA, "fake"),
            MediaHashes(SHA, MediaKind.IMAGE),
            DEFAULT_POLICY.known_fake(exact=True),
            "known_fakes.match",
        ),
        (  # a re-encoded copy of a known fake
            BankKind.KNOWN_FAKE,
            BankEntry.create("pdq", PDQ, "fake"),
            MediaHashes("cd" * 32, MediaKind.IMAGE, pdq=PdqHash(NEAR, 100)),
            DEFAULT_POLICY.known_fake(exact=False),
            "known_fakes.match",
        ),
        (  # official media, the registered file itself (found by PDQ, registered from these bytes)
            BankKind.AUTHENTIC,
            BankEntry.create("pdq", PDQ, "official", original_sha256=SHA),
            MediaHashes(SHA, MediaKind.IMAGE, pdq=PdqHash(PDQ, 100)),
            DEFAULT_POLICY.official(exact=True),
            "official_media.exact",
        ),
        (  # an altered copy of official media
            BankKind.AUTHENTIC,
            BankEntry.create("pdq", PDQ, "official", original_sha256=SHA),
            MediaHashes("cd" * 32, MediaKind.IMAGE, pdq=PdqHash(NEAR, 100)),
            DEFAULT_POLICY.official(exact=False),
            "official_media.altered",
        ),
    ],
)
def test_bank_files_and_service_banks_give_the_same_answer(
    world: World,
    kind: BankKind,
    entry: BankEntry,
    hashes: MediaHashes,
    expected: tuple[float, float],
    code: str,
) -> None:
    library = _signal(kind, BankMatcher([Bank("compared", kind, (entry,))]), hashes)
    service = _signal(kind, _database_source(world, kind, entry), hashes)
    for signal in (library, service):
        assert (signal.score, signal.confidence) == expected
        assert signal.analyzer == ("known_fakes" if kind is BankKind.KNOWN_FAKE else "official_media")
        assert signal.findings[0].code == code
    assert library.summary == service.summary


def test_an_organization_sees_no_other_organizations_amber_entries(world: World) -> None:
    """``OrgBanks`` is one organization's view: TLP decides what its analyzers can match."""
    db: Database = world.client.app.state.rt.db  # type: ignore[attr-defined]
    owner = principal(db, world, "factcheck:reviewer")
    with db.session() as s:
        bank = banks.create_bank(s, owner, "private", "known_fake", "AMBER")
        row = s.get(BankRow, bank.id)
        assert row is not None
        banks.add_entries(s, owner, row, [BankEntry.create("sha256", SHA, "fake")])
    live = LiveIndex(db)
    live.rebuild()
    other = principal(db, world, "other:reviewer")
    hashes = MediaHashes(SHA, MediaKind.IMAGE)
    assert [m.entry.label for m in OrgBanks(live, owner.org_id, BankKind.KNOWN_FAKE).match(hashes)] == [
        "fake"
    ]
    theirs = OrgBanks(live, other.org_id, BankKind.KNOWN_FAKE)
    assert theirs.match(hashes) == [] and len(theirs) == 0
    picture = io.BytesIO()
    Image.new("RGB", (64, 64), (90, 120, 200)).save(picture, "PNG")
    signal = KnownFakesAnalyzer(theirs).analyze(Media.from_bytes(picture.getvalue(), name="x.png"))
    assert signal.abstained and signal.evidence["banks"] == []
