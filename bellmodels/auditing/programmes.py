"""The convex programmes of the audit: the least measurement dependence a local model needs to
reproduce a behaviour, measured as MI (:func:`min_mi_bits`) or as Hall's M (:func:`min_hall_M`),
and the tables that attain them. Posed to Clarabel directly (:mod:`bellmodels._conic`),
so the audit imports no cvxpy; the least MI is solved in a reduced exact form (one variable per
deterministic strategy instead of one per strategy and setting pair).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bellmodels._conic import ConicProgram
from bellmodels.auditing.measures import _mi_bits
from bellmodels.behaviour import Behaviour
from bellmodels.ontic import OnticTable, local_deterministic_strategies
from bellmodels.scenario import Scenario


def _as_behaviour(behaviour: Any, scenario: Scenario | None) -> Behaviour:
    if isinstance(behaviour, Behaviour):
        return behaviour
    if scenario is None:
        raise ValueError("a behaviour array needs its scenario")
    return Behaviour(behaviour, scenario)


def _setting_probs(b: Behaviour, setting_probs: Any) -> tuple[np.ndarray, str]:
    if setting_probs is not None:
        ps = b.scenario.settings_distribution(setting_probs)
        kind = "given"
    elif b.is_data:
        ps = b.settings_distribution()
        kind = "data"
    else:
        ps = b.scenario.settings_distribution(None)
        kind = "uniform"
    for i, j in np.argwhere((ps > 0) & np.isnan(b.p).any(axis=(2, 3))):
        raise ValueError(
            f"setting pair ({b.scenario.labels_a[i]}, {b.scenario.labels_b[j]}) has zero "
            "trials but positive probability in the settings distribution"
        )
    return ps, kind


def _min_mi_solve(b: Behaviour, ps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Optimal q[s, lambda] = p(s) p(lambda | s) over the supported setting pairs.

    Solves the reduced programme of :func:`min_mi_bits` for r (Clarabel, exponential cones:
    maximise sum_k w_k v_k with (v_k, 1, (A r)_k) in the cone, so v_k <= log (A r)_k), then
    builds q from r in closed form. Returns ``(q, support)`` with ``q`` of shape
    (n_supported, L) and ``support`` the flat indices of the setting pairs with p(s) > 0.
    """
    groups, support, target = _strategy_groups(b, ps)
    n_lam = groups.shape[1]
    cells = np.flatnonzero(target.ravel() > 0)  # (s, x) with p(s) P(x | s) > 0: the terms
    w = target.ravel()[cells]
    # incidence: strategy lambda gives outcome x at s, for the cells k = (s, x)
    member = groups[cells // 4] == (cells % 4)[:, None]  # (m, L)
    m = cells.size
    prog = ConicProgram(n_lam + m)  # x = (r, v)
    prog.add("zero", np.zeros(n_lam), np.arange(n_lam), np.ones(n_lam), [1.0])
    prog.add("nonneg", np.arange(n_lam), np.arange(n_lam), -np.ones(n_lam), np.zeros(n_lam))
    k, lam = np.nonzero(member)
    prog.add(
        "exp",
        np.concatenate([3 * np.arange(m), 3 * k + 2]),
        np.concatenate([n_lam + np.arange(m), lam]),
        -np.ones(m + k.size),
        np.tile([0.0, 1.0, 0.0], m),
    )
    x = prog.solve(np.concatenate([np.zeros(n_lam), -w]), "the least MI (min_mi_bits)")
    r = np.clip(x[:n_lam], 0.0, None)
    return _q_from_r(r / r.sum(), groups, target), support


def _strategy_groups(b: Behaviour, ps: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(groups, support, target)``: the outcome index (0..3) each deterministic strategy gives
    at each supported setting pair (n_supported, L), the flat indices of those pairs, and
    p(s) P(x | s) there (n_supported, 4)."""
    resp, _ = local_deterministic_strategies(b.scenario)  # (L, Ka, Kb, 2, 2), one-hot
    d = resp.reshape(resp.shape[0], -1, 4)  # (L, S, 4)
    ps_flat = ps.ravel()
    support = np.flatnonzero(ps_flat > 0)
    target = b.p.reshape(-1, 4)[support] * ps_flat[support, None]
    return d[:, support, :].argmax(axis=2).T, support, target


def _q_from_r(r: np.ndarray, groups: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The best q for a marginal r: within each group of strategies giving the same outcome x
    at s, q[s, lambda] = p(s) P(x | s) r(lambda) / R_s(x), R_s(x) = sum of r over the group."""
    q = np.zeros(groups.shape)
    for row in range(groups.shape[0]):
        for o in range(4):
            sel = groups[row] == o
            have = r[sel].sum()
            if target[row, o] == 0:
                continue
            if have > 0:
                q[row, sel] = target[row, o] * r[sel] / have
            else:  # numerically empty group: spread evenly (cannot happen at an exact optimum)
                q[row, sel] = target[row, o] / sel.sum()
    return q


def min_mi_bits(
    behaviour: Any, scenario: Scenario | None = None, setting_probs: Any = None
) -> float:
    """The least MI(lambda; settings), in bits, of any local model reproducing ``behaviour``.

    Local: parameter- and outcome-independent; every such model is (lambda coarse-grained) a
    mixture of the local deterministic strategies D_lambda(x_a, x_b | s) (Fine, PRL 48, 291
    (1982)) with weights p(lambda | s) that may depend on the settings. With q[s, lambda] = p(s) p(lambda | s) the programme is

        minimise   sum_{s, lambda} q log( q / (p(s) r(lambda)) ),   r = sum_s q
        subject to sum_lambda q[s, lambda] D_lambda(x | s) = p(s) P(x | s),  q >= 0,

    jointly convex (relative entropy is jointly convex, ``r`` affine). It is always feasible:
    every behaviour, even a signalling one, has a local measurement-dependent model (choose, at
    each s, strategies that output each x with probability P(x | s)); with p(s) > 0 everywhere
    the value is 0 exactly when the behaviour lies in the local polytope. Restricting lambda to
    the deterministic strategies loses nothing: a local model with stochastic responses maps to
    one over strategies through a channel lambda -> lambda' that does not depend on s, and MI
    can only shrink along the Markov chain s -> lambda -> lambda' (data-processing inequality).
    The framing is Hall's (PRL 105, 250404 (2010); PRA 84, 022102 (2011)) and Barrett &
    Gisin's (PRL 106, 100406 (2011)).

    Solved exactly in a smaller form. For any distribution r, sum_s KL(q_s || p(s) r) = MI +
    KL(r_q || r) (r_q the marginal of q), so the least MI is the least of that sum over q and r
    jointly (Csiszar & Tusnady, Statistics & Decisions Suppl. 1, 205 (1984)). For fixed r the
    best q keeps r's proportions within each group of strategies that give the same outcome x
    at s (the log-sum inequality), which leaves

        min_MI = min_r  sum_{s, x} p(s) P(x | s) log( P(x | s) / R_s(x) ),
        R_s(x) = sum of r over the strategies giving x at s,

    the least p(s)-weighted KL divergence from the behaviour to a local behaviour R (a point of
    the local polytope, Fine's mixtures with a settings-independent r): the statistical
    strength of a nonlocality proof at the settings distribution p(s) of van Dam, Gill &
    Grunwald (IEEE Trans. Inf. Theory 51, 2812 (2005)), in bits. That programme has
    2^(K_a + K_b) variables and one exponential cone per cell; the optimal q follows from r in
    closed form, and the MI returned is that of q (never above the programme's value). Its
    optimality can be checked without a solver: with g(lambda) = sum_{s, x} p(s) P(x | s)
    [lambda gives x at s] / R_s(x), the gap to the least MI is at most log2(max g) bits
    (Jensen's inequality), which ``tests/auditing`` asserts.

    Parameters
    ----------
    behaviour
        A :class:`~bellmodels.behaviour.Behaviour`, or a ``(K_a, K_b, 2, 2)`` array with
        ``scenario``.
    scenario
        Needed when ``behaviour`` is an array.
    setting_probs
        p(s_a, s_b) (see :meth:`Scenario.settings_distribution`); default the data's setting
        frequencies for a behaviour from counts, else uniform. Setting pairs with p(s) = 0 do
        not constrain the model.

    Returns
    -------
    float
        Bits (solver accuracy about 1e-9).

    Examples
    --------
    >>> import numpy as np
    >>> from bellmodels import Scenario
    >>> scn = Scenario.chsh()
    >>> min_mi_bits(np.full((2, 2, 2, 2), 0.25), scn) < 1e-7
    True

    The singlet at the CHSH angles needs 0.0463 bits (Hall 2011). For such isotropic boxes the
    nearest local behaviour is the isotropic one at S = 2 (by symmetry and convexity), so the
    value is the binary divergence D((1 + S/4) / 2 || 3/4):

    >>> singlet = (1 - np.multiply.outer(np.cos(scn.angle_differences()), [[1, -1], [-1, 1]])) / 4
    >>> c = (1 + np.sqrt(2) / 2) / 2
    >>> closed_form = c * np.log2(c / 0.75) + (1 - c) * np.log2((1 - c) / 0.25)
    >>> round(min_mi_bits(singlet, scn), 6), round(float(closed_form), 6)
    (0.046274, 0.046274)
    """
    b = _as_behaviour(behaviour, scenario)
    ps, _ = _setting_probs(b, setting_probs)
    q, _ = _min_mi_solve(b, ps)
    return float(_mi_bits(q))


def min_mi_model(
    behaviour: Any, scenario: Scenario | None = None, setting_probs: Any = None
) -> OnticTable:
    """The local deterministic-strategy table attaining :func:`min_mi_bits`.

    p(lambda | s) = q[s, lambda] / p(s) on the setting pairs with p(s) > 0 (elsewhere the
    marginal r(lambda), which leaves MI unchanged but does not reproduce the behaviour there).

    Examples
    --------
    >>> import numpy as np
    >>> from bellmodels import Scenario
    >>> t = min_mi_model(np.full((2, 2, 2, 2), 0.25), Scenario.chsh())
    >>> t.n_lambda, bool(np.allclose(t.behaviour(), 0.25))
    (16, True)
    """
    b = _as_behaviour(behaviour, scenario)
    ps, _ = _setting_probs(b, setting_probs)
    q, support = _min_mi_solve(b, ps)
    resp, labels = local_deterministic_strategies(b.scenario)
    r = q.sum(axis=0)
    r = r / r.sum()
    cond = np.tile(r, (ps.size, 1))
    cond[support] = q / q.sum(axis=1, keepdims=True)
    return OnticTable(
        cond.reshape(b.scenario.n_a, b.scenario.n_b, -1),
        np.moveaxis(resp, 0, 2),
        b.scenario,
        lam_labels=labels,
    )


def _min_hall_M_solve(b: Behaviour) -> tuple[float, np.ndarray]:
    """Optimal M and p(lambda | s) (n_settings, L) of the least-M local model.

    The linear programme in Clarabel's form, x = (c, u, M) with c[s, lambda] = p(lambda | s)
    and u[pair, lambda] >= |c[s, lambda] - c[s', lambda]| for each two setting pairs s < s'.
    """
    b._require(b._all_pairs(), "the least Hall M")
    groups, _, target = _strategy_groups(b, np.ones(b.scenario.shape[:2]))
    n_s, n_lam = groups.shape
    first, second = np.triu_indices(n_s, k=1)
    n_pairs = first.size
    n_c, n_u = n_s * n_lam, n_pairs * n_lam
    prog = ConicProgram(n_c + n_u + 1)
    c_index = np.arange(n_c).reshape(n_s, n_lam)
    # sum over the strategies giving x at s of p(lambda | s) = P(x | s)
    rows = c_index.ravel() // n_lam * 4 + groups.ravel()
    prog.add("zero", rows, c_index.ravel(), np.ones(n_c), target.ravel())
    prog.add("nonneg", np.arange(n_c), np.arange(n_c), -np.ones(n_c), np.zeros(n_c))
    # u - (c_s - c_s') >= 0 and u + (c_s - c_s') >= 0, one row per (pair, lambda) each
    u_col = n_c + np.arange(n_u)
    c_first = c_index[first].ravel()
    c_second = c_index[second].ravel()
    for sign in (1.0, -1.0):
        rows = np.tile(np.arange(n_u), 3)
        cols = np.concatenate([u_col, c_first, c_second])
        vals = np.concatenate([-np.ones(n_u), sign * np.ones(n_u), -sign * np.ones(n_u)])
        prog.add("nonneg", rows, cols, vals, np.zeros(n_u))
    # M - sum_lambda u[pair, lambda] >= 0
    rows = np.concatenate([np.repeat(np.arange(n_pairs), n_lam), np.arange(n_pairs)])
    cols = np.concatenate([u_col, np.full(n_pairs, n_c + n_u)])
    vals = np.concatenate([np.ones(n_u), -np.ones(n_pairs)])
    prog.add("nonneg", rows, cols, vals, np.zeros(n_pairs))
    cost = np.zeros(n_c + n_u + 1)
    cost[-1] = 1.0
    x = prog.solve(cost, "the least Hall M (min_hall_M)")
    cond = np.clip(x[:n_c].reshape(n_s, n_lam), 0.0, None)
    cond /= cond.sum(axis=1, keepdims=True)
    return float(max(x[-1], 0.0)), cond


def min_hall_M(behaviour: Any, scenario: Scenario | None = None) -> float:
    """The least Hall M of any local model reproducing ``behaviour`` (a linear programme).

    minimise M subject to sum_lambda p(lambda | s) D_lambda(x | s) = P(x | s), p(lambda | s) >= 0
    and sum_lambda |p(lambda | s) - p(lambda | s')| <= M for every two setting pairs, over the
    local deterministic strategies D_lambda (Hall, PRL 105, 250404 (2010); the L1 distance, like
    MI, only shrinks under the coarse-graining to strategies). By Hall's bound the result is at
    least (S - 2) / 3. Posed to Clarabel as a linear programme; every setting pair is needed.
    Cost grows as (number of setting pairs)^2 2^(K_a + K_b).

    Examples
    --------
    >>> import numpy as np
    >>> from bellmodels import Scenario
    >>> min_hall_M(np.full((2, 2, 2, 2), 0.25), Scenario.chsh()) < 1e-7
    True
    """
    return _min_hall_M_solve(_as_behaviour(behaviour, scenario))[0]


def min_hall_M_model(behaviour: Any, scenario: Scenario | None = None) -> OnticTable:
    """The local deterministic-strategy table attaining :func:`min_hall_M`.

    Examples
    --------
    >>> import numpy as np
    >>> from bellmodels import Scenario
    >>> t = min_hall_M_model(np.full((2, 2, 2, 2), 0.25), Scenario.chsh())
    >>> bool(np.allclose(t.behaviour(), 0.25, atol=1e-7))
    True
    """
    b = _as_behaviour(behaviour, scenario)
    _, cond = _min_hall_M_solve(b)
    resp, labels = local_deterministic_strategies(b.scenario)
    return OnticTable(
        cond.reshape(b.scenario.n_a, b.scenario.n_b, -1),
        np.moveaxis(resp, 0, 2),
        b.scenario,
        lam_labels=labels,
        atol=1e-6,
    )


# setting pairs x strategies, K_a K_b 2^(K_a + K_b): up to 4 x 4 settings (4096), solved in
# the reduced form with 2^(K_a + K_b) + 4 K_a K_b variables (320 at 4 x 4, 0.05 s)
_MIN_MI_SIZE = 5_000
_MIN_M_SIZE = 5_000  # setting-pair pairs x strategies in the LP: up to 3 x 3 (2304)


def _programmes(
    b: Behaviour,
    setting_probs: Any,
    compute_min_mi: bool | None,
    compute_min_hall_M: bool | None,
    notes: list[str],
) -> tuple[float | None, float | None]:
    """min_mi_bits and min_hall_M, each solved when asked / small enough (auto)."""
    ka, kb = b.scenario.n_a, b.scenario.n_b
    n_s, n_lam = ka * kb, 2 ** (ka + kb)
    min_mi = min_m = None
    if compute_min_mi is None:
        compute_min_mi = n_s * n_lam <= _MIN_MI_SIZE
        if not compute_min_mi:
            notes.append("min_mi_bits skipped (large scenario); pass compute_min_mi=True")
    if compute_min_mi:
        try:
            min_mi = min_mi_bits(b, setting_probs=setting_probs)
        except ValueError as exc:
            notes.append(str(exc))
    if compute_min_hall_M is None:
        compute_min_hall_M = n_s * (n_s - 1) // 2 * n_lam <= _MIN_M_SIZE
        if not compute_min_hall_M:
            notes.append("min_hall_M skipped (large scenario); pass compute_min_hall_M=True")
    if compute_min_hall_M:
        try:
            min_m = min_hall_M(b)
        except ValueError as exc:
            if str(exc) not in notes:
                notes.append(str(exc))
    return min_mi, min_m


__all__ = ["min_hall_M", "min_hall_M_model", "min_mi_bits", "min_mi_model"]
