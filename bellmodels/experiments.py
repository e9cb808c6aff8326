"""Experiments assembled from the package's parts, for the demos and benchmarks.

:func:`mi_frontier` trains one Boltzmann machine per measurement-dependence penalty and audits
each with the shared audit (:func:`bellmodels.auditing.audit`): the MI it reports is the audit's,
not a second implementation.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr

if TYPE_CHECKING:
    from bellmodels.data import Counts
    from bellmodels.models.boltzmann.base import BoltzmannModel


def _audit_numbers(model: BoltzmannModel) -> dict[str, float]:
    """S, MI (bits, uniform settings) and Hall's M of a trained machine, from the audit."""
    from bellmodels.auditing import audit

    report = audit(model)
    return {
        "S": float(report.S),
        "mi_bits": float(report.mi_bits),
        "hall_M": float(report.hall_M),
    }


def mi_frontier(
    counts: Counts,
    betas: Sequence[float],
    n_hidden: int = 4,
    seed: int | None = 0,
    *,
    model: str = "rbm",
    objective: str | None = None,
    n_restarts: int = 4,
    **fit_options: Any,
) -> xr.Dataset:
    """Fit quality against measurement dependence: one trained machine per penalty ``beta``.

    Each ``beta`` (in increasing order) is trained with ``loss = KL + beta * MI_bits``, warm
    started from the previous ``beta``'s machine (plus ``n_restarts - 1`` random starts), and the
    trained machine's ontic table is audited (:func:`bellmodels.auditing.audit`).

    Returns
    -------
    xarray.Dataset
        Dims ``beta``; variables ``kl`` (nats, the training objective's KL), ``S``, ``mi_bits``
        (MI(h; settings), uniform settings), ``hall_M``, ``loss``; attrs ``min_mi_bits`` (the
        least MI any local model needs for the data's behaviour, from the audit of the counts),
        ``n_hidden``, ``model``, ``objective``, ``seed``.

    >>> from bellmodels import Counts, Scenario
    >>> from bellmodels.models.boltzmann import RBM
    >>> counts = Counts((RBM.weinstein2017().behaviour() * 25_000).round().astype(int),
    ...                 Scenario.chsh())
    >>> ds = mi_frontier(counts, [0.0, 0.1], n_hidden=4, seed=0, objective="conditional",
    ...                  n_restarts=1)
    >>> ds.sizes["beta"]
    2
    """
    from bellmodels.auditing import audit
    from bellmodels.models.boltzmann import CRBM, RBM
    from bellmodels.models.boltzmann.training import _check_objective

    classes = {"rbm": RBM, "crbm": CRBM}
    if model not in classes:
        raise ValueError(f"model must be one of {sorted(classes)}, got {model!r}")
    betas_sorted = sorted(float(b) for b in betas)
    if not betas_sorted or min(betas_sorted) < 0:
        raise ValueError(f"betas must be a non-empty list of numbers >= 0, got {list(betas)}")
    rows = []
    prev: dict[str, np.ndarray] | None = None
    machine = classes[model](counts.scenario, n_hidden, seed=seed)
    objective = _check_objective(machine, objective)
    for i, beta in enumerate(betas_sorted):
        machine = classes[model](counts.scenario, n_hidden, seed=seed)
        if prev is not None:
            machine.values = dict(prev)
        machine.train(
            counts,
            objective=objective,
            mi_penalty=beta,
            seed=None if seed is None else seed + i,
            n_restarts=n_restarts,
            warm_start=prev is not None,
            **fit_options,
        )
        prev = machine.params()
        nums = _audit_numbers(machine)
        rows.append((machine.kl_, nums["S"], nums["mi_bits"], nums["hall_M"], machine.loss_))
    arr = np.array(rows)
    data_report = audit(counts)
    return xr.Dataset(
        {
            name: ("beta", arr[:, j])
            for j, name in enumerate(("kl", "S", "mi_bits", "hall_M", "loss"))
        },
        coords={"beta": betas_sorted},
        attrs={
            "min_mi_bits": float(data_report.min_mi_bits),
            "n_hidden": int(n_hidden),
            "model": model,
            "objective": objective,
            "seed": -1 if seed is None else int(seed),
        },
    )


__all__ = ["mi_frontier"]
