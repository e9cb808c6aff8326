"""Measurement-dependent local models: brans (1988), hall2010 (PRL 105, 250404), dlr-one-sided."""

from __future__ import annotations

import numpy as np
import pytest

from bellmodels import Scenario, models
from tests.models.test_models_local import audit, chsh_values
from tests.models.test_models_nonlocal import TSIRELSON, correlators, sample_s

MD_MODELS = ["brans", "hall2010", "dlr-one-sided"]
HALL_CHSH_M = (2 * np.sqrt(2) - 2) / 3  # least M a local model needs for S = 2 sqrt 2


@pytest.mark.parametrize("name", MD_MODELS)
def test_exact_singlet_at_chsh(name: str) -> None:
    m = models.get(name)
    table = m.ontic_table()
    assert np.abs(chsh_values(m.behaviour())).max() == pytest.approx(TSIRELSON, abs=1e-12)
    assert np.abs(chsh_values(table.behaviour())).max() == pytest.approx(TSIRELSON, abs=1e-12)
    # deterministic, local responses: each lambda fixes both outcomes (noise lambda aside)
    assert set(np.unique(table.response.values[:, :, :-1])) <= {0.0, 1.0}


@pytest.mark.parametrize("name", MD_MODELS)
def test_sampler_s_within_4_se(name: str) -> None:
    s, se = sample_s(models.get(name), 100_000, seed=7)
    assert abs(s - TSIRELSON) < 4 * se


@pytest.mark.parametrize("name", MD_MODELS)
def test_classification_local_measurement_dependent(name: str) -> None:
    r = audit(models.get(name))
    assert r.classification == "local & measurement-dependent"
    assert r.parameter_independence_violation == pytest.approx(0.0, abs=1e-12)
    assert r.outcome_independence_violation == pytest.approx(0.0, abs=1e-12)
    assert r.mi_bits > 0.01
    assert r.S <= r.hall_bound + 1e-9  # Hall's relaxed bound |S| <= 2 + 3M holds


@pytest.mark.parametrize("name", MD_MODELS)
def test_any_planar_angles_and_visibility(name: str) -> None:
    scn = Scenario.chained(3)
    m = models.get(name, scenario=scn, visibility=0.9, offset_a=np.array([0.02, -0.01, 0.03]))
    p = m.behaviour()
    np.testing.assert_allclose(m.ontic_table().behaviour(), p, atol=1e-12)
    a, b = m.angles()
    np.testing.assert_allclose(correlators(p), -0.9 * np.cos(np.subtract.outer(a, b)), atol=1e-12)
    assert audit(m).classification == "local & measurement-dependent"


def test_hall2010_measure_matches_hall() -> None:
    """At the CHSH angles Hall's model sits exactly on his bound: M = (2 sqrt 2 - 2) / 3."""
    r = audit(models.get("hall2010"))
    assert r.hall_M == pytest.approx(HALL_CHSH_M, abs=1e-12)
    assert r.hall_M / 2 == pytest.approx(0.138, abs=5e-4)  # "just 14%" (Hall's abstract)
    assert r.S == pytest.approx(r.hall_bound, abs=1e-9)  # tight
    assert r.mi_bits == pytest.approx(0.04627, abs=1e-4)


def test_hall2010_degenerate_angles() -> None:
    """phi = 0 and phi = pi: one region is empty and the model is Bell's (perfect (anti)corr.)."""
    scn = Scenario((0.0, np.pi), (0.0, np.pi / 2))
    m = models.get("hall2010", scenario=scn)
    p = m.ontic_table().behaviour()
    e = correlators(p)
    np.testing.assert_allclose(e, [[-1.0, 0.0], [1.0, 0.0]], atol=1e-12)


def test_dlr_one_sided_measures() -> None:
    """Only A's setting moves lambda: M_B = 0; M = M_A = 2 (sqrt 2 - 1), i.e. 59% of
    measurement independence kept, the one-sided optimum of Banik et al., arXiv:1204.3835."""
    r = audit(models.get("dlr-one-sided"))
    assert r.hall_M_b == pytest.approx(0.0, abs=1e-12)
    assert r.hall_M_a == pytest.approx(2 * (np.sqrt(2) - 1), abs=1e-12)
    assert 1 - r.hall_M / 2 == pytest.approx(0.586, abs=1e-3)


def test_dlr_sampler_density() -> None:
    """Keeping the larger |a . lambda| of two draws gives |a . lambda| density 2t on [0, 1]."""
    m = models.get("dlr-one-sided", offsets=False)
    t = m.sample_trials(50_000, seed=8)
    # through the outcomes: P(A = +1) = 1/2 and E(a, b) = -cos for every pair, already in the
    # chi-square test; here the CHSH pair (a, b) at 45 degrees
    c = t.counts().values
    e = correlators(c.astype(float)) / c.sum(axis=(2, 3))
    assert abs(e[0, 0] + np.cos(np.pi / 4)) < 4 * np.sqrt((1 - e[0, 0] ** 2) / c[0, 0].sum())


def test_brans_maximal_dependence() -> None:
    r = audit(models.get("brans"))
    assert r.hall_M == pytest.approx(np.sqrt(2), abs=1e-12)
    assert r.hall_M_a > 0 and r.hall_M_b > 0


def test_noise_keeps_the_class_and_shrinks_s() -> None:
    r = audit(models.get("hall2010", visibility=0.5))
    assert r.classification == "local & measurement-dependent"
    assert r.S == pytest.approx(0.5 * TSIRELSON, abs=1e-12)
    assert r.hall_M == pytest.approx(0.5 * HALL_CHSH_M, abs=1e-12)
