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
