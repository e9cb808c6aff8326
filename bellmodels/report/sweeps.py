"""The report's sections for sweeps: pivot tables and sweep figures when a study has more points
than get sections of their own, and the measurement-dependence frontier (every model's MI and
Hall M against its S, beside the regions no local model reaches).

A quantity that is the same at every point (S at a model's default parameters, say) gets no
table and no figure: it would only repeat one number.

>>> import xarray as xr
>>> ds = xr.Dataset({"S": (("v", "model"), [[2.0], [2.0]])}, coords={"v": [0.5, 1.0], "model": ["m"]})
>>> _constant(ds, "S")
True
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from bellmodels.behaviour import TSIRELSON
from bellmodels.report.document import Document, save_figure


def _coords_text(ds: Any, axes: list[str], idx: tuple[int, ...]) -> str:
    return ", ".join(f"{a} = {ds[a].values[i]}" for a, i in zip(axes, idx, strict=True)) or "–"


_S_LINES = ((2.0, "local bound 2"), (TSIRELSON, "2√2"))
_TABLES = (
    ("weight", "stacking weight"),
    ("elpd_diff", "ELPD difference to the best"),
    ("S_mean", "posterior mean of S"),
    ("S", "S of the model at its parameters"),
    ("mi_bits", "MI(λ; settings) in bits at the model's parameters"),
    ("train_kl", "KL(data ‖ trained model) in nats"),
)


def _sweep_section(
    doc: Document,
    ds: Any,
    out: Path,
    axes: list[str],
    points: list[tuple[int, ...]],
    colors: dict[str, Any],
    figures: bool,
    fig_dir: Path,
) -> None:
    """A sweep too large for a section per point: the diagnostics gate in one sentence, a table
    per quantity that varies (rows: points, columns: models), and a figure per quantity and
    numeric axis."""
    doc.h(2, "Sweep")
    models = [str(m) for m in ds["model"].values]
    _sweep_gate(doc, ds, axes, points, models)
    for var, what in _TABLES:
        if not np.isfinite(ds[var].values).any() or _constant(ds, var):
            continue
        doc.h(3, f"{what} (`{var}`) per point")
        body = []
        for idx in points:
            row: list[Any] = [_coords_text(ds, axes, idx), float(ds["data_S"].values[idx])]
            row += [float(ds[var].values[(*idx, j)]) for j in range(len(models))]
            body.append(row)
        doc.table(["point", "data S", *models], body)
    if figures:
        for axis in axes:
            if ds.sizes[axis] >= 2 and np.issubdtype(ds[axis].dtype, np.number):
                _sweep_figures(doc, ds, axes, axis, colors, fig_dir)


def _sweep_gate(
    doc: Document, ds: Any, axes: list[str], points: list[tuple[int, ...]], models: list[str]
) -> None:
    """The gate, as the point sections have it: every failing fit named."""
    ok = ds["diagnostics_ok"].values
    if not np.isfinite(ok).any():
        return
    bad = [
        f"`{models[j]}` at {_coords_text(ds, axes, idx)}"
        for idx in points
        for j in range(len(models))
        if ok[(*idx, j)] == 0.0
    ]
    n_fit = int(np.isfinite(ok).sum())
    doc.h(3, "Diagnostics gate")
    doc.p(
        f"All {n_fit} fits pass (R-hat, bulk and tail ESS, divergences)."
        if not bad
        else f"{len(bad)} of {n_fit} fits fail (reasons in each task's NetCDF): "
        + "; ".join(bad)
        + "."
    )


def _constant(ds: Any, var: str) -> bool:
    """The same value at every point for every model (e.g. S at a model's default parameters):
    nothing to tabulate or plot."""
    v = ds[var].values
    flat = v.reshape(-1, v.shape[-1]) if "model" in ds[var].dims else v.reshape(-1, 1)
    return bool(np.all(np.nanmax(flat, axis=0) - np.nanmin(flat, axis=0) < 1e-12))


def _sweep_figures(
    doc: Document, ds: Any, axes: list[str], axis: str, colors: dict[str, Any], fig_dir: Path
) -> None:
    """One figure per quantity that varies, against the numeric sweep axis ``axis``."""
    from bellmodels import plots

    min_mi = np.nanmax(ds["data_min_mi_bits"].values) if len(axes) == 1 else None
    mi_line = (
        ((float(min_mi), "least MI a local model needs for the data"),)
        if min_mi is not None and np.isfinite(min_mi)
        else ()
    )
    specs = [
        ("weight", "stacking weight", ()),
        ("elpd_diff", "ELPD difference to the best (nats)", ((0.0, ""),)),
        ("data_S", "data S", _S_LINES),
        ("S_mean", "posterior mean of S", _S_LINES),
        ("S", "S of the model", _S_LINES),
        ("mi_bits", "MI(λ; settings) (bits)", mi_line),
        ("train_kl", "KL(data ‖ trained model) (nats)", ()),
    ]
    for var, label, hl in specs:
        if not np.isfinite(ds[var].values).any() or _constant(ds, var):
            continue
        f = plots.plot_sweep(ds, axis, var, colors=colors, ylabel=label, hlines=hl)
        if var == "elpd_diff":  # from ~1 nat to 10^4 nats: linear hides where the models cross
            for a in f.axes:
                a.set_yscale("symlog", linthresh=1.0)
                a.set_ylim(bottom=-0.3)  # differences to the best are >= 0
        rel = save_figure(f, fig_dir, f"sweep_{var}_vs_{axis}.png")
        doc.fig(rel, f"{label} against {axis}.")


def _md_section(
    doc: Document,
    ds: Any,
    out: Path,
    axes: list[str],
    points: list[tuple[int, ...]],
    colors: dict[str, Any],
    fig_dir: Path,
    config: dict[str, Any],
) -> None:
    """Measurement dependence against S of every model at every point, at its parameters and
    at its posterior means, with the least-MI curve (``report.min_mi_points`` values of it)."""
    from bellmodels import plots

    pts = []
    for idx in points:
        for j, m in enumerate(ds["model"].values):
            at = (*idx, j)
            if str(ds["status"].values[at]) != "done":
                continue
            pts.append(
                {
                    "model": str(m),
                    "family": str(ds["family"].values[at]),
                    "S": float(ds["S"].values[at]),
                    "mi_bits": float(ds["mi_bits"].values[at]),
                    "hall_M": float(ds["hall_M"].values[at]),
                    "label": (
                        f"{ds[axes[0]].values[idx[0]]:g}"
                        if len(axes) == 1 and len(points) <= 12 and _is_num(ds[axes[0]])
                        else ""
                    ),
                }
            )
            post = [float(ds[k].values[at]) for k in ("S_mean", "mi_bits_mean", "hall_M_mean")]
            if all(np.isfinite(post)):
                pts.append(
                    {
                        "model": str(m),
                        "family": str(ds["family"].values[at]),
                        "S": post[0],
                        "mi_bits": post[1],
                        "hall_M": post[2],
                        "hollow": True,
                    }
                )
    if not pts:
        return
    n_curve = int(config.get("report", {}).get("min_mi_points", 11))
    v = np.linspace(1 / math.sqrt(2), math.sqrt(2), n_curve)  # S from 2 to 4
    curve = plots.min_mi_curve(visibilities=v)
    data_S = float(ds["data_S"].values.ravel()[0]) if len(points) == 1 else None
    f = plots.plot_measurement_dependence(pts, curve=curve, data_S=data_S, colors=colors)
    rel = save_figure(f, fig_dir, "measurement_dependence.png")
    doc.h(2, "Measurement dependence")
    doc.p(
        "Each model at its parameters (filled markers; every sweep point) and, when fitted, at "
        "its posterior means (open markers): MI(λ; settings) and Hall's M against its S. The "
        "black curve is the least MI any local model needs to reach CHSH value S (settings "
        "uniform), from the convex programme `min_mi_bits`: the singlet at visibility "
        "V = S / 2√2 up to Tsirelson's bound, then the isotropic boxes up to the PR box at S = 4 "
        "(no behaviour with that S needs less); the red dashed line is Hall's bound "
        "|S| ≤ min(4, 2 + 3M) (Hall 2010), tight for local models. Grey: where no local model "
        "lies. Nonlocal models (triangles) are bound by neither."
    )
    labelled = len(axes) == 1 and len(points) <= 12 and _is_num(ds[axes[0]])
    doc.fig(
        rel,
        "Measurement dependence against S"
        + (f" (numbers next to the markers: {axes[0]})." if labelled else "."),
    )


def _is_num(da: Any) -> bool:
    return bool(np.issubdtype(da.dtype, np.number))


__all__: list[str] = []
