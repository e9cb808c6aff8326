"""The convex programmes of the audit (cvxpy): the least measurement dependence a local model
needs to reproduce a behaviour, measured as MI (:func:`min_mi_bits`) or as Hall's M
(:func:`min_hall_M`), and the tables that attain them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bellmodels._util import solve_convex
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

    Returns ``(q, support)`` with ``q`` of shape (n_supported, L) and ``support`` the flat
    indices of the setting pairs with p(s) > 0.
    """
    import cvxpy as cp

    resp, _ = local_deterministic_strategies(b.scenario)  # (L, Ka, Kb, 2, 2)
    n_lam = resp.shape[0]
    d = resp.reshape(n_lam, -1, 4)  # (L, S, 4)
    ps_flat = ps.ravel()
    support = np.flatnonzero(ps_flat > 0)
    target = b.p.reshape(-1, 4)[support] * ps_flat[support, None]  # p(s) P(x | s)
    q = cp.Variable((support.size, n_lam), nonneg=True)
    cons = [q[row, :] @ d[:, s, :] == target[row] for row, s in enumerate(support)]
    r = cp.sum(q, axis=0)
    ref = ps_flat[support].reshape(-1, 1) @ cp.reshape(r, (1, n_lam), order="C")
    problem = cp.Problem(cp.Minimize(cp.sum(cp.rel_entr(q, ref))), cons)
    solve_convex(problem)
    qv = np.clip(np.asarray(q.value, dtype=float), 0.0, None)
    # remove solver-level infeasibility: rescale each strategy group to the exact target
    for row, s in enumerate(support):
        group = d[:, s, :].argmax(axis=1)  # outcome index of each strategy at s
        for o in range(4):
            sel = group == o
            have = qv[row, sel].sum()
            if target[row, o] == 0:
                qv[row, sel] = 0.0
            elif have > 0:
                qv[row, sel] *= target[row, o] / have
            else:  # numerically empty group: spread evenly (cannot happen at an exact optimum)
                qv[row, sel] = target[row, o] / sel.sum()
    return qv, support


def min_mi_bits(
    behaviour: Any, scenario: Scenario | None = None, setting_probs: Any = None
) -> float:
    """The least MI(lambda; settings), in bits, of any local model reproducing ``behaviour``.

    Local here means parameter- and outcome-independent; every such model is (after
    coarse-graining lambda) a mixture of the local deterministic strategies
    D_lambda(x_a, x_b | s) (Fine, PRL 48, 291 (1982)) with weights p(lambda | s) that may depend
    on the settings. With q[s, lambda] = p(s) p(lambda | s) the programme is

        minimise   sum_{s, lambda} q log( q / (p(s) r(lambda)) ),   r = sum_s q
        subject to sum_lambda q[s, lambda] D_lambda(x | s) = p(s) P(x | s),  q >= 0,

    jointly convex (relative entropy is jointly convex, ``r`` affine); solved with cvxpy
    (Clarabel, SCS as fallback). It is always feasible: every behaviour, even a signalling one,
    has a local measurement-dependent model (choose, at each s, strategies that output each x
    with probability P(x | s)); with p(s) > 0 everywhere the value is 0 exactly when the
    behaviour lies in the local polytope. Restricting lambda to the deterministic strategies
    loses nothing: a local model with stochastic responses maps to one over strategies through a
    channel lambda -> lambda' that does not depend on s, and MI can only shrink along the
    Markov chain s -> lambda -> lambda' (data-processing inequality). The framing is Hall's
    (PRL 105, 250404 (2010); PRA 84, 022102 (2011)) and Barrett & Gisin's (PRL 106, 100406
    (2011)). Hand-posed on cvxpy: no library ships this programme.

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
        Bits (solver accuracy about 1e-8).

    Examples
    --------
    >>> import numpy as np
    >>> from bellmodels import Scenario
    >>> min_mi_bits(np.full((2, 2, 2, 2), 0.25), Scenario.chsh()) < 1e-7
    True
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
    """Optimal M and p(lambda | s) (n_settings, L) of the least-M local model."""
    import cvxpy as cp

    b._require(b._all_pairs(), "the least Hall M")
    resp, _ = local_deterministic_strategies(b.scenario)
    n_lam = resp.shape[0]
    d = resp.reshape(n_lam, -1, 4)
    n_s = d.shape[1]
    target = b.p.reshape(-1, 4)
    c = cp.Variable((n_s, n_lam), nonneg=True)
    m = cp.Variable()
    cons = [c[s, :] @ d[:, s, :] == target[s] for s in range(n_s)]
    first, second = np.triu_indices(n_s, k=1)
    sel = np.zeros((first.size, n_s))
    sel[np.arange(first.size), first] = 1.0
    sel[np.arange(first.size), second] = -1.0
    cons.append(cp.sum(cp.abs(sel @ c), axis=1) <= m)
    problem = cp.Problem(cp.Minimize(m), cons)
    solve_convex(problem)
    cond = np.clip(np.asarray(c.value, dtype=float), 0.0, None)
    cond /= cond.sum(axis=1, keepdims=True)
    return float(max(float(m.value), 0.0)), cond


def min_hall_M(behaviour: Any, scenario: Scenario | None = None) -> float:
    """The least Hall M of any local model reproducing ``behaviour`` (a linear programme).

    minimise M subject to sum_lambda p(lambda | s) D_lambda(x | s) = P(x | s), p(lambda | s) >= 0
    and sum_lambda |p(lambda | s) - p(lambda | s')| <= M for every two setting pairs, over the
    local deterministic strategies D_lambda (Hall, PRL 105, 250404 (2010); the L1 distance, like
    MI, only shrinks under the coarse-graining to strategies). By Hall's bound the
    result is at least (S - 2) / 3. Solved with cvxpy; every setting pair is needed. Cost grows
    as (number of setting pairs)^2 2^(K_a + K_b).

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


_MIN_MI_SIZE = 5_000  # K_a K_b 2^(K_a + K_b) variables: up to 4 x 4 settings (4096)
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
