"""No-signalling: the largest marginal change (vectorised), its likelihood-ratio test, and the maximum-likelihood no-signalling fit of a count table."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from bellmodels._util import solve_convex


def no_signalling_violation(p: np.ndarray) -> np.ndarray:
    """Largest change of one party's marginal across the other's settings, vectorised.

    ``p`` is ``(..., K_a, K_b, 2, 2)``: p(x_a, x_b | s_a, s_b) for one behaviour or a stack
    (e.g. one per posterior draw). Returns ``max(max_{s_a} [max_{s_b} pA - min_{s_b} pA],
    max_{s_b} [max_{s_a} pB - min_{s_a} pB])`` with pA = p(x_a = +1 | s_a, s_b), shape ``...``;
    zero for every no-signalling behaviour. :meth:`Behaviour.no_signalling_violation` is this
    for one behaviour.

    >>> p = np.full((2, 2, 2, 2), 0.25)
    >>> p[1, 1] = [[0.5, 0.0], [0.0, 0.5]]          # still no-signalling
    >>> float(no_signalling_violation(p))
    0.0
    >>> p[1, 1] = [[0.6, 0.1], [0.0, 0.3]]          # A's marginal at a' moves with b
    >>> round(float(no_signalling_violation(p)), 6)
    0.2
    """
    p = np.asarray(p, dtype=float)
    ma = p[..., 1, :].sum(axis=-1)  # (..., Ka, Kb)
    mb = p[..., :, 1].sum(axis=-1)
    da = (ma.max(axis=-1) - ma.min(axis=-1)).max(axis=-1)
    db = (mb.max(axis=-2) - mb.min(axis=-2)).max(axis=-1)
    return np.maximum(da, db)


@dataclass(frozen=True)
class NoSignallingTest:
    """Likelihood-ratio test of no-signalling on count data.

    Attributes
    ----------
    G
        ``2 (log L_max - log L_max under no-signalling)``.
    df
        Number of independent no-signalling constraints, ``K_a (K_b - 1) + K_b (K_a - 1)``.
    p_value
        ``chi2.sf(G, df)`` (Wilks' asymptotic distribution).
    max_difference
        The largest observed marginal difference (as :meth:`Behaviour.no_signalling_violation`).
    """

    G: float
    df: int
    p_value: float
    max_difference: float


def _ns_mle(n: np.ndarray) -> np.ndarray:
    """Maximum-likelihood no-signalling behaviour for counts ``n`` (K_a, K_b, 2, 2)."""
    import cvxpy as cp

    ka, kb = n.shape[:2]
    m = ka * kb
    flat = n.reshape(m * 4)
    tot = flat.sum()
    # scale so that the objective is O(1); weights of cells with zero counts drop out
    w = flat / tot
    idx = np.arange(m * 4).reshape(ka, kb, 2, 2)
    var = cp.Variable(m * 4, nonneg=True)
    cons = []
    rows = []
    # normalisation per pair
    for i, j in itertools.product(range(ka), range(kb)):
        row = np.zeros(m * 4)
        row[idx[i, j].ravel()] = 1.0
        rows.append(row)
    norm = np.array(rows)
    cons.append(norm @ var == 1.0)
    ns_rows = []
    for i in range(ka):  # A's marginal p(x_a=+1 | i, j) equal for all j
        for j in range(1, kb):
            row = np.zeros(m * 4)
            row[idx[i, j, 1, :]] = 1.0
            row[idx[i, 0, 1, :]] = -1.0
            ns_rows.append(row)
    for j in range(kb):  # B's marginal p(x_b=+1 | i, j) equal for all i
        for i in range(1, ka):
            row = np.zeros(m * 4)
            row[idx[i, j, :, 1]] = 1.0
            row[idx[0, j, :, 1]] = -1.0
            ns_rows.append(row)
    cons.append(np.array(ns_rows) @ var == 0.0)
    pos = np.flatnonzero(w > 0)
    objective = cp.Maximize(cp.sum(cp.multiply(w[pos], cp.log(var[pos]))))
    problem = cp.Problem(objective, cons)
    solve_convex(problem)
    p = np.clip(np.asarray(var.value, dtype=float), 1e-300, None).reshape(ka, kb, 2, 2)
    return p / p.sum(axis=(2, 3), keepdims=True)


__all__ = [
    "NoSignallingTest",
    "no_signalling_violation",
]
