"""When a candidate detector may replace the one in use: measured gains, and no more false accusations.

A candidate is compared with the model in use on the same items, twice: on the items reviewers labelled
(scored out of fold, so the candidate never scores an item it was fitted on) and on a check set of genuine
photos that neither model was fitted or tuned on (camera originals and their messaging copies). The rule
is deliberately asymmetric, because in an election a false "AI-generated" on a genuine photo is itself
disinformation: a candidate must catch measurably more of what reviewers found AI-made, may never accuse
more genuine items than the model in use on either set, and must keep the genuine-photo false-positive
bound (1 in 100) unless the model in use already exceeds it, in which case it must at least not do worse.
Too few items to measure is a refusal, not a pass.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["Comparison", "Decision", "PromotionPolicy", "Tally"]


@dataclass(frozen=True)
class Tally:
    """One model's decisions at its own ``synthetic`` threshold on one labelled set."""

    ai: int  # items labelled AI-generated that it scored
    caught: int  # of those, at or above its threshold
    genuine: int  # items labelled genuine that it scored
    flagged: int  # of those, at or above its threshold: false accusations

    def __post_init__(self) -> None:
        if not (0 <= self.caught <= self.ai and 0 <= self.flagged <= self.genuine):
            raise ValueError(f"inconsistent tally {self}")

    @property
    def tpr(self) -> float:
        return self.caught / self.ai if self.ai else math.nan

    @property
    def fpr(self) -> float:
        return self.flagged / self.genuine if self.genuine else math.nan

    def to_dict(self) -> dict[str, int]:
        return {"ai": self.ai, "caught": self.caught, "genuine": self.genuine, "flagged": self.flagged}

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Tally:
        return cls(**{k: int(raw[k]) for k in ("ai", "caught", "genuine", "flagged")})


@dataclass(frozen=True)
class Comparison:
    """The model in use and a candidate, on reviewed items (out of fold) and on a genuine-photo check."""

    active_version: str
    reviewed_active: Tally
    reviewed_candidate: Tally
    check_active: Tally
    check_candidate: Tally
    check_name: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "active_version": self.active_version,
            "reviewed": {
                "active": self.reviewed_active.to_dict(),
                "candidate": self.reviewed_candidate.to_dict(),
            },
            "genuine_check": {
                "name": self.check_name,
                "active": self.check_active.to_dict(),
                "candidate": self.check_candidate.to_dict(),
            },
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Comparison:
        reviewed, check = raw["reviewed"], raw["genuine_check"]
        return cls(
            active_version=str(raw["active_version"]),
            reviewed_active=Tally.from_dict(reviewed["active"]),
            reviewed_candidate=Tally.from_dict(reviewed["candidate"]),
            check_active=Tally.from_dict(check["active"]),
            check_candidate=Tally.from_dict(check["candidate"]),
            check_name=str(check.get("name", "")),
        )


@dataclass(frozen=True)
class Decision:
    approved: bool
    reasons: tuple[str, ...]  # the conditions that failed first, then those that held
    failed: int = 0  # how many of ``reasons`` failed

    @property
    def refusals(self) -> tuple[str, ...]:
        return self.reasons[: self.failed]


@dataclass(frozen=True)
class PromotionPolicy:
    max_false_positive_rate: float = 0.01
    min_gain: float = 0.05  # share of the reviewed AI items the candidate must catch in addition
    min_reviewed: int = 20  # per class
    min_check: int = 30  # genuine photos (each copy counts)

    def decide(self, c: Comparison) -> Decision:
        """Approve only when every condition holds; the reasons say which held and which did not."""
        problems: list[str] = []
        notes: list[str] = []
        ra, rc = c.reviewed_active, c.reviewed_candidate
        if min(rc.ai, rc.genuine) < self.min_reviewed:
            problems.append(
                f"too few reviewed items to measure: {rc.ai} AI-generated and {rc.genuine} genuine "
                f"(at least {self.min_reviewed} of each)"
            )
        needed = max(1, math.ceil(self.min_gain * rc.ai))
        gain = rc.caught - ra.caught
        (notes if gain >= needed else problems).append(
            f"catches {rc.caught} of {rc.ai} reviewed AI-generated items, the model in use {ra.caught} "
            f"({gain:+d}; at least +{needed} needed)"
        )
        (notes if rc.flagged <= ra.flagged else problems).append(
            f"flags {rc.flagged} of {rc.genuine} reviewed genuine items, the model in use {ra.flagged}"
        )
        ca, cc = c.check_active, c.check_candidate
        if cc.genuine < self.min_check:
            problems.append(
                f"the genuine-photo check has {cc.genuine} photos; at least {self.min_check} are needed"
            )
        else:
            bound = self.max_false_positive_rate
            within = cc.fpr <= bound or (ca.fpr > bound and cc.flagged <= ca.flagged)
            (notes if cc.flagged <= ca.flagged and within else problems).append(
                f"flags {cc.flagged} of {cc.genuine} genuine check photos ({cc.fpr:.1%}), the model in use "
                f"{ca.flagged} ({ca.fpr:.1%}); bound {bound:.0%}"
                + (" (the model in use is over it: no worse is required)" if ca.fpr > bound else "")
            )
        return Decision(approved=not problems, reasons=tuple(problems + notes), failed=len(problems))
