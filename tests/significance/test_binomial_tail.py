"""The binomial tail without scipy (bellmodels.significance._binomial) equals scipy's
``binom.sf`` from n = 1 to the 3.5e9 trials of vienna2015, far into both tails."""

from __future__ import annotations

import math

import pytest

from bellmodels.significance._binomial import binomial_tail, log_pmf

stats = pytest.importorskip("scipy.stats")


@pytest.mark.parametrize("n", [1, 2, 7, 245, 14_573, 10**6, 10**9, 3_502_784_150])
@pytest.mark.parametrize("p", [0.01, 0.5, 0.75, 0.8535533905932737, 0.99])
def test_binomial_tail_equals_scipy(n: int, p: float) -> None:
    sd = math.sqrt(n * p * (1 - p))
    for z in (-30, -3, -1, 0, 0.5, 2, 6, 25):
        k = round(n * p + z * sd)
        if 0 <= k <= n:
            want = float(stats.binom.sf(k - 1, n, p))
            assert binomial_tail(k, n, p) == pytest.approx(want, rel=1e-9, abs=1e-300)


def test_binomial_tail_edges_and_the_pmf() -> None:
    assert binomial_tail(0, 5, 0.3) == 1.0 and binomial_tail(6, 5, 0.3) == 0.0
    assert binomial_tail(3, 5, 0.0) == 0.0 and binomial_tail(3, 5, 1.0) == 1.0
    assert binomial_tail(5, 5, 0.3) == pytest.approx(0.3**5, rel=1e-14)
    for k in range(0, 246, 7):
        want = float(stats.binom.logpmf(k, 245, 0.75))
        assert log_pmf(k, 245, 0.75) == pytest.approx(want, rel=1e-12, abs=1e-12)
