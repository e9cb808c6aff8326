"""ArviZ as a reference for the tests: what bellmodels computes itself is checked against it.

Test-only (moved out of ``bellmodels/_arviz.py``, which keeps only what the package runs); the
line is read from :data:`bellmodels._arviz.ARVIZ_1`, the package's one place that knows it.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import xarray as xr

from bellmodels._arviz import ARVIZ_1, _az

#: The ``ddof`` of the variance in ``az.loo``'s ``se = sqrt(N var(elpd_i))``: 0 on ArviZ 0.2x,
#: 1 on ArviZ 1.x (``arviz_stats.base.diagnostics``, ``loo_summary``). bellmodels' own LOO keeps
#: 0 on both lines.
LOO_SE_DDOF: int = 1 if ARVIZ_1 else 0


def is_fit_container(obj: Any) -> bool:
    """Whether ``obj`` is this line's container of groups (``InferenceData`` / ``DataTree``)."""
    if ARVIZ_1:
        return isinstance(obj, xr.DataTree)
    return isinstance(obj, _az().InferenceData)


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
