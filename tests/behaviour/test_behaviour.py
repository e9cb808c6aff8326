"""Behaviour: correlators, CHSH variants, SE, CH/Eberhard J, chained inequality, no-signalling."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from _chsh_reference import DELFT, SIGN, WEIHS, counts_from_rows, singlet
from scipy import optimize, stats

from bellmodels import Counts, Scenario
from bellmodels.behaviour import ALGEBRAIC, LOCAL_BOUND, TSIRELSON, Behaviour
from bellmodels.ontic import local_deterministic_strategies


def pr_box() -> np.ndarray:
    p = np.zeros((2, 2, 2, 2))
    for i, j, x in itertools.product(range(2), range(2), range(2)):
        p[i, j, x, x if i * j == 0 else 1 - x] = 0.5
    return p


def test_singlet_correlators_and_chsh_variants_are_exact(chsh):
    b = Behaviour(singlet(chsh), chsh)
    r = np.sqrt(0.5)
    np.testing.assert_allclose(b.correlators(), [[-r, -r], [-r, r]], atol=1e-15)
    e = b.correlators()
    # the documented order: S_k has the minus on (a',b'), (a',b), (a,b'), (a,b)
    by_hand = [
        e[0, 0] + e[0, 1] + e[1, 0] - e[1, 1],
        e[0, 0] + e[0, 1] - e[1, 0] + e[1, 1],
        e[0, 0] - e[0, 1] + e[1, 0] + e[1, 1],
        -e[0, 0] + e[0, 1] + e[1, 0] + e[1, 1],
    ]
    np.testing.assert_allclose(b.chsh_values(), by_hand, atol=1e-14)
    assert b.chsh_values()[0] == pytest.approx(-2 * np.sqrt(2), abs=1e-14)  # docs/architecture.md
    assert b.S == pytest.approx(TSIRELSON, abs=1e-14)
    np.testing.assert_allclose(b.marginals_a(), 0.5)
    np.testing.assert_allclose(b.marginals_b(), 0.5)
    assert b.no_signalling_violation() == pytest.approx(0.0, abs=1e-15)


def test_bounds_constants_and_the_extreme_boxes(chsh):
    assert (LOCAL_BOUND, ALGEBRAIC) == (2.0, 4.0)
    assert TSIRELSON == pytest.approx(2.8284271247461903)
    assert Behaviour(pr_box(), chsh).chsh_values().tolist() == [4.0, 0.0, 0.0, 0.0]
    # every local deterministic strategy: S <= 2 with equality, J <= 0 with equality
    resp, _ = local_deterministic_strategies(chsh)
    s = [Behaviour(r, chsh).S for r in resp]
    j = [Behaviour(r, chsh).ch_J() for r in resp]
    assert max(s) == 2.0 and min(s) == 2.0  # every deterministic box saturates one variant
    assert max(j) == 0.0


def test_ch_J_equals_S0_minus_2_over_4_under_no_signalling(chsh):
    rng = np.random.default_rng(3)
    resp, _ = local_deterministic_strategies(chsh)
    for _ in range(20):
        w = rng.dirichlet(np.ones(18))
        p = np.tensordot(w[:16], resp, axes=1) + w[16] * pr_box() + w[17] * singlet(chsh)
        b = Behaviour(p, chsh)
        assert b.no_signalling_violation() < 1e-12
        assert b.ch_J() == pytest.approx((b.chsh_values()[0] - 2) / 4, abs=1e-12)


def test_published_S_and_standard_errors():
    delft = Behaviour.from_counts(counts_from_rows(DELFT))
    weihs = Behaviour.from_counts(counts_from_rows(WEIHS))
    assert round(delft.S, 2) == 2.42 and round(delft.S_se, 2) == 0.20
    assert round(weihs.S, 2) == 2.73 and round(weihs.S_se, 2) == 0.02
    # Delft: S is the textbook variant S_0
    assert delft.chsh_values()[0] == pytest.approx(delft.S)


def test_standard_error_against_a_hand_computation():
    # Delft by hand: E = (n++ + n-- - n+- - n-+) / n per pair
    e = [39 / 53, 47 / 79, 30 / 62, -31 / 51]
    n = [53, 79, 62, 51]
    se = np.sqrt(sum((1 - x**2) / m for x, m in zip(e, n, strict=True)))
    b = Behaviour.from_counts(counts_from_rows(DELFT))
    np.testing.assert_allclose(b.correlators().ravel(), e, rtol=1e-14)
    assert b.S_se == pytest.approx(se, rel=1e-14)
    assert se == pytest.approx(0.2038, abs=1e-4)
    # J's SE: sqrt(sum p (1 - p) / n) over its four probabilities
    probs = [23 / 53, 11 / 79, 6 / 62, 4 / 51]
    se_j = np.sqrt(sum(p * (1 - p) / m for p, m in zip(probs, n, strict=True)))
    assert b.ch_J() == pytest.approx(probs[0] - probs[1] - probs[2] - probs[3], rel=1e-14)
    assert b.ch_J_se() == pytest.approx(se_j, rel=1e-14)


def test_standard_error_is_calibrated_on_simulated_counts(chsh):
    # the spread of S over repeated multinomial samples matches the formula
    rng = np.random.default_rng(11)
    p = singlet(chsh, visibility=0.9)
    n = 400
    s_values, se_values = [], []
    for _ in range(400):
        v = np.stack([rng.multinomial(n, p[i, j].ravel()) for i, j in np.ndindex(2, 2)])
        b = Behaviour.from_counts(Counts(v.reshape(2, 2, 2, 2), chsh))
        s_values.append(b.chsh_values()[0])
        se_values.append(b.S_se)
    assert np.std(s_values) == pytest.approx(np.mean(se_values), rel=0.1)


def test_zero_trial_pair_raises_naming_the_pair_and_the_rest_still_works(chsh):
    v = counts_from_rows(DELFT).values.copy()
    v[1, 1] = 0
    b = Behaviour.from_counts(Counts(v, chsh))
    assert b.empty_pairs() == [("a'", "b'")]
    for stat in (lambda: b.S, lambda: b.S_se, b.ch_J, b.correlators, b.no_signalling_test):
        with pytest.raises(ValueError, match=r"\(a', b'\).*zero trials"):
            stat()
    e = b.correlators(allow_empty=True)
    assert np.isnan(e[1, 1]) and e[0, 0] == pytest.approx(39 / 53)
    # a 3x3 chained scenario: a pair outside the chain does not stop the chained value
    scn = Scenario.chained(3)
    v3 = np.full((3, 3, 2, 2), 10)
    v3[0, 1] = 0
    b3 = Behaviour.from_counts(Counts(v3, scn))
    assert b3.chained_value() == 0.0 and b3.chained_se() > 0
    with pytest.raises(ValueError, match=r"\(a0, b1\)"):
        b3.chsh_max()


def test_validation_names_the_pair(chsh):
    p = np.full((2, 2, 2, 2), 0.25)
    bad = p.copy()
    bad[1, 0, 0, 0] = 0.5
    with pytest.raises(ValueError, match=r"\(a', b\).*not normalised"):
        Behaviour(bad, chsh)
    bad = p.copy()
    bad[0, 1] = [[0.5, 0.5], [0.5, -0.5]]
    with pytest.raises(ValueError, match=r"\(a, b'\).*negative"):
        Behaviour(bad, chsh)
    with pytest.raises(ValueError, match="shape"):
        Behaviour(np.full((2, 2, 2), 0.25), chsh)
    with pytest.raises(ValueError, match="needs counts"):
        _ = Behaviour(p, chsh).S_se


def test_chained_inequality_values():
    for k in range(2, 7):
        scn = Scenario.chained(k)
        b = Behaviour(singlet(scn), scn)
        quantum = 2 * k * np.cos(np.pi / (2 * k))
        assert b.chained_value() == pytest.approx(quantum, abs=1e-12)
        assert b.chained_values()[-1] == pytest.approx(-quantum, abs=1e-12)  # textbook form
        assert b.chained_local_bound() == 2 * k - 2
    for k in (2, 3, 4):  # the local bound 2K - 2 is the maximum over deterministic strategies
        scn = Scenario.chained(k)
        resp, _ = local_deterministic_strategies(scn)
        assert max(Behaviour(r, scn).chained_value() for r in resp) == 2 * k - 2
    # K = 2: the chained variants are the CHSH variants
    scn = Scenario.chained(2)
    b = Behaviour(singlet(scn, 0.8), scn)
    np.testing.assert_allclose(sorted(b.chained_values()), sorted(b.chsh_values()), atol=1e-14)


def test_chsh_over_every_sub_choice():
    scn = Scenario.chained(3)
    b = Behaviour(singlet(scn), scn)
    e = b.correlators()
    best, where = -1.0, None
    for i, i2 in itertools.combinations(range(3), 2):
        for j, j2 in itertools.combinations(range(3), 2):
            terms = np.array([e[i, j], e[i, j2], e[i2, j], e[i2, j2]])
            val = max(abs(terms.sum() - 2 * t) for t in terms)
            if val > best + 1e-12:
                best, where = val, ((i, i2), (j, j2))
    assert len(b.chsh_choices()) == 9
    assert b.S == pytest.approx(best, abs=1e-14)
    # the reported sub-choice attains the maximum (several tie by symmetry)
    c = b.chsh_max()
    assert max(abs(b.chsh_values(c.settings_a, c.settings_b))) == pytest.approx(best, abs=1e-14)
    where = (c.settings_a, c.settings_b)
    assert b.chsh_max().labels_a == tuple(scn.labels_a[i] for i in where[0])


def test_no_signalling_violation_of_a_signalling_box(chsh):
    # B's outcome copies A's setting, A's outcome uniform
    p = np.zeros((2, 2, 2, 2))
    for i, j, x in itertools.product(range(2), range(2), range(2)):
        p[i, j, x, i] = 0.5
    assert Behaviour(p, chsh).no_signalling_violation() == 1.0


def _ns_G_by_scipy(n: np.ndarray) -> float:
    """Independent G: maximise the likelihood over the NS family written in its coordinates.

    A no-signalling 2x2 behaviour with binary outcomes is p(x, y | i, j) = (1 + x A_i + y B_j +
    x y E_ij) / 4 (x, y = +-1), 8 free numbers; maximise with scipy over that parametrisation.
    """
    xs = np.array([-1.0, 1.0])

    def probs(theta):
        a, b_, e = theta[:2], theta[2:4], theta[4:].reshape(2, 2)
        return (
            1
            + xs[None, None, :, None] * a[:, None, None, None]
            + xs[None, None, None, :] * b_[None, :, None, None]
            + np.multiply.outer(e, np.outer(xs, xs))
        ) / 4

    def nll(theta):
        p = probs(theta)
        if np.any(p <= 0):
            return 1e300
        return -float(np.sum(n * np.log(p)))

    phat = n / n.sum(axis=(2, 3), keepdims=True)
    start = np.concatenate(
        [
            (phat[:, :, 1].sum(-1) - phat[:, :, 0].sum(-1)).mean(1),
            (phat[:, :, :, 1].sum(-1) - phat[:, :, :, 0].sum(-1)).mean(0),
            np.einsum("abxy,xy->ab", phat, SIGN).ravel(),
        ]
    )
    res = optimize.minimize(
        nll,
        start,
        method="Nelder-Mead",
        options={"xatol": 1e-12, "fatol": 1e-12, "maxiter": 40_000, "maxfev": 40_000},
    )
    res = optimize.minimize(nll, res.x, method="BFGS", options={"gtol": 1e-10})
    loglik_max = float(np.sum(n[n > 0] * np.log(phat[n > 0])))
    return 2 * (loglik_max - (-res.fun))


def test_no_signalling_likelihood_ratio_matches_an_independent_fit():
    for rows in (DELFT, WEIHS):
        c = counts_from_rows(rows)
        test = Behaviour.from_counts(c).no_signalling_test()
        g = _ns_G_by_scipy(c.values.astype(float))
        assert test.df == 4
        assert test.G == pytest.approx(g, rel=1e-5, abs=1e-6)
        assert test.p_value == pytest.approx(stats.chi2.sf(g, 4), rel=1e-4)


def test_no_signalling_test_is_calibrated_and_has_power(chsh):
    rng = np.random.default_rng(5)
    p = singlet(chsh, 0.95)
    pvals = []
    for _ in range(150):
        v = np.stack([rng.multinomial(500, p[i, j].ravel()) for i, j in np.ndindex(2, 2)])
        pvals.append(
            Behaviour.from_counts(Counts(v.reshape(2, 2, 2, 2), chsh)).no_signalling_test().p_value
        )
    assert stats.kstest(pvals, "uniform").pvalue > 1e-3
    # a 5% signal in A's marginal across B's settings is found in 20,000 trials per pair
    q = p.copy()
    q[0, 1] = [[0.2, 0.25], [0.3, 0.25]]  # p(x_a=+1 | a, b') = 0.55 instead of 0.5
    v = np.stack([rng.multinomial(20_000, q[i, j].ravel()) for i, j in np.ndindex(2, 2)])
    assert (
        Behaviour.from_counts(Counts(v.reshape(2, 2, 2, 2), chsh)).no_signalling_test().p_value
        < 1e-10
    )


def test_from_model_is_duck_typed(chsh):
    class Toy:
        scenario = chsh

        def behaviour(self, params=None):
            v = 1.0 if params is None else params["v"]
            return singlet(chsh, v)

    assert Behaviour.from_model(Toy()).S == pytest.approx(TSIRELSON)
    assert Behaviour.from_model(Toy(), {"v": 0.5}).S == pytest.approx(np.sqrt(2))
