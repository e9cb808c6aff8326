"""The least measurement dependence (``min_mi_bits``, ``min_hall_M``) posed to Clarabel directly:
the same numbers as the previous cvxpy formulation (kept here as the reference), optimal by a
certificate that needs no solver, and the least-MI curve of the isotropic CHSH boxes against its
closed form (issue #28: the audit answers in well under a second, its numbers unchanged).
"""

from __future__ import annotations

import functools
import itertools
import math

import numpy as np
import pytest

from bellmodels import Scenario, datasets
from bellmodels._conic import ConicProgram, CscArrays
from bellmodels.auditing import min_hall_M, min_mi_bits, min_mi_model
from bellmodels.behaviour import Behaviour
from bellmodels.ontic import local_deterministic_strategies

SIGN = np.array([[1.0, -1.0], [-1.0, 1.0]])  # x_a x_b in array order (index 0 is -1)
TSIRELSON = 2 * math.sqrt(2)


def isotropic(v: float, scn: Scenario) -> np.ndarray:
    """p(x_a, x_b | s) = (1 - V x_a x_b cos(theta)) / 4: the singlet at visibility V <= 1, the
    isotropic box with S = 2 sqrt(2) V up to the PR box at V = sqrt(2) (CHSH angles)."""
    return (1.0 - v * np.multiply.outer(np.cos(scn.angle_differences()), SIGN)) / 4.0


def binary_kl_bits(p: float, q: float) -> float:
    return sum(a * math.log2(a / b) for a, b in ((p, q), (1 - p, 1 - q)) if a > 0)


# -- the previous implementation, on cvxpy: the reference the Clarabel forms must reproduce ----
def cvxpy_min_mi_bits(p: np.ndarray, scn: Scenario, ps: np.ndarray) -> float:
    """The full programme over q[s, lambda] = p(s) p(lambda | s), as solved before issue #28."""
    cp = pytest.importorskip("cvxpy")
    from _cvxpy_reference import solve_convex

    from bellmodels.auditing.measures import _mi_bits

    resp, _ = local_deterministic_strategies(scn)
    n_lam = resp.shape[0]
    d = resp.reshape(n_lam, -1, 4)
    support = np.flatnonzero(ps.ravel() > 0)
    target = p.reshape(-1, 4)[support] * ps.ravel()[support, None]
    q = cp.Variable((support.size, n_lam), nonneg=True)
    cons = [q[row, :] @ d[:, s, :] == target[row] for row, s in enumerate(support)]
    ref = ps.ravel()[support].reshape(-1, 1) @ cp.reshape(cp.sum(q, axis=0), (1, n_lam), order="C")
    solve_convex(cp.Problem(cp.Minimize(cp.sum(cp.rel_entr(q, ref))), cons))
    qv = np.clip(np.asarray(q.value, dtype=float), 0.0, None)
    for row, s in enumerate(support):  # onto the exact constraints, as before
        group = d[:, s, :].argmax(axis=1)
        for o in range(4):
            sel = group == o
            qv[row, sel] *= target[row, o] / qv[row, sel].sum() if target[row, o] > 0 else 0.0
    return float(_mi_bits(qv))


def cvxpy_min_hall_M(p: np.ndarray, scn: Scenario) -> float:
    cp = pytest.importorskip("cvxpy")
    from _cvxpy_reference import solve_convex

    resp, _ = local_deterministic_strategies(scn)
    d = resp.reshape(resp.shape[0], -1, 4)
    n_s = d.shape[1]
    c = cp.Variable((n_s, resp.shape[0]), nonneg=True)
    m = cp.Variable()
    cons = [c[s, :] @ d[:, s, :] == p.reshape(-1, 4)[s] for s in range(n_s)]
    cons += [cp.sum(cp.abs(c[i] - c[j])) <= m for i, j in itertools.combinations(range(n_s), 2)]
    solve_convex(cp.Problem(cp.Minimize(m), cons))
    return float(m.value)


@functools.cache
def delft() -> Behaviour:
    return Behaviour.from_counts(datasets.load("delft2015"))


CASES = {
    "local (V = 0.6)": (0.6, None),
    "near the bound (V = 0.75)": (0.75, None),
    "singlet": (1.0, None),
    "past Tsirelson (V = 1.2)": (1.2, None),
    "singlet, skewed settings": (1.0, np.array([[0.1, 0.2], [0.3, 0.4]])),
    "singlet, one pair never chosen": (0.9, np.array([[0.4, 0.3], [0.3, 0.0]])),
}


@pytest.mark.parametrize("case", list(CASES))
def test_least_mi_equals_the_previous_cvxpy_programme(case: str) -> None:
    scn = Scenario.chsh()
    v, ps = CASES[case]
    p = isotropic(v, scn)
    new = min_mi_bits(p, scn, setting_probs=ps)
    old = cvxpy_min_mi_bits(p, scn, ps if ps is not None else np.full((2, 2), 0.25))
    # both solvers stop at ~1e-10; the Clarabel form is never worse by more than that
    assert new == pytest.approx(old, abs=2e-9)


def test_least_mi_and_m_of_data_and_of_a_three_setting_scenario_equal_the_previous() -> None:
    b = delft()  # 245 trials of Hensen et al. (2015): settings from the data's frequencies
    assert min_mi_bits(b) == pytest.approx(
        cvxpy_min_mi_bits(b.p, b.scenario, b.settings_distribution()), abs=2e-9
    )
    assert min_hall_M(b) == pytest.approx(cvxpy_min_hall_M(b.p, b.scenario), abs=1e-8)
    scn = Scenario.chained(3)
    p = isotropic(1.0, scn)
    ps = scn.settings_distribution(None)
    assert min_mi_bits(p, scn) == pytest.approx(cvxpy_min_mi_bits(p, scn, ps), abs=2e-9)
    assert min_hall_M(p, scn) == pytest.approx(cvxpy_min_hall_M(p, scn), abs=1e-8)


def mi_lower_bound(p: np.ndarray, scn: Scenario, ps: np.ndarray, steps: int = 1000) -> float:
    """A lower bound on the least MI, from the optimal table and no solver.

    For any distribution r over the strategies, with R_s(x) = sum of r over the strategies giving
    x at s and g(lambda) = sum p(s) P(x|s) [lambda gives x at s] / R_s(x), the least MI is at
    least F(r) - log2(max g), F(r) = sum p(s) P(x|s) log2(P(x|s) / R_s(x)) (Jensen's
    inequality). The bound is first-order in r's distance to an optimum, so r (the table's
    p(lambda)) is first refined by ``steps`` multiplicative steps r <- r g, which never
    increase F (the EM / Blahut-Arimoto step); any r gives a valid bound.
    """
    table = min_mi_model(p, scn, setting_probs=ps)
    r = np.einsum("ijl,ij->l", table.p_lambda_values, ps)
    gives = np.moveaxis(table.response_values, 2, 0).reshape(r.size, -1, 4)  # (L, S, 4) one-hot
    w = ps.reshape(-1, 1) * p.reshape(-1, 4)
    pos = w > 0
    for _ in range(steps + 1):
        big_r = np.einsum("l,lsx->sx", r, gives)
        g = np.einsum("sx,lsx->l", np.where(pos, w / np.where(pos, big_r, 1.0), 0.0), gives)
        r = r * g
    value = float(np.sum(w[pos] * np.log2(p.reshape(-1, 4)[pos] / big_r[pos])))
    return value - math.log2(float(g.max()))


@pytest.mark.parametrize("case", list(CASES))
def test_least_mi_is_optimal_by_a_certificate(case: str) -> None:
    scn = Scenario.chsh()
    v, ps = CASES[case]
    ps = ps if ps is not None else np.full((2, 2), 0.25)
    p = isotropic(v, scn)
    lower = mi_lower_bound(p, scn, ps)
    value = min_mi_bits(p, scn, setting_probs=ps)
    # the value is attained by min_mi_model's table, so it is at least the least MI, which is at
    # least ``lower``: it is within 1e-9 bits of the least MI
    assert lower <= value < lower + 1e-9


def random_behaviour(seed: int) -> tuple[np.ndarray, Scenario, np.ndarray]:
    """A signalling behaviour with zero cells and skewed settings (2 x 2 or 3 x 2), where
    interior-point solvers work hardest."""
    rng = np.random.default_rng(seed)
    scn = Scenario.chsh() if seed % 2 == 0 else Scenario((0.0, 1.0, 2.0), (0.0, 1.0))
    p = rng.dirichlet(np.full(4, 0.3), size=scn.shape[:2])
    p[p < 0.05] = 0.0
    p = (p / p.sum(axis=-1, keepdims=True)).reshape(scn.shape)
    ps = rng.dirichlet(np.ones(p[..., 0, 0].size)).reshape(scn.shape[:2])
    return p, scn, ps


@pytest.mark.parametrize("seed", range(4))
def test_least_mi_of_random_behaviours_is_certified(seed: int) -> None:
    p, scn, ps = random_behaviour(seed)
    value = min_mi_bits(p, scn, setting_probs=ps)
    lower = mi_lower_bound(p, scn, ps)
    assert lower <= value < lower + 1e-7


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(4))
def test_least_mi_of_random_behaviours_is_never_worse_than_the_previous(seed: int) -> None:
    # the value is attained by a table meeting the constraints exactly, so it may only be lower
    # than the cvxpy programme's, which on these cases falls through to SCS: 10-30 s each and
    # up to 3e-6 bits short of the optimum
    p, scn, ps = random_behaviour(seed)
    assert min_mi_bits(p, scn, setting_probs=ps) <= cvxpy_min_mi_bits(p, scn, ps) + 2e-9


def test_least_mi_curve_is_zero_to_the_local_bound_then_rises_as_its_closed_form() -> None:
    """For the isotropic box with S = 4e > 2 and uniform settings the least MI is the binary
    divergence D((1 + e) / 2 || 3 / 4) bits: averaging over the CHSH symmetries makes the nearest
    local behaviour isotropic too (the objective is convex), and the nearest isotropic local one
    has S = 2. So 0.0463 bits at Tsirelson's bound (Hall, PRA 84, 022102 (2011)) and log2(4/3) at
    the PR box (Barrett & Gisin, PRL 106, 100406 (2011))."""
    scn = Scenario.chsh()
    visibilities = np.linspace(0.3, math.sqrt(2), 12)
    s_values = TSIRELSON * visibilities
    mi = np.array([min_mi_bits(isotropic(v, scn), scn) for v in visibilities])
    local = s_values <= 2.0
    assert np.all(np.abs(mi[local]) < 1e-9)
    assert np.all(np.diff(mi[~local]) > 1e-4)  # strictly increasing past the local bound
    expected = [binary_kl_bits((1 + s / 4) / 2, 0.75) for s in s_values[~local]]
    np.testing.assert_allclose(mi[~local], expected, atol=2e-9)
    assert min_mi_bits(isotropic(1.0, scn), scn) == pytest.approx(0.0462738, abs=1e-6)
    assert mi[-1] == pytest.approx(math.log2(4 / 3), abs=1e-9)


def test_clarabel_gets_the_same_answer_from_plain_arrays_and_from_scipy_sparse(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # the exponential cone as Clarabel orders it: (u, v, w) with v exp(u / v) <= w, so
    # maximising u with (u, 1, 3) in the cone gives log 3
    prog = ConicProgram(1)
    prog.add("exp", rows=[0], cols=[0], vals=[-1.0], b=[0.0, 1.0, 3.0])
    for scipy_matrices in (False, True):
        x = prog.solve(np.array([-1.0]), "log 3", scipy_matrices=scipy_matrices)
        assert x[0] == pytest.approx(math.log(3.0), abs=1e-8)
    scn = Scenario.chsh()
    plain = min_mi_bits(isotropic(1.0, scn), scn)
    monkeypatch.setattr(
        ConicProgram, "solve", functools.partialmethod(ConicProgram.solve, scipy_matrices=True)
    )
    assert min_mi_bits(isotropic(1.0, scn), scn) == pytest.approx(plain, abs=1e-12)


def test_csc_arrays_match_scipy_and_bad_blocks_are_refused() -> None:
    sparse = pytest.importorskip("scipy.sparse")
    rng = np.random.default_rng(3)
    rows, cols = rng.integers(0, 5, 40), rng.integers(0, 4, 40)
    vals = rng.normal(size=40)
    mine = CscArrays.from_triplets(rows, cols, vals, (5, 4))
    theirs = sparse.csc_matrix((vals, (rows, cols)), shape=(5, 4))
    np.testing.assert_allclose(mine.to_scipy().toarray(), theirs.toarray(), atol=1e-14)
    assert mine.nnz == theirs.nnz and mine.indptr.tolist() == theirs.indptr.tolist()
    prog = ConicProgram(2)
    with pytest.raises(ValueError, match="unknown cone 'psd'"):
        prog.add("psd", [0], [0], [1.0], [0.0])
    with pytest.raises(ValueError, match="rows in threes"):
        prog.add("exp", [0], [0], [1.0], [0.0, 1.0])
    with pytest.raises(ValueError, match="outside the block's 1 rows"):
        prog.add("nonneg", [1], [0], [1.0], [0.0])
