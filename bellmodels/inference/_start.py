"""Where a fit's chains start (:func:`initial_values`): the prior, the model's own parameters, or
the posterior mode reached from the exact maximum-likelihood fit, chosen by the posterior
among several exact optima when the likelihood has them."""

from __future__ import annotations

import copy
import warnings
from typing import Any

import numpy as np

from bellmodels import _arviz
from bellmodels.data import Counts
from bellmodels.inference._backend import compiling_with


def initial_values(
    model: Any, counts: Counts, init: str, pmodel: Any
) -> tuple[dict[str, np.ndarray] | None, str]:
    """(initial values or None, how they were chosen).

    ``"auto"`` is the model's declared :attr:`~bellmodels.models.base.HiddenVariableModel.init`.
    ``"mode"`` starts at the posterior mode (MAP, L-BFGS through ``pm.find_MAP``) reached from
    the exact maximum-likelihood fit of a :attr:`~bellmodels.models.base.HiddenVariableModel.
    trainable` model. The ML fit alone is a poor start where the likelihood is flat along a
    ridge of parameters with equal behaviour (the Boltzmann machines): exact ML runs far out
    along it, where the prior is negligible, and chains started there spend their tuning
    walking back; from the MAP they start in the bulk. A model whose likelihood has several
    exact optima lists them after training (``modes_``, e.g.
    :class:`~bellmodels.models.photonic.QuantumTwoQubit` on a CH table): only the prior tells
    them apart, so the MAP is sought from each and the one of highest log posterior density
    is kept (chains started in one never reach the other).
    Values are those of the free PyMC variables (:meth:`HiddenVariableModel.free_values`).
    """
    if init not in ("auto", "params", "prior"):
        raise ValueError(f"init must be 'auto', 'params' or 'prior', got {init!r}")
    if init == "auto":
        init = model.init
    if init == "prior":
        return None, "prior (PyMC default, jittered)"
    if init == "params" or not model.trainable:
        return model.free_values(model.params()), "model.params()"
    fitted = copy.deepcopy(model).train(counts)
    # a model whose likelihood has several exact optima lists them (modes_, best likelihood
    # first): the prior must choose, so each is carried to its posterior mode and compared
    starts = [model.free_values(p) for p in getattr(fitted, "modes_", None) or [fitted.params()]]
    modes = [m for m in (_map_from(pmodel, s) for s in starts) if m is not None]
    if not modes:
        return starts[0], "exact maximum-likelihood fit (model.train(counts)); MAP search failed"
    if len(modes) == 1:
        return modes[0], "posterior mode (pm.find_MAP) from the exact maximum-likelihood fit"
    logp = [_log_posterior(pmodel, m) for m in modes]
    best = int(np.argmax(logp))
    gap = logp[best] - max(v for i, v in enumerate(logp) if i != best)
    return modes[best], (
        f"posterior mode (pm.find_MAP) of highest log posterior among those reached from "
        f"{len(modes)} distinct maximum-likelihood solutions (model.train(counts)); the next "
        f"is {gap:.3g} nats lower"
    )


def _map_from(pmodel: Any, start: dict[str, np.ndarray]) -> dict[str, np.ndarray] | None:
    """The posterior mode (``pm.find_MAP``) reached from ``start``; ``None`` if not finite."""
    # up to about a thousand single-point evaluations: no compiler run is worth it (_backend)
    with warnings.catch_warnings(), compiling_with("FAST_COMPILE"):
        warnings.simplefilter("ignore")
        found = _arviz.find_map(pmodel, start)
    mode = {k: np.asarray(found[k], dtype=float) for k in start}
    # L-BFGS returns its best point, never one worse than the start; only non-finite values fail
    return mode if all(np.isfinite(v).all() for v in mode.values()) else None


def _log_posterior(pmodel: Any, values: dict[str, np.ndarray]) -> float:
    """Unnormalised log posterior density at ``values`` (free variables, natural scale)."""
    from pymc.initial_point import make_initial_point_fn

    point = make_initial_point_fn(model=pmodel, overrides=dict(values), jitter_rvs=set())(0)
    with warnings.catch_warnings(), compiling_with("FAST_COMPILE"):
        warnings.simplefilter("ignore")
        return float(pmodel.compile_logp(jacobian=False)(point))
