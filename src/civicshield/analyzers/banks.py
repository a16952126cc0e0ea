"""Bank look-ups: ``known_fakes`` (debunked fakes) and ``official_media`` (registered authentic media).

Both hash the item once (``media_hashes``), look it up in the banks of their kind under a ``MatchPolicy``
(thresholds and scores as versioned data, see ``banks.policy``) and report each matched entry with its bank,
label, link and the measured closeness. A miss is an abstention: a bank only knows what was put in it.

``official_media`` tells two situations apart: identical bytes are an authentic copy of the registered item
(score 0); a near-duplicate whose bytes differ is an altered copy (cropped, re-voiced, edited, or at least
re-encoded), scored high and stronger still when a video's pictures match the registered item but its sound
track does not.

Where the banks are kept is a ``BankSource``: bank files (``BankMatcher``, built by ``from_settings``) or the
service's database banks as one organization sees them. Bank files are read when the analyzer is built; a
malformed bank file makes the analyzer unavailable with the file and line named, rather than silently
checking against fewer banks.
"""

from __future__ import annotations

from abc import abstractmethod
from collections import defaultdict
from typing import Any, ClassVar, Self

from civicshield.analyzers.base import Analyzer, Example
from civicshield.banks.matcher import BankMatch, BankMatcher
from civicshield.banks.model import Bank, BankKind, SignalType
from civicshield.banks.policy import RESEMBLES_DISTANCE
from civicshield.banks.source import BankSource
from civicshield.banks.store import BankStore
from civicshield.errors import AnalyzerUnavailable, BankError
from civicshield.hashing.cache import MediaHashes, media_hashes
from civicshield.media import Media
from civicshield.settings import Settings
from civicshield.signals import Finding, Signal

__all__ = ["KnownFakesAnalyzer", "OfficialMediaAnalyzer"]

MAX_FINDINGS = 10


def _how(m: BankMatch) -> str:
    if m.exact:
        return "identical bytes"
    if m.distance is not None:
        how = f"PDQ distance {m.distance}" + (" after EXIF rotation" if m.oriented else "")
        return how + (f", {m.turn}" if m.turn else "")
    if m.query_pct is not None:
        return f"vPDQ {m.query_pct:.1f} % of this video's frames / {m.target_pct:.1f} % of the banked video's"
    return f"audio fingerprint {100 * (m.similarity or 0):.1f} % similar at {m.offset_s or 0:.1f} s"


class _BankAnalyzer(Analyzer):
    """Hash the item, look it up in the banks of ``bank_kind``, abstain with ``miss_reason`` when nothing
    matches; what a match means is each subclass's ``_matched``."""

    bank_kind: ClassVar[BankKind]
    miss_reason: ClassVar[str]

    def __init__(self, matcher: BankSource) -> None:
        self.matcher = matcher

    @classmethod
    def from_settings(cls, settings: Settings) -> Self:
        return cls(BankMatcher(cls._banks(settings, cls.bank_kind)))

    @classmethod
    def _banks(cls, settings: Settings, kind: BankKind) -> list[Bank]:
        """The bank files of ``kind``; a malformed one makes the analyzer unavailable, naming it."""
        store = BankStore.from_settings(settings)
        try:
            return store.load_all(kind)
        except BankError as exc:
            raise AnalyzerUnavailable(
                f"{cls.name}: cannot load banks from {store.root}: {exc.message}"
            ) from exc

    def _base_evidence(self) -> dict[str, Any]:
        return self.matcher.describe()

    def analyze(self, media: Media) -> Signal:
        if len(self.matcher) == 0:
            return Signal.abstain(
                self.name, f"no {self.bank_kind} bank entries are configured", evidence=self._base_evidence()
            )
        try:
            hashes = media_hashes(media)
        except AnalyzerUnavailable as exc:
            return Signal.abstain(
                self.name, f"cannot hash this item here: {exc.message}", evidence=self._base_evidence()
            )
        matches = self.matcher.match(hashes)
        evidence = self._base_evidence()
        if not matches:
            return self._missed(hashes, evidence)
        return self._matched(hashes, matches, evidence)

    def _missed(self, hashes: MediaHashes, evidence: dict[str, Any]) -> Signal:
        """No match; but a banked picture just outside the match distance is named, as something for a
        person to compare, never as evidence (an abstention's findings decide nothing)."""
        near = self.matcher.near_misses(hashes, RESEMBLES_DISTANCE)[:MAX_FINDINGS]
        if not near:
            return Signal.abstain(self.name, self.miss_reason, evidence=evidence)
        best = near[0]
        evidence["resembles"] = [m.detail() for m in near]
        limit = self.matcher.policy.pdq_max_distance
        reason = (
            f"{self.miss_reason}; it resembles {best.entry.label!r} in bank {best.bank!r} ({_how(best)}, "
            f"outside the match distance {limit}): compare the two before drawing any conclusion"
        )
        findings = [
            Finding(f"{self.name}.resembles", f"resembles {m.entry.label!r} ({_how(m)})", m.detail())
            for m in near
        ]
        return Signal.abstain(self.name, reason, findings=findings, evidence=evidence)

    @abstractmethod
    def _matched(self, hashes: MediaHashes, matches: list[BankMatch], evidence: dict[str, Any]) -> Signal:
        """The signal for an item that matched (``matches`` is not empty, best first)."""


class KnownFakesAnalyzer(_BankAnalyzer):
    name = "known_fakes"
    examples = (
        Example("reupload_fake.jpg", "known_fakes.match"),
        Example("reupload_clip.mp4", "known_fakes.match"),
    )
    description = (
        "Looks the item's PDQ / vPDQ / Chromaprint / sha256 up in known-fake banks. A match means "
        "the item is (a copy of) a debunked fake; unseen fakes are not caught."
    )
    bank_kind = BankKind.KNOWN_FAKE
    miss_reason = "not in any known-fake bank; unseen fakes are not caught by this check"

    def __init__(self, matcher: BankSource, *, allowlist: BankSource | None = None) -> None:
        super().__init__(matcher)
        self.allowlist = allowlist

    @classmethod
    def from_settings(cls, settings: Settings) -> Self:
        allowed = cls._banks(settings, BankKind.ALLOWLIST)
        fakes = BankMatcher(cls._banks(settings, cls.bank_kind))
        return cls(fakes, allowlist=BankMatcher(allowed) if allowed else None)

    def _matched(self, hashes: MediaHashes, matches: list[BankMatch], evidence: dict[str, Any]) -> Signal:
        allowed = self.allowlist.match(hashes) if self.allowlist is not None and len(self.allowlist) else []
        if allowed:
            return self._set_aside(matches, allowed, evidence)
        p = self.matcher.policy
        best = matches[0]
        findings = [
            Finding(
                "known_fakes.match",
                f"matches known fake {m.entry.label!r} in bank {m.bank!r} ({_how(m)})",
                m.detail(),
            )
            for m in matches[:MAX_FINDINGS]
        ]
        evidence["matches"] = [m.detail() for m in matches[:MAX_FINDINGS]]
        score, confidence = p.known_fake(exact=best.exact)
        return Signal(
            analyzer=self.name,
            score=score,
            confidence=confidence,
            summary=f"known fake: {best.entry.label!r} ({_how(best)})",
            findings=tuple(findings),
            evidence=evidence,
        )

    def _set_aside(
        self, matches: list[BankMatch], allowed: list[BankMatch], evidence: dict[str, Any]
    ) -> Signal:
        """The item is on an allowlist: its known-fake matches decide nothing and are named for review."""
        ok = allowed[0]
        evidence["matches"] = [m.detail() for m in matches[:MAX_FINDINGS]]
        evidence["allowlisted"] = [m.detail() for m in allowed[:MAX_FINDINGS]]
        reason = (
            f"on allowlist {ok.bank!r} as {ok.entry.label!r} ({_how(ok)}): its {len(matches)} known-fake "
            f"match(es), first {matches[0].entry.label!r} in bank {matches[0].bank!r}, are set aside; review "
            "the known-fake entry"
        )
        finding = Finding(
            "known_fakes.allowlisted",
            reason,
            {"allowlist": ok.detail(), "set_aside": [m.detail() for m in matches[:MAX_FINDINGS]]},
        )
        return Signal.abstain(self.name, reason, findings=[finding], evidence=evidence)


class OfficialMediaAnalyzer(_BankAnalyzer):
    name = "official_media"
    examples = (
        Example("official_poster.jpg", "official_media.exact"),
        Example("altered_poster.jpg", "official_media.altered"),
    )
    description = (
        "Looks the item up in banks of registered official media: identical bytes are an authentic "
        "copy; a near-duplicate with different bytes is an altered (cropped, re-voiced, edited or "
        "re-encoded) copy."
    )
    bank_kind = BankKind.AUTHENTIC
    miss_reason = "not a near-duplicate of any registered official media"

    def _matched(self, hashes: MediaHashes, matches: list[BankMatch], evidence: dict[str, Any]) -> Signal:
        exact = [m for m in matches if m.exact or m.entry.original_sha256 == hashes.sha256]
        if exact:
            return self._exact(exact[0], evidence)
        return self._altered(hashes, matches, evidence)

    def _exact(self, m: BankMatch, evidence: dict[str, Any]) -> Signal:
        detail = m.detail()
        evidence["matches"] = [detail]
        name = m.entry.original_name or m.entry.label
        score, confidence = self.matcher.policy.official(exact=True)
        return Signal(
            analyzer=self.name,
            score=score,
            confidence=confidence,
            summary=f"identical to registered official media {name!r}",
            findings=(
                Finding(
                    "official_media.exact",
                    f"an identical copy of registered official media "
                    f"{m.entry.label!r} ({name}) from bank {m.bank!r}",
                    detail,
                ),
            ),
            evidence=evidence,
        )

    def _altered(self, hashes: MediaHashes, matches: list[BankMatch], evidence: dict[str, Any]) -> Signal:
        p = self.matcher.policy
        groups: dict[str, list[BankMatch]] = defaultdict(list)
        for m in matches:
            groups[m.entry.original_sha256 or f"{m.bank}:{m.entry.hash}"].append(m)
        findings, details = [], []
        revoiced_any = False
        for original, group in list(groups.items())[:MAX_FINDINGS]:
            best = group[0]
            detail = best.detail() | {"matched_signals": sorted({m.signal_type.value for m in group})}
            if self._audio_differs(hashes, original, group):
                detail["audio_differs"] = True
                revoiced_any = True
            details.append(detail)
            findings.append(
                Finding(
                    "official_media.altered",
                    f"a near-duplicate of registered official media whose bytes differ "
                    f"(cropped, re-voiced or edited copy): {best.entry.label!r} "
                    f"from bank {best.bank!r} ({_how(best)})"
                    + (
                        "; the pictures match but the sound track does not"
                        if detail.get("audio_differs")
                        else ""
                    ),
                    detail,
                )
            )
        evidence["matches"] = details
        top = matches[0]
        score, confidence = p.official(exact=False, revoiced=revoiced_any)
        return Signal(
            analyzer=self.name,
            score=score,
            confidence=confidence,
            summary=f"altered copy of registered official media {top.entry.label!r} ({_how(top)})",
            findings=tuple(findings),
            evidence=evidence,
        )

    def _audio_differs(self, hashes: MediaHashes, original: str, group: list[BankMatch]) -> bool:
        """Pictures matched, the original has a registered sound track, this item has one, and it differs."""
        if hashes.chromaprint is None or not any(m.signal_type is SignalType.VPDQ for m in group):
            return False
        if any(m.signal_type is SignalType.CHROMAPRINT for m in group):
            return False
        return self.matcher.has_audio_fingerprint(original)
