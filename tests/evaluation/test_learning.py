"""The probe's learner and its calibrations."""

from __future__ import annotations

import numpy as np
import pytest

from civicshield.evaluation import metrics
from civicshield.evaluation.calibration import fit_isotonic, fit_platt
from civicshield.evaluation.logistic import fit_logistic, sigmoid


def _data(n: int = 400, d: int = 5, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d)) * np.arange(1, d + 1)
    y = rng.random(n) < sigmoid(x[:, 0] - 0.5 * x[:, 1] / 2)
    return x, y


def test_logistic_solution_is_stationary() -> None:
    x, y = _data()
    model = fit_logistic(x, y, l2=2.0, balanced=False)
    xs = (x - model.mean) / model.scale
    p = sigmoid(xs @ model.weights + model.bias)
    gradient = xs.T @ (p - y) + 2.0 * model.weights
    assert np.abs(gradient).max() < 1e-6
    assert abs(float(np.sum(p - y))) < 1e-6  # the unpenalised bias balances the residuals


def test_logistic_learns_the_signal() -> None:
    x, y = _data()
    model = fit_logistic(x, y)
    assert metrics.auc(y, model.logit(x)) > 0.75
    assert model.weights[0] > 0 > model.weights[1]


def test_logistic_stays_finite_on_separable_data() -> None:
    x = np.array([[0.0], [1.0], [2.0], [3.0]])
    model = fit_logistic(x, np.array([0, 0, 1, 1], dtype=bool), l2=0.1)
    assert np.isfinite(model.weights).all()
    assert model.probability(np.array([[3.0]]))[0] > 0.9


def test_logistic_with_a_prior_is_stationary_around_the_prior() -> None:
    x, y = _data(seed=4)
    prior = fit_logistic(x, y)
    new_x, new_y = _data(n=60, seed=5)
    model = fit_logistic(new_x, new_y, l2=3.0, balanced=False, prior=prior)
    np.testing.assert_array_equal(model.mean, prior.mean)  # the prior's standardisation is kept
    xs = (new_x - model.mean) / model.scale
    p = sigmoid(xs @ model.weights + model.bias)
    gradient = xs.T @ (p - new_y) + 3.0 * (model.weights - prior.weights)
    assert np.abs(gradient).max() < 1e-6


def test_a_strong_prior_keeps_the_model_and_a_weak_one_follows_the_new_rows() -> None:
    x, y = _data(seed=6)
    prior = fit_logistic(x, y)
    flipped_x, flipped_y = _data(n=80, seed=7)
    flipped_y = ~flipped_y  # rows that disagree with everything the prior learnt
    kept = fit_logistic(flipped_x, flipped_y, l2=1e6, prior=prior)
    np.testing.assert_allclose(kept.weights, prior.weights, atol=1e-3)
    followed = fit_logistic(flipped_x, flipped_y, l2=0.01, prior=prior)
    assert (
        metrics.auc(flipped_y, followed.logit(flipped_x))
        > 0.7
        > metrics.auc(flipped_y, prior.logit(flipped_x))
    )


def test_a_prior_of_another_width_is_refused() -> None:
    x, y = _data(d=5)
    prior = fit_logistic(x, y)
    with pytest.raises(ValueError, match="5 weights for 3 features"):
        fit_logistic(x[:, :3], y, prior=prior)


def test_platt_recovers_a_known_calibration() -> None:
    rng = np.random.default_rng(1)
    z = rng.normal(scale=2.0, size=20_000)
    y = rng.random(z.size) < sigmoid(0.5 * z - 1.0)
    platt = fit_platt(z, y)
    assert platt.a == pytest.approx(0.5, abs=0.05)
    assert platt.b == pytest.approx(-1.0, abs=0.06)


def test_platt_converges_on_widely_spread_logits() -> None:
    rng = np.random.default_rng(3)
    z = rng.normal(scale=8.0, size=500)  # raw probe logits reach +-15
    y = rng.random(z.size) < sigmoid(0.5 * z)
    platt = fit_platt(z, y)
    assert 0.3 < platt.a < 0.8
    assert abs(platt.b) < 0.5


def test_platt_is_finite_when_scores_separate_the_classes() -> None:
    platt = fit_platt(np.array([-2.0, -1.0, 1.0, 2.0]), np.array([0, 0, 1, 1], dtype=bool))
    assert np.isfinite([platt.a, platt.b]).all()
    p = platt(np.array([-2.0, 2.0]))
    assert 0.0 < p[0] < 0.5 < p[1] < 1.0


def test_isotonic_pools_adjacent_violators() -> None:
    iso = fit_isotonic(np.array([1.0, 2.0, 3.0, 4.0]), np.array([0, 1, 0, 1]))
    np.testing.assert_allclose(iso(np.array([1.0, 2.0, 3.0, 4.0])), [0.0, 0.5, 0.5, 1.0])
    rng = np.random.default_rng(2)
    s = rng.normal(size=200)
    out = fit_isotonic(s, rng.random(200) < sigmoid(s))(np.sort(s))
    assert (np.diff(out) >= -1e-12).all()
