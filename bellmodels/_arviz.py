"""The one place bellmodels calls ArviZ functions that ArviZ 1.x renames or moves.

ArviZ 0.2x (the newest on Python 3.11) returns ``ELPDData`` pandas Series from ``az.loo``, keeps
``InferenceData`` in ``arviz`` itself and has ``az.ess`` / ``az.rhat`` / ``az.hdi`` as top-level
functions; ArviZ 1.x splits these over ``arviz_base`` / ``arviz_stats`` / ``arviz_plots`` and
returns DataTree objects. Every other module goes through the thin wrappers below, so the
upgrade touches this file only.

Example
-------
>>> import numpy as np
>>> from bellmodels import _arviz
>>> x = np.random.default_rng(0).normal(size=(4, 500))
>>> bool(_arviz.rhat(x) < 1.01)
True
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import xarray as xr


def _az() -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        import arviz as az
    return az


# -- containers ---------------------------------------------------------------------------------
def inference_data(groups: Mapping[str, xr.Dataset], attrs: Mapping[str, str] | None = None) -> Any:
    """Build an ``InferenceData`` from named ``xarray.Dataset`` groups, with root ``attrs``.

    >>> import xarray as xr, numpy as np
    >>> ds = xr.Dataset({"x": (("chain", "draw"), np.zeros((1, 3)))})
    >>> sorted(inference_data({"posterior": ds}).groups())
    ['posterior']
    """
    az = _az()
    idata = az.InferenceData(**dict(groups))
    if attrs:
        idata.attrs = dict(idata.attrs or {}) | dict(attrs)
    return idata


def from_dict(**groups: Any) -> Any:
    """``az.from_dict`` (``posterior=``, ``log_likelihood=``, ``coords=``, ``dims=`` ...)."""
    return _az().from_dict(**groups)


def add_groups(idata: Any, groups: Mapping[str, xr.Dataset]) -> None:
    """Add (or replace) groups of ``idata`` in place."""
    for name in groups:
        if name in idata.groups():
            delattr(idata, name)
            idata._groups = [g for g in idata._groups if g != name]
    idata.add_groups(dict(groups))


def to_netcdf(idata: Any, path: str) -> None:
    """Write ``idata`` to ``path`` (NetCDF); callers handle atomic replacement."""
    idata.to_netcdf(path)


def from_netcdf(path: str) -> Any:
    """Read an ``InferenceData`` from a NetCDF file."""
    return _az().from_netcdf(path)


def elpd_data(
    *,
    elpd: float,
    se: float,
    p: float,
    n_samples: int,
    n_data_points: int,
    warning: bool,
    pointwise: np.ndarray,
    pareto_k: np.ndarray,
    good_k: float,
    extra: Mapping[str, Any] | None = None,
) -> Any:
    """An ``ELPDData`` for PSIS-LOO on the log scale, built from precomputed pieces.

    ``pointwise`` and ``pareto_k`` are per-cell values (dim ``cell``; bellmodels never expands
    counts into trials); ``extra`` entries are appended to the Series.
    """
    az = _az()
    data = [
        float(elpd),
        float(se),
        float(p),
        int(n_samples),
        int(n_data_points),
        bool(warning),
        xr.DataArray(np.asarray(pointwise, dtype=float), dims=["cell"], name="loo_i"),
        xr.DataArray(np.asarray(pareto_k, dtype=float), dims=["cell"], name="pareto_shape"),
        "log",
        float(good_k),
    ]
    index = [
        "elpd_loo",
        "se",
        "p_loo",
        "n_samples",
        "n_data_points",
        "warning",
        "loo_i",
        "pareto_k",
        "scale",
        "good_k",
    ]
    for key, value in (extra or {}).items():
        index.append(key)
        data.append(value)
    return az.ELPDData(data=data, index=index)


# -- statistics ---------------------------------------------------------------------------------
def loo(idata: Any, *, reff: float | None = None, var_name: str | None = None) -> Any:
    """``az.loo(idata, pointwise=True, scale="log")`` with its Pareto-k warning silenced.

    The warning is silenced because callers report ``pareto_k_max`` themselves. So is an exp
    overflow inside ArviZ's generalized-Pareto fit (``_gpdfit``: weights ``1 / sum(exp(...))``
    of candidate shapes far from the best are inf, and 1/inf = 0 is the right weight).
    """
    az = _az()
    with warnings.catch_warnings(), np.errstate(over="ignore"):
        warnings.simplefilter("ignore", UserWarning)
        warnings.filterwarnings("ignore", "overflow encountered", RuntimeWarning)
        return az.loo(idata, pointwise=True, reff=reff, var_name=var_name, scale="log")


def compare(elpds: Mapping[str, Any], *, method: str = "stacking", seed: int | None = None) -> Any:
    """``az.compare`` on precomputed ``ELPDData`` (log scale); a pandas DataFrame, best first.

    Columns (ArviZ 0.2x names): ``rank, elpd_loo, p_loo, elpd_diff, weight, se, dse, warning,
    scale``.
    """
    az = _az()
    # pandas deprecates the ``inplace`` ArviZ uses inside az.compare: nothing about our models
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        warnings.filterwarnings("ignore", "The inplace keyword")
        return az.compare(dict(elpds), ic="loo", method=method, scale="log", seed=seed)


def ess(values: np.ndarray, method: str = "bulk") -> float:
    """Effective sample size of a ``(chain, draw)`` array (``"bulk"``, ``"tail"``, ``"mean"``)."""
    return float(_az().ess(np.asarray(values, dtype=float), method=method))


def rhat(values: np.ndarray) -> float:
    """Rank-normalised split R-hat of a ``(chain, draw)`` array (Vehtari et al. 2021)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return float(_az().rhat(np.asarray(values, dtype=float), method="rank"))


def ess_dataset(posterior: xr.Dataset, method: str = "mean") -> xr.Dataset:
    """``az.ess`` over every variable of a posterior Dataset."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return _az().ess(posterior, method=method)


def hdi(values: np.ndarray, prob: float = 0.94) -> tuple[float, float]:
    """Highest-density interval of the flattened draws of ``values``."""
    lo, hi = _az().hdi(np.asarray(values, dtype=float).ravel(), hdi_prob=prob)
    return float(lo), float(hi)


# -- plots --------------------------------------------------------------------------------------
def plot_compare(table: Any, **kwargs: Any) -> Any:
    """``az.plot_compare`` on an ArviZ comparison DataFrame."""
    return _az().plot_compare(table, **kwargs)


def plot_trace(idata: Any, var_names: Sequence[str] | None = None, **kwargs: Any) -> Any:
    """``az.plot_trace``."""
    return _az().plot_trace(idata, var_names=var_names, **kwargs)


def plot_rank(idata: Any, var_names: Sequence[str] | None = None, **kwargs: Any) -> Any:
    """``az.plot_rank`` (rank plots: the convergence check for multimodal posteriors)."""
    return _az().plot_rank(idata, var_names=var_names, **kwargs)


def plot_energy(idata: Any, **kwargs: Any) -> Any:
    """``az.plot_energy`` (NUTS marginal vs transition energy; Betancourt 2017)."""
    return _az().plot_energy(idata, **kwargs)


__all__ = [
    "add_groups",
    "compare",
    "elpd_data",
    "ess",
    "ess_dataset",
    "from_dict",
    "from_netcdf",
    "hdi",
    "inference_data",
    "loo",
    "plot_compare",
    "plot_energy",
    "plot_rank",
    "plot_trace",
    "rhat",
    "to_netcdf",
]
