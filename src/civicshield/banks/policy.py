"""``MatchPolicy``: the named, versioned thresholds and scores of bank matching.

Why these values:

* PDQ: distance <= 31 and quality >= 50 on both sides, the PDQ README's recommendation (about one false match
  in a billion random pairs; re-encodes and resizes typically land under 16, crops and overlays up to ~30).
* vPDQ: frames compared as PDQ (31 / 50). An item matches a banked video when at least 80 % of its own
  frames are found in it (a copy or an excerpt: python-threatexchange's query threshold) **or** at least
  80 % of the banked video's frames are found in the item (the item contains the whole banked video, e.g. a
  news report embedding a known fake). ``vpdq_min_matched_frames`` keeps a two-second clip of a talking head
  from matching on one or two frames.
* Chromaprint: ``1 - bit error rate`` >= 0.80 at the best offset (re-encodes to MP3/Opus/AAC at 8-48 kHz
  measured 0.92-0.999; unrelated recordings 0.50-0.61), and that offset must stand >= 0.15 above the median
  offset, which rejects silence, tones and steady noise (they agree with anything at every offset: two
  independent white-noise tracks reach 0.83 with contrast 0.02). At least 5 s must overlap.
* Scores: a known-fake match is strong evidence of a known fake (0.97; 0.99 for identical bytes); an altered
  copy of official media is strong but not conclusive (0.85: a re-encode by a platform also changes the
  bytes), raised to 0.95 when the pictures match but the registered sound track does not (re-voiced).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DEFAULT_POLICY", "RESEMBLES_DISTANCE", "MatchPolicy"]

RESEMBLES_DISTANCE = 48


@dataclass(frozen=True)
class MatchPolicy:
    version: str = "bank-match/1"
    pdq_max_distance: int = 31
    pdq_min_quality: int = 50
    vpdq_max_distance: int = 31
    vpdq_min_quality: int = 50
    vpdq_min_query_pct: float = 80.0
    vpdq_min_target_pct: float = 80.0
    vpdq_min_matched_frames: int = 3
    audio_min_similarity: float = 0.80
    audio_min_contrast: float = 0.15
    audio_min_overlap_s: float = 5.0
    known_fake_exact_score: float = 0.99
    known_fake_score: float = 0.97
    exact_confidence: float = 0.99
    perceptual_confidence: float = 0.9
    altered_score: float = 0.85
    revoiced_score: float = 0.95
    altered_confidence: float = 0.8

    def known_fake(self, *, exact: bool) -> tuple[float, float]:
        """Score and confidence of a known-fake match (identical bytes, or a perceptual copy). The one rule:
        the library's bank analyzer and the service's own banks both decide with it."""
        if exact:
            return self.known_fake_exact_score, self.exact_confidence
        return self.known_fake_score, self.perceptual_confidence

    def official(self, *, exact: bool, revoiced: bool = False) -> tuple[float, float]:
        """Score and confidence of a match with registered official media: an identical copy vouches for the
        file (0), a near-duplicate with other bytes is an altered copy, more surely so when re-voiced."""
        if exact:
            return 0.0, self.exact_confidence
        return (self.revoiced_score if revoiced else self.altered_score), self.altered_confidence


DEFAULT_POLICY = MatchPolicy()
