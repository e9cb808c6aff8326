"""Where a fit keeps its log-likelihood, so that ArviZ never misreads it.

The likelihood is written on counts: every trial of one *cell* (setting pair x outcome pair) has
the same single-trial log-likelihood log p(x_a, x_b | s_a, s_b, theta). ArviZ reads every
column of a fit's ``log_likelihood`` group as one observation, so a per-cell array there is
read as 16 observations: ``az.loo`` then answers over 16 "trials" instead of N, silently, and
``az.compare`` can rank models in reverse. A fit therefore keeps

- ``cell_log_likelihood`` (variable ``trial``, dims ``chain, draw, setting_a, setting_b,
  outcome_a, outcome_b``): the per-cell array, which bellmodels' own LOO, gate and evidence read
  and no ArviZ function reads;
- ``log_likelihood`` (variable ``outcomes``, dims ``chain, draw, trial``) only when trials x
  draws is at most :data:`MAX_TRIAL_ELEMENTS`: the exact per-trial expansion, each trial's
  column its cell's, trials in cell order (row-major over the four dims above; coordinates
  ``setting_a`` ... ``outcome_b`` along ``trial`` say which cell each is). Then ``az.loo``,
  ``az.waic`` and ``az.compare`` on the fit are exactly per-trial. Above the bound the group is
  absent, ArviZ's own call refuses ("log likelihood not found"), and the root attr
  ``log_likelihood_layout`` says to use ``bm.loo``, which weights the cells by their counts.

Files written before this layout (per-cell ``log_likelihood/trial``) are converted when they are
read (:func:`upgraded_groups`, applied by :func:`bellmodels._arviz.from_netcdf`). This module
works on ``xarray.Dataset`` groups only, so that the adapter can call it without an import
cycle.

>>> import numpy as np, xarray as xr
>>> n = xr.DataArray(np.array([2, 0, 1, 0] * 4).reshape(2, 2, 2, 2), dims=DIMS)
>>> ll = xr.DataArray(np.log(np.full((1, 3, 2, 2, 2, 2), 0.25)), dims=("chain", "draw", *DIMS))
>>> groups, note = log_likelihood_groups(ll, n)
>>> groups["log_likelihood"][TRIAL_VAR].shape     # 12 trials, one column each
(1, 3, 12)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import xarray as xr

DIMS: tuple[str, str, str, str] = ("setting_a", "setting_b", "outcome_a", "outcome_b")
P_FLOOR = 1e-12
"""Probabilities are clipped to ``[P_FLOOR, 1]`` (then renormalised) inside the likelihood."""

CELL_GROUP = "cell_log_likelihood"
"""Group of the per-cell single-trial log-likelihood (read by bellmodels, not by ArviZ)."""
CELL_VAR = "trial"
"""Its variable: the log-likelihood of one trial in each cell."""
TRIAL_VAR = "outcomes"
"""Variable of the per-trial ``log_likelihood`` group (dim ``trial``)."""
LAYOUT_ATTR = "log_likelihood_layout"
"""Root attr saying where the fit's log-likelihood is. Not ``log_likelihood``: xarray reads
attrs as attributes, and ArviZ 1.x would take that string for the missing group."""
MAX_TRIAL_ELEMENTS = 4_000_000
"""Largest trials x draws (all chains) written out per trial in ``log_likelihood``.

4 million float64 values are 32 MB in memory and in the NetCDF file. At the default 4 x 1,000
draws that is 1,000 trials: Delft 2015 (245 trials) qualifies, and so does any small
experiment, where ``az.loo`` on the expansion takes about a second. Every large data set
(10^4 - 10^9 trials) would need 0.3 GB - 30 TB per fit for 16 distinct columns, so above the bound
the group is left out and ArviZ refuses instead of answering wrongly."""


SPREAD_VAR = "pair_spread"
"""Posterior variable (dims ``setting_a, setting_b``) of a model of post-selected tables whose
coincidence rate depends on the settings: ``log(pi(s) / p(s))`` per coincidence, see
:func:`pair_spread`."""


def log_multinomial_coefficient(counts: Any) -> float:
    """sum over setting pairs of log(n! / prod_c n_c!): Multinomial minus trial-sequence logp."""
    from scipy.special import gammaln

    v = counts.values.astype(float)
    n = v.sum(axis=(2, 3))
    return float(gammaln(n + 1).sum() - gammaln(v + 1).sum())


def pair_spread(rate: Any, setting_probs: np.ndarray, lib: Any = np) -> Any:
    """``log(pi(s) / p(s))``: how much likelier a coincidence falls on setting pair ``s`` than
    the design alone makes it, ``pi(s) = p(s) D(s) / sum_s' p(s') D(s')`` with ``D`` the
    model's coincidence rate (:meth:`~bellmodels.models.base.HiddenVariableModel.coincidence_rate`).

    Zero for a rate that ignores the settings (fair sampling), so a post-selected likelihood
    with this term stays on the scale of one conditional on the settings.

    >>> rate = np.array([[1.0, 1.0], [0.5, 0.5]])
    >>> pair_spread(rate, np.full((2, 2), 0.25)).round(6).tolist()   # log 4/3, log 2/3
    [[0.287682, 0.287682], [-0.405465, -0.405465]]
    """
    d = lib.clip(rate, P_FLOOR, 1.0)
    ps = lib.as_tensor_variable(setting_probs) if lib is not np else setting_probs
    return lib.log(d) - lib.log((ps * d).sum())


def trial_cells(counts: np.ndarray) -> np.ndarray:
    """The cell (flat, row-major index) of each trial, trials in cell order: ``O(N)``.

    >>> trial_cells(np.array([2, 0, 1])).tolist()
    [0, 0, 2]
    """
    n = np.asarray(counts, dtype=np.int64).ravel()
    return np.repeat(np.arange(n.size), n)


def note(n_trials: int, n_draws: int, max_elements: int = MAX_TRIAL_ELEMENTS) -> str:
    """The root attr :data:`LAYOUT_ATTR`: what the fit's groups hold and which LOO to trust."""
    head = (
        f"{CELL_GROUP}/{CELL_VAR}: the single-trial log-likelihood of each cell (setting pair "
        "x outcome pair); bellmodels.loo weights the cells by their counts. "
    )
    if n_trials * n_draws <= max_elements:
        return head + (
            f"log_likelihood/{TRIAL_VAR}: the same, one column per trial ({n_trials} trials, "
            "in cell order), so az.loo / az.compare on this fit are exact per-trial LOO."
        )
    return head + (
        f"No log_likelihood group: {n_trials} trials x {n_draws} draws exceeds "
        f"{max_elements} values, so ArviZ's own loo refuses; use bellmodels.loo(fit) (its result "
        "goes into az.compare)."
    )


def per_trial(cell_ll: xr.DataArray, counts: xr.DataArray) -> xr.Dataset:
    """The per-trial ``log_likelihood`` group: each trial's column is its cell's."""
    grid = counts.transpose(*DIMS)
    n = grid.values.ravel()
    ll = cell_ll.transpose("chain", "draw", *DIMS)
    flat = ll.values.reshape(*ll.shape[:2], -1)
    cells = trial_cells(n)
    where = np.unravel_index(cells, grid.shape)
    coords: dict[str, object] = {
        "chain": ll["chain"].values if "chain" in ll.coords else np.arange(ll.shape[0]),
        "draw": ll["draw"].values if "draw" in ll.coords else np.arange(ll.shape[1]),
        "trial": np.arange(cells.size),
    }
    for dim, idx in zip(DIMS, where, strict=True):
        values = grid[dim].values if dim in grid.coords else np.arange(grid.sizes[dim])
        coords[dim] = ("trial", np.asarray(values)[idx])
    data = xr.DataArray(flat[:, :, cells], dims=("chain", "draw", "trial"), coords=coords)
    return xr.Dataset({TRIAL_VAR: data})


def log_likelihood_groups(
    cell_ll: xr.DataArray, counts: xr.DataArray, max_elements: int = MAX_TRIAL_ELEMENTS
) -> tuple[dict[str, xr.Dataset | None], str]:
    """``({group: Dataset or None (absent)}, root attr)`` for a fit's per-cell log-likelihood
    ``cell_ll`` (dims ``chain, draw`` and the four cell dims) and observed ``counts``."""
    n_trials = int(counts.values.sum())
    n_draws = int(cell_ll.sizes["chain"] * cell_ll.sizes["draw"])
    groups: dict[str, xr.Dataset | None] = {
        CELL_GROUP: xr.Dataset({CELL_VAR: cell_ll.transpose("chain", "draw", *DIMS)})
    }
    fits = n_trials * n_draws <= max_elements
    groups["log_likelihood"] = per_trial(cell_ll, counts) if fits else None
    return groups, note(n_trials, n_draws, max_elements)


def is_cell_layout(ds: xr.Dataset | None) -> bool:
    """Whether a ``log_likelihood`` group is the old per-cell one (variable ``trial`` over the
    cell dims), which ArviZ would read as 16 observations."""
    return ds is not None and CELL_VAR in ds.data_vars and set(DIMS) <= set(ds[CELL_VAR].dims)


def upgraded_groups(
    groups: Mapping[str, xr.Dataset],
) -> tuple[dict[str, xr.Dataset | None], dict[str, str]]:
    """Changes that bring a fit of the old layout to this one: ``({group: Dataset or None
    (remove)}, root attrs to set)``; both empty when nothing is to change.

    ``groups`` holds the fit's ``log_likelihood`` and ``observed_data`` (those it has).
    """
    old = groups.get("log_likelihood")
    if not is_cell_layout(old) or "observed_data" not in groups:
        return {}, {}
    assert old is not None
    out, text = log_likelihood_groups(old[CELL_VAR], groups["observed_data"]["counts"])
    return out, {LAYOUT_ATTR: text}


__all__ = [
    "CELL_GROUP",
    "CELL_VAR",
    "LAYOUT_ATTR",
    "MAX_TRIAL_ELEMENTS",
    "SPREAD_VAR",
    "TRIAL_VAR",
    "is_cell_layout",
    "log_likelihood_groups",
    "note",
    "pair_spread",
    "per_trial",
    "trial_cells",
    "upgraded_groups",
]
