"""Local, measurement-independent models: the local polytope and Bell's 1964 model.

Both obey Bell's assumptions (measurement independence, parameter and outcome independence), so
every behaviour they produce lies in the local polytope and satisfies ``|S| <= 2``.

The planar-geometry building blocks the sphere models share (``arc_partition``,
``with_noise``, ``deterministic_response``, ...) are documented in
:mod:`bellmodels.models.blocks` and importable from here too.

Example
-------
>>> import numpy as np
>>> from bellmodels import models
>>> p = models.get("bell1964").behaviour()
>>> E = p[..., 0, 0] + p[..., 1, 1] - p[..., 0, 1] - p[..., 1, 0]
>>> float(E[0, 0] + E[0, 1] + E[1, 0] - E[1, 1])   # Bell's model saturates the local bound
-2.0
"""

from __future__ import annotations

import json
from collections.abc import Hashable, Mapping
from typing import Any, ClassVar

import numpy as np

from bellmodels._util import to_jsonable
from bellmodels.data import Trials
from bellmodels.models._batch import uses_own
from bellmodels.models.base import HiddenVariableModel, Parameter
from bellmodels.models.blocks import (  # re-exported: the sphere models import them from here
    TWO_PI,
    arc_partition,
    arc_partition_stack,
    arc_signs,
    deterministic_response,
    planar_vectors,
    sawtooth,
    sign,
    strategy_labels,
    uniform_sphere,
    with_noise,
    with_noise_stack,
    wrap_angle,
)
from bellmodels.models.priors import Beta, Dirichlet, Normal
from bellmodels.models.registry import register
from bellmodels.ontic import OnticTable, OnticTables, local_deterministic_strategies
from bellmodels.scenario import Scenario

# sign of x_a * x_b for outcome indices (0 <-> -1, 1 <-> +1)
PRODUCT_SIGN = np.array([[1.0, -1.0], [-1.0, 1.0]])

OFFSET_SD = 0.05


# ---------------------------------------------------------------------------------------------
# Parameters shared by the planar models
# ---------------------------------------------------------------------------------------------
def visibility_parameter() -> Parameter:
    """The visibility V (weight of the ideal model; 1 - V goes to a noise lambda).

    Prior ``Beta(2, 1)`` (density ``2 V``): full support on (0, 1), so data with any visibility
    can be fitted, and a mild, monotone preference for high visibility (prior mean 2/3,
    P(V < 0.5) = 1/4) that real Bell data (V ~ 0.9 - 0.99) overrides at once.

    >>> visibility_parameter().prior_repr
    'Beta(2, 1)'
    """

    return Parameter(
        "visibility",
        (),
        1.0,
        Beta(2, 1),
        description="weight of the ideal model; 1 - V is a settings-independent noise lambda "
        "(independent fair local outcomes)",
    )


def offset_parameters(scenario: Scenario) -> dict[str, Parameter]:
    """Small angle offsets per setting, ``Normal(0, 0.05)`` rad, default 0.

    They absorb small analyser misalignments of real data. A common rotation of all settings is
    not identified by data (the models are rotation invariant); the proper prior fixes it.

    >>> sorted(offset_parameters(Scenario.chsh()))
    ['offset_a', 'offset_b']
    """

    def make(party: str, k: int) -> Parameter:
        return Parameter(
            f"offset_{party}",
            (k,),
            np.zeros(k),
            Normal(0.0, OFFSET_SD),
            description=f"offsets (rad) added to party {party.upper()}'s analyser angles",
        )

    return {"offset_a": make("a", scenario.n_a), "offset_b": make("b", scenario.n_b)}


def dirichlet_parameter(name: str, n: int, description: str) -> Parameter:
    """Mixture weights over ``n`` boxes, prior ``Dirichlet(ones(n))`` (uniform on the simplex).

    Built as normalised independent Exponential(1) variables, ``w = g / sum(g)`` with the ``g``
    sampled on the log scale (a free variable ``<name>_gamma`` next to the ``Deterministic``
    ``<name>``): the same Dirichlet law (Devroye, *Non-Uniform Random Variate Generation*,
    Springer 1986, ch. XI.4), but a geometry NUTS handles better than PyMC's stick-breaking
    simplex: with many trials most weights sit near the simplex's faces, where stick-breaking
    made NUTS diverge and the gamma form does not. (``no-signalling`` uses
    :func:`bellmodels.models.nonlocal_.dirichlet_probit_parameter`, the same law.)

    >>> dirichlet_parameter("weights", 16, "").prior_repr
    'Dirichlet(ones(16))'
    """

    return Parameter(name, (n,), np.full(n, 1.0 / n), Dirichlet(n), description=description)


class PlanarModel:
    """Mixin for the models whose settings are directions in a plane (listed before
    :class:`HiddenVariableModel` in the bases, so its methods fill the abstract ones).

    Parameters: ``visibility`` and, unless ``offsets=False``, ``offset_a`` / ``offset_b``.
    The behaviour is ``p(x_a, x_b | a, b) = (1 + x_a x_b V E(a - b)) / 4`` with the ideal
    correlator :meth:`correlator` (default the singlet's ``-cos``); marginals are fair.
    """

    scenario: Scenario
    values: dict[str, Any]
    params: Any
    singlet_equivalent: ClassVar[bool] = False
    """Whether the model claims the singlet's behaviour ``E = -V cos(a - b)`` with this mixin's
    parameters and priors (``quantum-singlet``, ``toner-bacon``, ``brans``, ``hall2010``,
    ``dlr-one-sided``): then :meth:`observational_family` declares one key for all of them."""

    def __init__(self, scenario: Scenario | None = None, *, offsets: bool = True, **values: Any):
        self.offsets = bool(offsets)
        super().__init__(scenario, **values)  # type: ignore[call-arg]

    def observational_family(self) -> Hashable | None:
        """The planar singlet family's key, for a model that claims it (``singlet_equivalent``)
        and still computes its likelihood and priors with this mixin's own methods: a subclass
        that overrides the correlator, the behaviour, the parameters or the priors, or declares
        a coincidence rate, shares with nobody. The key holds what else changes the fit: the
        scenario, ``offsets``, fixed parameter values and the declared sampler preference,
        start and mass matrix (see :meth:`HiddenVariableModel.observational_family`).

        >>> from bellmodels import models
        >>> a = models.get("brans").observational_family()
        >>> a == models.get("dlr-one-sided").observational_family()
        True
        >>> a == models.get("brans", offsets=False).observational_family()
        False
        """
        cls = type(self)
        own = ("parameters", "correlator", "angles_tensor", "behaviour_tensor")
        if not cls.singlet_equivalent or any(
            getattr(cls, n) is not getattr(PlanarModel, n) for n in own
        ):
            return None
        base = HiddenVariableModel
        if any(
            getattr(cls, n) is not getattr(base, n)
            for n in ("prior_variables", "coincidence_rate_tensor", "parameter_symmetries")
        ):
            return None
        return (
            "planar-singlet",
            self.scenario.to_json(),
            self.offsets,
            json.dumps(to_jsonable(self.values), sort_keys=True),
            getattr(cls, "init", "prior"),
            tuple(getattr(cls, "samplers", ())),
            getattr(cls, "mass_matrix", "diag"),
        )

    @property
    def parameters(self) -> dict[str, Parameter]:
        out = {"visibility": visibility_parameter()}
        if self.offsets:
            out.update(offset_parameters(self.scenario))
        return out

    def angles(self, params: Mapping[str, Any] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Effective analyser angles (scenario angles + offsets), numpy."""
        p = self.params(params)
        a = np.asarray(self.scenario.angles_a, dtype=float)
        b = np.asarray(self.scenario.angles_b, dtype=float)
        if self.offsets:
            a = a + p["offset_a"]
            b = b + p["offset_b"]
        return a, b

    def stacked_angles(self, params: Mapping[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`angles` of many draws, ``(N, K_a)`` and ``(N, K_b)``, from
        :meth:`~bellmodels.models.HiddenVariableModel.stacked_params` (the same sums)."""
        n = next(iter(params.values())).shape[0]
        a = np.asarray(self.scenario.angles_a, dtype=float)
        b = np.asarray(self.scenario.angles_b, dtype=float)
        if self.offsets:
            return a + params["offset_a"], b + params["offset_b"]
        return np.broadcast_to(a, (n, a.size)), np.broadcast_to(b, (n, b.size))

    def angles_tensor(self, params: Mapping[str, Any]) -> tuple[Any, Any]:
        """Effective angles as PyTensor expressions."""
        import pytensor.tensor as pt

        a = pt.as_tensor_variable(np.asarray(self.scenario.angles_a, dtype=float))
        b = pt.as_tensor_variable(np.asarray(self.scenario.angles_b, dtype=float))
        if self.offsets:
            a = a + params["offset_a"]
            b = b + params["offset_b"]
        return a, b

    @staticmethod
    def correlator(delta: Any, lib: Any = np) -> Any:
        """E(delta) of the ideal model; default the singlet ``-cos(delta)``."""
        return -lib.cos(delta)

    def behaviour(self, params: Mapping[str, Any] | None = None) -> np.ndarray:
        p = self.params(params)
        a, b = self.angles(params)
        e = float(p["visibility"]) * self.correlator(np.subtract.outer(a, b))
        return (1.0 + e[:, :, None, None] * PRODUCT_SIGN) / 4.0

    def behaviour_tensor(self, params: Mapping[str, Any]) -> Any:
        import pytensor.tensor as pt

        a, b = self.angles_tensor(params)
        delta = a[:, None] - b[None, :]
        e = params["visibility"] * self.correlator(delta, lib=pt)
        return (1.0 + e[:, :, None, None] * pt.as_tensor_variable(PRODUCT_SIGN)) / 4.0

    def _noise_mask(self, rng: np.random.Generator, n: int, visibility: float) -> np.ndarray:
        return rng.random(n) >= visibility

    def _finish_trials(
        self,
        rng: np.random.Generator,
        sa: np.ndarray,
        sb: np.ndarray,
        xa: np.ndarray,
        xb: np.ndarray,
        visibility: float,
    ) -> Trials:
        """Replace the outcomes of noise trials (probability 1 - V) by independent fair coins."""
        noise = self._noise_mask(rng, sa.size, visibility)
        k = int(noise.sum())
        xa = np.where(noise, 0, xa)
        xb = np.where(noise, 0, xb)
        xa[noise] = rng.choice(np.array([-1, 1]), size=k)
        xb[noise] = rng.choice(np.array([-1, 1]), size=k)
        return Trials(self.scenario, sa, sb, xa.astype(np.int8), xb.astype(np.int8))


# ---------------------------------------------------------------------------------------------
# Models
# ---------------------------------------------------------------------------------------------
class VertexMixture:
    """A model that is a weighted mixture of fixed vertex boxes, weights on the simplex.

    Shared by ``local-polytope`` (vertices: the local deterministic strategies) and
    ``no-signalling`` (those plus the PR boxes). A subclass gives ``boxes()`` and a
    ``weights`` parameter; lambda is the vertex, so the ontic table is exact.
    """

    name: str
    scenario: Scenario
    params: Any
    stacked_params: Any

    def boxes(self) -> tuple[np.ndarray, list[str]]:
        """The vertex boxes ``(L, K_a, K_b, 2, 2)`` and their labels."""
        raise NotImplementedError

    def _weights(self, params: Mapping[str, Any] | None) -> np.ndarray:
        # params() checks the weights against the simplex (a negative weight is named)
        return np.clip(self.params(params)["weights"], 0.0, None)

    def behaviour(self, params: Mapping[str, Any] | None = None) -> np.ndarray:
        boxes, _ = self.boxes()
        return np.einsum("l,labxy->abxy", self._weights(params), boxes)

    def behaviour_tensor(self, params: Mapping[str, Any]) -> Any:
        import pytensor.tensor as pt

        boxes, _ = self.boxes()
        flat = pt.as_tensor_variable(boxes.reshape(boxes.shape[0], -1))
        return pt.dot(params["weights"], flat).reshape(self.scenario.shape)

    def ontic_table(self, params: Mapping[str, Any] | None = None) -> OnticTable:
        boxes, labels = self.boxes()
        return OnticTable(self._weights(params), np.moveaxis(boxes, 0, 2), self.scenario, labels)

    def ontic_tables(self, values: Mapping[str, Any]) -> OnticTables:
        """The tables of many draws at once: the weights of each draw over the same boxes.

        lambda is the vertex (a local deterministic strategy, Fine 1982, or a PR box) and only
        its weights change from draw to draw, so the stack is the ``(N, L)`` weights beside one
        response, the boxes (the loop of the base class for a subclass that redefines the table
        or the weights)."""
        if not uses_own(self, VertexMixture, ("ontic_table", "_weights")):
            return HiddenVariableModel.ontic_tables(self, values)  # type: ignore[arg-type]
        weights = np.clip(self.stacked_params(values)["weights"], 0.0, None)
        boxes, labels = self.boxes()
        return OnticTables(weights, np.moveaxis(boxes, 0, 2), self.scenario, labels)


@register()
class LocalPolytope(VertexMixture, HiddenVariableModel):
    """The most general local, measurement-independent model: a mixture of local strategies.

    lambda
        One of the ``2^(K_a + K_b)`` local deterministic response strategies (16 for CHSH):
        A's outcome for each of A's settings and B's for each of B's.
    Algorithm
        Draw lambda from the weights; each party reads its own setting's entry of lambda.
    Assumption dropped
        None: this is Bell's local hidden-variable theory in full generality. Fine showed that
        every local behaviour is such a mixture (A. Fine, PRL 48, 291 (1982)), so ``|S| <= 2``
        (Bell, Physics 1, 195 (1964); Clauser, Horne, Shimony & Holt, PRL 23, 880 (1969)).
    Parameters
        ``weights`` on the simplex, prior ``Dirichlet(ones(L))`` (uniform on the simplex);
        default the uniform mixture (the prior mean).

    Example
    -------
    >>> import numpy as np
    >>> from bellmodels import models
    >>> m = models.get("local-polytope")
    >>> w = np.zeros(16); w[0] = 1.0          # strategy '--;--': everyone answers -1
    >>> float(m.behaviour({"weights": w})[1, 0, 0, 0])
    1.0
    >>> m.ontic_table().n_lambda
    16
    """

    name = "local-polytope"
    family = "local"
    assumption_dropped = "none (local and measurement-independent)"
    citation = "Bell, Physics 1, 195 (1964); Fine, PRL 48, 291 (1982)"

    @property
    def parameters(self) -> dict[str, Parameter]:
        n = 2 ** (self.scenario.n_a + self.scenario.n_b)
        return {
            "weights": dirichlet_parameter(
                "weights", n, "probability of each local deterministic strategy"
            )
        }

    def boxes(self) -> tuple[np.ndarray, list[str]]:
        """The local deterministic strategies ``(2^(K_a+K_b), K_a, K_b, 2, 2)`` and labels."""
        return local_deterministic_strategies(self.scenario)

    def sample_trials(self, n: int, seed: int | None, setting_probs: Any = None) -> Trials:
        rng = np.random.default_rng(seed)
        w = self._weights(None)
        sa, sb = self.scenario.draw_settings(n, rng, setting_probs)
        ka, kb = self.scenario.n_a, self.scenario.n_b
        lam = rng.choice(w.size, size=n, p=w / w.sum())
        # strategy index -> outcome bits, in the order of local_deterministic_strategies
        # (itertools.product over A's settings, then B's: the first setting is the top bit)
        bits = (lam[:, None] >> np.arange(ka + kb - 1, -1, -1)[None, :]) & 1
        xa = bits[np.arange(n), sa.astype(int)]
        xb = bits[np.arange(n), ka + sb.astype(int)]
        return Trials(
            self.scenario, sa, sb, (2 * xa - 1).astype(np.int8), (2 * xb - 1).astype(np.int8)
        )


@register()
class Bell1964(PlanarModel, HiddenVariableModel):
    """Bell's own local hidden-variable model with linear ("sawtooth") correlations.

    lambda
        A unit vector uniform on the sphere S^2 (the same for every setting pair).
    Algorithm
        Draw lambda; A answers ``sgn(a . lambda)``, B answers ``-sgn(b . lambda)``. With
        probability ``1 - V`` the pair is noise: independent fair outcomes.
    Correlations
        ``E(a, b) = -V (1 - 2 theta / pi)``, theta the angle between a and b: exact anticorrelation
        at theta = 0, linear in between, so ``|S| = 2`` at the CHSH angles and never more.
    Ontic table
        Exact: for planar settings the response depends only on lambda's azimuth, so lambda is
        coarse-grained into arcs (one response strategy each) with probability arc/(2 pi).
    Assumption dropped
        None (local and measurement-independent); it cannot reproduce the cosine law.
    Citation
        J. S. Bell, "On the Einstein Podolsky Rosen paradox", Physics 1, 195 (1964).

    Example
    -------
    >>> from bellmodels import models
    >>> m = models.get("bell1964")
    >>> p = m.behaviour()
    >>> float(round(p[0, 0, 0, 0] + p[0, 0, 1, 1], 6))   # P(same) at 45 degrees
    0.25
    >>> m.ontic_table().n_lambda    # 8 arcs + the (here unused) noise lambda
    9
    """

    name = "bell1964"
    family = "local"
    assumption_dropped = "none (local and measurement-independent; linear correlations)"
    citation = "Bell, Physics 1, 195 (1964)"

    @staticmethod
    def correlator(delta: Any, lib: Any = np) -> Any:
        return sawtooth(delta, lib)

    def ontic_table(self, params: Mapping[str, Any] | None = None) -> OnticTable:
        p = self.params(params)
        a, b = self.angles(params)
        lo, hi = arc_partition(a, b)
        xa = arc_signs(lo, hi, a)
        xb = -arc_signs(lo, hi, b)
        return with_noise(
            (hi - lo) / TWO_PI,
            deterministic_response(xa, xb),
            strategy_labels(xa, xb),
            float(p["visibility"]),
            self.scenario,
        )

    def ontic_tables(self, values: Mapping[str, Any]) -> OnticTables:
        """The tables of many draws at once: :meth:`ontic_table`'s arcs of lambda's azimuth
        (Bell, Physics 1, 195 (1964)), cut for every draw's angles by
        :func:`~bellmodels.models.blocks.arc_partition_stack`.

        A draw whose cuts coincide has fewer arcs; its table ends in empty arcs (probability 0)
        before the noise lambda, which change no audit number. Lambda labels (the strategy of
        each arc) differ from draw to draw and are not kept."""
        if not uses_own(self, Bell1964, ("ontic_table", "angles", "stacked_angles")):
            return super().ontic_tables(values)
        p = self.stacked_params(values)
        a, b = self.stacked_angles(p)
        lo, hi, real = arc_partition_stack(a, b)
        xa = arc_signs(lo, hi, a)  # (N, arcs, K_a)
        xb = -arc_signs(lo, hi, b)
        resp = np.where(real[:, None, None, :, None, None], deterministic_response(xa, xb), 0.25)
        return with_noise_stack((hi - lo) / TWO_PI, resp, None, p["visibility"], self.scenario)

    def sample_trials(self, n: int, seed: int | None, setting_probs: Any = None) -> Trials:
        rng = np.random.default_rng(seed)
        p = self.params()
        a, b = self.angles()
        sa, sb = self.scenario.draw_settings(n, rng, setting_probs)
        lam = uniform_sphere(rng, n)
        va = planar_vectors(a)[sa.astype(int)]
        vb = planar_vectors(b)[sb.astype(int)]
        xa = sign(np.einsum("ni,ni->n", va, lam))
        xb = -sign(np.einsum("ni,ni->n", vb, lam))
        return self._finish_trials(rng, sa, sb, xa, xb, float(p["visibility"]))


__all__ = [
    "TWO_PI",
    "Bell1964",
    "LocalPolytope",
    "PlanarModel",
    "VertexMixture",
    "arc_partition",
    "arc_partition_stack",
    "arc_signs",
    "deterministic_response",
    "dirichlet_parameter",
    "offset_parameters",
    "planar_vectors",
    "sawtooth",
    "sign",
    "strategy_labels",
    "uniform_sphere",
    "visibility_parameter",
    "with_noise",
    "with_noise_stack",
    "wrap_angle",
]
