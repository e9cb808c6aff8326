"""ArviZ as a reference for the tests: what bellmodels computes itself is checked against it.

Test-only (moved out of ``bellmodels/_arviz.py``, which keeps only what the package runs); the
line is read from :data:`bellmodels._arviz.ARVIZ_1`, the package's one place that knows it. Also
the ArviZ-side pieces the tests share: the groups a fit holds and ELPD results built from cells.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import xarray as xr

from bellmodels._arviz import ARVIZ_1, _az, elpd_data

#: The ``ddof`` of the variance in ``az.loo``'s ``se = sqrt(N var(elpd_i))``: 0 on ArviZ 0.2x,
#: 1 on ArviZ 1.x (``arviz_stats.base.diagnostics``, ``loo_summary``). bellmodels' own LOO keeps
#: 0 on both lines.
LOO_SE_DDOF: int = 1 if ARVIZ_1 else 0


def is_fit_container(obj: Any) -> bool:
    """Whether ``obj`` is this line's container of groups (``InferenceData`` / ``DataTree``)."""
    if ARVIZ_1:
        return isinstance(obj, xr.DataTree)
    return isinstance(obj, _az().InferenceData)


FIT_GROUPS = frozenset(
    {
        "posterior",
        "log_likelihood",
        "cell_log_likelihood",
        "posterior_predictive",
        "observed_data",
        "constant_data",
        "sample_stats",
    }
)
"""The groups every bellmodels fit holds, on either line and after a NetCDF round trip."""


def cell_elpd(
    cells: np.ndarray,
    n: np.ndarray,
    *,
    se: float = 1.0,
    p: float = 1.0,
    n_samples: int = 100,
    extra: Mapping[str, Any] | None = None,
) -> Any:
    """This line's ELPD result for per-cell pointwise values ``cells`` and cell counts ``n``: each
    trial takes its cell's value (cells with no trials are dropped, whatever their value) and a
    Pareto k of 0, so ``az.compare`` sees the per-trial expansion of a table."""
    occ = n > 0
    n_trials = int(n.sum())
    return elpd_data(
        elpd=float(np.dot(n[occ], cells[occ])),
        se=se,
        p=p,
        n_samples=n_samples,
        n_data_points=n_trials,
        warning=False,
        pointwise=np.repeat(cells[occ], n[occ]),
        pareto_k=np.zeros(n_trials),
        good_k=0.7,
        extra=extra,
    )


COMPARE_COLUMNS = ("rank", "elpd_loo", "p_loo", "elpd_diff", "weight", "se", "dse", "warning")


def compare(elpds: Mapping[str, Any], *, method: str = "stacking", seed: int | None = None) -> Any:
    """``az.compare`` on precomputed ``ELPDData`` (log scale); a pandas DataFrame, best first.

    Columns on both lines (ArviZ 0.2x names): ``rank, elpd_loo, p_loo, elpd_diff, weight, se,
    dse, warning, scale``, with ``elpd_diff`` = best minus this model (>= 0) and nothing rounded.
    ``seed`` is used by ArviZ 0.2x's bootstrap methods only.
    """
    az = _az()
    # pandas deprecates the ``inplace`` ArviZ uses inside az.compare: nothing about our models
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        warnings.filterwarnings("ignore", "The inplace keyword")
        if not ARVIZ_1:
            return az.compare(dict(elpds), ic="loo", method=method, scale="log", seed=seed)
        table = az.compare(dict(elpds), method=method, round_to="none")
    table = table.rename(columns={"elpd": "elpd_loo", "p": "p_loo"})
    table["elpd_diff"] = -table["elpd_diff"].astype(float)
    table["warning"] = [bool(elpds[m].warning) for m in table.index]
    table["scale"] = "log"
    return table[[*COMPARE_COLUMNS, "scale"]]
