"""``check(model)``: does a model keep the contract every part of bellmodels relies on?

A model states its behaviour up to four times (the numpy ``behaviour``, the PyTensor
``behaviour_tensor`` PyMC fits, the ``ontic_table`` the audit reads, the ``sample_trials``
simulator), its parameters' supports and priors, and the assumption ``family`` it claims.
Nothing else verifies that these agree; :func:`check` does, one named item each:

``parameters``
    every default lies in its parameter's declared support;
``priors``
    the priors build in a ``pm.Model`` and their draws have the declared shapes and supports;
``tensor``
    ``behaviour_tensor`` equals ``behaviour`` (max abs difference <= ``atol``) at the defaults
    (with the free variables set by ``free_values``) and at the prior draws, and so do
    ``log_behaviour_tensor`` on the free variables (a model that has it: the likelihood ``fit``
    writes from it) and ``coincidence_rate_tensor`` ``coincidence_rate`` (a model of
    post-selected tables);
``ontic``
    the ontic table is a normalised table (validated by :class:`~bellmodels.ontic.OnticTable`)
    and sums over lambda to ``behaviour``, at the defaults and the prior draws (within the
    model's ``ontic_tolerance`` when it declares one);
``sampler``
    ``sample_trials(n, seed)`` agrees with ``behaviour``: Pearson's chi-square with the
    setting-pair totals fixed (cells of zero probability must stay empty), rejected at
    p < ``level``; with a fixed seed the verdict is reproducible, and a correct model fails
    with probability ``level`` over seeds; for a model with a ``coincidence_rate`` the
    trials per setting pair too, against ``D(s) / sum D`` (settings drawn uniformly);
``family``
    the audit's classification (:func:`bellmodels.audit`) of the ontic table at the defaults
    is one the declared family allows (``local`` -> local & measurement-independent, at the
    prior draws too; ``measurement-dependent`` / ``retrocausal`` -> local &
    measurement-dependent; ``nonlocal`` -> parameter- or outcome-dependent).

>>> from bellmodels import models
>>> result = check(models.get("bell1964"), draws=2, trials=5_000)
>>> result
CheckResult('bell1964': all 6 checks pass)
>>> result.ok
True
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from bellmodels.models.base import HiddenVariableModel

CHECK_MODE = "FAST_COMPILE"
"""PyTensor mode of the check's functions: each is evaluated at a few dozen points, where
PyTensor's Python implementations cost milliseconds and a C compiler run per operation seconds
(the check of every shipped model compiled about 40 C modules on a cold cache)."""

ALLOWED_CLASSES: dict[str, tuple[str, ...]] = {
    "local": ("local & measurement-independent",),
    "measurement-dependent": ("local & measurement-dependent",),
    "retrocausal": ("local & measurement-dependent",),
    "nonlocal": ("parameter-dependent (nonlocal)", "outcome-dependent (nonlocal)"),
}
"""The audit classifications each declared family allows."""


@dataclasses.dataclass(frozen=True)
class CheckItem:
    """One check: its ``name``, whether it ``passed`` and what was found (``detail``)."""

    name: str
    passed: bool
    detail: str


@dataclasses.dataclass(frozen=True)
class CheckResult:
    """The outcome of :func:`check`: one :class:`CheckItem` per check, in order."""

    model: str
    items: tuple[CheckItem, ...]

    @property
    def ok(self) -> bool:
        """Whether every check passed."""
        return all(i.passed for i in self.items)

    @property
    def failed(self) -> list[str]:
        """Names of the checks that failed."""
        return [i.name for i in self.items if not i.passed]

    def report(self) -> str:
        """One line per check: ``PASS`` / ``FAIL``, the name, what was found."""
        lines = [f"check of model {self.model!r}:"]
        lines += [
            f"  {'PASS' if i.passed else 'FAIL'}  {i.name:<10} {i.detail}" for i in self.items
        ]
        return "\n".join(lines)

    def raise_if_failed(self) -> CheckResult:
        """Raise ``AssertionError`` with :meth:`report` if a check failed; else return self."""
        if not self.ok:
            raise AssertionError(self.report())
        return self

    def __repr__(self) -> str:
        if self.ok:
            return f"CheckResult({self.model!r}: all {len(self.items)} checks pass)"
        return f"CheckResult({self.model!r}: FAILED {', '.join(self.failed)})"


def check(
    model: HiddenVariableModel,
    *,
    draws: int = 3,
    trials: int = 20_000,
    level: float = 1e-3,
    seed: int = 0,
    atol: float = 1e-9,
) -> CheckResult:
    """Check ``model`` against the contract (see the module docstring); never raises for a
    failed check, it records it (see :meth:`CheckResult.report`).

    Parameters
    ----------
    model
        The model instance to check (at its own parameter values as defaults).
    draws
        Prior draws at which the tensor and ontic forms are compared.
    trials
        Trials of the sampler check.
    level
        Significance level of the sampler's chi-square test.
    seed
        Seed of the prior draws and the sampler.
    atol
        Tolerance of the tensor-vs-numpy comparison (and of the ontic one, unless the model
        declares ``ontic_tolerance``).
    """
    items: list[CheckItem] = []
    draws_list: list[dict[str, np.ndarray]] = []

    def run(name: str, fn: Callable[[], str]) -> None:
        try:
            items.append(CheckItem(name, True, fn()))
        except Exception as exc:  # a failed check is recorded, not raised
            items.append(CheckItem(name, False, f"{type(exc).__name__}: {exc}"))

    run("parameters", lambda: _check_parameters(model))
    run("priors", lambda: _check_priors(model, draws, seed, draws_list))
    run("tensor", lambda: _check_tensor(model, draws_list, atol))
    run("ontic", lambda: _check_ontic(model, draws_list, atol))
    run("sampler", lambda: _check_sampler(model, trials, level, seed))
    run("family", lambda: _check_family(model, draws_list))
    return CheckResult(str(model.name), tuple(items))


def _check_parameters(model: HiddenVariableModel) -> str:
    specs = model.parameters
    for name, spec in specs.items():
        if spec.name != name:
            raise ValueError(f"parameters[{name!r}] is named {spec.name!r}")
        spec.check(spec.default_array(), model.name)
    values = model.params()
    bounded = [n for n, s in specs.items() if s.support is not None]
    return f"{len(values)} parameter(s), defaults inside the supports of {bounded or 'none'}"


def _check_priors(
    model: HiddenVariableModel, n: int, seed: int, out: list[dict[str, np.ndarray]]
) -> str:
    import pymc as pm

    with pm.Model():
        rvs = model.prior_variables()
    if list(rvs) != list(model.parameters):
        raise ValueError(
            f"prior_variables gives {list(rvs)}, parameters are {list(model.parameters)}"
        )
    if n < 1:
        return f"priors of {', '.join(rvs)} build (no draws asked for)"
    # drawn once: Python's implementations, no C compiler run (as for every check here)
    values = pm.draw(list(rvs.values()), draws=n, random_seed=seed, mode=CHECK_MODE)
    if n == 1:  # pm.draw returns one draw without its leading axis
        values = [np.asarray(v)[None] for v in values]
    for k in range(n):
        draw = {name: np.asarray(v[k], dtype=float) for name, v in zip(rvs, values, strict=True)}
        for name, spec in model.parameters.items():
            if draw[name].shape != spec.shape:
                raise ValueError(
                    f"a draw of {name!r} has shape {draw[name].shape}, not {spec.shape}"
                )
            try:
                spec.check(draw[name], model.name)
            except ValueError as exc:
                raise ValueError(f"prior draw {k} leaves the declared support: {exc}") from None
        out.append(draw)
    return f"{n} draws of {', '.join(rvs)} inside their supports"


def _check_tensor(
    model: HiddenVariableModel, draws: list[dict[str, np.ndarray]], atol: float
) -> str:
    import pymc as pm
    import pytensor
    import pytensor.tensor as pt

    # the graph PyMC fits: the behaviour of the prior variables; evaluated at the defaults by
    # replacing the free variables with their values there (free_values), and at prior draws
    with pm.Model() as pm_model:
        rvs = model.prior_variables()
        beh = model.behaviour_tensor(rvs)
        free_rvs = {rv.name: rv for rv in pm_model.free_RVs}
        log_beh = model.log_behaviour_tensor(rvs, free_rvs)  # what fit's likelihood uses
        rate = model.coincidence_rate_tensor(rvs)
    if (rate is None) != (model.coincidence_rate() is None):
        raise ValueError("coincidence_rate and coincidence_rate_tensor disagree on being None")
    # (name, graph, numpy form, the graph's inputs, their values at a point of parameters)
    params_in = (list(rvs.values()), lambda d: [d[n] for n in rvs])
    pairs = [("behaviour", beh, model.behaviour, *params_in)]
    if log_beh is not None:

        def free_at(d: dict[str, np.ndarray]) -> list[np.ndarray]:
            values = model.free_values(d)
            return [values[n] for n in free_rvs]

        pairs.append(
            ("log_behaviour", pt.exp(log_beh), model.behaviour, list(free_rvs.values()), free_at)
        )  # log_behaviour compared as exp(log p) = p
    if rate is not None:
        pairs.append(
            ("coincidence_rate", pt.as_tensor_variable(rate), model.coincidence_rate, *params_in)
        )
    defaults = model.params()
    free = model.free_values(defaults)
    replace = {
        rv: pt.as_tensor_variable(np.asarray(free[rv.name], dtype=rv.dtype))
        for rv in pm_model.free_RVs
    }
    worst = 0.0
    for name, graph, numpy_form, inputs, values in pairs:
        at_default = pytensor.function(
            [], pytensor.graph.clone_replace(graph, replace=replace), mode=CHECK_MODE
        )()
        err = _max_diff(at_default, numpy_form(defaults), "the defaults")
        fn = pytensor.function(inputs, graph, on_unused_input="ignore", mode=CHECK_MODE)
        for k, d in enumerate(draws):
            err = max(err, _max_diff(fn(*values(d)), numpy_form(d), f"prior draw {k}"))
        if err > atol:
            raise ValueError(f"{name}_tensor differs from {name} by {err:.3g} (> {atol:g})")
        worst = max(worst, err)
    names = " and ".join(f"{n}_tensor = {n}" for n, *_ in pairs)
    return f"{names} within {worst:.1e} at the defaults and {len(draws)} draws"


def _max_diff(a: Any, b: Any, where: str) -> float:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"at {where}: shapes {a.shape} and {b.shape} differ")
    return float(np.max(np.abs(a - b))) if a.size else 0.0


def _check_ontic(
    model: HiddenVariableModel, draws: list[dict[str, np.ndarray]], atol: float
) -> str:
    tol = float(getattr(model, "ontic_tolerance", atol))
    worst = 0.0
    for where, params in [
        ("the defaults", None),
        *((f"prior draw {k}", d) for k, d in enumerate(draws)),
    ]:
        table = model.ontic_table(params)  # OnticTable validates its normalisation
        if table.scenario != model.scenario:
            raise ValueError(f"at {where}: the table's scenario is not the model's")
        diff = _max_diff(table.behaviour(), model.behaviour(params), where)
        if diff > tol:
            raise ValueError(
                f"at {where}: the ontic table sums to a behaviour {diff:.3g} away (> {tol:g})"
            )
        worst = max(worst, diff)
    n_lam = model.ontic_table().n_lambda
    return f"normalised, {n_lam} lambda values, sums to the behaviour within {worst:.1e}"


def chi_square_p(counts: np.ndarray, behaviour: np.ndarray) -> tuple[float, int]:
    """Pearson's chi-square p-value (and degrees of freedom) of ``(K_a, K_b, 2, 2)`` counts
    against a behaviour, the setting-pair totals fixed. A count in a cell of zero probability
    gives p = 0; such cells are otherwise dropped.

    >>> b = np.full((2, 2, 2, 2), 0.25)
    >>> chi_square_p(np.full((2, 2, 2, 2), 100), b)
    (1.0, 12)
    """
    from scipy import stats

    n_pair = counts.sum(axis=(2, 3))
    expected = n_pair[:, :, None, None] * behaviour
    pos = expected > 1e-12
    dof = int(pos.sum()) - int((n_pair > 0).sum())
    if np.any(counts[~pos] > 0):
        return 0.0, dof
    stat = float((((counts - expected) ** 2)[pos] / expected[pos]).sum())
    return (float(stats.chi2.sf(stat, dof)) if dof > 0 else 1.0), dof


def _check_sampler(model: HiddenVariableModel, n: int, level: float, seed: int) -> str:
    trials = model.sample_trials(n, seed=seed)
    if len(trials) != n:
        raise ValueError(f"sample_trials({n}) returned {len(trials)} trials")
    values = trials.counts().values
    p, dof = chi_square_p(values, model.behaviour())
    if p < level:
        raise ValueError(
            f"{n} sampled trials disagree with the behaviour: chi-square p = {p:.2e} < {level:g} "
            f"({dof} dof, seed {seed})"
        )
    text = f"{n} trials agree with the behaviour: chi-square p = {p:.3f} >= {level:g} ({dof} dof)"
    rate = model.coincidence_rate()
    if rate is None:
        return text
    from scipy import stats

    share = rate / rate.sum()  # settings drawn uniformly (sample_trials' default)
    n_pair = values.sum(axis=(2, 3)).ravel()
    chi = stats.chisquare(n_pair, n * share.ravel())
    if chi.pvalue < level:
        raise ValueError(
            f"{n} sampled coincidences spread over the setting pairs unlike the coincidence "
            f"rate: chi-square p = {chi.pvalue:.2e} < {level:g} (seed {seed})"
        )
    return text + f"; their spread over setting pairs too (p = {chi.pvalue:.3f})"


def _check_family(model: HiddenVariableModel, draws: list[dict[str, np.ndarray]]) -> str:
    from bellmodels.auditing import audit

    allowed = ALLOWED_CLASSES[model.family]
    if model.family == "local" and getattr(model, "table", None) == "post-selected":
        # detection that depends on lambda makes lambda's distribution over the kept pairs
        # depend on the settings: the detection loophole, read on the post-selected table as
        # measurement dependence (Larsson, PRA 57, 3304 (1998); Gisin & Gisin, PLA 260, 323)
        allowed = (*allowed, "local & measurement-dependent")
    tol = max(1e-9, 10 * float(getattr(model, "ontic_tolerance", 0.0)))
    points: list[tuple[str, Mapping[str, Any] | None]] = [("the defaults", None)]
    if model.family == "local":  # a local model must be local at every parameter value
        points += [(f"prior draw {k}", d) for k, d in enumerate(draws)]
    for where, params in points:
        cls = audit(
            model.ontic_table(params), tol=tol, compute_min_mi=False, compute_min_hall_M=False
        ).classification
        if cls not in allowed:
            raise ValueError(
                f"declared family {model.family!r} but the audit at {where} says {cls!r} "
                f"(allowed: {', '.join(allowed)})"
            )
    return f"family {model.family!r}: the audit says {cls!r}"


__all__ = ["ALLOWED_CLASSES", "CheckItem", "CheckResult", "check", "chi_square_p"]
