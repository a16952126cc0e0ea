"""The promotion rule, on tallies written out by hand."""

from __future__ import annotations

import pytest

from civicshield.learning.promotion import Comparison, PromotionPolicy, Tally


def _comparison(
    reviewed_active: Tally,
    reviewed_candidate: Tally,
    check_active: tuple[int, int] = (100, 0),
    check_candidate: tuple[int, int] = (100, 0),
) -> Comparison:
    return Comparison(
        active_version="shipped",
        reviewed_active=reviewed_active,
        reviewed_candidate=reviewed_candidate,
        check_active=Tally(0, 0, *check_active),
        check_candidate=Tally(0, 0, *check_candidate),
    )


def test_a_candidate_that_catches_more_and_accuses_no_more_is_approved() -> None:
    decision = PromotionPolicy().decide(_comparison(Tally(40, 20, 40, 1), Tally(40, 30, 40, 1)))
    assert decision.approved
    assert any("+10" in r for r in decision.reasons)


@pytest.mark.parametrize(
    ("active", "candidate", "check", "why"),
    [
        (Tally(40, 20, 40, 0), Tally(40, 21, 40, 0), (100, 0), "at least +2 needed"),  # gain too small
        (Tally(40, 20, 40, 0), Tally(40, 30, 40, 1), (100, 0), "flags 1 of 40 reviewed genuine"),
        (Tally(40, 20, 40, 0), Tally(40, 30, 40, 0), (100, 2), "flags 2 of 100 genuine check photos"),
        (Tally(10, 2, 40, 0), Tally(10, 9, 40, 0), (100, 0), "too few reviewed items"),
        (Tally(40, 20, 40, 0), Tally(40, 30, 40, 0), (12, 0), "at least 30 are needed"),
    ],
)
def test_each_condition_can_refuse(active: Tally, candidate: Tally, check: tuple[int, int], why: str) -> None:
    decision = PromotionPolicy().decide(_comparison(active, candidate, check_candidate=check))
    assert not decision.approved
    assert why in decision.reasons[0]


def test_over_the_bound_a_candidate_must_at_least_not_do_worse_than_the_model_in_use() -> None:
    reviewed = (Tally(40, 20, 40, 0), Tally(40, 30, 40, 0))
    same = PromotionPolicy().decide(_comparison(*reviewed, check_active=(96, 2), check_candidate=(96, 2)))
    assert same.approved
    assert any("no worse is required" in r for r in same.reasons)
    worse = PromotionPolicy().decide(_comparison(*reviewed, check_active=(96, 2), check_candidate=(96, 3)))
    assert not worse.approved


def test_inconsistent_tallies_are_refused() -> None:
    with pytest.raises(ValueError, match="inconsistent"):
        Tally(ai=3, caught=4, genuine=0, flagged=0)


def test_comparison_round_trips_through_its_stored_form() -> None:
    c = _comparison(Tally(40, 20, 40, 1), Tally(40, 30, 40, 1), (96, 2), (96, 1))
    assert Comparison.from_dict(c.to_dict()) == c
