"""No-signalling: the largest marginal change (vectorised), its likelihood-ratio test, and the maximum-likelihood no-signalling fit of a count table."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np


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
        ``chi2.sf(G, df)`` (Wilks' asymptotic distribution; :func:`chi2_sf`).
    max_difference
        The largest observed marginal difference (as :meth:`Behaviour.no_signalling_violation`).
    """

    G: float
    df: int
    p_value: float
    max_difference: float


def ns_equalities(ka: int, kb: int) -> tuple[np.ndarray, np.ndarray]:
    """``(A, b)`` over the flattened cells of a ``(ka, kb, 2, 2)`` behaviour: normalisation of
    each setting pair, then the no-signalling equalities (A's marginal p(x_a = +1 | i, j) equal
    for every j, B's p(x_b = +1 | i, j) equal for every i).

    >>> a, b = ns_equalities(2, 2)
    >>> a.shape, b.tolist()
    ((8, 16), [1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0])
    """
    m = ka * kb * 4
    idx = np.arange(m).reshape(ka, kb, 2, 2)
    rows, rhs = [], []
    for i, j in itertools.product(range(ka), range(kb)):
        r = np.zeros(m)
        r[idx[i, j].ravel()] = 1.0
        rows.append(r)
        rhs.append(1.0)
    for i, j in itertools.product(range(ka), range(1, kb)):
        r = np.zeros(m)
        r[idx[i, j, 1, :]] = 1.0
        r[idx[i, 0, 1, :]] = -1.0
        rows.append(r)
        rhs.append(0.0)
    for i, j in itertools.product(range(1, ka), range(kb)):
        r = np.zeros(m)
        r[idx[i, j, :, 1]] = 1.0
        r[idx[0, j, :, 1]] = -1.0
        rows.append(r)
        rhs.append(0.0)
    return np.array(rows), np.array(rhs)


def _ns_mle(n: np.ndarray) -> np.ndarray:
    """Maximum-likelihood no-signalling behaviour for counts ``n`` (K_a, K_b, 2, 2).

    Solved by Clarabel directly (:func:`bellmodels._conic.max_weighted_log`; the programme cvxpy
    built before, without cvxpy's seconds of import). Cells with zero counts drop out.
    """
    from bellmodels._conic import max_weighted_log

    ka, kb = n.shape[:2]
    a, b = ns_equalities(ka, kb)
    q = max_weighted_log(n.reshape(-1).astype(float), a, b, what="no-signalling fit")
    p = np.clip(q, 1e-300, None).reshape(ka, kb, 2, 2)
    return p / p.sum(axis=(2, 3), keepdims=True)


def chi2_sf(x: float, df: int) -> float:
    """The chi-square survival function P(X >= x) for a whole number ``df`` of degrees of freedom.

    Exact closed forms with the standard library (no scipy.stats, a second of import): for even
    ``df = 2k``, exp(-x/2) sum_{j<k} (x/2)^j / j!; for odd ``df = 2k + 1``, erfc(sqrt(x/2)) +
    exp(-x/2) sum_{j=1..k} (x/2)^(j - 1/2) / Gamma(j + 1/2) (Abramowitz & Stegun 26.4.4-5).
    Each term is positive, so there is no cancellation; terms are summed in log space.

    >>> round(chi2_sf(3.84145882069412, 1), 9), chi2_sf(0.0, 4), round(chi2_sf(9.487729036781154, 4), 9)
    (0.05, 1.0, 0.05)
    """
    df = int(df)
    if df < 1:
        raise ValueError(f"df must be a positive whole number, got {df}")
    if x <= 0:
        return 1.0
    h = x / 2.0
    if df % 2 == 0:
        logs = [j * math.log(h) - h - math.lgamma(j + 1) for j in range(df // 2)]
        head = 0.0
    else:
        logs = [(j - 0.5) * math.log(h) - h - math.lgamma(j + 0.5) for j in range(1, df // 2 + 1)]
        head = math.erfc(math.sqrt(h))
    return min(1.0, head + math.fsum(math.exp(v) for v in logs))


__all__ = [
    "NoSignallingTest",
    "chi2_sf",
    "no_signalling_violation",
    "ns_equalities",
]
