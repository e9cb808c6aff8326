"""Nonlocal models: quantum-singlet, toner-bacon (PRL 91, 187904), no-signalling (PR boxes)."""

from __future__ import annotations

import numpy as np
import pytest

from bellmodels import Scenario, models
from bellmodels.models.nonlocal_ import pr_boxes, ratio_cdf
from tests.test_models_local import audit, chsh_values

TSIRELSON = 2.0 * np.sqrt(2.0)


def correlators(p: np.ndarray) -> np.ndarray:
    return p[..., 0, 0] + p[..., 1, 1] - p[..., 0, 1] - p[..., 1, 0]


def sample_s(model, n: int, seed: int) -> tuple[float, float]:
    """|S_0| from the model's own samples and its standard error (sum of the four E's SEs)."""
    c = model.sample_trials(n, seed=seed).counts().values.astype(float)
    n_pair = c.sum(axis=(2, 3))
    e = correlators(c) / n_pair
    s0 = e[0, 0] + e[0, 1] + e[1, 0] - e[1, 1]
    se = np.sqrt(((1 - e**2) / n_pair).sum())
    return abs(s0), se


# -- quantum-singlet --------------------------------------------------------------------------
def test_quantum_singlet_tsirelson_and_visibility() -> None:
    assert np.abs(chsh_values(models.get("quantum-singlet").behaviour())).max() == pytest.approx(
        TSIRELSON, abs=1e-12
    )
    p = models.get("quantum-singlet", visibility=0.8).behaviour()
    np.testing.assert_allclose(
        correlators(p), -0.8 * np.cos(Scenario.chsh().angle_differences()), atol=1e-12
    )


def test_quantum_singlet_sampler_s() -> None:
    s, se = sample_s(models.get("quantum-singlet"), 100_000, seed=3)
    assert abs(s - TSIRELSON) < 4 * se


def test_quantum_singlet_classification() -> None:
    r = audit(models.get("quantum-singlet"))
    assert r.classification == "outcome-dependent (nonlocal)"
    assert r.parameter_independence_violation == pytest.approx(0.0, abs=1e-12)
    assert r.outcome_independence_violation > 0.1
    assert r.no_signalling_ok


# -- toner-bacon ------------------------------------------------------------------------------
def test_ratio_cdf_against_monte_carlo() -> None:
    rng = np.random.default_rng(0)
    r = np.sqrt(1 - rng.uniform(-1, 1, (2, 400_000)) ** 2)
    ratio = r[1] / r[0]
    for t in (0.1, 0.5, 0.9, 1.0, 1.7, 4.0):
        mc = (ratio <= t).mean()
        assert abs(ratio_cdf(t) - mc) < 4 * np.sqrt(mc * (1 - mc) / ratio.size) + 1e-6


def test_toner_bacon_ontic_table_reaches_tsirelson() -> None:
    m = models.get("toner-bacon")
    table = m.ontic_table()
    s = np.abs(chsh_values(table.behaviour())).max()
    assert abs(s - TSIRELSON) < 4 * m.ontic_tolerance  # quadrature, documented bound
    assert np.abs(chsh_values(m.behaviour())).max() == pytest.approx(TSIRELSON, abs=1e-12)
    # lambda -> deterministic strategy: every response is 0/1, probabilities sum to 1
    assert set(np.unique(table.response.values[:, :, :-1])) <= {0.0, 1.0}
    assert table.p_lambda.values[0, 0].sum() == pytest.approx(1.0, abs=1e-12)


def test_toner_bacon_sampler_reproduces_the_singlet() -> None:
    s, se = sample_s(models.get("toner-bacon"), 100_000, seed=4)
    assert abs(s - TSIRELSON) < 4 * se


def test_toner_bacon_quadrature_converges() -> None:
    """Doubling the nodes changes the table by less than the declared bound."""
    off = {"offset_a": np.array([0.03, -0.04]), "offset_b": np.array([0.05, 0.01])}
    coarse = models.get("toner-bacon", nodes=24, **off)
    fine = models.get("toner-bacon", nodes=48, **off)
    exact = fine.behaviour()
    err_coarse = np.abs(coarse.ontic_table().behaviour() - exact).max()
    err_fine = np.abs(fine.ontic_table().behaviour() - exact).max()
    assert err_fine < fine.ontic_tolerance
    assert err_fine < err_coarse


def test_toner_bacon_classification() -> None:
    m = models.get("toner-bacon")
    r = audit(m, tol=m.ontic_tolerance)
    assert r.classification == "parameter-dependent (nonlocal)"
    assert r.no_signalling_ok
    assert r.parameter_independence_violation == pytest.approx(1.0)  # deterministic flip
    assert r.mi_bits == pytest.approx(0.0, abs=1e-9)


def test_toner_bacon_three_settings() -> None:
    m = models.get("toner-bacon", scenario=Scenario.chained(3), nodes=24)
    np.testing.assert_allclose(m.ontic_table().behaviour(), m.behaviour(), atol=1e-9)
    assert audit(m, tol=m.ontic_tolerance).classification == "parameter-dependent (nonlocal)"


# -- no-signalling ----------------------------------------------------------------------------
def test_pr_boxes_reach_four_and_are_no_signalling() -> None:
    boxes, _ = pr_boxes()
    for box in boxes:
        assert np.abs(chsh_values(box)).max() == pytest.approx(4.0)
        np.testing.assert_allclose(box.sum(axis=3), 0.5)  # A's marginals fair
        np.testing.assert_allclose(box.sum(axis=2), 0.5)  # B's marginals fair


def test_no_signalling_pr_component() -> None:
    w = np.zeros(24)
    w[16] = 1.0
    m = models.get("no-signalling", weights=w)
    assert np.abs(chsh_values(m.behaviour())).max() == pytest.approx(4.0)
    s, _se = sample_s(m, 100_000, seed=5)
    assert s == pytest.approx(4.0)  # deterministic parity: no sampling error
    w = np.full(24, 0.01)
    w[18] += 1 - w.sum()
    r = audit(models.get("no-signalling", weights=w))
    assert r.classification == "outcome-dependent (nonlocal)"
    assert r.S > TSIRELSON
    assert r.no_signalling_ok


def test_no_signalling_local_only_is_local() -> None:
    w = np.zeros(24)
    w[:16] = np.random.default_rng(2).dirichlet(np.ones(16))
    r = audit(models.get("no-signalling", weights=w))
    assert r.classification == "local & measurement-independent"


def test_no_signalling_rejects_more_settings() -> None:
    with pytest.raises(ValueError, match="2 settings per party only"):
        models.get("no-signalling", scenario=Scenario.chained(3))
