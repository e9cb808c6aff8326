"""Boltzmann-machine hidden-variable models: Weinstein's RBM and the conditional RBM.

The **RBM** (S. Weinstein, "Learning the Einstein-Podolsky-Rosen correlations on a Restricted
Boltzmann Machine", arXiv:1707.03114 (2017)) is a joint model of settings *and* outcomes. Its
visible layer is ``v = (setting bits of A, setting bits of B, outcome_a bit, outcome_b bit)``
(outcome bit 1 <-> +1; with two settings per party the setting bit is the setting index, as in
the paper and ``DESIGN.md``), its hidden layer ``h`` has ``n_hidden`` binary units, and

    E(v, h) = -(c . v + d . h + v . W . h),        p(v, h) = exp(-E(v, h)) / Z.

The hidden units are the hidden variables: ``lambda = h`` (``2^n_hidden`` values). The
observable behaviour is the conditional ``p(outcomes | settings)`` (the machine's own
``p(settings)`` is not uniform and is not part of the behaviour); the ontic table is
``p(h | settings) = sum_x p(x, h | settings)`` and the response
``p(x_a, x_b | settings, h) = sigmoid(+-(c_a + W_a . h)) * sigmoid(+-(c_b + W_b . h))``, which
factorises and does not depend on the settings: parameter and outcome independence hold exactly
and the Bell violation is paid for by measurement dependence.

The **conditional RBM** (``crbm``; S. Weinstein, "Boltzmann machines as thermal models for
quantum systems", arXiv:1807.03910 (2018)) treats the settings as conditioning inputs, clamped and
never modelled: ``p(x, h | s) = exp(b . x + d . h + x . W . h + s . U . h + s . A . x) / Z(s)``
with weights ``U`` from the settings into the hidden units and direct weights ``A`` from the
settings into the outcome units. With ``local=True`` (default) A's setting units feed only A's
outcome unit and B's only B's (parameters ``A_a``, ``A_b``), so parameter independence holds; with
``local=False`` the full ``A`` is free and the audit will say what that costs.

Everything is exact by enumeration (``2^n_visible x 2^n_hidden`` states, log-sum-exp throughout);
the sum over ``h`` is done analytically (``log sum_h exp(-E) = c . v + sum_j softplus(d_j +
(v W)_j)``) wherever ``h`` need not be listed, so the behaviour is exact for any ``n_hidden``.
The ontic table lists ``h`` and needs ``n_hidden <= MAX_ENUMERATED_HIDDEN``. These few-unit
enumerations are hand-written: no library computes an RBM's exact conditionals.

Settings coding for ``K`` settings per party: ``setting_encoding="binary"`` (default) uses
``ceil(log2 K)`` bits per party holding the index in binary, most significant bit first (for
``K = 2`` this is Weinstein's one bit); ``"onehot"`` uses ``K`` units per party, exactly one on.
With binary coding and ``K`` not a power of two some codes name no setting; the joint RBM still
gives them probability (its ``Z`` sums over all ``2^n_visible`` visible states) and training
drives that probability down.

Example
-------
>>> import numpy as np
>>> from bellmodels.models.rbm import RBM
>>> rbm = RBM.weinstein2017()
>>> p = rbm.behaviour()
>>> E = p[:, :, 0, 0] + p[:, :, 1, 1] - p[:, :, 0, 1] - p[:, :, 1, 0]
>>> np.round(E, 3).tolist()
[[-0.711, -0.699], [-0.713, 0.704]]
"""

from __future__ import annotations

import functools
import itertools
from abc import abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from scipy.special import expit

from bellmodels.data import Trials
from bellmodels.models.base import HiddenVariableModel, Parameter
from bellmodels.models.registry import register
from bellmodels.ontic import OnticTable
from bellmodels.scenario import Scenario

if TYPE_CHECKING:
    from bellmodels.data import Counts

MAX_ENUMERATED_HIDDEN = 16
"""Largest ``n_hidden`` for which ``h`` is listed (ontic table, MI, exact Gibbs burn-in)."""

MAX_ENUMERATED_VISIBLE = 20
"""Largest visible layer for which the partition function is computed by enumeration."""

SETTING_ENCODINGS = ("binary", "onehot")

# Weinstein (2017), Table II: rows v1..v4 = (setting_a, setting_b, outcome_a, outcome_b),
# columns h1..h4.
WEINSTEIN2017_W = np.array(
    [
        [2.652, 3.527, 3.546, -2.456],
        [-2.664, 3.575, 3.585, 2.471],
        [3.343, -5.587, 5.578, 3.717],
        [3.326, 5.577, -5.592, 3.721],
    ]
)
WEINSTEIN2017_C = np.array([-5.026, -4.872, -3.467, -3.464])
WEINSTEIN2017_D = np.array([-3.320, -1.015, -0.933, -3.753])

CITATION_RBM = (
    "S. Weinstein, Learning the Einstein-Podolsky-Rosen correlations on a Restricted Boltzmann "
    "Machine, arXiv:1707.03114 (2017)"
)
CITATION_CRBM = (
    "S. Weinstein, Boltzmann machines as thermal models for quantum systems, arXiv:1807.03910 "
    "(2018)"
)


PRIORS = ("spin", "binary")
"""The Boltzmann machines' priors: on the machine written with +-1 units (default) or with 0/1."""

PRIOR_SIGMA_SPIN = 0.75
"""Prior sd of every weight and bias of the machine written with +-1 units (``prior="spin"``).

The 0/1 weights ``W = 4 W_spin`` are then Normal(0, 3), as under ``prior="binary"``; wide
enough for the published machine (largest |w| = 5.6, i.e. 1.4 on the +-1 scale)."""

PRIOR_SIGMA_BINARY = 3.0
"""Prior sd of every 0/1 weight and bias under ``prior="binary"``."""


def _coupled_prior(name: str) -> Any:
    raise NotImplementedError(
        f"under prior='spin' the machine's parameters share one prior; build {name!r} with the "
        "model's prior_variables()"
    )


def _normal_prior(sigma: float, shape: tuple[int, ...]) -> Any:
    def prior(name: str) -> Any:
        import pymc as pm

        return pm.Normal(name, mu=0.0, sigma=sigma, shape=shape)

    return prior


def rbm_from_spin(ws: Any, cs: Any, ds: Any) -> tuple[Any, Any, Any]:
    """The 0/1-coded ``(W, c, d)`` of the RBM whose +-1-coded weights are ``(ws, cs, ds)``.

    With ``v = (v_pm + 1) / 2`` and ``h = (h_pm + 1) / 2``, ``v_pm . ws . h_pm + cs . v_pm +
    ds . h_pm`` equals ``v . W . h + c . v + d . h`` up to a constant when ``W = 4 ws``,
    ``c = 2 cs - 2 ws 1`` and ``d = 2 ds - 2 1 ws``. Works on numpy arrays and PyTensor
    variables alike. :func:`rbm_to_spin` is the inverse.

    >>> import numpy as np
    >>> from bellmodels.models.rbm import WEINSTEIN2017_W as W, WEINSTEIN2017_C as c
    >>> from bellmodels.models.rbm import WEINSTEIN2017_D as d
    >>> all(np.allclose(x, y) for x, y in zip(rbm_from_spin(*rbm_to_spin(W, c, d)), (W, c, d)))
    True
    """
    return 4.0 * ws, 2.0 * cs - 2.0 * ws.sum(axis=1), 2.0 * ds - 2.0 * ws.sum(axis=0)


def rbm_to_spin(w: Any, c: Any, d: Any) -> tuple[Any, Any, Any]:
    """The +-1-coded ``(ws, cs, ds)`` of the RBM with 0/1-coded ``(W, c, d)`` (see
    :func:`rbm_from_spin`)."""
    ws = w / 4.0
    return ws, c / 2.0 + ws.sum(axis=1), d / 2.0 + ws.sum(axis=0)


def setting_codes(k: int, encoding: str = "binary") -> np.ndarray:
    """The visible-unit code of each of ``k`` settings, shape ``(k, n_bits)`` of 0/1 floats.

    ``"binary"``: ``max(1, ceil(log2 k))`` bits, the index in binary (most significant first);
    ``"onehot"``: ``k`` bits, bit ``i`` on for setting ``i``.

    >>> setting_codes(2).tolist()
    [[0.0], [1.0]]
    >>> setting_codes(3).tolist()
    [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0]]
    """
    if encoding not in SETTING_ENCODINGS:
        raise ValueError(f"setting_encoding must be one of {SETTING_ENCODINGS}, got {encoding!r}")
    if k < 1:
        raise ValueError(f"need at least one setting, got {k}")
    if encoding == "onehot":
        return np.eye(k)
    n_bits = max(1, int(np.ceil(np.log2(k))))
    return all_states(n_bits)[:k]


def logsumexp(x: np.ndarray, axis: Any = None, keepdims: bool = False) -> np.ndarray:
    """Stable ``log(sum(exp(x)))`` (a lean numpy version of :func:`scipy.special.logsumexp`).

    Written out because scipy's array-API dispatch costs more than the sum on these tiny
    arrays, and training calls it thousands of times.

    >>> bool(np.isclose(logsumexp(np.array([1000.0, 1000.0])), 1000.0 + np.log(2.0)))
    True
    """
    m = np.max(x, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    out = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    if not keepdims:
        out = np.squeeze(out, axis=axis) if axis is not None else out.reshape(())
    return out


@functools.lru_cache(maxsize=64)
def _all_states_cached(n: int) -> np.ndarray:
    arr = np.array(list(itertools.product((0.0, 1.0), repeat=n))).reshape(2**n, n)
    arr.flags.writeable = False
    return arr


def all_states(n: int) -> np.ndarray:
    """All ``2^n`` binary vectors of length ``n`` as rows (row ``r`` = ``r`` in binary, MSB first).

    >>> all_states(2).tolist()
    [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
    """
    return _all_states_cached(n)


@dataclass(frozen=True)
class Layout:
    """How a scenario's settings and outcomes sit on the visible units.

    Attributes
    ----------
    codes_a, codes_b
        ``(K_a, bits_a)`` and ``(K_b, bits_b)`` setting codes.
    n_settings
        Number of setting units (``bits_a + bits_b``); the two outcome units follow them.
    visible
        ``(K_a, K_b, 2, 2, n_visible)``: the visible vector of every (settings, outcomes) cell.
    """

    codes_a: np.ndarray
    codes_b: np.ndarray
    n_settings: int
    visible: np.ndarray

    @classmethod
    def build(cls, scenario: Scenario, encoding: str) -> Layout:
        ca = setting_codes(scenario.n_a, encoding)
        cb = setting_codes(scenario.n_b, encoding)
        n_s = ca.shape[1] + cb.shape[1]
        vis = np.zeros((scenario.n_a, scenario.n_b, 2, 2, n_s + 2))
        vis[..., : ca.shape[1]] = ca[:, None, None, None, :]
        vis[..., ca.shape[1] : n_s] = cb[None, :, None, None, :]
        vis[..., n_s] = np.array([0.0, 1.0])[None, None, :, None]
        vis[..., n_s + 1] = np.array([0.0, 1.0])[None, None, None, :]
        return cls(ca, cb, n_s, vis)

    @property
    def n_visible(self) -> int:
        return self.n_settings + 2

    @property
    def bits_a(self) -> int:
        return int(self.codes_a.shape[1])

    def settings_vectors(self) -> np.ndarray:
        """``(K_a, K_b, n_settings)`` setting-unit vectors."""
        return self.visible[:, :, 0, 0, : self.n_settings]


@dataclass(frozen=True)
class MachineArrays:
    """A machine in one canonical form shared by :class:`RBM` and :class:`CRBM`.

    ``log p~(v, h) = c . v + d . h + v . W . h + s . A . x`` with ``v = (s, x)``: ``W`` is
    ``(n_visible, n_hidden)``, ``c`` ``(n_visible,)``, ``d`` ``(n_hidden,)`` and ``A``
    ``(n_settings, 2)`` direct settings-outcome couplings (zero for the RBM).
    """

    W: np.ndarray
    c: np.ndarray
    d: np.ndarray
    A: np.ndarray

    @property
    def n_settings(self) -> int:
        return int(self.A.shape[0])


# -- exact computations on canonical arrays (used by the models and by training) ---------------
def free_log(arr: MachineArrays, v: np.ndarray) -> np.ndarray:
    """``log sum_h exp(-E(v, h))`` for visible vectors ``v`` (``(..., n_visible)``), exact."""
    n_s = arr.n_settings
    out = v @ arr.c + np.logaddexp(0.0, arr.d + v @ arr.W).sum(axis=-1)
    if np.any(arr.A):
        out = out + np.einsum("...i,ik,...k->...", v[..., :n_s], arr.A, v[..., n_s:])
    return out


def log_behaviour(arr: MachineArrays, layout: Layout) -> np.ndarray:
    """``log p(x_a, x_b | s_a, s_b)``, shape ``(K_a, K_b, 2, 2)``."""
    f = free_log(arr, layout.visible)
    return f - logsumexp(f, axis=(2, 3), keepdims=True)


def log_joint_hidden(arr: MachineArrays, layout: Layout) -> np.ndarray:
    """``log p(x, h | s)`` over every cell and every ``h``: shape ``(K_a, K_b, 2, 2, 2^n_h)``."""
    n_h = arr.d.size
    if n_h > MAX_ENUMERATED_HIDDEN:
        raise ValueError(
            f"listing the hidden states needs n_hidden <= {MAX_ENUMERATED_HIDDEN}, got {n_h}"
        )
    hs = all_states(n_h)
    v = layout.visible
    n_s = arr.n_settings
    logit = (v @ arr.c)[..., None] + (hs @ arr.d)[None, None, None, None, :]
    logit = logit + np.einsum("abxyi,ij,hj->abxyh", v, arr.W, hs)
    if np.any(arr.A):
        logit = (
            logit + np.einsum("abxyi,ik,abxyk->abxy", v[..., :n_s], arr.A, v[..., n_s:])[..., None]
        )
    return logit - logsumexp(logit, axis=(2, 3, 4), keepdims=True)


def response_tables(arr: MachineArrays, layout: Layout) -> np.ndarray:
    """``p(x_a, x_b | s, h)``, shape ``(K_a, K_b, 2^n_h, 2, 2)`` (a product of two sigmoids)."""
    n_h = arr.d.size
    hs = all_states(n_h)
    n_s = arr.n_settings
    s = layout.settings_vectors()  # (Ka, Kb, n_s)
    # logit of outcome unit k being on: c_k + W_k . h + (s A)_k
    logit = arr.c[n_s:][None, None, None, :] + (hs @ arr.W[n_s:].T)[None, None, :, :]
    logit = logit + (s @ arr.A)[:, :, None, :]
    p_on = expit(logit)  # (Ka, Kb, H, 2)
    pa = np.stack([1.0 - p_on[..., 0], p_on[..., 0]], axis=-1)
    pb = np.stack([1.0 - p_on[..., 1], p_on[..., 1]], axis=-1)
    return pa[..., :, None] * pb[..., None, :]


def hidden_labels(n_hidden: int) -> list[str]:
    """Labels of the hidden states: the bits ``h_1 ... h_n`` as a string, e.g. ``"0110"``."""
    return ["".join(str(int(b)) for b in row) for row in all_states(n_hidden)]


class BoltzmannModel(HiddenVariableModel):
    """Shared machinery of :class:`RBM` and :class:`CRBM` (exact enumeration, sampling, fit).

    Subclasses define :meth:`machine_arrays` (parameters -> :class:`MachineArrays`) and
    :meth:`param_gradients` (the chain rule back from canonical gradients).
    """

    supports_joint: ClassVar[bool] = False

    def __init__(
        self,
        scenario: Scenario | None = None,
        n_hidden: int = 4,
        *,
        seed: int | None = 0,
        setting_encoding: str = "binary",
        prior: str = "spin",
        **values: Any,
    ) -> None:
        if prior not in PRIORS:
            raise ValueError(f"prior must be one of {PRIORS}, got {prior!r}")
        self.prior = prior
        if isinstance(n_hidden, bool) or not isinstance(n_hidden, (int, np.integer)):
            raise ValueError(f"n_hidden must be a positive integer, got {n_hidden!r}")
        if n_hidden < 1:
            raise ValueError(f"n_hidden must be a positive integer, got {n_hidden}")
        scenario = scenario if scenario is not None else Scenario.chsh()
        self.n_hidden = int(n_hidden)
        self.seed = seed
        self.setting_encoding = setting_encoding
        self.layout = Layout.build(scenario, setting_encoding)
        if self.layout.n_visible > MAX_ENUMERATED_VISIBLE:
            raise ValueError(
                f"{self.layout.n_visible} visible units: more than {MAX_ENUMERATED_VISIBLE} "
                "cannot be enumerated; use setting_encoding='binary'"
            )
        self._random_defaults: dict[str, np.ndarray] | None = None
        super().__init__(scenario, **values)

    # -- subclass hooks ---------------------------------------------------------------------
    @abstractmethod
    def machine_arrays(self, params: Mapping[str, Any] | None = None) -> MachineArrays:
        """The machine in canonical form (see :class:`MachineArrays`)."""

    @abstractmethod
    def param_gradients(self, grad: MachineArrays) -> dict[str, np.ndarray]:
        """Gradients w.r.t. the model's parameters from gradients w.r.t. the canonical arrays."""

    @abstractmethod
    def _from_spin(self, free: Mapping[str, Any], xp: Any = np) -> dict[str, Any]:
        """The parameters from the +-1-coded ones (same names and shapes; numpy or PyTensor)."""

    @abstractmethod
    def _to_spin(self, params: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """The +-1-coded parameters of the machine with ``params`` (inverse of _from_spin)."""

    _SPIN_FORMULA: ClassVar[dict[str, str]] = {}

    # -- prior --------------------------------------------------------------------------------
    def _parameter(
        self, name: str, shape: tuple[int, ...], default: Any, description: str
    ) -> Parameter:
        if self.prior == "binary":
            return Parameter(
                name,
                shape,
                default,
                _normal_prior(PRIOR_SIGMA_BINARY, shape),
                f"Normal(0, {PRIOR_SIGMA_BINARY:g})",
                description,
            )
        return Parameter(
            name,
            shape,
            default,
            _coupled_prior,
            f"{self._SPIN_FORMULA[name]}, {name}_spin ~ Normal(0, {PRIOR_SIGMA_SPIN:g})",
            description,
        )

    def prior_variables(self) -> dict[str, Any]:
        """The parameters as PyMC variables; call inside a ``pm.Model``.

        ``prior="spin"`` (default): the free variables are the weights and biases of the
        machine written with +-1 units, ``<name>_spin``, each Normal(0, 0.75) independently
        (:data:`PRIOR_SIGMA_SPIN`), and the 0/1 parameters are ``Deterministic`` functions of
        them. A bit's relabelling (outcome +1 <-> -1, setting a <-> a', hidden unit on <-> off)
        is a sign flip of +-1-coded weights, so this prior, like the likelihood, is unchanged by
        it. ``prior="binary"``: independent Normal(0, 3) on the 0/1 weights and biases, which is
        not (a bit flip also shifts biases by weights), so the posterior of MI, which the data do
        not fix, depends on which outcome and setting got the bit 1 (the Concepts page shows by
        how much).
        """
        import pymc as pm
        import pytensor.tensor as pt

        specs = self.parameters
        if self.prior == "binary":
            return {n: spec.prior(n) for n, spec in specs.items()}
        free = {
            n: pm.Normal(f"{n}_spin", 0.0, PRIOR_SIGMA_SPIN, shape=spec.shape)
            for n, spec in specs.items()
        }
        mapped = self._from_spin(free, pt)
        return {n: pm.Deterministic(n, mapped[n]) for n in specs}

    def free_values(self, params: Mapping[str, Any]) -> dict[str, np.ndarray]:
        """The free PyMC variables' values at ``params`` (``<name>_spin`` under the spin prior).

        >>> m = RBM.weinstein2017()
        >>> round(float(m.free_values(m.params())["W_spin"][2, 1]), 3)   # 5.587 / 4
        -1.397
        >>> sorted(RBM(prior="binary").free_values(m.params()))
        ['W', 'c', 'd']
        """
        p = self.params(params)
        if self.prior == "binary":
            return p
        return {f"{n}_spin": v for n, v in self._to_spin(p).items()}

    def _random_default(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        """Seeded small random initial weights (Hinton's practical guide: N(0, 0.01^2))."""
        if self._random_defaults is None:
            self._random_defaults = {}
        if name not in self._random_defaults:
            seed = 0 if self.seed is None else int(self.seed)
            rng = np.random.default_rng([seed, *(ord(ch) for ch in name)])
            self._random_defaults[name] = 0.01 * rng.standard_normal(shape)
        return self._random_defaults[name]

    # -- exact quantities ---------------------------------------------------------------------
    @property
    def n_visible(self) -> int:
        """Number of visible units (setting units then the two outcome units)."""
        return self.layout.n_visible

    def behaviour(self, params: Mapping[str, Any] | None = None) -> np.ndarray:
        """p(x_a, x_b | s_a, s_b) by exact enumeration, shape ``(K_a, K_b, 2, 2)``.

        >>> from bellmodels.models.rbm import RBM
        >>> round(float(RBM.weinstein2017().behaviour().sum()), 12)
        4.0
        """
        return np.exp(log_behaviour(self.machine_arrays(params), self.layout))

    def behaviour_tensor(self, params: Mapping[str, Any]) -> Any:
        """:meth:`behaviour` as a differentiable PyTensor expression of the parameters.

        ``params`` maps each parameter name to a PyTensor variable (or array). The sum over ``h``
        is analytic (softplus), so this is exact for any ``n_hidden``.

        >>> import numpy as np
        >>> from bellmodels.models.rbm import RBM
        >>> m = RBM.weinstein2017()
        >>> p = m.behaviour_tensor(m.params()).eval()
        >>> bool(np.allclose(p, m.behaviour(), atol=1e-10))
        True
        """
        import pytensor.tensor as pt

        W, c, d, A = self._tensor_arrays(params)
        v = pt.as_tensor_variable(self.layout.visible)
        n_s = self.layout.n_settings
        f = pt.tensordot(v, c, axes=[[4], [0]])
        f = f + pt.sum(pt.softplus(d + pt.tensordot(v, W, axes=[[4], [0]])), axis=-1)
        if A is not None:
            s = pt.as_tensor_variable(self.layout.visible[..., :n_s])
            x = pt.as_tensor_variable(self.layout.visible[..., n_s:])
            f = f + pt.sum(pt.tensordot(s, A, axes=[[4], [0]]) * x, axis=-1)
        logp = f - pt.logsumexp(f, axis=(2, 3), keepdims=True)
        return pt.exp(logp)

    @abstractmethod
    def _tensor_arrays(self, params: Mapping[str, Any]) -> tuple[Any, Any, Any, Any]:
        """(W, c, d, A or None) as PyTensor expressions in canonical form."""

    def log_behaviour(self, params: Mapping[str, Any] | None = None) -> np.ndarray:
        """log p(x_a, x_b | s_a, s_b), exact and stable for large weights."""
        return log_behaviour(self.machine_arrays(params), self.layout)

    def ontic_table(self, params: Mapping[str, Any] | None = None) -> OnticTable:
        """lambda = h: p(h | settings) and the factorising response p(x_a, x_b | settings, h).

        >>> from bellmodels.models.rbm import RBM
        >>> RBM.weinstein2017().ontic_table().n_lambda
        16
        """
        arr = self.machine_arrays(params)
        lj = log_joint_hidden(arr, self.layout)
        p_h = np.exp(logsumexp(lj, axis=(2, 3)))
        p_h /= p_h.sum(axis=-1, keepdims=True)
        return OnticTable(
            p_h, response_tables(arr, self.layout), self.scenario, hidden_labels(self.n_hidden)
        )

    def hidden_given_settings(self, params: Mapping[str, Any] | None = None) -> np.ndarray:
        """p(h | s_a, s_b), shape ``(K_a, K_b, 2^n_hidden)`` (the measurement dependence)."""
        lj = log_joint_hidden(self.machine_arrays(params), self.layout)
        return np.exp(logsumexp(lj, axis=(2, 3)))

    def kl(
        self,
        counts: Counts,
        params: Mapping[str, Any] | None = None,
        objective: str | None = None,
    ) -> float:
        """KL(data || model) in nats (see :func:`bellmodels.rbm_training.kl_divergence`).

        ``objective="joint"`` (the RBM's default): KL between the empirical joint distribution of
        (settings, outcomes) and the machine's ``p(v)``; ``"conditional"`` (the CRBM's only
        choice): ``sum_s q(s) KL(q(x | s) || p(x | s))`` with ``q(s)`` the data's setting
        frequencies.
        """
        from bellmodels.rbm_training import kl_divergence

        objective = objective or ("joint" if self.supports_joint else "conditional")
        return kl_divergence(self, counts, params, objective)

    def fit(self, counts: Counts, **options: Any) -> BoltzmannModel:
        """Train on ``counts`` (scikit-learn style: returns ``self``, sets attributes ending ``_``).

        See :func:`bellmodels.rbm_training.fit_machine` for the options (``method`` = "exact" |
        "pcd" | "cd", ``objective``, ``mi_penalty``, ``n_restarts``, ``seed``, ...). After the
        fit ``self.values`` holds the fitted parameters, so ``self.params()`` returns them (use
        them as initial values for PyMC), and ``kl_``, ``loss_``, ``mi_bits_``, ``history_``,
        ``n_iter_``, ``restarts_``, ``fit_time_``, ``training_`` describe the fit.

        >>> from bellmodels import Counts, Scenario
        >>> from bellmodels.models.rbm import RBM
        >>> truth = RBM.weinstein2017()
        >>> counts = Counts((truth.behaviour() * 25_000).round().astype(int), Scenario.chsh())
        >>> fitted = RBM(n_hidden=4, seed=1).fit(counts, objective="conditional")
        >>> fitted.kl_ < 1e-3
        True
        """
        from bellmodels.rbm_training import fit_machine

        result = fit_machine(self, counts, **options)
        self.values = dict(result.params)
        for key, value in result.attributes().items():
            setattr(self, key, value)
        return self

    # -- sampling -----------------------------------------------------------------------------
    def gibbs_transition(self, params: Mapping[str, Any] | None = None) -> np.ndarray:
        """Exact one-sweep transition matrix of the clamped-settings block Gibbs chain.

        Shape ``(K_a, K_b, 4, 4)``: row = outcome cell ``2 x_a + x_b`` before the sweep
        (``h ~ p(h | s, x)`` then ``x' ~ p(x' | s, h)``), column = after.
        """
        arr = self.machine_arrays(params)
        hs = all_states(self.n_hidden)
        v = self.layout.visible.reshape(self.scenario.n_a, self.scenario.n_b, 4, -1)
        log_on = -np.logaddexp(0.0, -(arr.d + v @ arr.W))  # log sigmoid, (Ka,Kb,4,nh)
        log_off = -np.logaddexp(0.0, arr.d + v @ arr.W)
        log_ph = log_on @ hs.T + log_off @ (1.0 - hs).T  # (Ka, Kb, 4, H)
        resp = response_tables(arr, self.layout).reshape(
            self.scenario.n_a, self.scenario.n_b, -1, 4
        )
        return np.einsum("abxh,abhy->abxy", np.exp(log_ph), resp)

    def gibbs_burn_in(
        self, params: Mapping[str, Any] | None = None, tol: float = 1e-6, max_sweeps: int = 100_000
    ) -> int:
        """Sweeps after which the chain started uniform is within ``tol`` (TV) of p(x | s).

        Computed exactly from :meth:`gibbs_transition` (a ``4 x 4`` matrix per setting pair).
        """
        t = self.gibbs_transition(params)
        target = self.behaviour(params).reshape(t.shape[0], t.shape[1], 4)
        dist = np.full(target.shape, 0.25)
        for sweep in range(1, max_sweeps + 1):
            dist = np.einsum("abx,abxy->aby", dist, t)
            if 0.5 * np.abs(dist - target).sum(axis=-1).max() < tol:
                return sweep
        raise ValueError(
            f"the Gibbs chain does not mix to TV < {tol} within {max_sweeps} sweeps; "
            "use method='exact'"
        )

    def sample_trials(
        self,
        n: int,
        seed: int | None,
        setting_probs: Any = None,
        method: str = "gibbs",
        burn_in: int | None = None,
    ) -> Trials:
        """``n`` trials: settings drawn freely, outcomes from the machine with settings clamped.

        Parameters
        ----------
        n, seed
            Number of trials and the seed (same seed, same trials).
        setting_probs
            Settings distribution (default uniform), as in
            :meth:`Scenario.settings_distribution`: the experimenter's free choice, not the
            machine's own ``p(settings)``.
        method
            ``"gibbs"`` (the paper's way): one block-Gibbs chain per trial, vectorised over
            trials, outcome units started uniformly at random, settings units clamped,
            ``burn_in`` sweeps of ``h ~ p(h | v)`` then ``x ~ p(x | s, h)``, the final ``x``
            kept. ``"exact"``: outcomes drawn from the enumerated ``p(x | s)``.
        burn_in
            Gibbs sweeps; default :meth:`gibbs_burn_in` (exact TV distance < 1e-6 from the
            stationary conditional), or 1,000 when ``h`` is too large to enumerate.

        >>> from bellmodels.models.rbm import RBM
        >>> len(RBM.weinstein2017().sample_trials(1000, seed=0))
        1000
        """
        if method not in ("gibbs", "exact"):
            raise ValueError(f"method must be 'gibbs' or 'exact', got {method!r}")
        rng = np.random.default_rng(seed)
        sa, sb = self.scenario.draw_settings(n, rng, setting_probs)
        if method == "exact":
            p = self.behaviour().reshape(self.scenario.n_a, self.scenario.n_b, 4)
            cdf = np.cumsum(p[sa, sb], axis=-1)
            u = rng.random(n)
            cell = np.minimum((u[:, None] >= cdf).sum(axis=-1), 3)
            xa, xb = np.divmod(cell, 2)
        else:
            if burn_in is None:
                burn_in = self.gibbs_burn_in() if self.n_hidden <= MAX_ENUMERATED_HIDDEN else 1000
            xa, xb = self._gibbs_outcomes(sa, sb, int(burn_in), rng)
        return Trials(self.scenario, sa, sb, 2 * xa.astype(np.int8) - 1, 2 * xb.astype(np.int8) - 1)

    def _gibbs_outcomes(
        self, sa: np.ndarray, sb: np.ndarray, sweeps: int, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        arr = self.machine_arrays()
        n_s = self.layout.n_settings
        s = np.concatenate([self.layout.codes_a[sa], self.layout.codes_b[sb]], axis=1)
        hid_bias = arr.d + s @ arr.W[:n_s]  # (n, nh): the clamped settings' input
        out_bias = arr.c[n_s:] + s @ arr.A  # (n, 2)
        w_out = arr.W[n_s:]  # (2, nh)
        x = (rng.random((sa.size, 2)) < 0.5).astype(float)
        for _ in range(sweeps):
            h = (rng.random((sa.size, self.n_hidden)) < expit(hid_bias + x @ w_out)).astype(float)
            x = (rng.random((sa.size, 2)) < expit(out_bias + h @ w_out.T)).astype(float)
        return x[:, 0].astype(np.int64), x[:, 1].astype(np.int64)


@register()
class RBM(BoltzmannModel):
    """Weinstein's Restricted Boltzmann Machine: a local, measurement-dependent model.

    S. Weinstein, "Learning the Einstein-Podolsky-Rosen correlations on a Restricted Boltzmann
    Machine", arXiv:1707.03114 (2017). A joint model of settings and outcomes (see the module
    docstring); ``lambda = h``.

    Parameters
    ----------
    scenario
        Default :meth:`Scenario.chsh`.
    n_hidden
        Number of hidden units (default 4, as in the paper).
    seed
        Seed of the random default weights (used when the published ones do not apply).
    setting_encoding
        ``"binary"`` (default) or ``"onehot"`` (see the module docstring).
    prior
        ``"spin"`` (default) or ``"binary"``: the PyMC prior (see the notes).
    **values
        Parameter values ``W`` ``(n_visible, n_hidden)``, ``c`` ``(n_visible,)``, ``d``
        ``(n_hidden,)``.

    Notes
    -----
    Defaults: for the paper's geometry (2 x 2 settings, binary coding, 4 hidden units) the
    defaults are the published Table II weights, so ``models.get("rbm")`` is usable untrained;
    otherwise seeded small random weights N(0, 0.01^2) (an untrained machine, near-uniform).
    Prior (for PyMC), ``prior="spin"`` (default): the machine is written with +-1 units
    (``v_pm = 2 v - 1``, ``h_pm = 2 h - 1``; :func:`rbm_from_spin`) and every one of those
    weights and biases is Normal(0, 0.75) independently (:data:`PRIOR_SIGMA_SPIN`); the free
    PyMC variables are ``W_spin``, ``c_spin``, ``d_spin`` and ``W``, ``c``, ``d`` are
    ``Deterministic``. Each 0/1 weight is then Normal(0, 3), and the prior, like the likelihood,
    is unchanged when any outcome, setting or hidden unit is relabelled (a bit flip is a sign
    flip of a row or column of +-1 weights). ``prior="binary"`` (independent Normal(0, 3) on the
    0/1 weights and biases) is not: flipping a bit shifts biases by weights, so the posterior
    MI, which the data do not fix, changes with the arbitrary choice of which outcome and which
    setting get the bit 1 (``docs/generated/concepts_rbm_labelling.md``, by
    ``docs/scripts/rbm_labelling.py``).

    Example
    -------
    >>> from bellmodels import models
    >>> m = models.get("rbm")
    >>> m.ontic_table().n_lambda
    16
    """

    name = "rbm"
    family = "rbm"
    assumption_dropped = "measurement independence"
    citation = CITATION_RBM
    supports_joint = True

    def _uses_published_defaults(self) -> bool:
        return (
            self.n_hidden == 4
            and self.layout.n_visible == 4
            and self.scenario.n_a == 2
            and self.scenario.n_b == 2
        )

    @property
    def parameters(self) -> dict[str, Parameter]:
        nv, nh = self.layout.n_visible, self.n_hidden
        published = self._uses_published_defaults()
        shapes = {"W": (nv, nh), "c": (nv,), "d": (nh,)}
        defaults = (
            {"W": WEINSTEIN2017_W, "c": WEINSTEIN2017_C, "d": WEINSTEIN2017_D}
            if published
            else {k: self._random_default(k, s) for k, s in shapes.items()}
        )
        desc = {
            "W": "visible-hidden weights (rows: setting units, outcome_a, outcome_b)",
            "c": "visible biases (setting units, outcome_a, outcome_b)",
            "d": "hidden biases",
        }
        return {k: self._parameter(k, shapes[k], defaults[k], desc[k]) for k in shapes}

    _SPIN_FORMULA: ClassVar[dict[str, str]] = {
        "W": "4 W_spin",
        "c": "2 c_spin - 2 sum_j W_spin[:, j]",
        "d": "2 d_spin - 2 sum_i W_spin[i, :]",
    }

    def _from_spin(self, free: Mapping[str, Any], xp: Any = np) -> dict[str, Any]:
        return dict(zip("Wcd", rbm_from_spin(free["W"], free["c"], free["d"]), strict=True))

    def _to_spin(self, params: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        return dict(zip("Wcd", rbm_to_spin(params["W"], params["c"], params["d"]), strict=True))

    def machine_arrays(self, params: Mapping[str, Any] | None = None) -> MachineArrays:
        p = self.params(params)
        return MachineArrays(p["W"], p["c"], p["d"], np.zeros((self.layout.n_settings, 2)))

    def param_gradients(self, grad: MachineArrays) -> dict[str, np.ndarray]:
        return {"W": grad.W, "c": grad.c, "d": grad.d}

    def _tensor_arrays(self, params: Mapping[str, Any]) -> tuple[Any, Any, Any, Any]:
        import pytensor.tensor as pt

        return (
            pt.as_tensor_variable(params["W"]),
            pt.as_tensor_variable(params["c"]),
            pt.as_tensor_variable(params["d"]),
            None,
        )

    # -- the RBM as a joint model ------------------------------------------------------------
    def log_prob_visible(self, params: Mapping[str, Any] | None = None) -> np.ndarray:
        """log p(v) for every cell, ``(K_a, K_b, 2, 2)``: the joint law of settings and outcomes.

        Normalised over all ``2^n_visible`` visible states (codes naming no setting included).
        """
        arr = self.machine_arrays(params)
        log_z = logsumexp(free_log(arr, all_states(self.layout.n_visible)))
        return free_log(arr, self.layout.visible) - log_z

    def settings_distribution(self, params: Mapping[str, Any] | None = None) -> np.ndarray:
        """The machine's own p(s_a, s_b) (not uniform; not used by the behaviour or the audit).

        >>> from bellmodels.models.rbm import RBM
        >>> RBM.weinstein2017().settings_distribution().round(3).tolist()
        [[0.255, 0.247], [0.251, 0.247]]
        """
        return np.exp(logsumexp(self.log_prob_visible(params), axis=(2, 3)))

    # -- constructors -------------------------------------------------------------------------
    @classmethod
    def from_parameters(
        cls,
        W: Any,
        c: Any,
        d: Any,
        scenario: Scenario | None = None,
        setting_encoding: str = "binary",
    ) -> RBM:
        """An RBM with the given weights; ``n_hidden`` is read from ``W``.

        >>> import numpy as np
        >>> m = RBM.from_parameters(np.zeros((4, 2)), np.zeros(4), np.zeros(2))
        >>> float(m.behaviour()[0, 0, 1, 1])
        0.25
        """
        w = np.asarray(W, dtype=float)
        if w.ndim != 2:
            raise ValueError(f"W must be a 2-D (n_visible, n_hidden) array, got shape {w.shape}")
        return cls(scenario, n_hidden=w.shape[1], setting_encoding=setting_encoding, W=w, c=c, d=d)

    @classmethod
    def weinstein2017(cls, scenario: Scenario | None = None) -> RBM:
        """The published machine (Weinstein 2017, Table II), registered as ``rbm-weinstein2017``.

        Its ``name`` is ``"rbm-weinstein2017"`` so comparison tables say which machine it is.

        >>> RBM.weinstein2017().name
        'rbm-weinstein2017'
        """
        scenario = scenario if scenario is not None else Scenario.chsh()
        if (scenario.n_a, scenario.n_b) != (2, 2):
            raise ValueError(
                "the published RBM is for two settings per party (CHSH); got "
                f"{scenario.n_a} x {scenario.n_b}"
            )
        model = cls(scenario, n_hidden=4, W=WEINSTEIN2017_W, c=WEINSTEIN2017_C, d=WEINSTEIN2017_D)
        model.name = "rbm-weinstein2017"  # type: ignore[misc]
        return model


register("rbm-weinstein2017")(RBM.weinstein2017)


@register()
class CRBM(BoltzmannModel):
    """Conditional RBM: settings are clamped inputs with weights into hidden and outcome units.

    S. Weinstein, "Boltzmann machines as thermal models for quantum systems", arXiv:1807.03910
    (2018). ``p(x, h | s) = exp(b . x + d . h + x . W . h + s . U . h + s . A . x) / Z(s)``:
    the model never describes how settings are chosen, only outcomes given settings; ``lambda = h``.

    Parameters
    ----------
    scenario, n_hidden, seed, setting_encoding, prior
        As for :class:`RBM`.
    local
        ``True`` (default): A's setting units feed only A's outcome unit (``A_a``) and B's only
        B's (``A_b``), so parameter independence holds exactly. ``False``: a full ``A``
        ``(n_settings, 2)`` (allows parameter dependence; the audit reports it).
    **values
        ``W`` ``(2, n_hidden)`` outcome-hidden, ``U`` ``(n_settings, n_hidden)`` settings-hidden,
        ``b`` ``(2,)`` outcome biases, ``d`` ``(n_hidden,)`` hidden biases, and ``A_a``
        ``(bits_a,)``, ``A_b`` ``(bits_b,)`` (or ``A`` when ``local=False``).

    Notes
    -----
    Defaults: for 2 x 2 settings, binary coding and 4 hidden units, the conditional of the
    published RBM (``U``, ``W``, ``b``, ``d`` from Table II, ``A = 0``), whose behaviour is
    exactly that of ``rbm-weinstein2017``; otherwise seeded small random weights. Prior as for
    :class:`RBM` (``prior="spin"``: Normal(0, 0.75) on every weight and bias of the machine
    with +-1 units, settings units included; ``"binary"``: Normal(0, 3) on the 0/1 ones).
    Training uses the conditional likelihood only (there is no ``p(s)``).

    Example
    -------
    >>> import numpy as np
    >>> from bellmodels.models.rbm import CRBM, RBM
    >>> bool(np.allclose(CRBM().behaviour(), RBM.weinstein2017().behaviour()))
    True
    """

    name = "crbm"
    family = "rbm"
    assumption_dropped = "measurement independence"
    citation = CITATION_CRBM
    supports_joint = False

    def __init__(
        self,
        scenario: Scenario | None = None,
        n_hidden: int = 4,
        *,
        seed: int | None = 0,
        setting_encoding: str = "binary",
        prior: str = "spin",
        local: bool = True,
        **values: Any,
    ) -> None:
        self.local = bool(local)
        super().__init__(
            scenario,
            n_hidden,
            seed=seed,
            setting_encoding=setting_encoding,
            prior=prior,
            **values,
        )

    def _shapes(self) -> dict[str, tuple[int, ...]]:
        n_s, nh = self.layout.n_settings, self.n_hidden
        shapes: dict[str, tuple[int, ...]] = {
            "W": (2, nh),
            "U": (n_s, nh),
            "b": (2,),
            "d": (nh,),
        }
        if self.local:
            shapes["A_a"] = (self.layout.bits_a,)
            shapes["A_b"] = (n_s - self.layout.bits_a,)
        else:
            shapes["A"] = (n_s, 2)
        return shapes

    @property
    def parameters(self) -> dict[str, Parameter]:
        shapes = self._shapes()
        published = (
            self.n_hidden == 4
            and self.layout.n_visible == 4
            and (self.scenario.n_a, self.scenario.n_b) == (2, 2)
        )
        if published:
            defaults = {
                "W": WEINSTEIN2017_W[2:],
                "U": WEINSTEIN2017_W[:2],
                "b": WEINSTEIN2017_C[2:],
                "d": WEINSTEIN2017_D,
            }
            defaults.update({k: np.zeros(shapes[k]) for k in ("A_a", "A_b", "A") if k in shapes})
        else:
            defaults = {k: self._random_default(k, s) for k, s in shapes.items()}
        desc = {
            "W": "outcome-hidden weights (rows outcome_a, outcome_b)",
            "U": "setting-hidden weights (rows: setting units of A, then of B)",
            "b": "outcome biases",
            "d": "hidden biases",
            "A_a": "direct weights from A's setting units to A's outcome unit",
            "A_b": "direct weights from B's setting units to B's outcome unit",
            "A": "direct weights from every setting unit to both outcome units",
        }
        return {k: self._parameter(k, s, defaults[k], desc[k]) for k, s in shapes.items()}

    _SPIN_FORMULA: ClassVar[dict[str, str]] = {
        "W": "4 W_spin",
        "U": "4 U_spin",
        "A_a": "4 A_a_spin",
        "A_b": "4 A_b_spin",
        "A": "4 A_spin",
        "b": "2 b_spin - 2 sum_j W_spin[:, j] - 2 sum_i A_spin[i, :]",
        "d": "2 d_spin - 2 sum_i W_spin[i, :] - 2 sum_i U_spin[i, :]",
    }

    def _from_spin(self, free: Mapping[str, Any], xp: Any = np) -> dict[str, Any]:
        # with x, h, s = (x_pm + 1) / 2, ...: x.W.h, s.U.h, s.A.x gain bias terms on x and h
        # (terms in s alone cancel in p(x, h | s)); see rbm_from_spin for the RBM's version
        out = {k: 4.0 * v for k, v in free.items() if k not in ("b", "d")}
        a_cols = self._full_a(free, xp).sum(axis=0)
        out["b"] = 2.0 * free["b"] - 2.0 * free["W"].sum(axis=1) - 2.0 * a_cols
        out["d"] = 2.0 * free["d"] - 2.0 * free["W"].sum(axis=0) - 2.0 * free["U"].sum(axis=0)
        return out

    def _to_spin(self, params: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        out = {k: v / 4.0 for k, v in params.items() if k not in ("b", "d")}
        a_cols = self._full_a(out).sum(axis=0)
        out["b"] = params["b"] / 2.0 + out["W"].sum(axis=1) + a_cols
        out["d"] = params["d"] / 2.0 + out["W"].sum(axis=0) + out["U"].sum(axis=0)
        return out

    def _full_a(self, p: Mapping[str, Any], xp: Any = np) -> Any:
        if not self.local:
            return p["A"]
        ba = self.layout.bits_a
        n_s = self.layout.n_settings
        mask_a = np.zeros((n_s, 2))
        mask_a[:ba, 0] = 1.0
        mask_b = np.zeros((n_s, 2))
        mask_b[ba:, 1] = 1.0
        ea = np.zeros((n_s, ba))
        ea[np.arange(ba), np.arange(ba)] = 1.0
        eb = np.zeros((n_s, n_s - ba))
        eb[ba + np.arange(n_s - ba), np.arange(n_s - ba)] = 1.0
        # column 0 gets A_a on A's rows, column 1 gets A_b on B's rows
        col_a = xp.dot(ea, p["A_a"])
        col_b = xp.dot(eb, p["A_b"])
        return xp.stack([col_a, col_b], axis=1)

    def machine_arrays(self, params: Mapping[str, Any] | None = None) -> MachineArrays:
        p = self.params(params)
        n_s = self.layout.n_settings
        w = np.concatenate([p["U"], p["W"]], axis=0)
        c = np.concatenate([np.zeros(n_s), p["b"]])
        return MachineArrays(w, c, p["d"], np.asarray(self._full_a(p), dtype=float))

    def param_gradients(self, grad: MachineArrays) -> dict[str, np.ndarray]:
        n_s = self.layout.n_settings
        out = {"W": grad.W[n_s:], "U": grad.W[:n_s], "b": grad.c[n_s:], "d": grad.d}
        if self.local:
            ba = self.layout.bits_a
            out["A_a"] = grad.A[:ba, 0]
            out["A_b"] = grad.A[ba:, 1]
        else:
            out["A"] = grad.A
        return out

    def _tensor_arrays(self, params: Mapping[str, Any]) -> tuple[Any, Any, Any, Any]:
        import pytensor.tensor as pt

        p = {k: pt.as_tensor_variable(v) for k, v in params.items()}
        n_s = self.layout.n_settings
        w = pt.concatenate([p["U"], p["W"]], axis=0)
        c = pt.concatenate([pt.zeros((n_s,)), p["b"]])
        return w, c, p["d"], self._full_a(p, xp=pt)


__all__ = [
    "CRBM",
    "MAX_ENUMERATED_HIDDEN",
    "PRIORS",
    "PRIOR_SIGMA_BINARY",
    "PRIOR_SIGMA_SPIN",
    "RBM",
    "BoltzmannModel",
    "Layout",
    "MachineArrays",
    "all_states",
    "free_log",
    "hidden_labels",
    "log_behaviour",
    "log_joint_hidden",
    "rbm_from_spin",
    "rbm_to_spin",
    "response_tables",
    "setting_codes",
]
