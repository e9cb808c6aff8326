"""The one module that knows which PyMC / ArviZ line is installed.

Two lines are supported (``pyproject.toml``):

- **ArviZ 0.2x / PyMC 5** (Python 3.11): fits are ``arviz.InferenceData``; ``az.loo`` returns an
  ``ELPDData`` pandas Series (``elpd_loo``, ``p_loo``, ``loo_i`` ...); ``az.compare`` has
  ``ic=`` / ``scale=``; plots draw into ``ax=``; ``pm.find_MAP(start=)``.
- **ArviZ 1.x / PyMC 6** (Python >= 3.12): fits are ``xarray.DataTree``; ``az.loo`` returns an
  ``ELPDData`` dataclass (``.elpd``, ``.p``, ``.elpd_i``, ``.pareto_k``); ``az.compare`` names its
  columns ``elpd``, ``p``, and its ``elpd_diff`` is negative; ``az.ess(method="tail")`` needs
  ``prob=``, ``az.hdi`` takes ``prob=``; plots come from arviz-plots and return a
  ``PlotCollection``; ``pm.find_MAP(initvals=)``. (ArviZ 1.x migration guide:
  https://python.arviz.org/en/latest/user_guide/migration_guide.html)

Every other module speaks one vocabulary, the one below: groups are read as ``xarray.Dataset``
(:func:`group`), an ELPD result answers ``elpd["elpd_loo"]``, ``elpd["p_loo"]``,
``elpd["loo_i"]``, ``elpd["pareto_k"]`` (and the extras bellmodels adds) on both lines, and a
comparison table has ArviZ 0.2x's columns (``rank, elpd_loo, p_loo, elpd_diff, weight, se, dse,
warning, scale``; ``elpd_diff`` >= 0). NetCDF files are written with h5netcdf on both lines and
read by either.

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
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import numpy as np
import xarray as xr

# ArviZ 0.2x warns at import that it is "undergoing a major refactor"; that is this module's
# business (it knows both lines), never a user's. Filtered by message, for ArviZ's FutureWarning only.
_REFACTOR_WARNING = r"(?s).*ArviZ is undergoing a major refactor"
warnings.filterwarnings("ignore", message=_REFACTOR_WARNING, category=FutureWarning)


def _major(dist: str) -> int:
    try:
        return int(version(dist).split(".")[0])
    except (PackageNotFoundError, ValueError):
        return 0


#: True on the ArviZ 1.x line (DataTree, arviz-stats, arviz-plots), False on ArviZ 0.2x.
ARVIZ_1: bool = _major("arviz") >= 1
#: True on PyMC 6 (``find_MAP(initvals=)``), False on PyMC 5.
PYMC_6: bool = _major("pymc") >= 6


def line() -> str:
    """Which line is installed, for attrs and messages: e.g. ``"pymc 6.4.0 / arviz 1.3.0"``.

    >>> line().startswith("pymc ")
    True
    """
    return f"pymc {version('pymc')} / arviz {version('arviz')}"


@cache
def _az() -> Any:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=_REFACTOR_WARNING, category=FutureWarning)
        import arviz as az
    return az


# -- containers ---------------------------------------------------------------------------------
def inference_data(groups: Mapping[str, xr.Dataset], attrs: Mapping[str, str] | None = None) -> Any:
    """A fit container (``InferenceData`` / ``DataTree``) from named Dataset groups and root attrs.

    >>> import xarray as xr, numpy as np
    >>> ds = xr.Dataset({"x": (("chain", "draw"), np.zeros((1, 3)))})
    >>> group_names(inference_data({"posterior": ds}))
    ['posterior']
    """
    if ARVIZ_1:
        tree = xr.DataTree.from_dict({name: ds for name, ds in groups.items()})
        tree.attrs = dict(attrs or {})
        return tree
    az = _az()
    idata = az.InferenceData(**dict(groups))
    if attrs:
        idata.attrs = dict(idata.attrs or {}) | dict(attrs)
    return idata


def group_names(idata: Any) -> list[str]:
    """The group names of a fit, in order (``idata.groups()`` / ``list(dt.children)``)."""
    if isinstance(idata, xr.DataTree):
        return list(idata.children)
    return list(idata.groups())


def has_group(idata: Any, name: str) -> bool:
    """Whether the fit has group ``name``."""
    return name in group_names(idata)


def group(idata: Any, name: str) -> xr.Dataset:
    """Group ``name`` of a fit as an ``xarray.Dataset`` (a DataTree node is converted)."""
    if isinstance(idata, xr.DataTree):
        return idata[name].to_dataset()
    return getattr(idata, name)


def update_group_attrs(idata: Any, name: str, attrs: Mapping[str, Any]) -> None:
    """Add ``attrs`` to the attributes of group ``name``, in place."""
    if isinstance(idata, xr.DataTree):
        idata[name].attrs.update(dict(attrs))
    else:
        getattr(idata, name).attrs.update(dict(attrs))


def from_dict(**groups: Any) -> Any:
    """``az.from_dict``: arrays by group (``posterior=``, ``log_likelihood=`` ...), ``coords=``,
    ``dims=``, ``attrs=`` (the root attrs).

    >>> import numpy as np
    >>> group_names(from_dict(posterior={"x": np.zeros((2, 5))}))
    ['posterior']
    """
    options = {k: groups.pop(k) for k in ("coords", "dims", "attrs") if k in groups}
    if ARVIZ_1:
        return _az().from_dict(groups, **options)
    attrs = options.pop("attrs", None)
    idata = _az().from_dict(**groups, **options)
    if attrs:
        idata.attrs = dict(idata.attrs or {}) | dict(attrs)
    return idata


def add_groups(idata: Any, groups: Mapping[str, xr.Dataset | None]) -> None:
    """Add (or replace) groups of ``idata`` in place; a group given as ``None`` is removed."""
    for name in [n for n, ds in groups.items() if ds is None or has_group(idata, n)]:
        if isinstance(idata, xr.DataTree):
            del idata[name]
        else:
            delattr(idata, name)
            idata._groups = [g for g in idata._groups if g != name]
    new = {n: ds for n, ds in groups.items() if ds is not None}
    if isinstance(idata, xr.DataTree):
        for name, ds in new.items():
            data = ds.to_dataset() if isinstance(ds, xr.DataTree) else ds
            idata[name] = xr.DataTree(dataset=data)
    elif new:
        idata.add_groups(new)


def to_netcdf(idata: Any, path: str) -> None:
    """Write ``idata`` to ``path`` (NetCDF-4 through h5netcdf); callers handle atomic replacement.

    The file has the same layout on both lines (one HDF5 group per ArviZ group, root attrs), so
    either line reads what the other wrote. Numeric variables are zlib-compressed on both lines
    (ArviZ 0.2x's default), which shrinks the per-trial log-likelihood's repeated columns.
    """
    if not isinstance(idata, xr.DataTree):
        idata.to_netcdf(path, engine="h5netcdf")
        return
    encoding = {
        node.path: {
            name: {"zlib": True}
            for name, v in node.dataset.data_vars.items()
            if v.dtype.kind in "biuf"
        }
        for node in idata.subtree
        if node.has_data
    }
    idata.to_netcdf(path, engine="h5netcdf", encoding=encoding)


def from_netcdf(path: str) -> Any:
    """Read a fit from a NetCDF file (loaded into memory, the file closed), whichever line wrote it.

    A fit of the old layout (per-cell values in ``log_likelihood``, which ArviZ reads as 16
    observations) is converted (:mod:`bellmodels.inference._layout`) so ArviZ never reads them.
    """
    if ARVIZ_1:
        with xr.open_datatree(path, engine="h5netcdf") as tree:
            idata = tree.load()
    else:
        idata = _az().from_netcdf(path, engine="h5netcdf")
        for name in idata.groups():
            getattr(idata, name).load()
    from bellmodels.inference._layout import upgraded_groups  # inference imports this module

    read = {n: group(idata, n) for n in ("log_likelihood", "observed_data") if has_group(idata, n)}
    changes, attrs = upgraded_groups(read)
    if changes:
        add_groups(idata, changes)
        idata.attrs = dict(idata.attrs or {}) | attrs
    return idata


# -- ELPD results -------------------------------------------------------------------------------
# bellmodels' keys (ArviZ 0.2x names) -> ArviZ 1.x ELPDData attributes
_ELPD_ATTRS = {
    "elpd_loo": "elpd",
    "p_loo": "p",
    "loo_i": "elpd_i",
    "pareto_k": "pareto_k",
    "se": "se",
    "n_samples": "n_samples",
    "n_data_points": "n_data_points",
    "warning": "warning",
    "scale": "scale",
    "good_k": "good_k",
}


@cache
def _elpd_class() -> type:
    """ArviZ 1.x's ``ELPDDataLOO`` that also answers bellmodels' keys (``elpd["elpd_loo"]``).

    A subclass, so ``az.compare`` and ArviZ's printing take it as their own; the extra entries
    bellmodels adds (``loo_cells`` ...) are kept in ``extra``.
    """
    from dataclasses import dataclass, field

    from arviz_stats.utils import ELPDDataLOO

    @dataclass(kw_only=True, repr=False)
    class BellELPDData(ELPDDataLOO):
        extra: dict[str, Any] = field(default_factory=dict)

        def __getitem__(self, key: str) -> Any:
            if key in _ELPD_ATTRS:
                return getattr(self, _ELPD_ATTRS[key])
            return self.extra[key]

        def __contains__(self, key: object) -> bool:
            if key in _ELPD_ATTRS:  # a result without pointwise values has no loo_i
                return getattr(self, _ELPD_ATTRS[str(key)]) is not None
            return key in self.extra

        def keys(self) -> list[str]:
            return [*_ELPD_ATTRS, *self.extra]

    BellELPDData.__name__ = BellELPDData.__qualname__ = "ELPDData"
    return BellELPDData


def _as_vocabulary(res: Any, extra: Mapping[str, Any] | None = None) -> Any:
    """An ArviZ 1.x ``ELPDData`` re-made as :func:`_elpd_class` (ArviZ 0.2x's is returned as is)."""
    if not ARVIZ_1:
        return res
    import dataclasses

    cls = _elpd_class()
    names = {f.name for f in dataclasses.fields(cls)} - {"extra"}
    values = {f.name: getattr(res, f.name) for f in dataclasses.fields(res) if f.name in names}
    return cls(**values, extra=dict(extra or {}))


def elpd_data(
    *,
    elpd: float,
    se: float,
    p: float,
    n_samples: int,
    n_data_points: int,
    warning: bool,
    pointwise: np.ndarray | None,
    pareto_k: np.ndarray | None,
    good_k: float,
    dim: str = "trial",
    extra: Mapping[str, Any] | None = None,
) -> Any:
    """An ``ELPDData`` for PSIS-LOO on the log scale, built from precomputed pieces.

    ``pointwise`` and ``pareto_k`` hold one value per observation along ``dim``, or are
    ``None`` (a result without pointwise values, as ArviZ's ``pointwise=False``: ``az.compare``
    refuses it); ``extra`` entries are appended (read them as ``elpd[key]``). On both lines
    ``az.compare`` accepts a pointwise result and ``elpd["elpd_loo"]`` etc. read it.

    >>> e = elpd_data(elpd=-3.0, se=0.5, p=1.0, n_samples=10, n_data_points=3, warning=False,
    ...               pointwise=np.array([-1.0, -1.0, -1.0]), pareto_k=np.zeros(3), good_k=0.7,
    ...               extra={"cell_counts": np.array([2, 1])})
    >>> float(e["elpd_loo"]), float(e["p_loo"]), list(e["cell_counts"]), e["loo_i"].dims
    (-3.0, 1.0, [np.int64(2), np.int64(1)], ('trial',))
    """
    arrays = {}
    if pointwise is not None and pareto_k is not None:
        arrays["loo_i"] = xr.DataArray(np.asarray(pointwise, dtype=float), dims=[dim], name="loo_i")
        arrays["pareto_k"] = xr.DataArray(
            np.asarray(pareto_k, dtype=float), dims=[dim], name="pareto_shape"
        )
    if ARVIZ_1:
        return _elpd_class()(
            elpd=float(elpd),
            se=float(se),
            p=float(p),
            n_samples=int(n_samples),
            n_data_points=int(n_data_points),
            scale="log",
            warning=bool(warning),
            good_k=float(good_k),
            elpd_i=arrays.get("loo_i"),
            pareto_k=arrays.get("pareto_k"),
            extra=dict(extra or {}),
        )
    entries = {
        "elpd_loo": float(elpd),
        "se": float(se),
        "p_loo": float(p),
        "n_samples": int(n_samples),
        "n_data_points": int(n_data_points),
        "warning": bool(warning),
        **arrays,
        "scale": "log",
        "good_k": float(good_k),
        **dict(extra or {}),
    }
    return _az().ELPDData(data=list(entries.values()), index=list(entries))


# -- statistics ---------------------------------------------------------------------------------
def loo(idata: Any, *, reff: float | None = None, var_name: str | None = None) -> Any:
    """``az.loo(idata, pointwise=True)`` on the log scale, with its Pareto-k warning silenced.

    The warning is silenced because callers report ``pareto_k_max`` themselves. So is an exp
    overflow inside ArviZ's generalized-Pareto fit (``_gpdfit``: weights ``1 / sum(exp(...))``
    of candidate shapes far from the best are inf, and 1/inf = 0 is the right weight).
    """
    az = _az()
    with warnings.catch_warnings(), np.errstate(over="ignore"):
        warnings.simplefilter("ignore", UserWarning)
        warnings.filterwarnings("ignore", "overflow encountered", RuntimeWarning)
        if ARVIZ_1:
            return _as_vocabulary(az.loo(idata, pointwise=True, reff=reff, var_name=var_name))
        return az.loo(idata, pointwise=True, reff=reff, var_name=var_name, scale="log")


def ess(values: np.ndarray, method: str = "bulk") -> float:
    """Effective sample size of a ``(chain, draw)`` array (``"bulk"``, ``"tail"``, ``"mean"``).

    ``"tail"`` is the minimum of the ESS of the 5% and 95% quantiles on both lines (ArviZ 0.2x's
    default; ArviZ 1.x needs ``prob=`` said).
    """
    x = np.asarray(values, dtype=float)
    if ARVIZ_1 and method == "tail":
        return float(_az().ess(x, method="tail", prob=(0.05, 0.95)))
    return float(_az().ess(x, method=method))


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
    """Highest-density interval of the flattened draws of ``values``.

    >>> lo, hi = hdi(np.linspace(0.0, 1.0, 101), 0.5)
    >>> round(hi - lo, 2)
    0.5
    """
    flat = np.asarray(values, dtype=float).ravel()
    if ARVIZ_1:
        lo, hi = _az().hdi(flat, prob=prob)
    else:
        lo, hi = _az().hdi(flat, hdi_prob=prob)
    return float(lo), float(hi)


# -- PyMC ---------------------------------------------------------------------------------------
def find_map(model: Any, start: Mapping[str, np.ndarray]) -> dict[str, Any]:
    """``pm.find_MAP`` (L-BFGS) of ``model`` from ``start``, no progress bar.

    PyMC 5 takes the start as ``start=`` and returns a dict; PyMC 6 takes ``initvals=`` and is
    asked for what it will return by default (a DataTree, whose one-draw posterior is read
    here), unjittered, so it warns about neither change. Values are keyed by variable name.
    """
    import pymc as pm

    if not PYMC_6:
        return pm.find_MAP(start=dict(start), model=model, progressbar=False)
    tree = pm.find_MAP(
        initvals=dict(start),
        model=model,
        progressbar=False,
        jitter=False,
        return_inferencedata=True,
    )
    post = tree["posterior"].to_dataset()
    return {name: post[name].values[0, 0] for name in post.data_vars}


# -- plots --------------------------------------------------------------------------------------
# Each draws ArviZ's own plot (ArviZ 0.2x's on that line, arviz-plots' on ArviZ 1.x) into the
# matplotlib axes it is given, so the figures keep bellmodels' layout on both lines. arviz-plots
# takes no ``ax=``: it draws into the axes of a ``PlotCollection``, which is built here from ours
# (the layout ``PlotCollection.wrap`` makes: a ``figure`` at the root, one ``plot`` per variable).
def _plot_collection(
    data: xr.Dataset, axes: Sequence[Any], aes: Mapping[str, list[str]] | None = None
) -> Any:
    """An arviz-plots ``PlotCollection`` facetting the variables of ``data``, one per axis."""
    from arviz_plots import PlotCollection

    names = list(data.data_vars)

    def per_var(values: Sequence[Any]) -> xr.Dataset:
        return xr.Dataset(
            {n: xr.DataArray(np.array(v, dtype=object)) for n, v in zip(names, values, strict=True)}
        )

    viz = xr.DataTree(
        xr.Dataset({"figure": np.array(axes[0].figure, dtype=object)}),
        children={
            "plot": xr.DataTree(per_var(list(axes))),
            "row_index": xr.DataTree(per_var([0] * len(names))),
            "col_index": xr.DataTree(per_var(list(range(len(names))))),
        },
    )
    chain = {"color": ["chain"], "overlay": ["chain"]}
    return PlotCollection(data, viz, backend="matplotlib", aes=dict(aes or chain))


def _posterior_of(data: Any, var_names: Sequence[str]) -> xr.Dataset:
    ds = data if isinstance(data, xr.Dataset) else group(data, "posterior")
    return ds[list(var_names)]


def plot_rank(data: Any, var_names: Sequence[str], axes: Sequence[Any]) -> None:
    """Rank plots of ``var_names`` (of a posterior Dataset or a fit), one per axis of ``axes``:
    rank histograms on ArviZ 0.2x, fractional-rank ECDF differences on ArviZ 1.x. Both are the
    convergence check for multimodal posteriors (Vehtari et al. 2021)."""
    az = _az()
    axes = list(np.ravel(np.asarray(axes, dtype=object)))
    if not ARVIZ_1:
        az.plot_rank(data, var_names=list(var_names), ax=np.asarray(axes))
        return
    post = _posterior_of(data, var_names)
    tree = xr.DataTree.from_dict({"posterior": post})
    az.plot_rank(tree, plot_collection=_plot_collection(post, axes))


def plot_trace(data: Any, var_names: Sequence[str], axes: Any) -> None:
    """Trace plots of ``var_names``: row ``i`` of the ``(n, 2)`` ``axes`` holds variable ``i``'s
    per-chain densities (left) and its draws against the draw index (right)."""
    az = _az()
    axes = np.atleast_2d(np.asarray(axes, dtype=object))
    if not ARVIZ_1:
        az.plot_trace(data, var_names=list(var_names), axes=axes, compact=True)
        return
    post = _posterior_of(data, var_names)
    tree = xr.DataTree.from_dict({"posterior": post})
    az.plot_dist(
        tree,
        kind="kde",
        plot_collection=_plot_collection(post, list(axes[:, 0])),
        visuals={"credible_interval": False, "point_estimate": False, "point_estimate_text": False},
    )
    az.plot_trace(tree, plot_collection=_plot_collection(post, list(axes[:, 1])))


def plot_energy(idata: Any, ax: Any) -> None:
    """NUTS energy plot (marginal vs transition energy; Betancourt 2017) into ``ax``; its curves
    carry legend labels (``ax.get_legend_handles_labels()``)."""
    az = _az()
    if not ARVIZ_1:
        with warnings.catch_warnings():  # matplotlib 3.11 deprecates a call inside ArviZ 0.2x
            warnings.filterwarnings("ignore", "Passing a dict or None as alias_mapping")
            az.plot_energy(idata, ax=ax, legend=True, textsize=8)
        return
    from arviz_plots import PlotCollection
    from arviz_plots.plots.energy_plot import _get_energy_ds

    tree = xr.DataTree.from_dict({"sample_stats": group(idata, "sample_stats")[["energy"]]})
    energy, _ = _get_energy_ds(tree["sample_stats"], sample_dims=["chain", "draw"])
    data = energy.expand_dims(column=1).assign_coords(column=["energy"])
    viz = xr.DataTree(
        xr.Dataset(
            {
                "figure": np.array(ax.figure, dtype=object),
                "plot": (("column",), np.array([ax], dtype=object)),
                "row_index": (("column",), [0]),
                "col_index": (("column",), [0]),
            },
            coords={"column": ["energy"]},
        )
    )
    pc = PlotCollection(data, viz, backend="matplotlib", aes={"color": ["energy"]})
    n_lines = len(ax.lines)
    az.plot_energy(tree, plot_collection=pc, show_bfmi=False, visuals={"legend": False})
    kinds = [str(k) for k in energy["energy"].values]
    for line_, kind in zip(ax.lines[n_lines:], kinds, strict=False):
        line_.set_label(f"{kind} energy")


def plot_compare(table: Any, ax: Any) -> None:
    """ArviZ's comparison plot (ELPD ± SE per model, best first) into ``ax``, of a ranking table
    with columns ``elpd_loo``, ``se``, ``elpd_diff`` (>= 0, best minus model) and ``dse``."""
    az = _az()
    if not ARVIZ_1:
        with warnings.catch_warnings():  # pandas deprecates the ``inplace`` ArviZ 0.2x uses
            warnings.filterwarnings("ignore", "The inplace keyword")
            az.plot_compare(table.assign(scale="log"), ax=ax, insample_dev=False, legend=False)
        return
    from unittest import mock

    import arviz_plots.backend.matplotlib as backend

    cmp = table.rename(columns={"elpd_loo": "elpd", "p_loo": "p"})
    cmp = cmp.assign(elpd_diff=-cmp["elpd_diff"].astype(float))

    def into_ax(*_: Any, **__: Any) -> tuple[Any, np.ndarray]:
        return ax.figure, np.array([[ax]], dtype=object)

    # arviz-plots' plot_compare makes its own figure and has no plot_collection argument: hand
    # it ours (its one plotting grid is created through this backend function)
    with mock.patch.object(backend, "create_plotting_grid", into_ax):
        az.plot_compare(cmp, backend="matplotlib")


__all__ = [
    "ARVIZ_1",
    "PYMC_6",
    "add_groups",
    "elpd_data",
    "ess",
    "ess_dataset",
    "find_map",
    "from_dict",
    "from_netcdf",
    "group",
    "group_names",
    "has_group",
    "hdi",
    "inference_data",
    "line",
    "loo",
    "plot_compare",
    "plot_energy",
    "plot_rank",
    "plot_trace",
    "rhat",
    "to_netcdf",
    "update_group_attrs",
]
