"""One fit for models that are one model to the data: declared, checked numerically, shared.

Models that claim the same observational family
(:meth:`~bellmodels.models.HiddenVariableModel.observational_family`: the planar singlet family
``quantum-singlet``, ``toner-bacon``, ``brans``, ``hall2010``, ``dlr-one-sided``) have the same
parameters, priors and behaviour, so under one seed their PyMC fits, LOO and evidence are the
same estimate; only their ontic tables differ, which the data cannot see. ``bm.compare`` and a
study therefore run the sampler (and the evidence) once per family and give each member its own
fit built from the shared one (:func:`shared_fit`): the same ``posterior``, ``sample_stats``,
log-likelihood, ``posterior_predictive`` and data, its own ``audit_posterior`` (MI and Hall's M
of its own ontic tables at every draw), its own attrs and classification. Equivalent models then
tie exactly, by construction rather than by bitwise-reproducible sampling.

A declaration is a claim, so it is checked before any fit is shared (:func:`check_equivalent`):
the same parameters (names, shapes, priors), the same declarations inference reads (samplers,
start, mass matrix, symmetries), the same log prior density and the same behaviour (and
coincidence rate) to :data:`TOLERANCE` at :data:`CHECK_DRAWS` seeded prior draws. A declaration
the numbers contradict raises :class:`EquivalenceError` naming both models and the draw.

Example
-------
>>> from bellmodels import models
>>> check_equivalent(models.get("quantum-singlet"), models.get("hall2010"))   # passes
>>> [[m.name for m in g] for g in shared_groups([models.get(n) for n in
...     ("quantum-singlet", "bell1964", "hall2010")])]
[['quantum-singlet', 'hall2010'], ['bell1964']]
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np

from bellmodels import _arviz
from bellmodels.inference._backend import compiling_with
from bellmodels.inference.fit import audit_group
from bellmodels.inference.summary import FitSummary, summarize_fit

CHECK_DRAWS = 4
"""Seeded prior draws at which two models declared equivalent are compared."""
TOLERANCE = 1e-12
"""Largest difference of behaviour, coincidence rate or log prior density (relative to 1)."""
OWN_GROUPS = ("audit_posterior", "bellmodels")
"""Groups of a fit that belong to its model, never shared (the rest are the sampler's)."""
DECLARATIONS = ("samplers", "init", "mass_matrix", "trainable")
"""Class attributes that change how a model is fitted, compared before sharing."""


class EquivalenceError(ValueError):
    """Two models declared observationally equivalent whose numbers say otherwise."""


def family_key(model: Any) -> Hashable | None:
    """The model's declared family key (``None``: it shares with nobody).

    >>> from bellmodels import models
    >>> family_key(models.get("bell1964")) is None
    True
    """
    return model.observational_family()


def shared_groups(models: Sequence[Any], keys: Sequence[Hashable] | None = None) -> list[list[Any]]:
    """The models grouped by family key (and by ``keys``, one per model, e.g. fit settings),
    in order of first appearance; every member of a group is checked against its first
    (:func:`check_equivalent`). A model of no family is a group of one (see the module example).
    """
    groups: dict[Any, list[Any]] = {}
    for i, m in enumerate(models):
        key = family_key(m)
        extra = keys[i] if keys is not None else None
        groups.setdefault(("own", i) if key is None else (key, extra), []).append(m)
    for group in groups.values():
        for other in group[1:]:
            check_equivalent(group[0], other)
    return list(groups.values())


def check_equivalent(a: Any, b: Any, *, seed: int = 0, n_draws: int = CHECK_DRAWS) -> None:
    """Raise :class:`EquivalenceError` unless ``a`` and ``b`` are one model to the data.

    Compared: the parameters (names, shapes, priors as declared), the declarations inference
    reads (:data:`DECLARATIONS` and the parameter symmetries), the free PyMC variables, and at
    ``n_draws`` prior draws of ``a`` (seeds ``seed, seed + 1, ...``) the log prior density and the
    behaviour and coincidence rate, to :data:`TOLERANCE`. Compiled without optimisation (a few
    small functions, evaluated a few times).

    >>> from bellmodels import models
    >>> check_equivalent(models.get("quantum-singlet"), models.get("bell1964"))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    bellmodels.inference.sharing.EquivalenceError: models 'quantum-singlet' and 'bell1964' ...
    """
    pair = f"models {a.name!r} and {b.name!r} are declared observationally equivalent, but"
    spec = {m.name: _parameter_spec(m) for m in (a, b)}
    if _parameter_spec(a) != _parameter_spec(b):
        raise EquivalenceError(f"{pair} their parameters differ: {spec}")
    for attr in DECLARATIONS:
        if getattr(a, attr, None) != getattr(b, attr, None):
            raise EquivalenceError(
                f"{pair} they declare different {attr}: {getattr(a, attr, None)!r} and "
                f"{getattr(b, attr, None)!r}"
            )
    if a.parameter_symmetries() != b.parameter_symmetries():
        raise EquivalenceError(f"{pair} they declare different parameter symmetries")
    _check_numbers(a, b, pair, seed, n_draws)


def _parameter_spec(model: Any) -> list[tuple[str, tuple[int, ...], str]]:
    return [(n, tuple(p.shape), p.prior_repr) for n, p in model.parameters.items()]


def _prior_functions(model: Any) -> tuple[Any, Any, Any]:
    """(PyMC model of the priors alone, its log density, behaviour and coincidence rate at a
    point of its free value variables)."""
    import pymc as pm
    import pytensor.tensor as pt

    with pm.Model() as pmodel:
        params = model.prior_variables()
        outs = [pt.as_tensor_variable(model.behaviour_tensor(params))]
        rate = model.coincidence_rate_tensor(params)
        if rate is not None:
            outs.append(pt.as_tensor_variable(rate))
    outs = pmodel.replace_rvs_by_values(outs)
    values = pmodel.compile_fn(outs, inputs=pmodel.value_vars, point_fn=True)
    return pmodel, pmodel.compile_logp(), values


def _check_numbers(a: Any, b: Any, pair: str, seed: int, n_draws: int) -> None:
    """The log prior density, behaviour and coincidence rate at ``n_draws`` prior draws."""
    from pymc.initial_point import make_initial_point_fn

    with compiling_with("FAST_COMPILE"):
        pa, logp_a, values_a = _prior_functions(a)
        pb, logp_b, values_b = _prior_functions(b)
        draw = make_initial_point_fn(model=pa, default_strategy="prior", return_transformed=True)
    names_a = sorted(v.name for v in pa.value_vars)
    names_b = sorted(v.name for v in pb.value_vars)
    if names_a != names_b:
        raise EquivalenceError(f"{pair} their free variables differ: {names_a} and {names_b}")
    for i in range(n_draws):
        point = draw(seed + i)
        where = (
            f"at prior draw {i} (seed {seed + i}) of the free variables "
            f"{json.dumps({k: np.round(np.asarray(v), 6).tolist() for k, v in point.items()})}"
        )
        la, lb = float(logp_a(point)), float(logp_b(point))
        if not abs(la - lb) <= TOLERANCE * max(1.0, abs(la)):
            raise EquivalenceError(
                f"{pair} their log prior densities differ {where}: {la} and {lb}"
            )
        out_a, out_b = values_a(point), values_b(point)
        if len(out_a) != len(out_b):
            raise EquivalenceError(f"{pair} only one of them declares a coincidence rate")
        for what, x, y in zip(("behaviour", "coincidence rate"), out_a, out_b, strict=False):
            x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
            gap = float(np.max(np.abs(x - y))) if x.shape == y.shape else np.inf
            if not gap <= TOLERANCE:
                raise EquivalenceError(f"{pair} their {what} differs by {gap:.3g} {where}")


def shared_fit(idata: Any, model: Any, *, audit_max_draws: int | None = None) -> Any:
    """``model``'s own fit made from the fit ``idata`` of an equivalent model (checked by the
    caller: :func:`shared_groups`): every group of the sampler shared, ``audit_posterior``
    computed from ``model``'s own ontic tables, the attrs saying which model it is, its
    classification and ``shared_fit_with`` (the model that was sampled).

    Sampling takes seconds, so ``tests/inference/test_sharing.py`` checks this::

        q = bm.fit("quantum-singlet", counts, seed=1)
        h = shared_fit(q, bm.models.get("hall2010"))
        float(h.audit_posterior["mi_bits"].mean()) > 0 == float(q.audit_posterior["mi_bits"].max())
    """
    groups = {
        name: _arviz.group(idata, name).copy()
        for name in _arviz.group_names(idata)
        if name not in OWN_GROUPS
    }
    groups["audit_posterior"], audit_attrs = audit_group(
        model, groups["posterior"], audit_max_draws
    )
    source = str(idata.attrs.get("shared_fit_with") or idata.attrs["model"])
    attrs = {str(k): v for k, v in idata.attrs.items() if k not in ("task", "study")}
    attrs |= {
        "model": model.name,
        "model_describe": json.dumps(model.describe()),
        "priors": json.dumps({n: p.prior_repr for n, p in model.parameters.items()}),
        "shared_fit_with": source,
        **audit_attrs,
    }
    out = _arviz.inference_data(groups, attrs)
    for name in ("posterior", "sample_stats"):
        if name in groups:
            _arviz.update_group_attrs(out, name, {"model": model.name})
    return out


def shared_summary(
    model: Any, counts: Any, idata: Any, source: FitSummary, elpd: Any, hdi_prob: float
) -> FitSummary:
    """The :class:`FitSummary` of ``model``'s shared fit ``idata``: its LOO is the sampled
    model's ``elpd`` and its evidence the sampled model's (the same estimate by construction);
    the gate, S, MI, Hall's M and classification are computed from its own fit."""
    own = summarize_fit(model, counts, idata, elpd=elpd, evidence=False, hdi_prob=hdi_prob)
    return dataclasses.replace(own, evidence=source.evidence)


__all__ = [
    "CHECK_DRAWS",
    "TOLERANCE",
    "EquivalenceError",
    "check_equivalent",
    "family_key",
    "shared_fit",
    "shared_groups",
    "shared_summary",
]
