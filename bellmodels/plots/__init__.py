"""Figures of a study: correlators, S posteriors, p(lambda | settings), measurement dependence,
sweeps, and the ArviZ diagnostics (rank, trace, energy, posterior predictive, compare).

Every function returns a :class:`matplotlib.figure.Figure` built with the object-oriented API
(no pyplot state, no backend needed), so the report can save it and close it. ArviZ plots go
through :mod:`bellmodels._arviz` (ArviZ's own plots on ArviZ 0.2x, arviz-plots on ArviZ 1.x).
Modules: :mod:`~bellmodels.plots.physics` (correlators, S, p(lambda | settings), sweeps),
:mod:`~bellmodels.plots.dependence` (measurement dependence against S and the regions no local
model reaches), :mod:`~bellmodels.plots.diagnostics` (ArviZ diagnostics and comparison).

Example
-------
>>> import numpy as np
>>> from bellmodels import Scenario
>>> from bellmodels.plots import plot_S_posterior
>>> rng = np.random.default_rng(0)
>>> fig = plot_S_posterior({"quantum-singlet": 2.83 + 0.01 * rng.normal(size=500)})
>>> len(fig.axes)   # the whole range, and a zoom on the data
2
"""

from __future__ import annotations

from bellmodels.plots._style import TSIRELSON as TSIRELSON
from bellmodels.plots._style import data_correlators, model_colors
from bellmodels.plots.dependence import min_mi_curve, plot_measurement_dependence
from bellmodels.plots.diagnostics import (
    plot_compare,
    plot_diagnostics,
    plot_energy,
    plot_ppc_counts,
    plot_rank_invariants,
    plot_trace_invariants,
)
from bellmodels.plots.physics import (
    plot_correlators,
    plot_p_lambda,
    plot_S_posterior,
    plot_sweep,
)

__all__ = [
    "data_correlators",
    "min_mi_curve",
    "model_colors",
    "plot_S_posterior",
    "plot_compare",
    "plot_correlators",
    "plot_diagnostics",
    "plot_energy",
    "plot_measurement_dependence",
    "plot_p_lambda",
    "plot_ppc_counts",
    "plot_rank_invariants",
    "plot_sweep",
    "plot_trace_invariants",
]
