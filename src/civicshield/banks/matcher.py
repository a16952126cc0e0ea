"""``BankMatcher``: look the hashes of one item up in a set of banks.

PDQ entries go into a PDQ index (exact range search at the policy radius; flat by default, see
``hashing.index`` for the measurements behind that choice). vPDQ entries follow the
candidate pruning of the vPDQ README: every trusted frame of every banked video goes into a second index, a
query frame that lands near one makes its video a candidate, and only candidates get the brute-force
comparison. Chromaprint entries are compared one by one (banks hold few audio items; each comparison is a
sliding XOR). sha256 entries are a dictionary.

Built once per analyzer from the banks on disk; rebuild it (``from_settings``) after banks change.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from civicshield.banks.model import Bank, BankEntry, BankKind, SignalType
from civicshield.banks.policy import DEFAULT_POLICY, MatchPolicy
from civicshield.errors import AnalyzerUnavailable, BankFormatError
from civicshield.hashing.audio import (
    SECONDS_PER_WORD,
    AudioFingerprint,
    compare_fingerprints,
    parse_fingerprint,
)
from civicshield.hashing.cache import MediaHashes
from civicshield.hashing.index import FlatPdqIndex, PdqIndex
from civicshield.hashing.vpdq import VideoHash, match_vpdq

__all__ = ["BankMatch", "BankMatcher"]


@dataclass(frozen=True)
class BankMatch:
    """One banked entry the item matched, with the measurement that made it match."""

    bank: str
    bank_kind: BankKind
    entry: BankEntry
    exact: bool = False  # identical bytes (sha256)
    distance: int | None = None  # PDQ
    oriented: bool = False  # PDQ matched only after applying the EXIF orientation
    turn: str | None = None  # PDQ matched only turned or mirrored (``hashing.pdq.TURNS``)
    query_pct: float | None = None  # vPDQ: share of the item's frames found in the banked video
    target_pct: float | None = None  # vPDQ: share of the banked video's frames found in the item
    similarity: float | None = None  # Chromaprint: 1 - bit error rate
    offset_s: float | None = None  # Chromaprint: where the item's audio starts in the banked recording

    @property
    def signal_type(self) -> SignalType:
        return self.entry.signal_type

    def detail(self) -> dict[str, Any]:
        """The JSON-ready facts a finding shows: which bank and entry, and how close."""
        out: dict[str, Any] = {
            "bank": self.bank,
            "label": self.entry.label,
            "link": self.entry.link,
            "signal_type": self.signal_type.value,
            "original_name": self.entry.original_name,
            "original_sha256": self.entry.original_sha256,
            "added": self.entry.added.isoformat(),
        }
        if self.distance is not None:
            out["distance"] = self.distance
            out["exif_oriented"] = self.oriented
            out["turned"] = self.turn
        if self.query_pct is not None and self.target_pct is not None:
            out["query_match_pct"] = round(self.query_pct, 2)
            out["target_match_pct"] = round(self.target_pct, 2)
        if self.similarity is not None:
            out["similarity"] = round(self.similarity, 4)
            out["offset_s"] = round(self.offset_s or 0.0, 2)
        return out

    @property
    def strength(self) -> float:
        """Orders matches, best first: exact, then by closeness on each signal's own scale."""
        if self.exact:
            return 2.0
        if self.distance is not None:
            return 1.0 - self.distance / 256
        if self.query_pct is not None and self.target_pct is not None:
            return max(self.query_pct, self.target_pct) / 100
        return self.similarity or 0.0


class BankMatcher:
    def __init__(
        self,
        banks: Iterable[Bank],
        policy: MatchPolicy = DEFAULT_POLICY,
        index: Callable[[], PdqIndex] = FlatPdqIndex,
    ) -> None:
        self.policy = policy
        self.notes: list[str] = []
        self._rows: list[tuple[Bank, BankEntry]] = []
        self._sha: dict[str, list[int]] = defaultdict(list)
        self._pdq = index()
        self._frames = index()
        self._videos: dict[int, VideoHash] = {}
        self._audio: dict[int, AudioFingerprint] = {}
        pdq: tuple[list[str], list[int]] = ([], [])
        frames: tuple[list[str], list[int]] = ([], [])
        for bank in banks:
            for entry in bank.entries:
                self._add(bank, entry, pdq, frames)
        self._pdq.add(*pdq)  # in bulk: faiss adds are much cheaper in batches
        self._frames.add(*frames)

    def __len__(self) -> int:
        return len(self._rows)

    @property
    def banks(self) -> list[str]:
        return sorted({bank.name for bank, _ in self._rows})

    def entries_of(self, original_sha256: str) -> list[tuple[Bank, BankEntry]]:
        """All entries registered from the same original item."""
        return [(b, e) for b, e in self._rows if e.original_sha256 == original_sha256]

    def has_audio_fingerprint(self, original_sha256: str) -> bool:
        """Whether a sound track was registered from this original item (``BankSource``)."""
        return any(e.signal_type is SignalType.CHROMAPRINT for _, e in self.entries_of(original_sha256))

    def describe(self) -> dict[str, Any]:
        """Bank names, entry count, policy version and load notes, for reports (``BankSource``)."""
        out: dict[str, Any] = {
            "banks": self.banks,
            "entries": len(self),
            "policy_version": self.policy.version,
        }
        if self.notes:
            out["notes"] = list(self.notes)
        return out

    def _add(
        self,
        bank: Bank,
        entry: BankEntry,
        pdq: tuple[list[str], list[int]],
        frames: tuple[list[str], list[int]],
    ) -> None:
        row = len(self._rows)
        kind = entry.signal_type
        if kind is SignalType.SHA256:
            self._sha[entry.hash].append(row)
        elif kind is SignalType.PDQ:
            if entry.quality is not None and entry.quality < self.policy.pdq_min_quality:
                return
            pdq[0].append(entry.hash)
            pdq[1].append(row)
        elif kind is SignalType.VPDQ:
            video = entry.video
            trusted = video.trusted_frames(self.policy.vpdq_min_quality)
            if not trusted:
                return
            self._videos[row] = video
            frames[0].extend(f.hash for f in trusted)
            frames[1].extend([row] * len(trusted))
        elif not self._add_audio(row, bank, entry):
            return
        self._rows.append((bank, entry))

    def _add_audio(self, row: int, bank: Bank, entry: BankEntry) -> bool:
        try:
            self._audio[row] = parse_fingerprint(entry.hash)
        except AnalyzerUnavailable as exc:
            note = f"Chromaprint entries skipped: {exc.message}"
            if note not in self.notes:
                self.notes.append(note)
            return False
        except BankFormatError as exc:
            raise BankFormatError(f"bank {bank.name!r}: {exc.message}") from exc
        return True

    def match(self, hashes: MediaHashes) -> list[BankMatch]:
        """Every entry the item matches under the policy, best first (one match per entry)."""
        return _best_per_entry(
            [
                *self._match_sha(hashes),
                *self._match_pdq(hashes),
                *self._match_vpdq(hashes),
                *self._match_audio(hashes),
            ]
        )

    def near_misses(self, hashes: MediaHashes, radius: int) -> list[BankMatch]:
        """PDQ entries just outside the match distance but within ``radius``, nearest first (one per entry):
        pictures a person should compare with the item, which decide nothing on their own."""
        if radius <= self.policy.pdq_max_distance:
            return []
        limit = self.policy.pdq_max_distance
        return _best_per_entry(
            [(row, m) for row, m in self._search_pdq(hashes, radius) if (m.distance or 0) > limit]
        )

    def _result(self, row: int, **measure: Any) -> tuple[int, BankMatch]:
        bank, entry = self._rows[row]
        return row, BankMatch(bank.name, bank.kind, entry, **measure)

    def _match_sha(self, hashes: MediaHashes) -> list[tuple[int, BankMatch]]:
        return [self._result(row, exact=True) for row in self._sha.get(hashes.sha256, [])]

    def _match_pdq(self, hashes: MediaHashes) -> list[tuple[int, BankMatch]]:
        return self._search_pdq(hashes, self.policy.pdq_max_distance)

    def _search_pdq(self, hashes: MediaHashes, radius: int) -> list[tuple[int, BankMatch]]:
        """Every PDQ entry within ``radius`` of any of the item's look-ups (``MediaHashes.pdq_queries``)."""
        if len(self._pdq) == 0:
            return []
        queries = hashes.pdq_queries(self.policy.pdq_min_quality)
        found = self._pdq.search_many([q.hash.hex for q in queries], radius)
        return [
            self._result(hit.id, distance=hit.distance, oriented=q.oriented, turn=q.turn)
            for q, hits in zip(queries, found, strict=True)
            for hit in hits
        ]

    def _match_vpdq(self, hashes: MediaHashes) -> list[tuple[int, BankMatch]]:
        p = self.policy
        if hashes.vpdq is None or len(self._frames) == 0:
            return []
        query = hashes.vpdq.trusted_frames(p.vpdq_min_quality)
        candidates = {
            hit.id
            for hits in self._frames.search_many([f.hash for f in query], p.vpdq_max_distance)
            for hit in hits
        }
        out = []
        for row in sorted(candidates):
            m = match_vpdq(
                hashes.vpdq, self._videos[row], distance=p.vpdq_max_distance, quality=p.vpdq_min_quality
            )
            enough = max(m.query_matched, m.target_matched) >= p.vpdq_min_matched_frames
            if enough and (m.query_pct >= p.vpdq_min_query_pct or m.target_pct >= p.vpdq_min_target_pct):
                out.append(self._result(row, query_pct=m.query_pct, target_pct=m.target_pct))
        return out

    def _match_audio(self, hashes: MediaHashes) -> list[tuple[int, BankMatch]]:
        p = self.policy
        fp = hashes.chromaprint
        if fp is None or not fp.raw:
            return []
        min_words = max(1, round(p.audio_min_overlap_s / SECONDS_PER_WORD))
        out = []
        for row, banked in self._audio.items():
            m = compare_fingerprints(banked, fp, min_overlap=min_words)
            if (
                m.overlap_words >= min_words
                and m.similarity >= p.audio_min_similarity
                and m.contrast >= p.audio_min_contrast
            ):
                out.append(self._result(row, similarity=m.similarity, offset_s=m.offset_s))
        return out


def _best_per_entry(found: list[tuple[int, BankMatch]]) -> list[BankMatch]:
    """One match per entry, its strongest (on a tie the first found: as stored before turned), best first."""
    best: dict[int, BankMatch] = {}
    for row, match in found:
        if row not in best or match.strength > best[row].strength:
            best[row] = match
    return sorted(best.values(), key=lambda m: -m.strength)
