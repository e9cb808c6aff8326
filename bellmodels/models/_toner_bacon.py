"""Toner-Bacon's ontic table by quadrature: the measure of each deterministic response strategy.

:class:`~bellmodels.models.nonlocal_.TonerBacon` coarse-grains lambda = (lambda1, lambda2) into
the strategy it induces. For planar settings the strategy depends on the azimuths ``psi1, psi2``
and on ``t = r2 / r1`` (the ratio of the vectors' in-plane lengths) only: B's answer at setting
``b`` is ``sgn(u + c t v)`` with ``u = cos(psi1 - b)``, ``v = cos(psi2 - b)`` and A's bit ``c``,
so it is ``sgn(u)`` for t below the threshold ``|u / v|`` and ``c sgn(v)`` above. Given the
azimuths, the strategy is therefore piecewise constant in t between the sorted thresholds, and
the law of t is closed-form (:func:`ratio_cdf`); the measure of each strategy is a 2-D integral
over the torus of azimuths, computed by tensor Gauss-Legendre quadrature on the cells of
:func:`~bellmodels.models.blocks.arc_partition` (where every sign is constant).

The quadrature visits ``(2 (K_a + K_b) nodes)^2`` points (147,456 for CHSH at 48 nodes), each with
a sort of its ``K_b`` thresholds and the law of t at each, and the audit of a posterior builds one
table per draw. Listing every point's ``K_b + 1`` strategies and merging them with a ``unique`` is
what would cost; :func:`_quadrature_kernel` is one Numba loop that adds each point's masses into
bins indexed by the two nodes' sign patterns and by which of B's settings still answer ``sgn(u)``
(a bitmask). Every strategy is a function of its bin, so the few hundred bins are mapped to
strategies and merged afterwards, ordered by their codes (A's answers, then B's, as bits). No
library computes this coarse-graining, hence the hand-written loop. It adds the same products
``w1 w2 (G(t_k) - G(t_(k-1)))`` as the point-by-point listing, only in another order, so the two
agree to round-off (the listing is kept as the reference in
``tests/models/test_models_nonlocal.py``).

>>> import numpy as np
>>> prob, alpha, beta = toner_bacon_strategies([0.0, np.pi / 2], [np.pi / 4, -np.pi / 4])
>>> prob.shape, alpha.shape, beta.shape, float(round(prob.sum(), 12))
((20,), (20, 2), (20, 2, 2), 1.0)
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np

from bellmodels.models.blocks import TWO_PI, arc_partition, sign


def ratio_cdf(t: Any) -> np.ndarray:
    """G(t) = P(r2 / r1 <= t) for r = sin(theta) of two independent uniform points on S^2.

    With z = cos(theta) uniform, P(r <= s) = 1 - sqrt(1 - s^2); integrating over r1 gives, for
    t <= 1, ``G(t) = 1/2 - (1 - t^2) atanh(t) / (2 t)``, and ``G(t) = 1 - G(1/t)`` for t > 1.
    (Derived here; it makes the Toner-Bacon integral two-dimensional.)

    >>> float(ratio_cdf(1.0)), float(round(ratio_cdf(0.01) * 3e4, 4))
    (0.5, 1.0)
    """
    t = np.asarray(t, dtype=float)

    def g(x: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            val = 0.5 - (1.0 - x * x) * np.arctanh(np.minimum(x, 1.0)) / (2.0 * x)
            series = x * x / 3.0 + x**4 / 15.0  # small-x expansion (avoids cancellation)
        val = np.where(x < 1e-3, series, val)
        return np.where(x >= 1.0, 0.5, val)

    with np.errstate(divide="ignore"):
        inv = np.where(t > 1.0, 1.0 / np.where(t > 1.0, t, 1.0), 0.0)
    return np.where(t <= 1.0, g(np.clip(t, 0.0, 1.0)), 1.0 - g(inv))


@functools.cache
def _quadrature_kernel() -> Any:
    """The Numba loop over the quadrature's point pairs (compiled once, cached on disk).

    ``accumulate(u, wts, pat, n_pat)``: ``u`` ``(P, K_b)`` is ``cos(psi - b)`` at each node,
    ``wts`` its weight, ``pat`` the index of its sign pattern; returns ``(n_pat, n_pat,
    2^K_b)``: the measure of (pattern of psi1, pattern of psi2, set of B's settings whose
    threshold lies above t), bit ``j`` of the last index set when setting ``j`` answers
    ``sgn(u)``.
    """
    import numba

    @numba.njit(cache=True, fastmath=False)
    def accumulate(u, wts, pat, n_pat):
        n, kb = u.shape
        full = (1 << kb) - 1
        acc = np.zeros((n_pat, n_pat, full + 1))
        thr = np.empty(kb)
        order = np.empty(kb, np.int64)
        for i in range(n):
            pi = pat[i]
            for j in range(n):
                for k in range(kb):  # thresholds, insertion-sorted (ties: lower index first)
                    thr[k] = abs(u[i, k] / u[j, k])
                    m = k
                    while m > 0 and thr[order[m - 1]] > thr[k]:
                        order[m] = order[m - 1]
                        m -= 1
                    order[m] = k
                w = wts[i] * wts[j]
                pj = pat[j]
                mask = full
                below = 0.0
                for k in range(kb):  # t between the (k-1)-th and k-th threshold
                    # g = ratio_cdf(t), its branches written out (the same numbers; inline,
                    # as a call to another jitted closure would defeat the on-disk cache)
                    t = thr[order[k]]
                    if math.isinf(t):
                        g = 1.0
                    else:
                        x = 1.0 / t if t > 1.0 else t
                        if x >= 1.0:
                            g = 0.5
                        elif x < 1e-3:
                            g = x * x / 3.0 + x**4.0 / 15.0
                        else:
                            g = 0.5 - (1.0 - x * x) * math.atanh(x) / (2.0 * x)
                        if t > 1.0:
                            g = 1.0 - g
                    acc[pi, pj, mask] += w * (g - below)
                    below = g
                    mask ^= 1 << order[k]
                acc[pi, pj, mask] += w * (1.0 - below)
        return acc

    return accumulate


@functools.cache
def _gauss_legendre(nodes: int) -> tuple[np.ndarray, np.ndarray]:
    """``numpy.polynomial.legendre.leggauss(nodes)``, read-only and kept: it solves an
    eigenproblem (0.4 ms at 48 nodes), and every table asks for the same rule."""
    x, w = np.polynomial.legendre.leggauss(nodes)
    x.flags.writeable = w.flags.writeable = False
    return x, w


def quadrature_nodes(
    angles_a: np.ndarray, angles_b: np.ndarray, nodes: int
) -> tuple[np.ndarray, np.ndarray]:
    """The azimuths ``psi`` and weights (summing to 1) of ``nodes``-point Gauss-Legendre rules
    on every arc of :func:`~bellmodels.models.blocks.arc_partition`, arcs in order.

    >>> psi, w = quadrature_nodes([0.0, np.pi / 2], [np.pi / 4, -np.pi / 4], 4)
    >>> psi.shape, float(round(w.sum(), 12))
    ((32,), 1.0)
    """
    lo, hi = arc_partition(np.asarray(angles_a, float), np.asarray(angles_b, float))
    x, w = _gauss_legendre(nodes)
    half = 0.5 * (hi - lo)
    psi = ((lo + hi) / 2)[:, None] + half[:, None] * x[None, :]
    return psi.ravel(), (half[:, None] * w[None, :]).ravel() / TWO_PI


def strategy_rows(sa: np.ndarray, sb: np.ndarray, bins: np.ndarray) -> np.ndarray:
    """The strategy of each of the kernel's ``bins`` (flat indices into its ``(n_pat, n_pat,
    2^K_b)`` output): ``(len(bins), K_a + K_a K_b)`` of +-1, A's answers then B's per pair.

    ``sa`` ``(n_pat, K_a)`` and ``sb`` ``(n_pat, K_b)`` are each pattern's ``sgn(cos(psi -
    a))`` and ``sgn(cos(psi - b))``. Bin ``(p1, p2, mask)``: A answers ``-sa[p1]`` and sends
    ``c = sa[p1] sa[p2]`` per setting; B answers ``sb[p1, j]`` where bit ``j`` of ``mask`` is
    set, else ``c sb[p2, j]``.

    >>> sa, sb = np.array([[1], [-1]]), np.array([[1], [1]])
    >>> strategy_rows(sa, sb, np.array([4, 5])).tolist()   # (p1, p2) = (1, 0), mask 0 then 1
    [[1, -1], [1, 1]]
    """
    n_pat, ka = sa.shape
    kb = sb.shape[1]
    p1, rest = np.divmod(bins, n_pat << kb)
    p2, mask = np.divmod(rest, 1 << kb)
    above = ((mask[:, None] >> np.arange(kb)[None, :]) & 1).astype(bool)  # (R, K_b)
    c = sa[p1] * sa[p2]  # (R, K_a): the bit A sends at each setting
    beta = np.where(above[:, None, :], sb[p1][:, None, :], c[:, :, None] * sb[p2][:, None, :])
    return np.concatenate([-sa[p1], beta.reshape(-1, ka * kb)], axis=1)


def unique_rows(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct +-1 ``rows`` (in the order of their bit codes) and each row's index among
    them (int64); rows of up to 62 entries are packed into one int64 code first (a 1-D
    ``unique`` is much faster than ``unique(axis=0)``).

    >>> uniq, inv = unique_rows(np.array([[1, -1], [-1, 1], [1, -1]], dtype=np.int8))
    >>> uniq.tolist(), inv.tolist()
    ([[1, -1], [-1, 1]], [0, 1, 0])
    """
    n_bits = rows.shape[1]
    if n_bits <= 62:
        powers = np.left_shift(np.int64(1), np.arange(n_bits, dtype=np.int64))
        codes = (rows > 0).astype(np.int64) @ powers
        _, first, inv = np.unique(codes, return_index=True, return_inverse=True)
        return rows[first], inv.ravel().astype(np.int64)
    uniq, inv = np.unique(rows, axis=0, return_inverse=True)
    return uniq, inv.ravel().astype(np.int64)


def merge_strategies(
    rows: np.ndarray, mass: np.ndarray, ka: int, kb: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Equal ``rows`` merged, their ``mass`` summed, sorted by strategy code, empty ones
    dropped: ``(prob (L,), alpha (L, K_a), beta (L, K_a, K_b))``, prob normalised."""
    uniq, inv = unique_rows(rows)
    prob = np.bincount(inv, weights=mass, minlength=len(uniq))
    keep = prob > 0
    uniq, prob = uniq[keep], prob[keep]
    return prob / prob.sum(), uniq[:, :ka], uniq[:, ka:].reshape(-1, ka, kb)


def toner_bacon_strategies(
    angles_a: Any, angles_b: Any, nodes: int = 48
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Measure of each deterministic Toner-Bacon strategy, by quadrature (see the module).

    Returns ``(prob (L,), alpha (L, K_a), beta (L, K_a, K_b))`` with outcomes +1/-1 (int8),
    strategies ordered by their code (A's answers, then B's, as bits): lambda = (lambda1,
    lambda2) is coarse-grained into its response strategy (A's answer per setting; B's answer
    per setting pair, which depends on A's setting through the bit).
    """
    a = np.asarray(angles_a, float)
    b = np.asarray(angles_b, float)
    psi, wts = quadrature_nodes(a, b, nodes)
    u = np.cos(psi[:, None] - b[None, :])  # (P, K_b)
    signs = np.concatenate([sign(np.cos(psi[:, None] - a[None, :])), sign(u)], axis=1)
    patterns, pat = unique_rows(signs)
    mass = _quadrature_kernel()(u, wts, pat, len(patterns)).ravel()
    bins = np.flatnonzero(mass)  # the others add nothing to any strategy
    rows = strategy_rows(patterns[:, : a.size], patterns[:, a.size :], bins)
    return merge_strategies(rows, mass[bins], a.size, b.size)


__all__ = ["quadrature_nodes", "ratio_cdf", "strategy_rows", "toner_bacon_strategies"]
