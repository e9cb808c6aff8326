"""Exact per-trial PSIS-LOO from a count-table fit (:func:`loo`).

Vehtari, Gelman & Gabry, "Practical Bayesian model evaluation using leave-one-out
cross-validation and WAIC", Stat. Comput. 27, 1413 (2017).
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from bellmodels import _arviz
from bellmodels.inference._layout import CELL_GROUP, CELL_VAR, is_cell_layout, trial_cells
from bellmodels.scenario import DIMS_BEHAVIOUR

MAX_POINTWISE_TRIALS = 10_000_000
"""Largest number of trials :func:`loo` writes per-trial pointwise values for.

Expanding the cells by their counts costs ``O(N)`` (two float64 arrays, 160 MB at the bound),
not ``O(N x draws)``; the main job's 100,000 trials and every shipped data set but Vienna 2015
(3.5 x 10^9 trials) are below it."""


def _cell_arrays(idata: Any, var_name: str = CELL_VAR) -> tuple[np.ndarray, np.ndarray]:
    """(log-lik ``(chain, draw, n_cells)`` over all cells, counts ``(n_cells,)``).

    Read from ``cell_log_likelihood`` (:mod:`~bellmodels.inference._layout`), or from the
    per-cell ``log_likelihood`` of a fit made before that group existed.
    """
    if _arviz.has_group(idata, CELL_GROUP):
        ds = _arviz.group(idata, CELL_GROUP)
    elif _arviz.has_group(idata, "log_likelihood") and is_cell_layout(
        _arviz.group(idata, "log_likelihood")
    ):
        ds = _arviz.group(idata, "log_likelihood")
    else:
        raise ValueError(
            f"this fit has no per-cell log-likelihood (group {CELL_GROUP!r}, variable "
            f"{CELL_VAR!r}); it was not made by bellmodels.fit"
        )
    ll = ds[var_name].transpose("chain", "draw", *DIMS_BEHAVIOUR).values
    n = _arviz.group(idata, "observed_data")["counts"].transpose(*DIMS_BEHAVIOUR).values
    return ll.reshape(*ll.shape[:2], -1), n.reshape(-1).astype(np.int64)


def has_cells(idata: Any) -> bool:
    """Whether ``idata`` holds a per-cell log-likelihood :func:`loo` can read."""
    if _arviz.has_group(idata, CELL_GROUP):
        return True
    return _arviz.has_group(idata, "log_likelihood") and is_cell_layout(
        _arviz.group(idata, "log_likelihood")
    )


def _reff(idata: Any) -> float:
    """ArviZ's relative efficiency, as ``az.loo(fit)`` computes it: the mean "mean"-ESS of every
    component of every ``posterior`` variable, over the number of draws (1 for one chain).

    The same rule as ArviZ's on both lines, so that ``az.loo(fit)`` and :func:`loo` smooth the
    same tails and agree to rounding. Non-finite ESS values (none on bellmodels' fits, whose
    constant quantities get ESS = draws) are left out instead of making the mean NaN.
    """
    post = _arviz.group(idata, "posterior")
    if post.sizes["chain"] == 1:
        return 1.0
    ess = _arviz.ess_dataset(post, method="mean")
    vals = np.hstack([ess[v].values.ravel() for v in ess.data_vars]) if ess.data_vars else []
    vals = np.asarray(vals, dtype=float)
    vals = vals[np.isfinite(vals)]
    n_samples = post.sizes["chain"] * post.sizes["draw"]
    return float(vals.mean() / n_samples) if vals.size else 1.0


def loo(idata: Any, *, var_name: str = CELL_VAR, pointwise: bool | None = None) -> Any:
    """Exact per-trial PSIS-LOO from a count-table fit, without a draws x trials matrix.

    All trials in one (setting pair, outcome) cell have the same single-trial log-likelihood
    log p(x_a, x_b | s_a, s_b, theta), hence the same importance ratios 1 / p(y_i | theta) and,
    after Pareto smoothing (which depends only on those ratios), the same pointwise elpd. So PSIS
    runs on the (at most ``K_a K_b 4``) occupied cells of the fit's ``cell_log_likelihood``
    (``az.loo``), and the result is weighted by the counts: ``elpd = sum_c n_c elpd_c``,
    ``p_loo = sum_c n_c (lppd_c - elpd_c)`` and ``se = sqrt(N var_w)`` with ``var_w`` the
    count-weighted (population) variance of the pointwise values (:func:`weighted_sum_and_se`).
    The relative efficiency is ArviZ's (:func:`_reff`), so this equals ``az.loo`` on the
    expanded per-trial matrix (the fit's ``log_likelihood`` group, when it is small enough to
    hold one) to rounding; the ``se`` of ArviZ 1.x is larger by ``sqrt(N / (N - 1))`` (it takes
    the sample variance; bellmodels keeps ArviZ 0.2x's rule on both lines). The weighting is
    hand-written because ``az.loo`` takes no frequency weights.

    Parameters
    ----------
    idata
        A fit of :func:`bellmodels.inference.fit` (or one read from its NetCDF file).
    var_name
        The variable of ``cell_log_likelihood``.
    pointwise
        Per-trial ``loo_i`` and ``pareto_k`` (expanded from the cells, ``O(N)``): ``None``
        (default) when N <= :data:`MAX_POINTWISE_TRIALS`, else left out with a warning (then
        ``az.compare`` refuses the result; :func:`bellmodels.compare` does not need them);
        ``True`` always (``ValueError`` above the bound); ``False`` never.

    Returns
    -------
    arviz.ELPDData
        ArviZ's fields (``elpd_loo``, ``se``, ``p_loo``, ``n_samples``, ``n_data_points`` = N
        trials, ``warning``, ``scale="log"``, ``good_k``), ``loo_i`` and ``pareto_k`` with one
        value per trial (dim ``trial``, trials in cell order, as in the fit's ``log_likelihood``
        group) unless left out, plus ``loo_cells``, ``pareto_k_cells`` and ``cell_counts``: one
        value per *cell* (row-major over ``setting_a, setting_b, outcome_a, outcome_b``; NaN
        where a cell has no trials), which :func:`bellmodels.comparison.rank` weights by the
        counts. ``az.compare({"a": loo(fit_a), "b": loo(fit_b)})`` ranks like
        :func:`bellmodels.compare`, with the same ``elpd_diff`` and ``dse``.

    Examples
    --------
    On a fit (``tests/inference/test_arviz_safe.py`` checks it against ``az.loo``)::

        import arviz as az
        elpd = loo(fit)
        elpd["n_data_points"], elpd["loo_i"].sizes["trial"]     # Delft 2015 -> (245, 245)
        az.compare({"quantum-singlet": loo(fit), "local-polytope": loo(other)})
    """
    ll, n = _cell_arrays(idata, var_name)
    occupied = np.flatnonzero(n > 0)
    if occupied.size == 0:
        raise ValueError("the fit's observed counts are empty")
    cell_idata = _arviz.from_dict(log_likelihood={"cells": ll[:, :, occupied]})
    res = _arviz.loo(cell_idata, reff=_reff(idata), var_name="cells")
    elpd_c = np.asarray(res["loo_i"].values, dtype=float)
    k_c = np.asarray(res["pareto_k"].values, dtype=float)
    w = n[occupied]
    flat = ll[:, :, occupied].reshape(-1, occupied.size)
    lppd_c = _logmeanexp(flat, axis=0)
    elpd, se = weighted_sum_and_se(elpd_c, w)
    loo_cells = np.full(n.size, np.nan)
    loo_cells[occupied] = elpd_c
    k_cells = np.full(n.size, np.nan)
    k_cells[occupied] = k_c
    expand = _expand(int(w.sum()), pointwise)
    return _arviz.elpd_data(
        elpd=elpd,
        se=se,
        p=float(np.dot(w, lppd_c)) - elpd,
        n_samples=flat.shape[0],
        n_data_points=int(w.sum()),
        warning=bool(res["warning"]),
        pointwise=loo_cells[trial_cells(n)] if expand else None,
        pareto_k=k_cells[trial_cells(n)] if expand else None,
        good_k=float(res["good_k"]),
        extra={"loo_cells": loo_cells, "pareto_k_cells": k_cells, "cell_counts": n},
    )


def _expand(n_trials: int, pointwise: bool | None) -> bool:
    """Whether :func:`loo` writes per-trial values (see its ``pointwise``)."""
    if pointwise is False or n_trials <= MAX_POINTWISE_TRIALS:
        return pointwise is not False
    why = (
        f"{n_trials} trials exceed MAX_POINTWISE_TRIALS = {MAX_POINTWISE_TRIALS}: per-trial "
        "loo_i / pareto_k would take "
        f"{16 * n_trials / 1e9:.1f} GB"
    )
    if pointwise:
        raise ValueError(why + "; rank fits with bellmodels.compare / comparison.rank instead")
    warnings.warn(
        why + ", so they are left out and az.compare refuses this result; bellmodels.compare "
        "and comparison.rank use its per-cell values (loo_cells, cell_counts)",
        UserWarning,
        stacklevel=3,
    )
    return False


def weighted_sum_and_se(x: Any, counts: Any) -> tuple[float, float]:
    """``(sum_i x_i, sqrt(N var(x_i)))`` over N trials given per-cell values and cell counts.

    ``var`` is the population variance over the trials, as ArviZ computes the ``se`` of an ELPD
    and the ``dse`` of a difference of two; each cell counts once with its weight, so the cost
    does not grow with N. Cells with zero count drop out.

    >>> total, se = weighted_sum_and_se(np.array([-1.0, -2.0]), np.array([3, 1]))
    >>> total, round(se, 6)
    (-5.0, 0.866025)
    """
    x = np.asarray(x, dtype=float)
    n = np.asarray(counts, dtype=float)
    occ = n > 0
    x, n = x[occ], n[occ]
    big_n = float(n.sum())
    total = float(np.dot(n, x))
    var = float(np.dot(n, (x - total / big_n) ** 2) / big_n)
    return total, math.sqrt(big_n * var)


def _logmeanexp(x: np.ndarray, axis: int) -> np.ndarray:
    m = np.max(x, axis=axis, keepdims=True)
    return np.squeeze(m, axis) + np.log(np.mean(np.exp(x - m), axis=axis))


__all__ = ["MAX_POINTWISE_TRIALS", "has_cells", "loo", "weighted_sum_and_se"]
