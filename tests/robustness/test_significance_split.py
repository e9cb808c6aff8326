"""Probes of the test-factor split (issue #27 item 6): exact, seeded and fast for any count.

The split draws each cell's training count from its conditional hypergeometric law; beyond
numpy's 10^9 limit the draw is Stadlober's HRUA with an accurate acceptance ratio
(``bellmodels.significance._hypergeometric``). These tests check its law against the exact pmf
(chi-square), its moments at 10^12 and 2**52, the marginals, the seeds, and the results'
notebook display.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from bellmodels import Scenario, datasets
from bellmodels.data import MAX_COUNT, Counts
from bellmodels.significance import random_split, significance, test_factor_test
from bellmodels.significance._hypergeometric import _hrua, hypergeometric


def _chi2_p(draws: np.ndarray, good: int, bad: int, n: int) -> float:
    """Chi-square p-value of draws against the exact hypergeometric pmf (cells with E >= 5)."""
    xs = np.arange(draws.min(), draws.max() + 1)
    observed = np.array([(draws == x).sum() for x in xs])
    expected = stats.hypergeom.pmf(xs, good + bad, good, n) * draws.size
    keep = expected >= 5
    chi2 = float(((observed[keep] - expected[keep]) ** 2 / expected[keep]).sum())
    return float(stats.chi2.sf(chi2, keep.sum() - 1))


@pytest.mark.parametrize(
    ("good", "bad", "n", "seed"),
    [(30, 50, 40, 0), (1000, 3000, 500, 1), (7, 10**6, 300_000, 2), (200, 100, 290, 3)],
)
def test_hrua_matches_the_exact_hypergeometric_pmf(good, bad, n, seed):
    """probe: draw 20000 HRUA variates at moderate sizes -> chi-square against scipy's exact pmf does not reject (p > 0.001)."""
    rng = np.random.default_rng(seed)
    draws = np.array([_hrua(rng, good, bad, n) for _ in range(20_000)])
    assert draws.min() >= max(0, n - bad) and draws.max() <= min(n, good)
    assert _chi2_p(draws, good, bad, n) > 1e-3


@pytest.mark.parametrize(
    ("good", "bad", "n"),
    [(3 * 10**11, 7 * 10**11, 2 * 10**11), (2**52, 2**52 - 5, 2**51), (10**9, 10**15, 10**14)],
)
def test_hrua_moments_are_right_far_beyond_numpys_limit(good, bad, n):
    """probe: 4000 draws with populations of 1e12 to 2**53 -> mean within 4 SE and variance within 15 % of the exact ones."""
    rng = np.random.default_rng(7)
    draws = np.array([hypergeometric(rng, good, bad, n) for _ in range(4000)], dtype=float)
    total = good + bad
    mean = n * good / total
    var = n * (good / total) * (bad / total) * (total - n) / (total - 1)
    z = (draws.mean() - mean) / np.sqrt(var / draws.size)
    assert abs(z) < 4, z
    assert abs(draws.var() / var - 1) < 0.15  # SE of a variance ratio ~ sqrt(2/4000) = 0.022


def test_split_of_a_table_of_2e12_trials_is_exact_and_reproducible():
    """probe: random_split of a 2e12-trial table (one cell 2**40) -> exact marginals, round(f N) training trials, same seed same split."""
    cells = [2**40, 3 * 10**11, 10**11, 5, 0, 7, 10**9, 1, 2 * 10**11, 0, 3, 4, 5 * 10**10, 6, 7]
    cells.append(2 * 10**12 - sum(cells))
    counts = Counts(np.array(cells).reshape(2, 2, 2, 2), Scenario.chsh())
    assert counts.total == 2 * 10**12
    train, test = random_split(counts, 0.2, seed=3)
    assert np.array_equal(train.values + test.values, counts.values)
    assert train.total == round(0.2 * 2 * 10**12) and (train.values >= 0).all()
    assert random_split(counts, 0.2, seed=3)[0] == train
    assert random_split(counts, 0.2, seed=4)[0] != train
    frac = train.values[counts.values > 10**6] / counts.values[counts.values > 10**6]
    assert np.allclose(frac, 0.2, atol=1e-4)  # SD of a fraction of 1e9 trials is ~1.3e-5


def test_split_fractions_match_their_expectation_on_a_moderate_table():
    """probe: 400 seeded splits of a 2000-trial table -> every cell's mean training count within 4 SE of f * n_cell."""
    rng = np.random.default_rng(0)
    values = rng.multinomial(2000, np.full(16, 1 / 16)).reshape(2, 2, 2, 2)
    counts = Counts(values, Scenario.chsh())
    train = np.array([random_split(counts, 0.3, seed=s)[0].values.ravel() for s in range(400)])
    n, f, big_n = values.ravel(), round(0.3 * 2000) / 2000, 2000
    var = big_n * f * (1 - f) * (n / big_n) * (1 - n / big_n) * big_n / (big_n - 1)
    z = (train.mean(axis=0) - f * n) / np.sqrt(var / 400)
    assert np.all(np.abs(z) < 4), z
    assert (train.sum(axis=1) == 600).all()


def test_test_factor_on_a_huge_table_runs_and_is_reproducible():
    """probe: test_factor_test on a table with one count of 2**40 (the 3-minute audit of issue #27) -> a result, the same twice."""
    values = np.full((2, 2, 2, 2), 10)
    values[0, 0, 1, 1] = 2**40
    counts = Counts(values, Scenario.chsh())
    first = test_factor_test(counts, seed=1)
    assert first.n_train + first.n_test == counts.total
    assert first == test_factor_test(counts, seed=1)


def test_split_refuses_fractions_outside_zero_one():
    """probe: random_split with train_fraction 0, 1, or 1.5 -> ValueError naming train_fraction."""
    counts = datasets.load("delft2015")
    for f in (0.0, 1.0, 1.5):
        with pytest.raises(ValueError, match="train_fraction must lie strictly between 0 and 1"):
            random_split(counts, f, seed=0)


def test_hypergeometric_refuses_impossible_arguments():
    """probe: hypergeometric(rng, 2, 3, 6) (more drawn than there are) -> ValueError naming the sizes."""
    with pytest.raises(ValueError, match=r"need 0 <= nsample <= good \+ bad, got 2, 3, 6"):
        hypergeometric(np.random.default_rng(0), 2, 3, 6)
    assert hypergeometric(np.random.default_rng(0), MAX_COUNT, 0, 5) == 5


def test_significance_results_have_short_reprs_and_html_tables():
    """probe: end a notebook cell with a significance result -> one-line repr and an HTML table, not the factor table."""
    r = significance(datasets.load("delft2015"), bootstrap=0)
    text = repr(r)
    assert text.startswith("Significance(source='delft2015', n_trials=245, chsh_game_p=0.0391")
    assert "\n" not in text and len(text) < 200
    assert repr(r.chsh_game) == "CHSHGame(wins=196, n=245, p_value=0.0391)"
    assert repr(r.test_factor).startswith("TestFactorResult(log10_p=")
    assert repr(r.likelihood_ratio).startswith("LikelihoodRatioResult(G=3.943")
    html = r._repr_html_()
    assert html.startswith("<table><caption>tests of local realism on delft2015 (245 trials)")
    assert "<th>CHSH game</th>" in html and "196 wins of 245" in html
    for part in (r.chsh_game, r.test_factor, r.likelihood_ratio):
        assert part._repr_html_().startswith("<table><caption>")


def _exact_log_ratio(mode: int, k: int, small: int, sample: int, large: int) -> float:
    """log f(k) / f(mode) of the hypergeometric pmf in exact rationals (50-digit logarithm)."""
    from decimal import Decimal, getcontext
    from fractions import Fraction

    getcontext().prec = 50
    ratio = Fraction(1)
    step = 1 if k > mode else -1
    for j in range(mode, k, step):
        i = (
            j if step == 1 else j - 1
        )  # f(i + 1) / f(i) = (small - i)(sample - i) / ((i + 1)(large - sample + i + 1))
        r = Fraction((small - i) * (sample - i), (i + 1) * (large - sample + i + 1))
        ratio *= r if step == 1 else 1 / r
    return float(Decimal(ratio.numerator).ln() - Decimal(ratio.denominator).ln())


@pytest.mark.parametrize(
    ("small", "sample", "large"),
    [
        (40, 30, 60),
        (10**6, 3 * 10**5, 5 * 10**6),
        (2**51, 2**50, 2**52),
        (3 * 10**9, 10**15, 4 * 10**15),
    ],
)
def test_hrua_acceptance_ratio_is_accurate_at_any_size(small, sample, large):
    """probe: HRUA's log f(k)/f(mode) at populations up to 2**53 -> equal to the exact rational value within 1e-9."""
    from bellmodels.significance._hypergeometric import _log_ratio

    mode = (sample + 1) * (small + 1) // (small + large + 2)
    for d in (1, -1, 7, -25, 60, 300, -500):  # lgamma differences are off by 32 at 2**51, d = 300
        k = mode + d
        if 0 <= k <= min(small, sample):
            exact = _exact_log_ratio(mode, k, small, sample, large)
            assert _log_ratio(mode, k, small, sample, large) == pytest.approx(exact, abs=1e-9)
