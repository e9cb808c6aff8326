"""Declarative priors and parameter supports: a model states a prior once, as a value.

A :class:`~bellmodels.models.Parameter` takes one of these specs as its ``prior``; from it follow
the PyMC variable (built lazily inside a ``pm.Model``, so importing a model never imports PyMC),
the readable ``prior_repr`` saved in a fit's attrs, the start values of chains (``to_free``)
and the parameter's **support**, which the model's constructor checks every value against
(``models.get("quantum-singlet", visibility=1.5)`` names the parameter, the value and the range).
The distributions are PyMC's (``pm.Beta``, ``pm.Uniform``, ``pm.Normal``, ``pm.HalfNormal``);
the Dirichlet is built as normalised Gamma variables (Devroye, *Non-Uniform Random Variate
Generation*, Springer 1986, ch. XI.4), a geometry NUTS handles better near the simplex's faces
than PyMC's stick-breaking transform (see :func:`bellmodels.models.local.dirichlet_parameter`).

>>> Beta(2, 1)
Beta(2, 1)
>>> Beta(2, 1).support
Interval(lower=0.0, upper=1.0)
>>> Dirichlet(16), Dirichlet([2.0, 1.0]).support
(Dirichlet(ones(16)), Simplex())
>>> Interval(0, 1).violation(1.5)
'1.5 is outside [0, 1]'
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

ATOL = 1e-9
"""Tolerance of the support checks (posterior draws may sit a rounding error outside)."""


@dataclasses.dataclass(frozen=True)
class Interval:
    """The closed interval ``[lower, upper]`` every entry of a parameter must lie in.

    Closed, so that a boundary default (visibility 1, the ideal model) is allowed even where the
    prior's density is open there.

    >>> Interval(0, 1).violation(np.array([0.2, -0.1]))
    'entry 1 is -0.1, outside [0, 1]'
    >>> Interval(0, 1).violation(1.0) is None
    True
    """

    lower: float = -math.inf
    upper: float = math.inf

    def __post_init__(self) -> None:
        object.__setattr__(self, "lower", float(self.lower))
        object.__setattr__(self, "upper", float(self.upper))
        if not self.lower < self.upper:
            raise ValueError(f"an interval needs lower < upper, got [{self.lower}, {self.upper}]")

    def violation(self, value: Any, atol: float = ATOL) -> str | None:
        """``None`` when every entry lies in the interval (within ``atol``), else what is wrong."""
        arr = np.asarray(value, dtype=float)
        bad = ~((arr >= self.lower - atol) & (arr <= self.upper + atol))  # NaN is bad too
        if not bad.any():
            return None
        if arr.ndim == 0:
            return f"{arr.item():g} is outside {self}"
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        where = idx[0] if len(idx) == 1 else idx
        return f"entry {where} is {arr[idx]:g}, outside {self}"

    def __str__(self) -> str:
        return f"[{self.lower:g}, {self.upper:g}]"


@dataclasses.dataclass(frozen=True)
class Simplex:
    """Non-negative weights that sum to one (a probability vector).

    >>> Simplex().violation([0.5, 0.6, -0.1])
    'weight 2 is negative (-0.1): weights must lie on the simplex (each >= 0, sum 1)'
    >>> Simplex().violation([0.5, 0.6])
    'the weights sum to 1.1, not 1: weights must lie on the simplex (each >= 0, sum 1)'
    """

    _RULE = "weights must lie on the simplex (each >= 0, sum 1)"

    def violation(self, value: Any, atol: float = ATOL) -> str | None:
        """``None`` on the simplex (within ``atol``), else which weight is wrong and how."""
        w = np.asarray(value, dtype=float)
        neg = np.flatnonzero(~(w >= -atol))
        if neg.size:
            k = int(neg[0])
            return f"weight {k} is negative ({w[k]:g}): {self._RULE}"
        total = float(w.sum())
        if not abs(total - 1.0) <= max(atol, 1e-9):
            return f"the weights sum to {total:.10g}, not 1: {self._RULE}"
        return None

    def __str__(self) -> str:
        return "the simplex"


Support = Interval | Simplex


def _fmt(x: float) -> str:
    return f"{float(x):g}"


@dataclasses.dataclass(frozen=True)
class Prior:
    """Base of the prior specs: ``spec(name)`` builds the PyMC variable (in a model context).

    ``shape`` is the parameter's shape (set by :class:`~bellmodels.models.Parameter` from its own
    ``shape``); ``support`` the values the prior can produce, which the model checks every value
    against; ``default`` a natural default (the prior mean) when a parameter gives none.
    """

    shape: tuple[int, ...] = ()

    @property
    def support(self) -> Support:
        return Interval()

    def __call__(self, name: str) -> Any:
        raise NotImplementedError

    def to_free(self, name: str, value: np.ndarray) -> dict[str, np.ndarray] | None:
        """Values of the free PyMC variables at ``value`` (``None``: the parameter is free)."""
        return None

    def mean(self) -> np.ndarray:
        """The prior mean, broadcast to ``shape`` (the default of a parameter that gives none)."""
        raise NotImplementedError

    def with_shape(self, shape: tuple[int, ...]) -> Prior:
        """A copy bound to ``shape``."""
        return dataclasses.replace(self, shape=tuple(shape))


def _pm() -> Any:
    import pymc as pm

    return pm


@dataclasses.dataclass(frozen=True, repr=False)
class Beta(Prior):
    """``Beta(alpha, beta)`` on [0, 1] (``pm.Beta``).

    >>> Beta(2, 1).mean()
    array(0.66666667)
    """

    alpha: float = 1.0
    beta: float = 1.0

    def __init__(self, alpha: float, beta: float, *, shape: tuple[int, ...] = ()) -> None:
        object.__setattr__(self, "alpha", float(alpha))
        object.__setattr__(self, "beta", float(beta))
        object.__setattr__(self, "shape", tuple(shape))

    @property
    def support(self) -> Support:
        return Interval(0.0, 1.0)

    def __call__(self, name: str) -> Any:
        return _pm().Beta(name, alpha=self.alpha, beta=self.beta, shape=self.shape or None)

    def mean(self) -> np.ndarray:
        return np.full(self.shape, self.alpha / (self.alpha + self.beta))

    def __repr__(self) -> str:
        return f"Beta({_fmt(self.alpha)}, {_fmt(self.beta)})"


@dataclasses.dataclass(frozen=True, repr=False)
class Uniform(Prior):
    """``Uniform(lower, upper)`` (``pm.Uniform``).

    >>> Uniform(0, 1), Uniform(0, 1).support
    (Uniform(0, 1), Interval(lower=0.0, upper=1.0))
    """

    lower: float = 0.0
    upper: float = 1.0

    def __init__(self, lower: float, upper: float, *, shape: tuple[int, ...] = ()) -> None:
        object.__setattr__(self, "lower", float(lower))
        object.__setattr__(self, "upper", float(upper))
        object.__setattr__(self, "shape", tuple(shape))
        Interval(lower, upper)  # checks lower < upper

    @property
    def support(self) -> Support:
        return Interval(self.lower, self.upper)

    def __call__(self, name: str) -> Any:
        return _pm().Uniform(name, lower=self.lower, upper=self.upper, shape=self.shape or None)

    def mean(self) -> np.ndarray:
        return np.full(self.shape, 0.5 * (self.lower + self.upper))

    def __repr__(self) -> str:
        return f"Uniform({_fmt(self.lower)}, {_fmt(self.upper)})"


@dataclasses.dataclass(frozen=True, repr=False)
class Normal(Prior):
    """``Normal(mu, sigma)`` on the real line (``pm.Normal``).

    >>> Normal(0, 0.05)
    Normal(0, 0.05)
    """

    mu: float = 0.0
    sigma: float = 1.0

    def __init__(self, mu: float, sigma: float, *, shape: tuple[int, ...] = ()) -> None:
        if not sigma > 0:
            raise ValueError(f"Normal needs sigma > 0, got {sigma}")
        object.__setattr__(self, "mu", float(mu))
        object.__setattr__(self, "sigma", float(sigma))
        object.__setattr__(self, "shape", tuple(shape))

    def __call__(self, name: str) -> Any:
        return _pm().Normal(name, mu=self.mu, sigma=self.sigma, shape=self.shape or None)

    def mean(self) -> np.ndarray:
        return np.full(self.shape, self.mu)

    def __repr__(self) -> str:
        return f"Normal({_fmt(self.mu)}, {_fmt(self.sigma)})"


@dataclasses.dataclass(frozen=True, repr=False)
class HalfNormal(Prior):
    """``HalfNormal(sigma)`` on [0, inf) (``pm.HalfNormal``).

    >>> HalfNormal(1).support
    Interval(lower=0.0, upper=inf)
    """

    sigma: float = 1.0

    def __init__(self, sigma: float, *, shape: tuple[int, ...] = ()) -> None:
        if not sigma > 0:
            raise ValueError(f"HalfNormal needs sigma > 0, got {sigma}")
        object.__setattr__(self, "sigma", float(sigma))
        object.__setattr__(self, "shape", tuple(shape))

    @property
    def support(self) -> Support:
        return Interval(0.0, math.inf)

    def __call__(self, name: str) -> Any:
        return _pm().HalfNormal(name, sigma=self.sigma, shape=self.shape or None)

    def mean(self) -> np.ndarray:
        return np.full(self.shape, self.sigma * math.sqrt(2.0 / math.pi))

    def __repr__(self) -> str:
        return f"HalfNormal({_fmt(self.sigma)})"


@dataclasses.dataclass(frozen=True, repr=False)
class Dirichlet(Prior):
    """``Dirichlet(alpha)`` on the simplex; ``Dirichlet(n)`` is ``Dirichlet(ones(n))``.

    Built as ``w = g / sum(g)`` with independent ``g_i ~ Gamma(alpha_i, 1)`` (Exponential(1) for
    ``alpha_i = 1``) in a free variable ``<name>_gamma`` beside the ``Deterministic`` ``<name>``:
    the Dirichlet law (Devroye 1986, ch. XI.4).

    >>> Dirichlet(4).shape, Dirichlet(4).mean()
    ((4,), array([0.25, 0.25, 0.25, 0.25]))
    >>> sorted(Dirichlet(2).to_free("w", np.array([0.0, 1.0])))
    ['w_gamma']
    """

    alpha: tuple[float, ...] = (1.0,)

    def __init__(self, alpha: int | Any, *, shape: tuple[int, ...] | None = None) -> None:
        a = np.ones(int(alpha)) if np.ndim(alpha) == 0 else np.asarray(alpha, dtype=float)
        if a.ndim != 1 or a.size < 2 or not np.all(a > 0):
            raise ValueError(f"Dirichlet needs >= 2 positive concentrations, got {alpha!r}")
        object.__setattr__(self, "alpha", tuple(float(x) for x in a))
        if shape is not None and tuple(shape) != (a.size,):
            raise ValueError(
                f"a Dirichlet over {a.size} weights has shape ({a.size},), not {shape}"
            )
        object.__setattr__(self, "shape", (a.size,))

    def with_shape(self, shape: tuple[int, ...]) -> Prior:
        if tuple(shape) != self.shape:
            raise ValueError(f"{self!r} has shape {self.shape}, the parameter {tuple(shape)}")
        return self

    @property
    def support(self) -> Support:
        return Simplex()

    def __call__(self, name: str) -> Any:
        pm = _pm()
        a = np.asarray(self.alpha)
        if np.all(a == 1.0):
            g = pm.Exponential(f"{name}_gamma", 1.0, shape=a.size)
        else:
            g = pm.Gamma(f"{name}_gamma", alpha=a, beta=1.0, shape=a.size)
        return pm.Deterministic(name, g / g.sum())

    def to_free(self, name: str, value: np.ndarray) -> dict[str, np.ndarray]:
        # any positive g with g / sum(g) = w will do; zero weights sit just inside the support
        return {f"{name}_gamma": np.maximum(np.asarray(value, dtype=float), 1e-9)}

    def mean(self) -> np.ndarray:
        a = np.asarray(self.alpha)
        return a / a.sum()

    def __repr__(self) -> str:
        a = np.asarray(self.alpha)
        if np.all(a == 1.0):
            return f"Dirichlet(ones({a.size}))"
        return f"Dirichlet([{', '.join(_fmt(x) for x in a)}])"


__all__ = [
    "ATOL",
    "Beta",
    "Dirichlet",
    "HalfNormal",
    "Interval",
    "Normal",
    "Prior",
    "Simplex",
    "Support",
    "Uniform",
]
