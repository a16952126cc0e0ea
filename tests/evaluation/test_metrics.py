"""Metrics against cases small enough to check by hand (and against scikit-learn where it is installed)."""

from __future__ import annotations

import numpy as np
import pytest

from civicshield.evaluation import metrics

Y = np.array([0, 0, 1, 1], dtype=bool)
S = np.array([0.1, 0.4, 0.35, 0.8])  # 3 of the 4 (positive, negative) pairs are ordered correctly


def test_auc_counts_ordered_pairs() -> None:
    assert metrics.auc(Y, S) == pytest.approx(0.75)
    assert metrics.auc(Y, -S) == pytest.approx(0.25)


def test_auc_ties_count_half() -> None:
    assert metrics.auc([False, True], [0.5, 0.5]) == pytest.approx(0.5)
    assert metrics.auc([False, False, True], [0.2, 0.5, 0.5]) == pytest.approx(0.75)


def test_auc_needs_both_classes() -> None:
    with pytest.raises(ValueError, match="positive and one negative"):
        metrics.auc([True, True], [0.1, 0.2])


def test_roc_curve_points() -> None:
    roc = metrics.roc_curve(Y, S)
    assert roc.fpr.tolist() == [0.0, 0.0, 0.5, 0.5, 1.0]
    assert roc.tpr.tolist() == [0.0, 0.5, 0.5, 1.0, 1.0]
    assert roc.thresholds[1:].tolist() == [0.8, 0.4, 0.35, 0.1]


def test_roc_curve_places_no_point_inside_a_tie() -> None:
    roc = metrics.roc_curve([True, False, True], [0.5, 0.5, 0.1])
    assert roc.fpr.tolist() == [0.0, 1.0, 1.0]
    assert roc.tpr.tolist() == [0.0, 0.5, 1.0]


def test_tpr_at_fpr_never_exceeds_the_target() -> None:
    assert metrics.tpr_at_fpr(Y, S, 0.0) == 0.5
    assert metrics.tpr_at_fpr(Y, S, 0.49) == 0.5
    assert metrics.tpr_at_fpr(Y, S, 0.5) == 1.0
    # a tie between a positive and the only negative cannot be split to reach TPR 1 at FPR 0
    assert metrics.tpr_at_fpr([True, False], [0.5, 0.5], 0.0) == 0.0


def test_eer() -> None:
    assert metrics.eer(Y, S) == pytest.approx(0.5)
    assert metrics.eer([False, True], [0.0, 1.0]) == 0.0
    # 10 real, 10 AI, the classes overlap in exactly two items each
    y = np.r_[np.zeros(10, bool), np.ones(10, bool)]
    s = np.r_[np.arange(10), np.arange(8, 18)].astype(float)
    assert metrics.eer(y, s) == pytest.approx(0.1, abs=0.05)


def test_thresholds_at_target_rates() -> None:
    negatives = np.arange(1, 11) / 10  # 0.1 .. 1.0
    t = metrics.threshold_at_fpr(negatives, 0.1)
    assert np.mean(negatives >= t) == pytest.approx(0.1)
    assert 0.9 < t <= 1.0
    positives = np.arange(1, 21) / 20
    assert np.mean(positives <= metrics.threshold_at_fnr(positives, 0.04)) == 0.0
    assert np.mean(positives <= metrics.threshold_at_fnr(positives, 0.05)) == pytest.approx(0.05)
    assert np.mean(positives <= metrics.threshold_at_fnr(positives, 0.12)) == pytest.approx(0.10)


def test_accuracy_and_brier() -> None:
    assert metrics.accuracy(Y, [0.2, 0.6, 0.7, 0.9]) == 0.75
    assert metrics.brier([True, False], [1.0, 0.5]) == pytest.approx(0.125)


def test_reliability_and_ece() -> None:
    y = np.array([0, 0, 0, 1, 1, 1, 1, 0], dtype=bool)
    p = np.array([0.05, 0.05, 0.05, 0.05, 0.95, 0.95, 0.95, 0.95])
    table = metrics.reliability(y, p, bins=10)
    assert [b.count for b in table] == [4, 0, 0, 0, 0, 0, 0, 0, 0, 4]
    assert table[0].positive_rate == 0.25 and table[9].positive_rate == 0.75
    assert metrics.expected_calibration_error(y, p) == pytest.approx(0.2)
    assert metrics.reliability([True], [1.0], bins=4)[-1].count == 1  # the last bin is closed


def test_against_scikit_learn_when_installed() -> None:
    sk = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(0)
    y = rng.random(300) < 0.4
    s = np.round(rng.normal(size=300) + y, 1)  # rounded: many ties
    assert metrics.auc(y, s) == pytest.approx(sk.roc_auc_score(y, s))
    fpr, tpr, _ = sk.roc_curve(y, s, drop_intermediate=False)
    roc = metrics.roc_curve(y, s)
    np.testing.assert_allclose(roc.fpr, fpr)
    np.testing.assert_allclose(roc.tpr, tpr)


@pytest.mark.parametrize(
    ("k", "n", "expected"),
    [
        (0, 300, 1 - 0.05 ** (1 / 300)),  # closed form when nothing was seen ("rule of three": ~3/n)
        (0, 90, 1 - 0.05 ** (1 / 90)),
        (1, 100, 0.0466),  # Clopper-Pearson tables
        (5, 10, 0.7776),
    ],
)
def test_upper_bound_is_clopper_pearson(k: int, n: int, expected: float) -> None:
    assert metrics.upper_bound(k, n) == pytest.approx(expected, abs=1e-4)


def test_upper_bound_refuses_nonsense() -> None:
    with pytest.raises(ValueError, match="trials"):
        metrics.upper_bound(3, 2)
