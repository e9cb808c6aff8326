"""Measurement-dependent ("retrocausal" / superdeterministic) local models of the singlet.

Each is local and deterministic given lambda, reproduces the singlet correlations
``E = -cos(a - b)`` exactly, and gives up measurement independence: the distribution of lambda
depends on the settings (both, for ``brans`` and ``hall2010``; A's only, for ``dlr-one-sided``).
Whether that dependence is read as retrocausality, a common cause of settings and lambda, or
"superdeterminism" is interpretation; the audit measures how much of it there is (MI, Hall's M).

Example
-------
>>> import numpy as np
>>> from bellmodels import models
>>> table = models.get("hall2010").ontic_table()
>>> p = table.p_lambda.values                     # p(lambda | s_a, s_b)
>>> float(round(np.abs(p[0, 0] - p[1, 1]).sum(), 4))  # L1 distance (a, b) vs (a', b')
0.2761
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from bellmodels.data import Trials
from bellmodels.models.base import HiddenVariableModel
from bellmodels.models.blocks import (
    TWO_PI,
    arc_partition,
    arc_signs,
    deterministic_response,
    planar_vectors,
    sign,
    strategy_labels,
    uniform_sphere,
    with_noise,
)
from bellmodels.models.local import PlanarModel
from bellmodels.models.registry import register
from bellmodels.ontic import OnticTable


def _angle_between(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Angle in [0, pi] between planar directions ``a[i]`` and ``b[j]``, shape ``(K_a, K_b)``."""
    d = np.subtract.outer(a, b)
    return np.abs(d - TWO_PI * np.floor((d + np.pi) / TWO_PI))


class _SphereSignModel(PlanarModel):
    """A = sgn(a . lambda), B = -sgn(b . lambda): shared arc coarse-graining and responses."""

    def _arcs(
        self, params: Mapping[str, Any] | None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        a, b = self.angles(params)
        lo, hi = arc_partition(a, b)
        return a, b, lo, hi, arc_signs(lo, hi, a), -arc_signs(lo, hi, b)

    def _draw_directions(
        self, n: int, rng: np.random.Generator, setting_probs: Any
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``(a, b, s_a, s_b, v_a, v_b)``: the angles, ``n`` trials' settings, their directions."""
        a, b = self.angles()
        sa, sb = self.scenario.draw_settings(n, rng, setting_probs)
        return a, b, sa, sb, planar_vectors(a)[sa.astype(int)], planar_vectors(b)[sb.astype(int)]

    def _sign_trials(
        self,
        rng: np.random.Generator,
        sa: np.ndarray,
        sb: np.ndarray,
        va: np.ndarray,
        vb: np.ndarray,
        lam: np.ndarray,
    ) -> Trials:
        """The trials with A = sgn(a . lambda), B = -sgn(b . lambda), then the visibility's noise."""
        xa = sign(np.einsum("ni,ni->n", va, lam))
        xb = -sign(np.einsum("ni,ni->n", vb, lam))
        visibility = float(self.params()["visibility"])
        return self._finish_trials(rng, sa, sb, xa, xb, visibility)

    def _table(
        self, params: Mapping[str, Any] | None, p_arc: np.ndarray, xa: np.ndarray, xb: np.ndarray
    ) -> OnticTable:
        p = self.params(params)
        return with_noise(
            p_arc,
            deterministic_response(xa, xb),
            strategy_labels(xa, xb),
            float(p["visibility"]),
            self.scenario,
        )


@register()
class Brans(PlanarModel, HiddenVariableModel):
    """Brans' local deterministic model: lambda is drawn knowing both settings.

    lambda
        The pair of outcomes ``(lambda_A, lambda_B)`` (four values), plus ``"noise"``.
    Algorithm
        The source, correlated with both settings (a common cause in their past, or influence
        from the future), draws lambda from the quantum probabilities: ``lambda_A`` a fair coin,
        ``lambda_B = -lambda_A`` with probability ``(1 + cos(a - b)) / 2``. Each detector then
        reads its own entry: A answers ``lambda_A``, B answers ``lambda_B`` (deterministic,
        local). Noise pairs (probability 1 - V) give independent fair outcomes.
    Correlations
        Exactly the singlet, ``E = -V cos(a - b)``.
    Assumption dropped
        Measurement independence, maximally: p(lambda | a, b) depends on both settings.
    Citation
        C. H. Brans, "Bell's theorem does not eliminate fully causal hidden variables",
        Int. J. Theor. Phys. 27, 219 (1988); see Hall, PRL 105, 250404 (2010).

    Example
    -------
    >>> from bellmodels import models
    >>> t = models.get("brans").ontic_table()
    >>> [str(x) for x in t.p_lambda["lam"].values]
    ['--', '-+', '+-', '++', 'noise']
    >>> float(round(t.p_lambda.values[1, 1, 0], 6))      # P(lambda = '--' | a', b')
    0.426777
    """

    name = "brans"
    singlet_equivalent = True
    family = "retrocausal"
    assumption_dropped = "measurement independence (lambda depends on both settings)"
    citation = "Brans, Int. J. Theor. Phys. 27, 219 (1988)"

    LABELS = ("--", "-+", "+-", "++")

    def ontic_table(self, params: Mapping[str, Any] | None = None) -> OnticTable:
        p = self.params(params)
        a, b = self.angles(params)
        e = -np.cos(np.subtract.outer(a, b))
        xa = np.array([-1, -1, 1, 1])
        xb = np.array([-1, 1, -1, 1])
        p_lam = (1.0 + e[:, :, None] * (xa * xb)[None, None, :]) / 4.0
        ka, kb = self.scenario.n_a, self.scenario.n_b
        resp = deterministic_response(np.repeat(xa[:, None], ka, 1), np.repeat(xb[:, None], kb, 1))
        return with_noise(p_lam, resp, list(self.LABELS), float(p["visibility"]), self.scenario)

    def sample_trials(self, n: int, seed: int | None, setting_probs: Any = None) -> Trials:
        rng = np.random.default_rng(seed)
        p = self.params()
        a, b = self.angles()
        sa, sb = self.scenario.draw_settings(n, rng, setting_probs)
        # the source sees both settings and prepares lambda = (lambda_A, lambda_B)
        lam_a = rng.choice(np.array([-1, 1]), size=n).astype(np.int8)
        cos_ab = np.cos(a[sa.astype(int)] - b[sb.astype(int)])
        opposite = rng.random(n) < 0.5 * (1.0 + cos_ab)
        lam_b = np.where(opposite, -lam_a, lam_a).astype(np.int8)
        # each detector reads its own component
        return self._finish_trials(rng, sa, sb, lam_a.copy(), lam_b.copy(), float(p["visibility"]))


@register()
class Hall2010(_SphereSignModel, HiddenVariableModel):
    """Hall's local deterministic singlet model with a small measurement dependence.

    lambda
        A unit vector on the sphere; responses are Bell's: A = sgn(a . lambda),
        B = -sgn(b . lambda).
    Algorithm
        With phi the angle between a and b, lambda is drawn uniformly from the region where
        sgn(a . lambda) = sgn(b . lambda) with probability ``(1 + cos phi) / 2``, otherwise
        uniformly from its complement (sphere densities ``(1 + cos phi) / (8 (pi - phi))`` and
        ``(1 - cos phi) / (8 phi)``; the regions have areas ``4 (pi - phi)`` and ``4 phi``).
        Sampled by rejection from uniform draws on the sphere. Noise pairs (1 - V) as elsewhere.
    Correlations
        ``E = -[(1 + cos phi) / 2 - (1 - cos phi) / 2] = -cos phi``: the singlet, exactly.
    Ontic table
        Exact: the density depends on lambda's azimuth only, and is constant on each arc of the
        circle cut at every ``angle +- pi/2``; p(arc | a, b) = arc length x circle density.
    Assumption dropped
        Measurement independence, partly. At the CHSH angles the audit's Hall distance is
        ``M = 0.2761 = (2 sqrt 2 - 2) / 3`` (the least any local model needs for S = 2 sqrt 2),
        i.e. about 14% of measurement independence given up, as Hall's abstract states.
    Citation
        M. J. W. Hall, "Local deterministic model of singlet state correlations based on
        relaxing measurement independence", PRL 105, 250404 (2010).

    Example
    -------
    >>> import numpy as np
    >>> from bellmodels import models
    >>> m = models.get("hall2010")
    >>> p = m.ontic_table().behaviour()
    >>> E = p[..., 0, 0] + p[..., 1, 1] - p[..., 0, 1] - p[..., 1, 0]
    >>> float(round(abs(E[0, 0] + E[0, 1] + E[1, 0] - E[1, 1]), 6))
    2.828427
    """

    name = "hall2010"
    singlet_equivalent = True
    family = "retrocausal"
    assumption_dropped = "measurement independence (about 14%: Hall's M = 0.276 at CHSH)"
    citation = "Hall, PRL 105, 250404 (2010)"

    def ontic_table(self, params: Mapping[str, Any] | None = None) -> OnticTable:
        a, b, lo, hi, xa, xb = self._arcs(params)
        phi = _angle_between(a, b)  # (Ka, Kb)
        length = hi - lo  # (L,)
        # A = sgn(a.l), B = -sgn(b.l): sgn(a.l) = sgn(b.l) <=> x_a = -x_b
        same = (xa[:, :, None] == -xb[:, None, :]).transpose(1, 2, 0)  # (Ka, Kb, L)
        cphi = np.cos(phi)[:, :, None]
        with np.errstate(divide="ignore", invalid="ignore"):
            d_same = np.where(
                np.pi - phi[:, :, None] > 0, (1 + cphi) / (4 * (np.pi - phi[:, :, None])), 0.0
            )
            d_diff = np.where(phi[:, :, None] > 0, (1 - cphi) / (4 * phi[:, :, None]), 0.0)
        p_arc = np.where(same, d_same, d_diff) * length[None, None, :]
        return self._table(params, p_arc, xa, xb)

    def sample_trials(self, n: int, seed: int | None, setting_probs: Any = None) -> Trials:
        rng = np.random.default_rng(seed)
        a, b, sa, sb, va, vb = self._draw_directions(n, rng, setting_probs)
        phi = _angle_between(a, b)[sa.astype(int), sb.astype(int)]
        want_same = rng.random(n) < 0.5 * (1.0 + np.cos(phi))
        lam = np.empty((n, 3))
        todo = np.arange(n)
        while todo.size:  # rejection: uniform on the sphere, keep draws in the wanted region
            cand = uniform_sphere(rng, todo.size)
            s_a = sign(np.einsum("ni,ni->n", va[todo], cand))
            s_b = sign(np.einsum("ni,ni->n", vb[todo], cand))
            ok = (s_a == s_b) == want_same[todo]
            lam[todo[ok]] = cand[ok]
            todo = todo[~ok]
        return self._sign_trials(rng, sa, sb, va, vb, lam)


@register()
class DLROneSided(_SphereSignModel, HiddenVariableModel):
    """One-sided measurement dependence: lambda's law depends on A's setting only.

    lambda
        A unit vector on the sphere with density ``rho(lambda | a) = |a . lambda| / (2 pi)``;
        responses A = sgn(a . lambda), B = -sgn(b . lambda).
    Algorithm
        Draw two independent uniform unit vectors and keep the one with the larger
        ``|a . lambda|`` (a . lambda is uniform on [-1, 1] for a uniform vector, and the larger
        of two absolute values has density 2t: exactly ``|a . lambda| / (2 pi)``). Noise pairs
        (1 - V) as elsewhere.
    Correlations
        ``E = -int sgn(a.l) sgn(b.l) |a.l| / (2 pi) = -a . b``: the singlet, with fair marginals.
    Ontic table
        Exact: projected to lambda's azimuth psi the density is ``|cos(psi - a)| / 4``; on each
        arc (cut at every ``angle +- pi/2``) its integral is ``|sin(hi - a) - sin(lo - a)| / 4``.
    Assumption dropped
        Measurement independence on A's side only (``M_B = 0``). This distribution appeared in
        the detection-loophole model of Gisin & Gisin and in the one-bit/one-sided simulations
        of Degorre, Laplante & Roland; Banik et al. (arXiv:1204.3835) showed it is the
        optimal one-sided measurement dependence for the singlet.
    Citation
        N. Gisin & B. Gisin, Phys. Lett. A 260, 323 (1999); J. Degorre, S. Laplante &
        J. Roland, PRA 72, 062314 (2005).

    Example
    -------
    >>> import numpy as np
    >>> from bellmodels import models
    >>> p = models.get("dlr-one-sided").ontic_table().p_lambda.values
    >>> bool(np.allclose(p[:, 0], p[:, 1]))      # independent of B's setting
    True
    """

    name = "dlr-one-sided"
    singlet_equivalent = True
    family = "retrocausal"
    assumption_dropped = "measurement independence on A's side only"
    citation = (
        "Gisin & Gisin, Phys. Lett. A 260, 323 (1999); Degorre, Laplante & Roland, "
        "PRA 72, 062314 (2005)"
    )

    def ontic_table(self, params: Mapping[str, Any] | None = None) -> OnticTable:
        a, b, lo, hi, xa, xb = self._arcs(params)
        # integral of |cos(psi - a_i)| / 4 over each arc (cos keeps its sign on an arc)
        p_a = np.abs(np.sin(hi[None, :] - a[:, None]) - np.sin(lo[None, :] - a[:, None])) / 4.0
        p_arc = np.broadcast_to(p_a[:, None, :], (a.size, b.size, lo.size))
        return self._table(params, p_arc, xa, xb)

    def sample_trials(self, n: int, seed: int | None, setting_probs: Any = None) -> Trials:
        rng = np.random.default_rng(seed)
        _, _, sa, sb, va, vb = self._draw_directions(n, rng, setting_probs)
        l1 = uniform_sphere(rng, n)
        l2 = uniform_sphere(rng, n)
        d1 = np.abs(np.einsum("ni,ni->n", va, l1))
        d2 = np.abs(np.einsum("ni,ni->n", va, l2))
        lam = np.where((d1 >= d2)[:, None], l1, l2)
        return self._sign_trials(rng, sa, sb, va, vb, lam)


__all__ = ["Brans", "DLROneSided", "Hall2010"]
