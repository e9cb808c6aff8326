"""The shared machinery of the Boltzmann-machine models (:class:`BoltzmannModel`): priors on
the machine, exact enumeration, Gibbs sampling and maximum-likelihood training.
"""

from __future__ import annotations

import warnings
from abc import abstractmethod
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from bellmodels._util import one_blas_thread
from bellmodels.data import Trials
from bellmodels.models._batch import n_draws, uses_own
from bellmodels.models.base import HiddenVariableModel, Parameter, UnitSymmetry
from bellmodels.models.boltzmann._kernels import (
    MAX_ENUMERATED_HIDDEN,
    MAX_ENUMERATED_VISIBLE,
    Layout,
    MachineArrays,
    all_states,
    gibbs_sweep,
    hidden_labels,
    log_behaviour,
    log_joint_hidden,
    logsumexp,
    ontic_arrays,
    response_tables,
)
from bellmodels.ontic import OnticTable, OnticTables
from bellmodels.scenario import Scenario

if TYPE_CHECKING:
    from bellmodels.data import Counts


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


class BoltzmannModel(HiddenVariableModel):
    """Shared machinery of :class:`RBM` and :class:`CRBM` (exact enumeration, sampling, fit).

    Subclasses define :meth:`machine_arrays` (parameters -> :class:`MachineArrays`) and
    :meth:`param_gradients` (the chain rule back from canonical gradients).
    """

    supports_joint: ClassVar[bool] = False
    family: ClassVar[str] = "measurement-dependent"
    # NUTS runs long trajectories along the machines' ridge of equal behaviour, where nutpie's
    # compiled sampler is the fastest (docs/generated/sampling_benchmark.md); chains start at
    # the posterior mode reached from the exact maximum-likelihood fit (see inference.fit)
    samplers: ClassVar[tuple[str, ...]] = ("nutpie", "numpyro", "pymc")
    init: ClassVar[str] = "mode"
    trainable: ClassVar[bool] = True

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

        >>> from bellmodels.models.boltzmann import RBM
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

    _HIDDEN_AXES: ClassVar[dict[str, int]] = {}
    """Parameter -> its hidden-unit axis, for the parameters that carry a hidden index."""

    def parameter_symmetries(self) -> tuple[UnitSymmetry, ...]:
        """Permutations of the hidden units and, under ``prior="spin"``, their sign flips.

        Relabelling hidden units permutes the hidden columns of the weights; under the
        +-1-coded prior, relabelling a hidden unit on <-> off negates its +-1 weights and bias.
        Prior and likelihood are unchanged by both, so every posterior mode has ``n! 2^n``
        images (384 for 4 hidden units). Under ``prior="binary"`` only the permutations are
        exact (a 0/1 flip shifts the visible biases).

        >>> from bellmodels.models import RBM
        >>> RBM.weinstein2017().parameter_symmetries()[0].order
        384
        """
        spin = self.prior == "spin"
        axes = {(f"{k}_spin" if spin else k): a for k, a in self._HIDDEN_AXES.items()}
        return (UnitSymmetry(self.n_hidden, axes, sign_flip=spin),)

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

        >>> from bellmodels.models.boltzmann import RBM
        >>> round(float(RBM.weinstein2017().behaviour().sum()), 12)
        4.0
        """
        return np.exp(log_behaviour(self.machine_arrays(params), self.layout))

    def behaviour_tensor(self, params: Mapping[str, Any]) -> Any:
        """:meth:`behaviour` as a differentiable PyTensor expression of the parameters.

        ``params`` maps each parameter name to a PyTensor variable (or array). The sum over ``h``
        is analytic (softplus), so this is exact for any ``n_hidden``.

        >>> import numpy as np
        >>> from bellmodels.models.boltzmann import RBM
        >>> m = RBM.weinstein2017()
        >>> p = m.behaviour_tensor(m.params()).eval()
        >>> bool(np.allclose(p, m.behaviour(), atol=1e-10))
        True
        """
        import pytensor.tensor as pt

        # one fused Op (value and gradient in one Numba loop each): the NUTS fits and the
        # tempered SMC evaluate it millions of times (benchmarks/machine_op.py)
        return pt.exp(self.log_behaviour_tensor(params))

    def log_behaviour_tensor(
        self, params: Mapping[str, Any], free: Mapping[str, Any] | None = None
    ) -> Any:
        """:meth:`log_behaviour` as a PyTensor expression of ``params``, or, given the PyMC
        model's free variables ``free`` (as ``fit`` builds it), of those directly.

        The 0/1 parameters are an affine map of the free variables (:meth:`free_affine_map`),
        so one fused Op (:class:`~bellmodels.models.boltzmann._free_op.
        FreeMachineLogBehaviour`) computes the log behaviour and its gradient from them, without
        the map's PyTensor algebra in every gradient NUTS evaluates (``benchmarks/
        machine_op.py``). Otherwise the fused Op on the canonical arrays of ``params``.

        >>> import numpy as np
        >>> from bellmodels.models.boltzmann import RBM
        >>> m = RBM.weinstein2017()
        >>> bool(np.allclose(m.log_behaviour_tensor(m.params()).eval(), m.log_behaviour()))
        True
        """
        import pytensor.tensor as pt

        from bellmodels.models.boltzmann._free_op import FreeMachineLogBehaviour
        from bellmodels.models.boltzmann._tensor_op import MachineLogBehaviour

        if free is not None:
            names, matrix, offset = self.free_affine_map()
            if all(n in free for n, _ in names):
                x = pt.concatenate([pt.as_tensor_variable(free[n]).ravel() for n, _ in names])
                op = FreeMachineLogBehaviour(
                    self.layout.visible, self.layout.n_settings, matrix, offset
                )
                return op(x)
        W, c, d, A = self._tensor_arrays(params)
        if A is None:
            A = pt.zeros((self.layout.n_settings, 2))
        return MachineLogBehaviour(self.layout.visible, self.layout.n_settings)(W, c, d, A)

    def free_affine_map(self) -> tuple[tuple[tuple[str, tuple[int, ...]], ...], Any, Any]:
        """The canonical arrays as an affine map of the free PyMC variables:
        ``((name, shape), ...)``, ``M`` and ``b0`` with ``(W, c, d, A) = M x + b0`` (raveled and
        joined in that order), ``x`` the free variables raveled and joined in the order given.

        Found numerically, column by column, from :meth:`machine_arrays` (and the +-1 to 0/1
        map under ``prior="spin"``), and checked at random points: a machine whose canonical
        arrays are not affine in its free variables raises.

        >>> from bellmodels.models.boltzmann import CRBM
        >>> names, m, b0 = CRBM().free_affine_map()
        >>> names[0], m.shape
        (('W_spin', (2, 4)), (28, 24))
        """
        spin = self.prior == "spin"
        names = tuple(
            ((f"{n}_spin" if spin else n), tuple(spec.shape)) for n, spec in self.parameters.items()
        )
        sizes = [int(np.prod(shape)) for _, shape in names]
        bounds = np.cumsum([0, *sizes])

        def canonical(x: np.ndarray) -> np.ndarray:
            free = {
                n.removesuffix("_spin") if spin else n: x[lo:hi].reshape(shape)
                for (n, shape), lo, hi in zip(names, bounds[:-1], bounds[1:], strict=True)
            }
            arr = self.machine_arrays(self._from_spin(free, np) if spin else free)
            return np.concatenate([np.ravel(arr.W), arr.c, arr.d, np.ravel(arr.A)])

        n = int(bounds[-1])
        offset = canonical(np.zeros(n))
        matrix = np.stack([canonical(e) - offset for e in np.eye(n)], axis=1)
        rng = np.random.default_rng(0)
        for _ in range(2):
            x = rng.normal(size=n)
            if not np.allclose(matrix @ x + offset, canonical(x), rtol=1e-9, atol=1e-9):
                raise RuntimeError(
                    f"{self.name}: the canonical arrays are not affine in the free variables"
                )
        return names, matrix, offset

    @abstractmethod
    def _tensor_arrays(self, params: Mapping[str, Any]) -> tuple[Any, Any, Any, Any]:
        """(W, c, d, A or None) as PyTensor expressions in canonical form."""

    def log_behaviour(self, params: Mapping[str, Any] | None = None) -> np.ndarray:
        """log p(x_a, x_b | s_a, s_b), exact and stable for large weights."""
        return log_behaviour(self.machine_arrays(params), self.layout)

    def ontic_table(self, params: Mapping[str, Any] | None = None) -> OnticTable:
        """lambda = h: p(h | settings) and the factorising response p(x_a, x_b | settings, h).

        >>> from bellmodels.models.boltzmann import RBM
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

    def ontic_tables(self, values: Mapping[str, Any]) -> OnticTables:
        """The tables of many draws at once: :meth:`ontic_table` (lambda = h, as Weinstein,
        arXiv:1707.03114 (2017), reads the hidden units) of every draw's machine, by :func:`~bellmodels.models.boltzmann._kernels.ontic_arrays` over the stack of
        machines (:meth:`stacked_machine_arrays`); the loop of the base class for a subclass
        that redefines :meth:`ontic_table`.

        >>> import numpy as np
        >>> from bellmodels.models.boltzmann import RBM
        >>> m = RBM.weinstein2017()
        >>> stack = m.ontic_tables({"d": np.stack([m.params()["d"], np.zeros(4)])})
        >>> bool(np.allclose(stack[0].p_lambda_values, m.ontic_table().p_lambda_values))
        True
        """
        if not uses_own(self, BoltzmannModel, ("ontic_table",)):
            return super().ontic_tables(values)
        p_h, resp = ontic_arrays(self.stacked_machine_arrays(values), self.layout)
        return OnticTables(p_h, resp, self.scenario, hidden_labels(self.n_hidden))

    def stacked_machine_arrays(self, values: Mapping[str, Any]) -> MachineArrays:
        """:meth:`machine_arrays` of many draws (``values`` as in :meth:`ontic_tables`): the
        canonical arrays with a leading draw axis. Default: one draw at a time, stacked; the
        :class:`RBM` and :class:`CRBM` build them with array operations over the draws."""
        p = self.stacked_params(values)
        one = [self.machine_arrays({k: v[i] for k, v in p.items()}) for i in range(n_draws(p))]
        return MachineArrays(*(np.stack([getattr(m, f) for m in one]) for f in "WcdA"))

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
        """KL(data || model) in nats (see :func:`bellmodels.models.boltzmann.training.kl_divergence`).

        ``objective="joint"`` (the RBM's default): KL between the empirical joint distribution of
        (settings, outcomes) and the machine's ``p(v)``; ``"conditional"`` (the CRBM's only
        choice): ``sum_s q(s) KL(q(x | s) || p(x | s))`` with ``q(s)`` the data's setting
        frequencies.
        """
        from bellmodels.models.boltzmann.training import kl_divergence

        objective = objective or ("joint" if self.supports_joint else "conditional")
        return kl_divergence(self, counts, params, objective)

    @one_blas_thread()
    def train(self, counts: Counts, **options: Any) -> BoltzmannModel:
        """Train on ``counts`` by maximum likelihood (returns ``self``, as scikit-learn's ``fit``).

        See :func:`bellmodels.models.boltzmann.training.fit_machine` for the options (``method``
        = "exact" | "pcd" | "cd", ``objective``, ``mi_penalty``, ``n_restarts``, ``seed``, ...).
        The constructor's arguments are never overwritten: the fitted parameters go to
        ``params_``, which :meth:`params` returns from then on (use them as initial values for
        PyMC), and ``kl_``, ``loss_``, ``mi_bits_``, ``history_``, ``n_iter_``, ``restarts_``,
        ``fit_time_``, ``training_`` describe the fit. ``train`` is the maximum-likelihood verb;
        the Bayesian one is :func:`bellmodels.fit` (NUTS).

        >>> from bellmodels import Counts, Scenario
        >>> from bellmodels.models.boltzmann import RBM
        >>> truth = RBM.weinstein2017()
        >>> counts = Counts((truth.behaviour() * 25_000).round().astype(int), Scenario.chsh())
        >>> fitted = RBM(n_hidden=4, seed=1).train(counts, objective="conditional")
        >>> fitted.kl_ < 1e-3
        True
        """
        from bellmodels.models.boltzmann.training import fit_machine

        result = fit_machine(self, counts, **options)
        self.params_ = dict(result.params)
        for key, value in result.attributes().items():
            setattr(self, key, value)
        return self

    def fit(self, counts: Counts, **options: Any) -> BoltzmannModel:
        """Deprecated name of :meth:`train` (``fit`` is the Bayesian verb, :func:`bellmodels.fit`).

        Warns (:class:`DeprecationWarning`) and calls :meth:`train` with the same arguments.
        """
        warnings.warn(
            f"{type(self).__name__}.fit(counts) is deprecated: maximum-likelihood training is "
            f"{type(self).__name__}.train(counts); bellmodels.fit is the Bayesian (NUTS) fit",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.train(counts, **options)

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

        >>> from bellmodels.models.boltzmann import RBM
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
        """Block-Gibbs chains with the settings clamped, one per trial (:func:`gibbs_sweep`)."""
        arr = self.machine_arrays()
        s = np.concatenate([self.layout.codes_a[sa], self.layout.codes_b[sb]], axis=1)
        v = np.concatenate([s, (rng.random((sa.size, 2)) < 0.5).astype(float)], axis=1)
        for _ in range(sweeps):
            v = gibbs_sweep(arr, v, rng, clamp_settings=True)
        n_s = self.layout.n_settings
        return v[:, n_s].astype(np.int64), v[:, n_s + 1].astype(np.int64)


__all__ = ["PRIORS", "PRIOR_SIGMA_BINARY", "PRIOR_SIGMA_SPIN", "BoltzmannModel"]
