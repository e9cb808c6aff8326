"""The singlet sampler: exact statistics, reproducibility, validation."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from bellmodels import Scenario
from bellmodels.behaviour import Behaviour
from bellmodels.simulate import simulate_singlet, singlet_behaviour

N = 1_000_000


def correlators_and_se(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """E = P(same) - P(diff) and its binomial SE sqrt((1 - E^2) / n), by plain numpy."""
    n = counts.sum(axis=(2, 3))
    same = counts[:, :, 0, 0] + counts[:, :, 1, 1]
    e = (2 * same - n) / n
    return e, np.sqrt((1 - e**2) / n)


@pytest.fixture(scope="module")
def singlet_counts():
    return [simulate_singlet(Scenario.chsh(), N, seed=s).counts() for s in range(10)]


def test_every_correlator_within_4_se_of_minus_cos(singlet_counts):
    scn = Scenario.chsh()
    expected = -np.cos(scn.angle_differences())
    for counts in singlet_counts:
        e, se = correlators_and_se(counts.values)
        assert np.all(np.abs(e - expected) < 4 * se), (e, expected, se)


def test_S_within_4_se_of_tsirelson(singlet_counts):
    for counts in singlet_counts:
        e, _ = correlators_and_se(counts.values)
        s0 = e[0, 0] + e[0, 1] + e[1, 0] - e[1, 1]  # the variant that reaches -2 sqrt 2
        n = counts.pair_totals()
        se = np.sqrt(np.sum((1 - e**2) / n))
        assert abs(abs(s0) - 2 * np.sqrt(2)) < 4 * se
        b = Behaviour.from_counts(counts)
        assert b.S == pytest.approx(abs(s0), abs=1e-12)
        assert b.S_se == pytest.approx(se, rel=1e-12)


def test_no_signalling_p_value_not_below_1e_3_for_seeds_0_to_9(singlet_counts):
    p_values = [Behaviour.from_counts(c).no_signalling_test().p_value for c in singlet_counts]
    assert min(p_values) >= 1e-3, p_values


def test_marginals_are_unbiased(singlet_counts):
    for counts in singlet_counts[:3]:
        v = counts.values
        n = counts.pair_totals()
        for p_plus in (v[:, :, 1, :].sum(axis=2) / n, v[:, :, :, 1].sum(axis=2) / n):
            assert np.all(np.abs(p_plus - 0.5) < 4 * np.sqrt(0.25 / n))


def test_cell_frequencies_fit_the_exact_behaviour():
    """Chi-square goodness of fit of all 16 cells, per pair, against p = (1 - V x_a x_b cos)/4."""
    scn = Scenario.chained(3)
    counts = simulate_singlet(scn, 300_000, seed=11, visibility=0.8).counts().values
    p = singlet_behaviour(scn, visibility=0.8)
    n = counts.sum(axis=(2, 3), keepdims=True)
    chi2 = float(np.sum((counts - n * p) ** 2 / (n * p)))
    df = scn.n_a * scn.n_b * 3
    assert stats.chi2.sf(chi2, df) > 1e-3


def test_visibility_scales_the_correlators():
    scn = Scenario.chsh()
    counts = simulate_singlet(scn, 400_000, seed=5, visibility=0.5).counts().values
    e, se = correlators_and_se(counts)
    assert np.all(np.abs(e + 0.5 * np.cos(scn.angle_differences())) < 4 * se)
    zero = simulate_singlet(scn, 400_000, seed=5, visibility=0.0).counts().values
    e0, se0 = correlators_and_se(zero)
    assert np.all(np.abs(e0) < 4 * se0)


def test_setting_probs_are_respected():
    scn = Scenario.chsh()
    probs = np.array([[0.1, 0.2], [0.3, 0.4]])
    n = 200_000
    pair_n = simulate_singlet(scn, n, seed=2, setting_probs=probs).counts().pair_totals()
    assert np.all(np.abs(pair_n / n - probs) < 4 * np.sqrt(probs * (1 - probs) / n))
    marg = simulate_singlet(scn, n, seed=2, setting_probs=([1.0, 0.0], [0.5, 0.5]))
    assert np.all(marg.setting_a == 0)
    with pytest.raises(ValueError, match="sum to 1"):
        simulate_singlet(scn, 10, seed=0, setting_probs=np.full((2, 2), 0.5))


def test_same_seed_same_trials_different_seed_different_trials():
    scn = Scenario.chsh()
    a, b = simulate_singlet(scn, 10_000, seed=42), simulate_singlet(scn, 10_000, seed=42)
    c = simulate_singlet(scn, 10_000, seed=43)
    for field in ("setting_a", "setting_b", "outcome_a", "outcome_b"):
        assert np.array_equal(getattr(a, field), getattr(b, field))
    assert not np.array_equal(a.outcome_b, c.outcome_b)


@pytest.mark.parametrize("v", [-0.1, 1.01, float("nan"), "high"])
def test_visibility_outside_0_1_is_refused(v):
    with pytest.raises(ValueError, match="visibility must be"):
        simulate_singlet(Scenario.chsh(), 10, seed=0, visibility=v)


@pytest.mark.parametrize("n", [-1, 2.5, True])
def test_bad_n_is_refused(n):
    with pytest.raises(ValueError, match="n_trials must be a non-negative integer"):
        simulate_singlet(Scenario.chsh(), n, seed=0)


def test_zero_trials():
    t = simulate_singlet(Scenario.chsh(), 0, seed=0)
    assert len(t) == 0 and t.counts().total == 0


def test_the_old_keyword_n_names_n_trials():
    from bellmodels import Scenario, simulate_singlet

    with pytest.raises(TypeError, match="keyword 'n' was renamed to 'n_trials'"):
        simulate_singlet(Scenario.chsh(), n=10, seed=0)
    assert simulate_singlet(Scenario.chsh(), n_trials=10, seed=0).counts().total == 10
