"""The no-signalling test and the polytope maximum likelihood on Clarabel directly (issue #28):
the same numbers as the cvxpy formulations they replace (kept here as the references), at random
count tables, and the chi-square tail in closed form equal to scipy's."""

from __future__ import annotations

import numpy as np
import pytest
from _cvxpy_reference import cvxpy_ns_mle, solve_convex

from bellmodels import Counts, Scenario
from bellmodels._polytope_mle import PolytopeFit, loglik
from bellmodels.behaviour import Behaviour
from bellmodels.behaviour.no_signalling import _ns_mle, chi2_sf
from bellmodels.ontic import local_deterministic_strategies


def cvxpy_local_loglik(n: np.ndarray, scn: Scenario) -> float:
    """The largest log-likelihood of a local behaviour (mixture of deterministic strategies)."""
    cp = pytest.importorskip("cvxpy")
    m = n.size
    d = local_deterministic_strategies(scn)[0].reshape(-1, m).T
    r = cp.Variable(d.shape[1], nonneg=True)
    w = n.ravel() / n.sum()
    solve_convex(cp.Problem(cp.Maximize(w @ cp.log(d @ r)), [cp.sum(r) == 1]))
    q = np.clip(d @ np.asarray(r.value, dtype=float), 1e-300, None)
    return loglik(n, (q.reshape(n.shape) / q.reshape(n.shape).sum(axis=(2, 3), keepdims=True)))


def g_statistic(n: np.ndarray, p_ns: np.ndarray) -> float:
    pos = n > 0
    p_hat = n / n.sum(axis=(2, 3), keepdims=True)
    return max(0.0, 2.0 * float(np.sum(n[pos] * (np.log(p_hat[pos]) - np.log(p_ns[pos])))))


def random_table(seed: int, shape: tuple[int, int], signalling: float) -> np.ndarray:
    """Counts from a random behaviour, pushed off no-signalling by ``signalling``, some zeros."""
    rng = np.random.default_rng(seed)
    p = rng.dirichlet(np.ones(4), size=shape).reshape(*shape, 2, 2)
    p[0, -1] = (1 - signalling) * p[0, -1] + signalling * np.array([[0.7, 0.1], [0.1, 0.1]])
    n = np.stack(
        [
            [rng.multinomial(rng.integers(50, 400), p[i, j].ravel()) for j in range(shape[1])]
            for i in range(shape[0])
        ]
    ).reshape(*shape, 2, 2)
    if seed % 2:
        n[-1, 0, 0, 1] = 0  # an empty cell drops out of the objective
    return n


@pytest.mark.parametrize(
    ("seed", "shape", "signalling"),
    [(0, (2, 2), 0.0), (1, (2, 2), 0.3), (2, (2, 3), 0.1), (3, (3, 3), 0.5), (4, (2, 2), 0.05)],
)
def test_no_signalling_test_equals_the_previous_cvxpy_programme(seed, shape, signalling) -> None:
    n = random_table(seed, shape, signalling)
    scn = Scenario.chsh() if shape == (2, 2) else Scenario.chained(shape[0])
    if shape == (2, 3):
        scn = Scenario(angles_a=[0.0, 1.0], angles_b=[0.0, 0.5, 1.0])
    new, old = _ns_mle(n.astype(float)), cvxpy_ns_mle(n.astype(float))
    np.testing.assert_allclose(new, old, atol=5e-5)  # the argmax: to the solvers' tolerance
    g_old = g_statistic(n, old)
    t = Behaviour.from_counts(Counts(n, scn)).no_signalling_test()
    # at the optimum G is flat: the statistic and its p-value agree far below the argmax's error
    assert t.G == pytest.approx(g_old, rel=1e-6, abs=1e-7)
    assert t.df == shape[0] * (shape[1] - 1) + shape[1] * (shape[0] - 1)
    stats = pytest.importorskip("scipy.stats")
    assert t.p_value == pytest.approx(float(stats.chi2.sf(g_old, t.df)), rel=1e-6, abs=1e-10)
    # the fitted behaviour is no-signalling and normalised
    assert Behaviour(new, scn).no_signalling_violation() < 1e-7
    np.testing.assert_allclose(new.sum(axis=(2, 3)), 1.0, atol=1e-12)


@pytest.mark.parametrize("seed", [5, 6, 7])
def test_local_polytope_fit_is_at_least_as_likely_as_the_cvxpy_fit(seed) -> None:
    n = random_table(seed, (2, 2), 0.0) + 1
    n[0, 0] = [[80, 5], [5, 80]]  # a CHSH-violating corner: the local fit sits on a facet
    scn = Scenario.chsh()
    new = loglik(n, PolytopeFit(scn, "local").fit(n.astype(float)))
    old = cvxpy_local_loglik(n.astype(float), scn)
    assert new >= old - 1e-7 * abs(old)  # Newton's polish only climbs
    assert new == pytest.approx(old, rel=1e-7)


def test_chi_square_tail_in_closed_form_equals_scipy() -> None:
    stats = pytest.importorskip("scipy.stats")
    for df in range(1, 13):
        for x in (1e-6, 0.3, 1.0, 3.84, 10.0, 45.0, 200.0, 900.0):
            assert chi2_sf(x, df) == pytest.approx(float(stats.chi2.sf(x, df)), rel=1e-12)
    assert chi2_sf(0.0, 3) == 1.0
    with pytest.raises(ValueError, match="df"):
        chi2_sf(1.0, 0)
