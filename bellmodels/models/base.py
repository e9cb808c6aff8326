"""The one interface every hidden-variable model implements.

A model is declared, in the manner of NumPyro distributions, by class attributes stating what it
claims (``name``, ``family``, ``assumption_dropped``, ``citation``) and a few methods that give,
for a :class:`~bellmodels.scenario.Scenario` and a parameter set:

- ``parameters``: names, priors (:mod:`bellmodels.models.priors`, built lazily inside a
  ``pm.Model``), defaults and supports; a class attribute dict, or a property when they depend
  on the scenario;
- ``ontic(params, xp)``: p(lambda | s) and p(x_a, x_b | s, lambda), written once with the array
  namespace ``xp`` (``numpy`` or ``pytensor.tensor``).

Everything else follows by default: ``ontic_table(params)`` (the finite lambda table the audit
reads), ``ontic_tables(values)`` (the tables of many parameter draws at once, stacked: what the
audit of a posterior reads), ``behaviour(params)`` (its sum over lambda, a ``(K_a, K_b, 2, 2)`` numpy array),
``behaviour_tensor(params)`` (the same sum with ``xp = pytensor.tensor``, differentiable, what
PyMC fits) and ``sample_trials(n, seed)`` (the ontic table's own generative process: settings,
then lambda, then outcomes). A model with a closed form or its own algorithm overrides them
(the shipped models do); :func:`bellmodels.models.check` verifies that the overrides agree.

The claims are not trusted: the audit classifies every model from its ontic table alone, and
:func:`bellmodels.models.check` compares the classification with ``family``.

Array convention: outcome index 0 <-> -1, index 1 <-> +1 (``bellmodels.scenario.OUTCOMES``).
"""

from __future__ import annotations

import inspect
import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from bellmodels._util import to_jsonable
from bellmodels.models._batch import n_draws, stacked_values
from bellmodels.models.priors import Prior, Support
from bellmodels.scenario import Scenario

if TYPE_CHECKING:
    from bellmodels.data import Trials
    from bellmodels.ontic import OnticTable, OnticTables

FAMILIES = ("local", "measurement-dependent", "nonlocal", "retrocausal")


@dataclass(frozen=True)
class Parameter:
    """One named model parameter: its prior, default and support, stated once.

    Attributes
    ----------
    name
        Name, used as the PyMC variable name (filled from the key when a class declares
        ``parameters = {"efficiency": Parameter(...)}``).
    shape
        Shape (``()`` for a scalar; a :class:`~bellmodels.models.priors.Dirichlet` sets its own).
    default
        Default value (the ideal model, or the published one); ``None``: the prior's mean.
    prior
        A declarative spec of :mod:`bellmodels.models.priors` (``Beta(2, 1)``,
        ``Uniform(0, 1)``, ``Normal(0, 0.05)``, ``Dirichlet(16)``, ...), from which
        ``prior_repr``, ``to_free`` and ``support`` follow; or (the older form) a callable
        ``prior(name) -> TensorVariable`` called inside a ``pm.Model`` context, with
        ``prior_repr`` given by hand.
    prior_repr
        Human-readable description of the prior, e.g. ``"Beta(20, 1)"`` (saved in fit attrs).
    description
        One line saying what the parameter means.
    to_free
        ``to_free(name, value) -> {free variable name: value}`` when ``prior`` builds the
        parameter as a ``Deterministic`` of other free variables (e.g. a Dirichlet from
        Exponentials); ``None`` means the parameter is itself the free variable. Used to start
        chains at given parameter values.
    support
        The values the parameter may take: an :class:`~bellmodels.models.priors.Interval` or
        :class:`~bellmodels.models.priors.Simplex` (default: the prior spec's support; none for
        a callable prior). The model's constructor and :meth:`HiddenVariableModel.params`
        check every value against it.

    Example
    -------
    >>> from bellmodels.models.priors import Beta
    >>> p = Parameter("efficiency", prior=Beta(5, 1), default=0.9)
    >>> p.prior_repr, p.support, p.check(0.9, "my-model")
    ('Beta(5, 1)', Interval(lower=0.0, upper=1.0), None)
    >>> p.check(1.2, "my-model")
    Traceback (most recent call last):
    ...
    ValueError: parameter 'efficiency' of model 'my-model': 1.2 is outside [0, 1]
    """

    name: str = ""
    shape: tuple[int, ...] | None = None
    default: Any = None
    prior: Callable[[str], Any] | None = None
    prior_repr: str = ""
    description: str = ""
    to_free: Callable[[str, np.ndarray], dict[str, np.ndarray]] | None = None
    support: Support | None = None

    def __post_init__(self) -> None:
        spec = self.prior
        shape = self.shape
        if isinstance(spec, Prior):
            shape = spec.shape if shape is None else tuple(shape)
            spec = spec.with_shape(shape)
            object.__setattr__(self, "prior", spec)
            if not self.prior_repr:
                object.__setattr__(self, "prior_repr", repr(spec))
            if self.to_free is None and type(spec).to_free is not Prior.to_free:
                object.__setattr__(self, "to_free", spec.to_free)
            if self.support is None:
                object.__setattr__(self, "support", spec.support)
            if self.default is None:
                object.__setattr__(self, "default", spec.mean())
        elif spec is None or not callable(spec):
            raise TypeError(
                f"parameter {self.name!r}: prior must be a spec of bellmodels.models.priors "
                f"(e.g. Beta(2, 2)) or a callable prior(name), got {spec!r}"
            )
        elif not self.prior_repr:
            raise TypeError(f"parameter {self.name!r}: a callable prior needs a prior_repr")
        object.__setattr__(self, "shape", () if shape is None else tuple(shape))
        if self.default is None:
            raise TypeError(f"parameter {self.name!r} needs a default")

    def default_array(self) -> np.ndarray:
        """The default value as a float array of the declared shape."""
        value = np.asarray(self.default, dtype=float)
        return np.broadcast_to(value, self.shape).copy() if value.shape != self.shape else value

    def check(self, value: Any, model: str = "") -> None:
        """Raise ``ValueError`` naming the parameter, the value and the range when ``value``
        lies outside :attr:`support` (see the example above)."""
        if self.support is None:
            return
        problem = self.support.violation(value)
        if problem is not None:
            of = f" of model {model!r}" if model else ""
            raise ValueError(f"parameter {self.name!r}{of}: {problem}")


@dataclass(frozen=True)
class UnitSymmetry:
    """Exchangeable units: permuting them (and, with ``sign_flip``, negating one) changes nothing.

    A model declares these in :meth:`HiddenVariableModel.parameter_symmetries` so that the
    evidence estimators count every symmetric image of the mode a sampler explores
    (:mod:`bellmodels.inference.evidence`). ``axes`` maps each free PyMC variable carrying a
    per-unit index to that axis: for an RBM ``{"W_spin": 1, "d_spin": 0}`` (hidden unit ``j`` is
    column ``j`` of ``W_spin`` and entry ``j`` of ``d_spin``). With ``sign_flip`` all of a unit's
    entries may change sign together (a +-1-coded unit relabelled on <-> off).

    >>> UnitSymmetry(4, {"W_spin": 1, "d_spin": 0}).order   # 4! permutations x 2^4 flips
    384
    """

    n_units: int
    axes: Mapping[str, int]
    sign_flip: bool = True

    @property
    def order(self) -> int:
        """The number of group elements."""
        return math.factorial(self.n_units) * (2**self.n_units if self.sign_flip else 1)


class HiddenVariableModel(ABC):
    """Abstract base of every model (see the module docstring).

    Constructors only store (scikit-learn style): ``Model(scenario=None, **values)`` keeps the
    scenario (default :meth:`Scenario.chsh`) and parameter values overriding the defaults, each
    checked against its parameter's shape and support.

    A minimal model declares its claims, its ``parameters`` and :meth:`ontic`:

    >>> import numpy as np
    >>> from bellmodels.models.priors import Beta
    >>> class Coin(HiddenVariableModel):   # lambda = a shared coin of bias q; both report it
    ...     name = "doc-coin"; family = "local"; assumption_dropped = "none"
    ...     citation = "Bell, Physics 1, 195 (1964)"
    ...     parameters = {"q": Parameter(prior=Beta(2, 2), default=0.5)}
    ...     def ontic(self, p, xp):
    ...         p_lam = xp.stack([1.0 - p["q"], p["q"]])             # (L,) = (2,)
    ...         resp = np.zeros((2, 2, 2, 2, 2))
    ...         resp[:, :, 0, 0, 0] = resp[:, :, 1, 1, 1] = 1.0      # lambda -> (x, x)
    ...         return p_lam, resp
    >>> float(Coin(q=0.3).behaviour()[0, 1, 1, 1])
    0.3
    >>> Coin(q=1.3)
    Traceback (most recent call last):
    ...
    ValueError: parameter 'q' of model 'doc-coin': 1.3 is outside [0, 1]
    """

    name: ClassVar[str]
    family: ClassVar[str]
    """The assumption family the model claims (one of :data:`FAMILIES`); the audit checks it."""
    assumption_dropped: ClassVar[str]
    citation: ClassVar[str]
    mass_matrix: ClassVar[str] = "diag"
    """NUTS mass matrix PyMC adapts for this model's posterior: ``"diag"`` or ``"full"`` (dense,
    for a posterior whose data-pinned directions mix many free variables; see ``no-signalling``)."""

    # -- capabilities inference reads (declared, never inferred from the family) --------------
    samplers: ClassVar[tuple[str, ...]] = ("pymc", "nutpie", "numpyro")
    """Preference of ``fit(..., sampler="auto")``: the first installed sampler wins."""
    init: ClassVar[str] = "prior"
    """Start of ``fit(..., init="auto")``: ``"prior"`` (PyMC's jittered default) or ``"mode"``
    (the posterior mode found from the maximum-likelihood fit, when :attr:`trainable`)."""
    trainable: ClassVar[bool] = False
    """Whether the model has a maximum-likelihood ``train(counts)`` (returns self, as scikit-learn's ``fit``)."""
    lambda_labels: ClassVar[Sequence[Any] | None] = None
    """Names of the lambda values of :meth:`ontic` (default ``0 .. L-1``)."""

    def __init__(self, scenario: Scenario | None = None, **values: Any) -> None:
        self.scenario = scenario if scenario is not None else Scenario.chsh()
        self.values: dict[str, Any] = dict(values)
        specs = self.parameters
        unknown = sorted(set(self.values) - set(specs))
        if unknown:
            raise ValueError(
                f"model {self.name!r} has no parameter(s) {unknown}; its parameters are "
                f"{sorted(specs)}"
            )
        for name, value in self.values.items():
            self._checked(specs[name], value)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        declared = cls.__dict__.get("parameters")
        if isinstance(declared, Mapping):  # parameters stated once, as a class attribute
            cls.parameters = _named(cls.__name__, declared)  # type: ignore[assignment]
        # ABCMeta sets __abstractmethods__ only after this hook runs, so look for abstract
        # members directly: an intermediate abstract class need not declare the claims.
        if any(getattr(getattr(cls, n, None), "__isabstractmethod__", False) for n in dir(cls)):
            return
        for attr in ("name", "family", "assumption_dropped", "citation"):
            if not isinstance(getattr(cls, attr, None), str):
                raise TypeError(f"{cls.__name__} must declare the class attribute {attr!r}")
        if cls.family not in FAMILIES:
            raise TypeError(f"{cls.__name__}.family must be one of {FAMILIES}, got {cls.family!r}")
        if cls.mass_matrix not in ("diag", "full"):
            raise TypeError(f"{cls.__name__}.mass_matrix must be 'diag' or 'full'")
        base = HiddenVariableModel
        if cls.ontic is base.ontic and (
            cls.ontic_table is base.ontic_table or cls.behaviour_tensor is base.behaviour_tensor
        ):
            raise TypeError(
                f"{cls.__name__} must define ontic(self, params, xp) (or both ontic_table and "
                "behaviour_tensor)"
            )

    # -- declared -----------------------------------------------------------------------------
    @property
    @abstractmethod
    def parameters(self) -> dict[str, Parameter]:
        """The model's parameters for its scenario, by name (ordered)."""

    def ontic(self, params: Mapping[str, Any], xp: Any) -> tuple[Any, ...]:
        """``(p_lambda, response)`` written with the array namespace ``xp``.

        ``xp`` is ``numpy`` (``params`` hold arrays) or ``pytensor.tensor`` (``params`` hold
        PyMC variables); write the table once with what both share: arithmetic, broadcasting,
        indexing with ``None``, ``xp.stack``, ``xp.concatenate``, ``xp.exp``, ``xp.cos``,
        ``xp.where``, ... Constants (arrays that do not depend on the parameters) may be plain
        numpy arrays. ``p_lambda`` is p(lambda | s_a, s_b), shape ``(K_a, K_b, L)`` or ``(L,)``
        (the same for every setting pair); ``response`` is p(x_a, x_b | s_a, s_b, lambda), shape
        ``(K_a, K_b, L, 2, 2)``, outcome index 0 <-> -1. Optionally a third element: the
        lambda labels. The building blocks of :mod:`bellmodels.models.blocks` help.
        """
        raise NotImplementedError(f"{type(self).__name__} defines no ontic(params, xp)")

    def ontic_table(self, params: Mapping[str, Any] | None = None) -> OnticTable:
        """The finite lambda table; ``None`` means :meth:`params`. Default: :meth:`ontic`."""
        from bellmodels.ontic import OnticTable

        out = self.ontic(self.params(params), np)
        labels = out[2] if len(out) > 2 else self.lambda_labels
        return OnticTable(out[0], out[1], self.scenario, lam_labels=labels)

    def ontic_tables(self, values: Mapping[str, Any]) -> OnticTables:
        """The ontic table of each of many parameter draws, stacked: what a posterior audit reads.

        ``values`` maps parameter names to arrays whose leading axis is the draw (``(N, *shape)``,
        e.g. a posterior's draws of that parameter); a parameter not given takes its
        :meth:`params` value in every draw. The result, an
        :class:`~bellmodels.ontic.OnticTables`, goes to
        :func:`bellmodels.auditing.audit_draws` as it is. Default: :meth:`ontic_table` of each
        draw in a Python loop, so every model, a user's own included, has it. The audit of every
        fit builds thousands of tables, so the shipped models whose tables are a few array
        operations override this with the same operations over the draw axis
        (``benchmarks/ontic_batch.py``); ``tests/models/test_ontic_tables.py`` checks each
        override against this loop to round-off.

        >>> from bellmodels import models
        >>> m = models.get("quantum-singlet")
        >>> stack = m.ontic_tables({"visibility": np.array([0.5, 0.9, 1.0])})
        >>> len(stack), stack.n_lambda, float(stack.p_lambda_values[1, 0, 0, 1].round(12))
        (3, 2, 0.1)
        >>> bool(np.allclose(stack.behaviour()[1], m.behaviour({"visibility": 0.9})))
        True
        """
        from bellmodels.ontic import OnticTables

        n = n_draws(values)
        return OnticTables.from_tables(
            [self.ontic_table({k: v[i] for k, v in values.items()}) for i in range(n)]
        )

    def stacked_params(self, values: Mapping[str, Any]) -> dict[str, np.ndarray]:
        """:meth:`params` for many draws: every parameter as an ``(N, *shape)`` float array.

        ``values`` as in :meth:`ontic_tables`; the others are :meth:`params` repeated. Each draw
        is checked against its parameter's shape and support, as :meth:`params` checks one (a
        vectorised override of :meth:`ontic_tables` starts here).

        >>> from bellmodels import models
        >>> p = models.get("bell1964").stacked_params({"visibility": np.array([0.2, 0.7])})
        >>> p["visibility"].tolist(), p["offset_a"].shape
        ([0.2, 0.7], (2, 2))
        """
        return stacked_values(self.parameters, self.params(), values, self.name)

    def behaviour(self, params: Mapping[str, Any] | None = None) -> np.ndarray:
        """p(x_a, x_b | s_a, s_b), shape ``(K_a, K_b, 2, 2)``; ``None`` means :meth:`params`.

        Default: the ontic table summed over lambda."""
        return self.ontic_table(params).behaviour()

    def behaviour_tensor(self, params: Mapping[str, Any]) -> Any:
        """The same as :meth:`behaviour`, as a differentiable PyTensor expression.

        Default: :meth:`ontic` with ``xp = pytensor.tensor``, summed over lambda."""
        import pytensor.tensor as pt

        out = self.ontic(params, pt)
        p_lam = pt.as_tensor_variable(out[0])
        resp = pt.as_tensor_variable(out[1])
        return (p_lam[..., None, None] * resp).sum(axis=2)

    def log_behaviour_tensor(
        self, params: Mapping[str, Any], free: Mapping[str, Any] | None = None
    ) -> Any | None:
        """``log p(x_a, x_b | s_a, s_b)`` as a PyTensor expression, or ``None`` (the default).

        A model that computes its behaviour exactly in log space returns it here; ``fit`` then
        writes the likelihood as ``sum(n log p)`` directly (no floor, no renormalisation: see
        :func:`bellmodels.inference.fit.build_model`). ``params`` are the variables
        :meth:`prior_variables` returned; ``free``, when given, the PyMC model's free variables
        by name, from which ``params`` were built: a model may compute ``log p`` from those
        directly (the expression must then equal the one of ``params``; ``bm.models.check``
        compares them).
        """
        return None

    def coincidence_rate(self, params: Mapping[str, Any] | None = None) -> np.ndarray | None:
        """P(both detect | s_a, s_b), ``(K_a, K_b)``, of a model of post-selected tables.

        On a table of coincidences the number kept per setting pair is data too: with settings
        drawn with known probabilities ``p(s)`` (uniform), a coincidence falls on pair ``s`` with
        probability ``p(s) D(s) / sum_s' p(s') D(s')``, which depends on the model when its
        detection depends on the settings (the detection loophole). ``fit`` adds that term to
        the likelihood (see :func:`bellmodels.inference.fit.build_model`). ``None`` (the default)
        means every kept pair is kept whatever the settings (no detection stage, or fair
        sampling), so the counts per pair carry no information about the model.

        >>> from bellmodels import models
        >>> models.get("quantum-singlet").coincidence_rate() is None
        True
        """
        return None

    def coincidence_rate_tensor(self, params: Mapping[str, Any]) -> Any | None:
        """:meth:`coincidence_rate` as a PyTensor expression of the prior variables (or ``None``).

        >>> from bellmodels import models
        >>> models.get("quantum-singlet").coincidence_rate_tensor({}) is None
        True
        """
        return None

    def sample_trials(self, n: int, seed: int | None, setting_probs: Any = None) -> Trials:
        """``n`` trials generated by the model's own algorithm, settings drawn freely.

        Default: the ontic table's generative process. The settings are drawn from
        ``setting_probs`` (default uniform), then lambda from p(lambda | settings), then the
        outcomes from p(x_a, x_b | settings, lambda)."""
        from bellmodels.data import Trials

        rng = np.random.default_rng(seed)
        table = self.ontic_table()
        sa, sb = self.scenario.draw_settings(n, rng, setting_probs)
        joint = table.p_lambda_values[..., None, None] * table.response_values  # (Ka,Kb,L,2,2)
        cell = np.empty(n, dtype=np.int64)
        for i in range(self.scenario.n_a):
            for j in range(self.scenario.n_b):
                rows = np.flatnonzero((sa == i) & (sb == j))
                q = joint[i, j].ravel()
                cell[rows] = rng.choice(q.size, size=rows.size, p=q / q.sum())
        xa = 2 * ((cell // 2) % 2) - 1
        xb = 2 * (cell % 2) - 1
        return Trials(self.scenario, sa, sb, xa.astype(np.int8), xb.astype(np.int8))

    # -- shared -------------------------------------------------------------------------------
    def _checked(self, spec: Parameter, value: Any) -> np.ndarray:
        """``value`` as a float array, its shape and support checked against ``spec``."""
        arr = np.asarray(value, dtype=float)
        if arr.shape != spec.shape:
            raise ValueError(
                f"parameter {spec.name!r} of model {self.name!r} must have shape "
                f"{spec.shape}, got {arr.shape}"
            )
        spec.check(arr, self.name)
        return arr

    def params(self, overrides: Mapping[str, Any] | None = None) -> dict[str, np.ndarray]:
        """Defaults, overridden by the constructor's values, then by the fitted ``params_`` (after
        a maximum-likelihood ``fit``), then by ``overrides``; each checked against its
        parameter's shape and support."""
        specs = self.parameters
        out = {name: spec.default_array() for name, spec in specs.items()}
        fitted = getattr(self, "params_", None) or {}  # a maximum-likelihood fit's (trainable)
        for source in (self.values, fitted, overrides or {}):
            for name, value in source.items():
                if name not in specs:
                    raise ValueError(f"model {self.name!r} has no parameter {name!r}")
                out[name] = self._checked(specs[name], value)
        return out

    def prior_variables(self) -> dict[str, Any]:
        """The parameters as PyMC variables; call inside a ``pm.Model`` context.

        Default: each :class:`Parameter`'s own ``prior(name)``. A model whose prior couples its
        parameters (the RBM family: a prior on the machine written with +-1 units) overrides
        this together with :meth:`free_values`.
        """
        return {name: spec.prior(name) for name, spec in self.parameters.items()}  # type: ignore[misc]

    def free_values(self, params: Mapping[str, Any]) -> dict[str, np.ndarray]:
        """Values of the free PyMC variables of :meth:`prior_variables` at ``params``.

        What starting chains at given parameter values means (``fit(init="params")`` and the
        RBM family's start at the posterior mode). Default: each parameter's ``to_free``, or
        the value itself.

        >>> from bellmodels import models
        >>> sorted(models.get("local-polytope").free_values(models.get("local-polytope").params()))
        ['weights_gamma']
        """
        out: dict[str, np.ndarray] = {}
        for name, spec in self.parameters.items():
            value = np.asarray(params[name], dtype=float)
            out.update(spec.to_free(name, value) if spec.to_free else {name: value})
        return out

    def options(self) -> dict[str, Any]:
        """The constructor's keyword options other than the scenario and parameter values, as
        stored (scikit-learn style: every constructor argument is an attribute of that name).

        >>> from bellmodels.models import RBM
        >>> RBM(n_hidden=3).options()["n_hidden"]
        3
        """
        out = {}
        for p in list(inspect.signature(type(self).__init__).parameters.values())[1:]:
            if p.kind in (p.VAR_KEYWORD, p.VAR_POSITIONAL) or p.name == "scenario":
                continue
            if hasattr(self, p.name):
                out[p.name] = getattr(self, p.name)
        return out

    def parameter_symmetries(self) -> tuple[UnitSymmetry, ...]:
        """Exact symmetries of the prior and the likelihood in the free PyMC variables.

        Default: none. A model with exchangeable units (the Boltzmann machines' hidden units)
        must declare them, or its evidence misses the modes its sampler did not visit.

        >>> from bellmodels import models
        >>> models.get("quantum-singlet").parameter_symmetries()
        ()
        """
        return ()

    def observational_family(self) -> Hashable | None:
        """A key shared by the models that claim to be observationally equivalent to this one.

        Two models whose keys are equal (and not ``None``) claim the same parameters, the same
        priors and the same behaviour (and coincidence rate) at every parameter value: they
        differ only in their ontic tables, which the data cannot see. ``bm.compare`` and a study
        then fit them once and give each its own audit and row; the claim is checked
        numerically first (:func:`bellmodels.inference.sharing.check_equivalent`). Default
        ``None``: the model shares its fit with nobody (a model of one's own declares a key
        only when it means it).

        >>> from bellmodels import models
        >>> q, h = models.get("quantum-singlet"), models.get("hall2010")
        >>> q.observational_family() == h.observational_family() is not None
        True
        >>> models.get("bell1964").observational_family() is None
        True
        """
        return None

    def check_counts(self, counts: Any) -> None:
        """Raise ``ValueError`` when ``counts`` is a kind of table this model cannot describe.

        A count table says whether it holds every trial or only coincidences
        (:attr:`bellmodels.Counts.kind`). Most models describe p(outcomes | settings) of whatever
        trials were kept, so the default accepts every table; a model whose outcomes mean
        detection / no detection (``quantum-two-qubit``) or whose likelihood is conditioned on
        detection (``local-detection-loophole``) refuses the other kind. ``fit``, ``compare``,
        the evidence estimators and the study worker call it before any work.

        >>> from bellmodels import datasets, models
        >>> models.get("quantum-singlet").check_counts(datasets.load("weihs1998"))  # accepted
        """
        return None

    def describe(self) -> dict[str, Any]:
        """The model's declared claims, parameters and everything needed to rebuild it, JSON-ready
        (for attrs and reports): its registry ``name``, the ``module`` and ``class`` that define
        it (so a new process knows what to import), ``scenario``, constructor ``options`` and
        parameter ``values`` (see :func:`bellmodels.inference.load_fit`).

        >>> from bellmodels.models import RBM
        >>> d = RBM(n_hidden=2, seed=3).describe()
        >>> d["options"]["n_hidden"], d["options"]["seed"], d["module"]
        (2, 3, 'bellmodels.models.boltzmann.rbm')
        """
        return {
            "options": to_jsonable(self.options()),
            "values": to_jsonable(self.values),
            "name": self.name,
            "module": type(self).__module__,
            "class": type(self).__qualname__,
            "family": self.family,
            "assumption_dropped": self.assumption_dropped,
            "citation": self.citation,
            "scenario": self.scenario.to_json(),
            "parameters": {
                n: {"shape": list(p.shape), "prior": p.prior_repr, "description": p.description}
                for n, p in self.parameters.items()
            },
        }

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, family={self.family!r})"


def _named(owner: str, declared: Mapping[str, Parameter]) -> dict[str, Parameter]:
    """A class's ``parameters = {...}`` with each :class:`Parameter`'s name set from its key."""
    out = {}
    for key, spec in declared.items():
        if not isinstance(spec, Parameter):
            raise TypeError(f"{owner}.parameters[{key!r}] must be a Parameter, got {spec!r}")
        if spec.name and spec.name != key:
            raise TypeError(f"{owner}.parameters[{key!r}] is named {spec.name!r}")
        out[key] = spec if spec.name else replace(spec, name=key)
        out[key].check(out[key].default_array(), owner)
    return out


__all__ = ["FAMILIES", "HiddenVariableModel", "Parameter", "UnitSymmetry"]
