"""The machines' Numba loops: their log behaviour and its vector-Jacobian product, over flat
visible rows, as functions of the canonical arrays (:mod:`~bellmodels.models.boltzmann._tensor_op`)
or of the free variables (:mod:`~bellmodels.models.boltzmann._free_op`).

Defined at module level, so Numba's cache (``cache=True``: beside this module, or
``$NUMBA_CACHE_DIR``) finds them again in every later process. A kernel defined inside a
function and calling another kernel holds it as a closure variable, which Numba hashes into the
cache key by the callee's per-process identity: such a kernel misses the cache in every process,
is compiled again and leaves one more file in the cache each time.

``forward_into`` / ``vjp_into`` write one parameter point's rows into arrays the caller owns;
``forward`` / ``vjp`` allocate them; the ``_batch`` forms loop over a leading axis of points;
``free_forward`` / ``free_vjp`` first map the free variables to the canonical arrays
(``theta = M x + b0``, ``M`` by its nonzero entries ``(rows, cols, vals)``) and take the gradient
back through ``M^T``. Hand-written for the reason :mod:`~bellmodels.models.boltzmann._tensor_op`
gives.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, fastmath=False)
def forward_into(V, S, X, W, c, d, A, out):
    n_rows, n_v = V.shape
    n_h = W.shape[1]
    n_s = S.shape[1]
    for r in range(n_rows):
        acc = 0.0
        for i in range(n_v):
            acc += V[r, i] * c[i]
        for j in range(n_h):
            a = d[j]
            for i in range(n_v):
                a += V[r, i] * W[i, j]
            acc += max(a, 0.0) + np.log1p(np.exp(-abs(a)))  # softplus, stable
        for i in range(n_s):
            for k in range(2):
                acc += S[r, i] * A[i, k] * X[r, k]
        out[r] = acc
    for p in range(n_rows // 4):  # normalise over each setting pair's four cells
        m = max(out[4 * p], out[4 * p + 1], out[4 * p + 2], out[4 * p + 3])
        s = 0.0
        for k in range(4):
            s += np.exp(out[4 * p + k] - m)
        lse = m + np.log(s)
        for k in range(4):
            out[4 * p + k] -= lse


@numba.njit(cache=True, fastmath=False)
def vjp_into(V, S, X, W, c, d, A, logp, g, g_w, g_c, g_d, g_a):
    n_rows, n_v = V.shape
    n_h = W.shape[1]
    n_s = S.shape[1]
    g_w[:] = 0.0
    g_c[:] = 0.0
    g_d[:] = 0.0
    g_a[:] = 0.0
    for p in range(n_rows // 4):
        total = g[4 * p] + g[4 * p + 1] + g[4 * p + 2] + g[4 * p + 3]
        for k in range(4):
            r = 4 * p + k
            gf = g[r] - np.exp(logp[r]) * total
            for i in range(n_v):
                g_c[i] += gf * V[r, i]
            for j in range(n_h):
                a = d[j]
                for i in range(n_v):
                    a += V[r, i] * W[i, j]
                # sigmoid, stable for either sign
                e = np.exp(-abs(a))
                sig = 1.0 / (1.0 + e) if a >= 0 else e / (1.0 + e)
                g_d[j] += gf * sig
                for i in range(n_v):
                    g_w[i, j] += gf * sig * V[r, i]
            for i in range(n_s):
                for kk in range(2):
                    g_a[i, kk] += gf * S[r, i] * X[r, kk]


@numba.njit(cache=True, fastmath=False)
def forward(V, S, X, W, c, d, A):
    out = np.empty(V.shape[0])
    forward_into(V, S, X, W, c, d, A, out)
    return out


@numba.njit(cache=True, fastmath=False)
def vjp(V, S, X, W, c, d, A, logp, g):
    g_w, g_c, g_d, g_a = np.empty(W.shape), np.empty(c.shape), np.empty(d.shape), np.empty(A.shape)
    vjp_into(V, S, X, W, c, d, A, logp, g, g_w, g_c, g_d, g_a)
    return g_w, g_c, g_d, g_a


@numba.njit(cache=True, fastmath=False)
def forward_batch(V, S, X, W, c, d, A):
    out = np.empty((W.shape[0], V.shape[0]))
    for b in range(W.shape[0]):
        forward_into(V, S, X, W[b], c[b], d[b], A[b], out[b])
    return out


@numba.njit(cache=True, fastmath=False)
def vjp_batch(V, S, X, W, c, d, A, logp, g):
    g_w, g_c, g_d, g_a = np.empty(W.shape), np.empty(c.shape), np.empty(d.shape), np.empty(A.shape)
    for b in range(W.shape[0]):
        vjp_into(V, S, X, W[b], c[b], d[b], A[b], logp[b], g[b], g_w[b], g_c[b], g_d[b], g_a[b])
    return g_w, g_c, g_d, g_a


@numba.njit(cache=True, fastmath=False)
def canonical(rows, cols, vals, b0, x, n_v, n_h, n_s):
    theta = b0.copy()
    for k in range(rows.shape[0]):
        theta[rows[k]] += vals[k] * x[cols[k]]
    i = n_v * n_h
    w = theta[:i].reshape((n_v, n_h))
    a = theta[i + n_v + n_h :].reshape((n_s, 2))
    return w, theta[i : i + n_v], theta[i + n_v : i + n_v + n_h], a


@numba.njit(cache=True, fastmath=False)
def free_forward(V, S, X, rows, cols, vals, b0, x):
    n_v, n_s = V.shape[1], S.shape[1]
    n_h = (b0.shape[0] - n_v - 2 * n_s) // (n_v + 1)
    out = np.empty((x.shape[0], V.shape[0]))
    for b in range(x.shape[0]):
        w, c, d, a = canonical(rows, cols, vals, b0, x[b], n_v, n_h, n_s)
        forward_into(V, S, X, w, c, d, a, out[b])
    return out


@numba.njit(cache=True, fastmath=False)
def free_vjp(V, S, X, rows, cols, vals, b0, x, logp, g):
    n_v, n_s = V.shape[1], S.shape[1]
    n_h = (b0.shape[0] - n_v - 2 * n_s) // (n_v + 1)
    i = n_v * n_h
    g_theta = np.empty(b0.shape[0])
    g_x = np.zeros(x.shape)
    for b in range(x.shape[0]):
        w, c, d, a = canonical(rows, cols, vals, b0, x[b], n_v, n_h, n_s)
        vjp_into(
            V, S, X, w, c, d, a, logp[b], g[b],
            g_theta[:i].reshape((n_v, n_h)), g_theta[i : i + n_v],
            g_theta[i + n_v : i + n_v + n_h], g_theta[i + n_v + n_h :].reshape((n_s, 2)),
        )  # fmt: skip
        for k in range(rows.shape[0]):
            g_x[b, cols[k]] += vals[k] * g_theta[rows[k]]
    return g_x
