"""Nonlocal models: orthodox quantum mechanics, Toner-Bacon's one-bit model, the PR-box polytope.

Each keeps measurement independence and no-signalling, and gives up one of Bell's locality
conditions (Jarrett's split): ``quantum-singlet`` breaks outcome independence,
``toner-bacon`` parameter independence (B's answer depends on A's setting through the bit),
``no-signalling`` outcome independence (the PR boxes).

Example
-------
>>> import numpy as np
>>> from bellmodels import models
>>> p = models.get("quantum-singlet").behaviour()
>>> E = p[..., 0, 0] + p[..., 1, 1] - p[..., 0, 1] - p[..., 1, 0]
>>> float(round(abs(E[0, 0] + E[0, 1] + E[1, 0] - E[1, 1]), 6))   # Tsirelson's bound
2.828427
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from bellmodels.data import Trials
from bellmodels.models._batch import uses_own
from bellmodels.models._toner_bacon import ratio_cdf, toner_bacon_strategies
from bellmodels.models.base import HiddenVariableModel, Parameter
from bellmodels.models.blocks import one_hot
from bellmodels.models.local import (
    PRODUCT_SIGN,
    PlanarModel,
    VertexMixture,
    planar_vectors,
    sign,
    strategy_labels,
    uniform_sphere,
    with_noise,
    with_noise_stack,
)
from bellmodels.models.priors import Simplex
from bellmodels.models.registry import register
from bellmodels.ontic import OnticTable, OnticTables, local_deterministic_strategies
from bellmodels.scenario import Scenario


@register()
class QuantumSinglet(PlanarModel, HiddenVariableModel):
    """Orthodox quantum mechanics for the spin singlet, read as an ontic model.

    lambda
        The quantum state itself (one value, ``"psi"``), plus a ``"noise"`` value of weight
        ``1 - V`` (the white-noise part of a Werner state).
    Algorithm
        The textbook collapse: A's outcome is a fair coin; the state of B's particle collapses to
        spin ``-x_a`` along ``a``; B's outcome is then ``+1`` with probability
        ``(1 - x_a cos(a - b)) / 2``. Noise pairs give independent fair outcomes.
    Correlations
        ``E(a, b) = -V cos(a - b)``, fair marginals; ``|S| = 2 sqrt 2`` at the CHSH angles.
    Assumption dropped
        Outcome independence (Jarrett; Shimony): given lambda = psi, the outcomes are correlated,
        while each party's marginal ignores the other's setting (parameter independence holds).
    Citation
        Bell, Physics 1, 195 (1964); J. P. Jarrett, Noûs 18, 569 (1984).

    Example
    -------
    >>> from bellmodels import models
    >>> m = models.get("quantum-singlet", visibility=0.9)
    >>> p = m.behaviour()
    >>> float(round(p[0, 0, 0, 0] + p[0, 0, 1, 1] - p[0, 0, 0, 1] - p[0, 0, 1, 0], 6))
    -0.636396
    >>> m.ontic_table().n_lambda
    2
    """

    name = "quantum-singlet"
    singlet_equivalent = True
    family = "nonlocal"
    assumption_dropped = "outcome independence (parameter independence holds)"
    citation = "Bell, Physics 1, 195 (1964); Jarrett, Noûs 18, 569 (1984)"

    def ontic_table(self, params: Mapping[str, Any] | None = None) -> OnticTable:
        p = self.params(params)
        a, b = self.angles(params)
        e = -np.cos(np.subtract.outer(a, b))
        resp = (1.0 + e[:, :, None, None, None] * PRODUCT_SIGN) / 4.0
        return with_noise(np.ones(1), resp, ["psi"], float(p["visibility"]), self.scenario)

    def ontic_tables(self, values: Mapping[str, Any]) -> OnticTables:
        """The tables of many draws at once: :meth:`ontic_table`'s arithmetic over the draw axis
        (lambda = the state psi or the noise, Bell 1964 read as Jarrett 1984; each draw's
        visibility and angles)."""
        if not uses_own(self, QuantumSinglet, ("ontic_table", "angles", "stacked_angles")):
            return super().ontic_tables(values)
        p = self.stacked_params(values)
        a, b = self.stacked_angles(p)
        e = -np.cos(a[:, :, None] - b[:, None, :])  # (N, K_a, K_b)
        resp = (1.0 + e[:, :, :, None, None, None] * PRODUCT_SIGN) / 4.0
        return with_noise_stack(np.ones(1), resp, ["psi"], p["visibility"], self.scenario)

    def sample_trials(self, n: int, seed: int | None, setting_probs: Any = None) -> Trials:
        rng = np.random.default_rng(seed)
        p = self.params()
        a, b = self.angles()
        sa, sb = self.scenario.draw_settings(n, rng, setting_probs)
        xa = rng.choice(np.array([-1, 1]), size=n).astype(np.int8)
        # after A finds x_a along a, B holds spin -x_a along a: P(x_b = +1) = (1 - x_a cos) / 2
        cos_ab = np.cos(a[sa.astype(int)] - b[sb.astype(int)])
        p_plus = 0.5 * (1.0 - xa * cos_ab)
        xb = np.where(rng.random(n) < p_plus, 1, -1).astype(np.int8)
        return self._finish_trials(rng, sa, sb, xa, xb, float(p["visibility"]))


def strategy_response(alpha: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """Response ``(K_a, K_b, L, 2, 2)`` of Toner-Bacon strategies ``alpha (L, K_a)``, ``beta
    (L, K_a, K_b)`` (+1/-1): lambda ``l`` answers ``alpha[l, s_a]`` and ``beta[l, s_a, s_b]``.

    >>> r = strategy_response(np.array([[1, -1]]), np.array([[[1, -1], [-1, -1]]]))
    >>> r.shape, float(r[0, 1, 0, 1, 0]), float(r[1, 0, 0, 0, 0])
    ((2, 2, 1, 2, 2), 1.0, 1.0)
    """
    ra = one_hot(alpha)  # (L, K_a, 2)
    rb = one_hot(beta)  # (L, K_a, K_b, 2)
    return np.moveaxis(ra[:, :, None, :, None] * rb[:, :, :, None, :], 0, 2)


def toner_bacon_labels(alpha: np.ndarray, beta: np.ndarray) -> list[str]:
    """Labels ``"+-;++|-+"``: A's answer per setting, then B's per setting pair (one block per
    setting of A).

    >>> toner_bacon_labels(np.array([[1, -1]]), np.array([[[1, 1], [-1, 1]]]))
    ['+-;++|-+']
    """
    sym = {1: "+", -1: "-"}
    return [
        strategy_labels(alpha[k : k + 1], np.zeros((1, 0)))[0]
        + "|".join("".join(sym[int(x)] for x in row) for row in beta[k])
        for k in range(alpha.shape[0])
    ]


@register()
class TonerBacon(PlanarModel, HiddenVariableModel):
    """Toner & Bacon's model: the singlet exactly, with shared randomness and one bit.

    lambda
        Two independent unit vectors ``lambda1, lambda2`` uniform on the sphere S^2.
    Algorithm
        A answers ``alpha = -sgn(a . lambda1)`` and sends the bit
        ``c = sgn(a . lambda1) sgn(a . lambda2)`` to B, who answers
        ``beta = sgn(b . (lambda1 + c lambda2))``. With probability ``1 - V`` the pair is noise.
    Correlations
        Exactly the singlet, ``E = -V cos(a - b)`` with fair marginals (Toner & Bacon's theorem),
        so :meth:`behaviour` is analytic.
    Ontic table
        lambda is coarse-grained exactly into its deterministic response strategy (A's answer per
        setting, B's per setting pair). For planar settings the strategy depends on the azimuths
        ``psi1, psi2`` and on the ratio ``t = r2 / r1`` of the vectors' in-plane lengths only; the
        law of t is closed-form (:func:`~bellmodels.models._toner_bacon.ratio_cdf`), so the measure
        of each strategy is a 2-D integral over the torus of azimuths, computed by tensor Gauss-
        Legendre quadrature on the cells where every sign is constant (``nodes`` per cell edge,
        default 48; a Numba loop, :mod:`bellmodels.models._toner_bacon`); the total probability is
        exact. Inside a cell the integrand still has kinks (where two thresholds cross, and a log-
        singular derivative where t = 1), so convergence is algebraic, about N^-2. Measured max abs
        error of the table's behaviour against the exact singlet: < 1e-11 at the CHSH angles (the
        kinks fall on cell edges by symmetry); at angles offset by Normal(0, 0.05) draws 6e-6 ..
        8e-6 with 48 nodes (3e-5 with 24, 5e-6 with 64). The declared bound
        ``ontic_tolerance = 2e-5`` is checked in the tests at prior draws. (Splitting the inner
        integral at the kink curves, which are closed-form, would make it converge exponentially;
        not done.)
    Assumption dropped
        Parameter independence: B's answer depends on A's setting through the bit; the
        behaviour stays no-signalling (the bit is uniform whatever A's setting).
    Citation
        B. F. Toner & D. Bacon, "Communication cost of simulating Bell correlations",
        PRL 91, 187904 (2003).

    Example
    -------
    >>> from bellmodels import models
    >>> m = models.get("toner-bacon")
    >>> t = m.sample_trials(20_000, seed=0)
    >>> c = t.counts().values[0, 0]
    >>> bool(abs((c[0, 0] + c[1, 1] - c[0, 1] - c[1, 0]) / c.sum() + 0.7071) < 0.05)
    True
    """

    name = "toner-bacon"
    singlet_equivalent = True
    family = "nonlocal"
    assumption_dropped = "parameter independence (one classical bit from A to B)"
    citation = "Toner & Bacon, PRL 91, 187904 (2003)"
    ontic_tolerance = 2e-5
    """Max abs quadrature error of the ontic table's behaviour (documented above)."""

    def __init__(
        self,
        scenario: Scenario | None = None,
        *,
        offsets: bool = True,
        nodes: int = 48,
        **values: Any,
    ) -> None:
        if nodes < 2:
            raise ValueError(f"toner-bacon: nodes must be >= 2, got {nodes}")
        self.nodes = int(nodes)
        super().__init__(scenario, offsets=offsets, **values)

    def ontic_table(self, params: Mapping[str, Any] | None = None) -> OnticTable:
        p = self.params(params)
        a, b = self.angles(params)
        prob, alpha, beta = toner_bacon_strategies(a, b, self.nodes)
        resp = strategy_response(alpha, beta)
        labels = toner_bacon_labels(alpha, beta)
        return with_noise(prob, resp, labels, float(p["visibility"]), self.scenario)

    def ontic_tables(self, values: Mapping[str, Any]) -> OnticTables:
        """The tables of many draws at once, the same numbers as :meth:`ontic_table` of each.

        The quadrature runs once per draw (its cells depend on the draw's angles); the rest,
        the responses, the noise lambda, the padding of draws that list fewer strategies and
        the validation, is done once for the stack. Labels are kept when every draw lists the
        same strategies, as :meth:`~bellmodels.ontic.OnticTables.from_tables` keeps them.
        """
        if not uses_own(self, TonerBacon, ("ontic_table", "angles", "stacked_angles")):
            return super().ontic_tables(values)
        p = self.stacked_params(values)
        a, b = self.stacked_angles(p)
        parts = [toner_bacon_strategies(a[i], b[i], self.nodes) for i in range(a.shape[0])]
        if not parts:
            return super().ontic_tables(values)  # the loop's error for no draws
        n_lam = max(prob.size for prob, _, _ in parts) + 1  # and the noise lambda
        v = p["visibility"]
        p_lam = np.zeros((len(parts), self.scenario.n_a, self.scenario.n_b, n_lam))
        resp = np.full((*p_lam.shape, 2, 2), 0.25)  # the noise and the padding: fair coins
        for i, (prob, alpha, beta) in enumerate(parts):
            p_lam[i, :, :, : prob.size] = v[i] * prob
            p_lam[i, :, :, prob.size] = 1.0 - v[i]
            resp[i, :, :, : prob.size] = strategy_response(alpha, beta)
        _, alpha0, beta0 = parts[0]
        same = all(np.array_equal(x, alpha0) and np.array_equal(y, beta0) for _, x, y in parts)
        labels = [*toner_bacon_labels(alpha0, beta0), "noise"] if same else None
        return OnticTables(p_lam, resp, self.scenario, labels)

    def sample_trials(self, n: int, seed: int | None, setting_probs: Any = None) -> Trials:
        rng = np.random.default_rng(seed)
        p = self.params()
        a, b = self.angles()
        sa, sb = self.scenario.draw_settings(n, rng, setting_probs)
        lam1 = uniform_sphere(rng, n)
        lam2 = uniform_sphere(rng, n)
        va = planar_vectors(a)[sa.astype(int)]
        vb = planar_vectors(b)[sb.astype(int)]
        s1 = sign(np.einsum("ni,ni->n", va, lam1))
        s2 = sign(np.einsum("ni,ni->n", va, lam2))
        xa = -s1
        bit = s1 * s2  # the one bit A sends to B
        xb = sign(np.einsum("ni,ni->n", vb, lam1 + bit[:, None] * lam2))
        return self._finish_trials(rng, sa, sb, xa, xb, float(p["visibility"]))


def dirichlet_probit_parameter(name: str, n: int, description: str) -> Parameter:
    """Mixture weights, prior ``Dirichlet(ones(n))``, built from ``n`` standard normals.

    ``w = g / sum(g)`` with ``g = F^-1(Phi(z))`` the Exponential(1) quantile of a standard
    normal's CDF, ``g = -log(1 - Phi(z)) = -log(erfc(z / sqrt 2) / 2)`` (computed through
    ``erfcx``, stable on both tails): exactly the Dirichlet law of
    :func:`~bellmodels.models.local.dirichlet_parameter` (normalised Exponentials; Devroye 1986,
    ch. XI.4), but with a free variable ``<name>_z`` whose prior is Normal(0, 1). On the log
    scale a near-zero weight is a long linear tail (log density ``u - e^u``); here it is a
    Gaussian tail (``g ~ Phi(z)`` as ``z -> -inf``), and the large weights (``g ~ z^2 / 2``)
    stay smooth too. See :class:`NoSignalling` ("Posterior geometry") for why it matters.

    >>> dirichlet_probit_parameter("weights", 24, "").prior_repr
    'Dirichlet(ones(24))'
    """

    def prior(var: str) -> Any:
        import pymc as pm
        import pytensor.tensor as pt

        z = pm.Normal(f"{var}_z", 0.0, 1.0, shape=n)
        x = z / np.sqrt(2.0)
        g = x**2 - pt.log(0.5 * pt.erfcx(x))  # -log(erfc(x) / 2), erfc(x) = erfcx(x) e^(-x^2)
        return pm.Deterministic(var, g / g.sum())

    def to_free(var: str, value: np.ndarray) -> dict[str, np.ndarray]:
        from scipy.stats import norm

        # g = w itself (any positive g with g / sum(g) = w will do); zero weights sit just inside
        return {f"{var}_z": norm.isf(np.exp(-np.maximum(value, 1e-9)))}

    return Parameter(
        name,
        (n,),
        np.full(n, 1.0 / n),
        prior,
        f"Dirichlet(ones({n}))",
        description,
        to_free,
        support=Simplex(),
    )


def pr_boxes() -> tuple[np.ndarray, list[str]]:
    """The 8 PR boxes of the CHSH scenario, ``(8, 2, 2, 2, 2)`` with their labels.

    Box (r, s, t): outcome bits (index 0 <-> -1) obey ``x_a XOR x_b = s_a s_b XOR r s_a XOR
    s s_b XOR t``, each allowed pair with probability 1/2 (Popescu & Rohrlich 1994; Barrett et
    al., PRA 71, 022101 (2005) for the 8 extremal nonlocal boxes).

    >>> boxes, labels = pr_boxes()
    >>> boxes.shape, labels[0]
    ((8, 2, 2, 2, 2), 'PR000')
    """
    boxes = np.zeros((8, 2, 2, 2, 2))
    labels = []
    for k in range(8):
        r, s, t = (k >> 2) & 1, (k >> 1) & 1, k & 1
        for sa in range(2):
            for sb in range(2):
                parity = (sa * sb) ^ (r * sa) ^ (s * sb) ^ t
                for xa in range(2):
                    boxes[k, sa, sb, xa, xa ^ parity] = 0.5
        labels.append(f"PR{r}{s}{t}")
    return boxes, labels


@register()
class NoSignalling(VertexMixture, HiddenVariableModel):
    """The no-signalling polytope of the CHSH scenario: mixtures of PR boxes and local boxes.

    lambda
        One of the 24 extremal no-signalling boxes: the 16 local deterministic strategies and
        the 8 PR boxes.
    Algorithm
        Draw the box from the weights. A local box answers from its table; a PR box draws A's
        outcome as a fair coin and sets B's from ``x_a XOR x_b = s_a s_b XOR r s_a XOR s s_b
        XOR t`` (it needs both settings: a nonlocal resource, though it cannot signal).
    Correlations
        Anything no-signalling, up to the algebraic ``|S| = 4`` (one PR box).
    Assumption dropped
        Outcome independence (and Tsirelson's bound): a PR box has fair marginals (parameter
        independence holds) but perfectly correlated outcomes.
    Restriction
        Only two settings per party: for K > 2 the nonlocal vertices of the no-signalling
        polytope are not the PR boxes alone (Barrett et al. 2005) and are not enumerated here.
    Posterior geometry
        The prior is ``Dirichlet(ones(24))``. The behaviours form the no-signalling polytope,
        of dimension 8 in the CHSH scenario (Barrett et al. 2005), so at 10^5 trials the
        likelihood pins 8 linear combinations of the 24 weights (to ~0.003) and leaves the
        other 15 directions of the simplex to the prior (uniform on the fibre of weights with
        one behaviour); most weights sit near 0 (~0.01), one PR box near 0.68 on singlet data.
        Two choices follow. The weights' free variables are standard normals mapped through
        the Exponential quantile (:func:`dirichlet_probit_parameter`: the same Dirichlet law),
        because on the log scale of normalised Exponentials a near-zero weight sits in a long,
        linear left tail (log density ``u - e^u``) where NUTS diverges; the quantile map gives
        that tail a Gaussian shape. And the model declares ``mass_matrix = "full"``: the pinned
        combinations are oblique to the free variables (each mixes the heavy PR box with most
        local boxes), which a diagonal metric can follow only with small steps, while the dense
        metric PyMC adapts rescales them. Same prior, so the same evidence and LOO up to Monte
        Carlo error. The main job's ESS, R-hat and divergences per seed are in
        ``docs/generated/gate_margin.md`` (``python benchmarks/gate_margin.py``).
    Citation
        S. Popescu & D. Rohrlich, "Quantum nonlocality as an axiom", Found. Phys. 24, 379
        (1994); J. Barrett et al., PRA 71, 022101 (2005).

    Example
    -------
    >>> import numpy as np
    >>> from bellmodels import models
    >>> m = models.get("no-signalling")
    >>> w = np.zeros(24); w[16] = 1.0                # the PR box 'PR000'
    >>> p = m.behaviour({"weights": w})
    >>> E = p[..., 0, 0] + p[..., 1, 1] - p[..., 0, 1] - p[..., 1, 0]
    >>> float(E[0, 0] + E[0, 1] + E[1, 0] - E[1, 1])
    4.0
    """

    name = "no-signalling"
    family = "nonlocal"
    assumption_dropped = "outcome independence and Tsirelson's bound (PR boxes)"
    citation = "Popescu & Rohrlich, Found. Phys. 24, 379 (1994)"
    mass_matrix = "full"  # the data pin oblique combinations of the weights (see above)

    def __init__(self, scenario: Scenario | None = None, **values: Any) -> None:
        scn = scenario if scenario is not None else Scenario.chsh()
        if scn.n_a != 2 or scn.n_b != 2:
            raise ValueError(
                f"no-signalling is implemented for 2 settings per party only (its nonlocal "
                f"vertices are the 8 PR boxes); got {scn.n_a} x {scn.n_b} settings"
            )
        super().__init__(scn, **values)

    @property
    def parameters(self) -> dict[str, Parameter]:
        return {
            "weights": dirichlet_probit_parameter(
                "weights", 24, "probability of each box: 16 local deterministic, then 8 PR boxes"
            )
        }

    def boxes(self) -> tuple[np.ndarray, list[str]]:
        """The 24 vertex boxes ``(24, 2, 2, 2, 2)`` (local first, then PR) and their labels."""
        loc, loc_labels = local_deterministic_strategies(self.scenario)
        pr, pr_labels = pr_boxes()
        return np.concatenate([loc, pr]), [*loc_labels, *pr_labels]

    def sample_trials(self, n: int, seed: int | None, setting_probs: Any = None) -> Trials:
        rng = np.random.default_rng(seed)
        w = self._weights(None)
        sa, sb = self.scenario.draw_settings(n, rng, setting_probs)
        box = rng.choice(24, size=n, p=w / w.sum())
        sa_i, sb_i = sa.astype(int), sb.astype(int)
        # local boxes: strategy bits (A's two, then B's two; first setting = top bit)
        bits = (np.minimum(box, 15)[:, None] >> np.array([3, 2, 1, 0])[None, :]) & 1
        xa = bits[np.arange(n), sa_i]
        xb = bits[np.arange(n), 2 + sb_i]
        # PR boxes: A's bit a fair coin, B's fixed by the box's parity rule
        pr = box >= 16
        k = box - 16
        r, s, t = (k >> 2) & 1, (k >> 1) & 1, k & 1
        coin = rng.integers(0, 2, size=n)
        parity = (sa_i * sb_i) ^ (r * sa_i) ^ (s * sb_i) ^ t
        xa = np.where(pr, coin, xa)
        xb = np.where(pr, coin ^ parity, xb)
        return Trials(
            self.scenario, sa, sb, (2 * xa - 1).astype(np.int8), (2 * xb - 1).astype(np.int8)
        )


__all__ = [
    "NoSignalling",
    "QuantumSinglet",
    "TonerBacon",
    "dirichlet_probit_parameter",
    "pr_boxes",
    "ratio_cdf",
]
