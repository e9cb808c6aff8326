"""Maximum likelihood over the local and the no-signalling polytopes, precise at 1e9 trials.

:class:`PolytopeFit` maximises sum_cells w log Q over the local polytope (mixtures of the local
deterministic strategies; Fine, PRL 48, 291 (1982)) or the no-signalling polytope, posed to Clarabel
directly (:func:`bellmodels._conic.max_weighted_log`: exponential cones, no cvxpy to import or
to canonicalise, so a bootstrap's re-solves cost milliseconds). The conic solution is then
polished by Newton's method on the equality-constrained problem (normalisation, no-signalling
and, for the local fit of a 2 x 2 scenario, the active CHSH facets), because at 1e9 trials the
log-likelihood differences that matter are ~1e-8 per trial, below a conic solver's tolerance.
Used by :mod:`bellmodels.significance` (the likelihood ratio and the test factors).

Example
-------
>>> import numpy as np
>>> from bellmodels import Scenario
>>> q = PolytopeFit(Scenario.chsh(), "local").fit(np.full((2, 2, 2, 2), 1.0))
>>> bool(np.allclose(q, 0.25, atol=1e-6))
True
"""

from __future__ import annotations

import itertools

import numpy as np

from bellmodels._conic import max_weighted_log
from bellmodels.behaviour import CHSH_MINUS_PAIRS
from bellmodels.behaviour.no_signalling import ns_equalities
from bellmodels.ontic import local_deterministic_strategies
from bellmodels.scenario import Scenario


class PolytopeFit:
    """Maximum of sum_cells w log Q over the local (or no-signalling) polytope, w >= 0.

    Built once per scenario (the strategies and the equalities); each :meth:`fit` poses the
    exponential-cone programme to Clarabel. ``w`` is scaled to sum to 1 (the optimum does not
    change).
    """

    def __init__(self, scenario: Scenario, polytope: str) -> None:
        self.shape = scenario.shape
        m = scenario.n_a * scenario.n_b * 4
        self.equalities = ns_equalities(scenario.n_a, scenario.n_b)
        if polytope == "local":  # Q = D r, r a distribution over the deterministic strategies
            self.design: np.ndarray | None = (
                local_deterministic_strategies(scenario)[0].reshape(-1, m).T
            )
            self.constraints = (np.ones((1, self.design.shape[1])), np.ones(1))
        elif polytope == "no-signalling":  # Q itself, normalised and no-signalling
            self.design = None
            self.constraints = self.equalities
        else:  # pragma: no cover - internal
            raise ValueError(polytope)
        self.polytope = polytope
        self.facets = _chsh_facets() if self.shape[:2] == (2, 2) else None

    def fit(self, weights: np.ndarray) -> np.ndarray:
        """The maximising behaviour ``(K_a, K_b, 2, 2)`` for cell weights ``weights``.

        The conic solver's answer is polished by Newton's method on the equality-constrained
        problem (its active facets as equalities) when every weight is positive: at 1e9 trials
        the likelihood differences that matter are ~1e-8 per trial, below a conic solver's
        tolerance. The polished point is kept only if it stays in the polytope.
        """
        w = np.asarray(weights, dtype=float).ravel()
        w = w / w.sum()
        x = max_weighted_log(w, *self.constraints, design=self.design, what=f"{self.polytope} fit")
        q = x if self.design is None else self.design @ x
        q = np.clip(q, 1e-300, None).reshape(self.shape)
        q = (q / q.sum(axis=(2, 3), keepdims=True)).ravel()
        if np.all(w > 0):
            q = self._polish(w, q)
        return q.reshape(self.shape)

    def _polish(self, w: np.ndarray, q0: np.ndarray) -> np.ndarray:
        a, b = self.equalities
        if self.polytope == "local":
            if self.facets is None:
                return q0
            g, h = self.facets
            active = g @ q0 >= h - 1e-6
            a = np.vstack([a, g[active]])
            b = np.concatenate([b, h[active]])
        q = _newton(w, q0, a, b)
        if q is None or np.any(q <= 0):
            return q0
        if self.polytope == "local" and self.facets is not None:
            g, h = self.facets
            if np.any(g @ q > h + 1e-12):
                return q0
        if float(w @ np.log(q)) < float(w @ np.log(q0)):
            return q0
        return q


def _chsh_facets() -> tuple[np.ndarray, np.ndarray]:
    """The 8 CHSH facets sign * S_k(q) <= 2 in cell space (2 x 2 settings; Fine 1982)."""
    prod = np.array([[1.0, -1.0], [-1.0, 1.0]])  # x_a x_b in array order
    rows = []
    for k in range(4):
        for sign in (1.0, -1.0):
            r = np.zeros((2, 2, 2, 2))
            for i, j in itertools.product(range(2), range(2)):
                term = -1.0 if (i, j) == CHSH_MINUS_PAIRS[k] else 1.0
                r[i, j] = sign * term * prod
            rows.append(r.ravel())
    return np.array(rows), np.full(8, 2.0)


def _newton(
    w: np.ndarray, q0: np.ndarray, a: np.ndarray, b: np.ndarray, iters: int = 60
) -> np.ndarray | None:
    """Maximise sum w log q subject to A q = b by Newton's method from q0 (q > 0)."""
    q = q0.copy()
    for _ in range(iters):
        grad = w / q
        hinv = q * q / w
        resid = b - a @ q
        m = (a * hinv) @ a.T
        rhs = resid - a @ (hinv * grad)
        nu = np.linalg.lstsq(m, rhs, rcond=None)[0]
        step = hinv * (grad + a.T @ nu)
        neg = step < 0
        t = 1.0
        if np.any(neg):
            t = min(1.0, 0.9 * float(np.min(-q[neg] / step[neg])))
        q = q + t * step
        if np.max(np.abs(step) / q) < 1e-14:
            break
    if not np.all(np.isfinite(q)):
        return None
    return q


def loglik(n: np.ndarray, q: np.ndarray) -> float:
    """sum n log q over the cells with n > 0 (so q = 0 where n = 0 is allowed)."""
    pos = n > 0
    return float(np.sum(n[pos] * np.log(q[pos])))


__all__ = ["PolytopeFit", "loglik"]
