"""Figures of the physics: correlators, S posteriors, p(lambda | settings) and sweeps of a study
(measurement dependence against S is in :mod:`bellmodels.plots.dependence`).

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> fig = plot_S_posterior({"quantum-singlet": 2.83 + 0.01 * rng.normal(size=500)})
>>> len(fig.axes)   # the whole range, and a zoom on the data
2
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.colors import PowerNorm
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, NullLocator

from bellmodels.plots._style import TSIRELSON, data_correlators, model_colors

_THETA_LABEL = "θ = angle_a − angle_b (degrees); setting pairs marked"


def plot_correlators(
    scenario: Any,
    counts: np.ndarray | None,
    models: Mapping[str, Mapping[str, Any]],
    *,
    colors: Mapping[str, Any] | None = None,
    title: str = "",
) -> Figure:
    """Correlators E against the angle difference theta = angle_a - angle_b, per model vs data.

    Parameters
    ----------
    scenario
        The :class:`~bellmodels.scenario.Scenario` (gives each setting pair's theta).
    counts
        ``(K_a, K_b, 2, 2)`` data counts (error bars: binomial SE), or ``None``.
    models
        ``{name: {"mean": (K_a, K_b), "lo": (K_a, K_b) or None, "hi": ...}}``: each model's
        correlators (posterior mean and HDI, or the values at its parameters).

    The singlet curve ``-cos(theta)`` and the local "sawtooth" ``2|theta|/pi - 1`` (Bell 1964's
    model) are drawn as guides; the scenario's setting pairs are marked by vertical lines.
    Markers of the models are spread horizontally around each theta so they do not hide each
    other. Two panels: the correlators, and each model's residual from the data in units of the
    data's standard error (so a model's misfit reads in the data's own precision).

    >>> from bellmodels import Scenario
    >>> fig = plot_correlators(Scenario.chsh(), None, {"m": {"mean": np.zeros((2, 2))}})
    >>> len(fig.axes)
    1
    """
    theta = np.degrees(scenario.angle_differences())
    fig = Figure(figsize=(9.0, 6.5 if counts is not None else 4.5), layout="constrained")
    if counts is not None:
        ax, axr = fig.subplots(2, 1, sharex=True, height_ratios=(3, 1.4))
    else:
        ax, axr = fig.subplots(1, 1), None
    colors = colors or model_colors(list(models))
    _correlator_guides(ax, axr, scenario, theta)
    e_data, se_data = data_correlators(counts) if counts is not None else (None, None)
    zs = _correlator_models(ax, axr, theta, models, colors, e_data, se_data)
    if e_data is not None and se_data is not None:
        ax.errorbar(
            theta.ravel(),
            e_data.ravel(),
            yerr=se_data.ravel(),
            fmt="s",
            ms=7,
            mfc="none",
            mec="black",
            ecolor="black",
            capsize=4,
            label="data ± 1 SE",
            zorder=5,
        )
    ax.set_ylabel("correlator E = P(same) − P(diff)")
    # outside the axes: inside, it hid data points wherever they fell (e.g. real data, rotated axes)
    fig.legend(*ax.get_legend_handles_labels(), fontsize=7, loc="outside right upper")
    if title:
        fig.suptitle(title)
    if axr is not None:
        _residual_axis(axr, zs)
    (axr if axr is not None else ax).set_xlabel(_THETA_LABEL)
    return fig


def _correlator_guides(ax: Any, axr: Any, scenario: Any, theta: np.ndarray) -> None:
    """The singlet and sawtooth curves, a vertical line per setting pair's theta and the pairs'
    labels above the panel; the axis ranges."""
    lo_t, hi_t = float(theta.min()) - 30, float(theta.max()) + 30
    grid = np.linspace(lo_t, hi_t, 400)
    ax.plot(grid, -np.cos(np.radians(grid)), color="0.6", lw=1, ls="-", label="singlet -cos θ")
    wrapped = np.abs((grid + 180) % 360 - 180)
    ax.plot(grid, 2 * wrapped / 180 - 1, color="0.6", lw=1, ls=":", label="local sawtooth")
    labels: dict[float, list[str]] = {}
    for i in range(scenario.n_a):
        for j in range(scenario.n_b):
            key = round(float(theta[i, j]), 6)
            labels.setdefault(key, []).append(f"({scenario.labels_a[i]},{scenario.labels_b[j]})")
    for t in sorted(labels):
        for a in (ax, axr):
            if a is not None:
                a.axvline(t, color="0.85", lw=0.8, zorder=0)
        ax.annotate(
            " ".join(labels[t]),
            (t, 1.12),
            xytext=(0, 2),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize=8,
            annotation_clip=False,
        )
    ax.set_ylim(-1.12, 1.12)
    ax.set_xlim(lo_t, hi_t)
    ax.axhline(0, color="0.85", lw=0.8, zorder=0)


def _correlator_models(
    ax: Any,
    axr: Any,
    theta: np.ndarray,
    models: Mapping[str, Mapping[str, Any]],
    colors: Mapping[str, Any],
    e_data: np.ndarray | None,
    se_data: np.ndarray | None,
) -> list[float]:
    """Each model's correlators (with its interval when given), spread around each theta, and
    its residuals (model - data) / SE in the lower panel; returns the residuals."""
    n_models = len(models)
    width = min(24.0, 2.2 * n_models)
    offsets = np.linspace(-width / 2, width / 2, n_models) if n_models > 1 else np.zeros(1)
    zs: list[float] = []
    for k, (name, m) in enumerate(models.items()):
        mean = np.asarray(m["mean"], dtype=float)
        x = theta.ravel() + offsets[k]
        y = mean.ravel()
        yerr = None
        if m.get("lo") is not None and m.get("hi") is not None:
            lo = np.asarray(m["lo"], dtype=float).ravel()
            hi = np.asarray(m["hi"], dtype=float).ravel()
            yerr = np.vstack([y - lo, hi - y])
        ax.errorbar(x, y, yerr=yerr, fmt="o", ms=4, color=colors[name], label=name, capsize=2, lw=1)
        if axr is not None and e_data is not None and se_data is not None:
            with np.errstate(invalid="ignore", divide="ignore"):
                z = (mean - e_data) / se_data
            axr.plot(x, z.ravel(), "o", ms=4, color=colors[name])
            zs.extend(z.ravel().tolist())
    return zs


def _residual_axis(axr: Any, zs: Sequence[float]) -> None:
    """The residual panel: symmetric-log so misfits of 2 SE and of 1000 SE both read."""
    axr.axhline(0, color="black", lw=0.8)
    for s in (-2, 2):
        axr.axhline(s, color="0.6", lw=0.8, ls="--")
    axr.set_ylabel("(model − data) / SE")
    zmax = max(3.0, *(abs(float(v)) for v in zs if np.isfinite(v))) if zs else 3.0
    axr.set_yscale("symlog", linthresh=2, linscale=1.5)
    axr.set_ylim(-zmax * 1.6, zmax * 1.6)
    ticks = [t for t in (1000, 100, 10, 2) if t <= zmax * 1.6]
    axr.set_yticks([-t for t in ticks] + [0] + ticks[::-1])
    axr.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    axr.yaxis.set_minor_locator(NullLocator())


def plot_S_posterior(
    samples: Mapping[str, np.ndarray],
    *,
    data_S: float | None = None,
    data_S_se: float | None = None,
    colors: Mapping[str, Any] | None = None,
) -> Figure:
    """Posterior of the CHSH value S per model against 2, 2√2 and 4.

    Left: the whole range 1..4 (posterior mean and 94% interval per model, the three bounds).
    Right: a zoom on the data's S (violins of the posterior draws; models off the zoom are
    named at its edge), since posteriors from 10^5 trials are ~0.01 wide.

    Parameters
    ----------
    samples
        ``{model: draws of S}`` (any shape; flattened). A model with a point value only (one
        draw) is drawn as a diamond.
    data_S, data_S_se
        The data's S and its standard error (a shaded band of ±2 SE), if known.

    >>> fig = plot_S_posterior({"m": np.full(10, 2.0)}, data_S=2.83, data_S_se=0.01)
    >>> [ax.get_xlabel() for ax in fig.axes][1]
    'S near the data: posterior draws'
    """
    names = list(samples)
    colors = colors or model_colors(names)
    fig = Figure(figsize=(11.0, 0.42 * len(names) + 1.8), layout="constrained")
    ax, az = fig.subplots(1, 2, sharey=True, width_ratios=(1.0, 1.3))
    draws = {n: np.asarray(samples[n], dtype=float).ravel() for n in names}
    draws = {n: d[np.isfinite(d)] for n, d in draws.items()}
    zoom = _S_zoom(draws, data_S, data_S_se)
    for y, name in enumerate(names):
        if draws[name].size:
            _S_row(ax, az, y, draws[name], colors[name], zoom)
    for a in (ax, az):
        _S_bounds(a, data_S, data_S_se)
    ax.set_yticks(range(len(names)), names)
    ax.set_ylim(-0.7, len(names) - 0.3)
    ax.invert_yaxis()
    ax.set_xlim(1.0, 4.15)
    az.set_xlim(*zoom)
    ax.set_xlabel("S: posterior mean and 94% interval")
    az.set_xlabel("S near the data: posterior draws")
    # below the axes: inside, it hid the last model's interval
    fig.legend(*ax.get_legend_handles_labels(), fontsize=7, loc="outside lower center", ncol=4)
    fig.suptitle("CHSH S = max_k |S_k| per model", fontsize=10)
    return fig


def _S_zoom(
    draws: Mapping[str, np.ndarray], data_S: float | None, data_S_se: float | None
) -> tuple[float, float]:
    """The zoom window: the data's S ± max(0.08, 6 SE) (else the models' median S)."""
    centre = data_S if data_S is not None and np.isfinite(data_S) else None
    if centre is None:
        means = [d.mean() for d in draws.values() if d.size]
        centre = float(np.median(means)) if means else TSIRELSON
    half = 0.08
    if data_S_se is not None and np.isfinite(data_S_se):
        half = max(half, 6 * data_S_se)
    return centre - half, centre + half


def _S_row(ax: Any, az: Any, y: int, s: np.ndarray, color: Any, zoom: tuple[float, float]) -> None:
    """One model: mean and 94% interval (a diamond for a point value) on the whole range; a
    violin in the zoom, or an arrow with its S at the zoom's edge when it lies outside."""
    m = float(s.mean())
    if s.size > 1:
        lo, hi = np.quantile(s, [0.03, 0.97])
        ax.plot([lo, hi], [y, y], color=color, lw=3)
        ax.plot([m], [y], "o", color=color, mec="black", ms=6)
    else:
        ax.plot([m], [y], "D", color=color, mec="black", ms=6)
    lo_z, hi_z = zoom
    if not lo_z <= m <= hi_z:
        below = m < lo_z
        az.annotate(
            f"{'←' if below else '→'} S = {m:.3f}",
            (lo_z if below else hi_z, y),
            xytext=(4 if below else -4, 0),
            textcoords="offset points",
            ha="left" if below else "right",
            va="center",
            fontsize=8,
            color="0.3",
        )
    elif s.size > 1 and np.ptp(s) > 1e-9:
        parts = az.violinplot(
            s, positions=[y], orientation="horizontal", widths=0.8, showextrema=False
        )
        for body in parts["bodies"]:
            body.set_facecolor(color)
            body.set_edgecolor("black")
            body.set_alpha(0.9)
            body.set_zorder(2)
        az.plot([m], [y], "|", color="black", ms=12)
    else:
        az.plot([m], [y], "D", color=color, mec="black", ms=6)


def _S_bounds(a: Any, data_S: float | None, data_S_se: float | None) -> None:
    """The data's S (with a ±2 SE band) and the local, Tsirelson and algebraic bounds."""
    if data_S is not None and np.isfinite(data_S):
        if data_S_se is not None and np.isfinite(data_S_se):
            a.axvspan(
                data_S - 2 * data_S_se, data_S + 2 * data_S_se, color="gold", alpha=0.3, zorder=0
            )
        a.axvline(data_S, color="goldenrod", lw=1.2, label=f"data S = {data_S:.3f} (±2 SE)")
    for x, label, ls in (
        (2.0, "local bound 2", "--"),
        (TSIRELSON, "Tsirelson 2√2", "-."),
        (4.0, "algebraic 4", ":"),
    ):
        a.axvline(x, color="black", ls=ls, lw=1, label=label)


def plot_p_lambda(
    tables: Mapping[str, tuple[np.ndarray, Sequence[str]]],
    scenario: Any,
    *,
    max_lambda: int = 64,
) -> Figure:
    """Heatmaps of p(lambda | s_a, s_b): one panel per model, rows = setting pairs.

    A measurement-independent model has four identical rows; the RBM's 16 hidden states show
    rows that differ (Weinstein 2017: the machine is local but its hidden variable depends on
    the settings). Models with more than ``max_lambda`` values are left out.

    Parameters
    ----------
    tables
        ``{model: (p_lambda (K_a, K_b, L), lambda labels)}``.
    scenario
        For the setting-pair labels.

    >>> from bellmodels import Scenario, models
    >>> t = models.get("rbm-weinstein2017").ontic_table()
    >>> fig = plot_p_lambda({"rbm": (t.p_lambda.values, list(range(16)))}, Scenario.chsh())
    >>> "M = 1.86" in fig.axes[0].get_title()
    True
    """
    items = [(n, np.asarray(p, dtype=float), lab) for n, (p, lab) in tables.items()]
    items = [it for it in items if it[1].shape[2] <= max_lambda]
    if not items:
        fig = Figure(figsize=(4, 1))
        fig.text(0.5, 0.5, "no model with a small finite lambda", ha="center")
        return fig
    n = len(items)
    cols = 2 if n > 1 else 1
    rows = int(np.ceil(n / cols))
    # panels narrow enough that the report page shows the figure near its size: the labels
    # stay at the size they are set (P_LAMBDA_FONT points)
    fig = Figure(figsize=(_P_LAMBDA_PANEL * cols + 0.9, 2.4 * rows + 0.4), layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
    pair_labels = [f"({a},{b})" for a in scenario.labels_a for b in scenario.labels_b]
    norm = PowerNorm(0.5, 0.0, max(float(p.max()) for _, p, _ in items))
    im = None
    for ax, (name, p, lab) in zip(axes, items, strict=False):
        im = _lambda_panel(ax, name, p.reshape(-1, p.shape[2]), lab, pair_labels, norm)
    for ax in axes[n:]:
        ax.set_visible(False)
    if im is not None:
        cbar = fig.colorbar(im, ax=axes[:n].tolist(), shrink=0.8)
        cbar.set_label("p(λ | setting pair) (square-root scale)", fontsize=P_LAMBDA_FONT)
        cbar.ax.tick_params(labelsize=P_LAMBDA_FONT)
    return fig


P_LAMBDA_FONT = 9.0
"""Font size (points) of every label of :func:`plot_p_lambda`: ticks, titles, colour bar."""
_P_LAMBDA_PANEL = 5.2  # inches per panel


def _lambda_panel(
    ax: Any, name: str, mat: np.ndarray, lab: Sequence[Any], pair_labels: list[str], norm: Any
) -> Any:
    """One model's heatmap (rows: setting pairs, columns: lambda) titled with its Hall M, the
    largest L1 distance between two rows; at most 16 lambda labels, slanted when they would
    overlap."""
    im = ax.imshow(mat, aspect="auto", cmap="viridis", norm=norm)
    ax.set_yticks(range(len(pair_labels)), pair_labels, fontsize=P_LAMBDA_FONT)
    step = max(1, int(np.ceil(mat.shape[1] / 16)))
    ticks = list(range(0, mat.shape[1], step))
    text_pt = 0.62 * P_LAMBDA_FONT * max(len(str(v)) for v in lab) * len(ticks)
    rot = 0 if text_pt <= 0.8 * 72 * (_P_LAMBDA_PANEL - 1.0) else 45
    ax.set_xticks(
        ticks,
        [str(lab[t]) for t in ticks],
        rotation=rot,
        fontsize=P_LAMBDA_FONT,
        ha="right" if rot else "center",
        rotation_mode="anchor" if rot else "default",
    )
    hall_m = float(np.abs(mat[:, None, :] - mat[None, :, :]).sum(axis=2).max())
    ax.set_title(
        f"{name}  (L = {mat.shape[1]}; rows differ by up to M = {hall_m:.2f})",
        fontsize=P_LAMBDA_FONT + 1,
    )
    ax.set_xlabel("λ", fontsize=P_LAMBDA_FONT)
    return im


def _sweep_xscale(ax: Any, x: np.ndarray) -> None:
    """Log x for axes spanning >= 2 decades (symlog when the axis includes 0)."""
    if not np.issubdtype(x.dtype, np.number):
        return
    pos = x[x > 0]
    if pos.size < 2 or pos.max() / pos.min() < 100:
        return
    if np.any(x <= 0):
        ax.set_xscale("symlog", linthresh=float(pos.min()), linscale=0.5)
    else:
        ax.set_xscale("log")


def plot_sweep(
    ds: Any,
    axis: str,
    var: str,
    *,
    colors: Mapping[str, Any] | None = None,
    ylabel: str | None = None,
    hlines: Sequence[tuple[float, str]] = (),
) -> Figure:
    """One line per model of ``ds[var]`` along the sweep axis ``axis`` (other axes: one panel
    per value combination, at most 9). ``var`` without a ``model`` dim is drawn in black.

    >>> import xarray as xr
    >>> ds = xr.Dataset({"S": (("v", "model"), [[1.0], [2.0]])}, coords={"v": [0.5, 1.0], "model": ["m"]})
    >>> plot_sweep(ds, "v", "S").axes[0].get_xlabel()
    'v'
    """
    da = ds[var]
    others = [d for d in da.dims if d not in (axis, "model")]
    combos = list(np.ndindex(*[da.sizes[d] for d in others])) if others else [()]
    combos = combos[:9]  # 3 x 3 panels: a 7-value axis (noise_sweep) must not lose one
    cols = min(3, len(combos))
    rows = int(np.ceil(len(combos) / cols))
    fig = Figure(figsize=(4.5 * cols + 1.8, 3.4 * rows), layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
    names = [str(m) for m in ds["model"].values]
    colors = colors or model_colors(names)
    x = ds[axis].values
    for ax, combo in zip(axes, combos, strict=False):
        sel = {d: i for d, i in zip(others, combo, strict=True)}
        sub = da.isel(sel)
        if "model" in sub.dims:
            for name in names:
                y = sub.sel(model=name).values
                if np.all(~np.isfinite(y)):
                    continue
                ax.plot(x, y, "o-", color=colors[name], label=name, ms=4)
        elif f"{var}_se" in ds:
            err = ds[f"{var}_se"].isel(sel).values
            ax.errorbar(
                x, sub.values, yerr=err, fmt="s-", color="black", capsize=3, label=f"{var} ± 1 SE"
            )
        else:
            ax.plot(x, sub.values, "s-", color="black", label=var)
        for yv, lab in hlines:
            ax.axhline(yv, color="0.4", ls="--", lw=0.8)
            ax.annotate(lab, (x.min(), yv), fontsize=7, va="bottom")
        _sweep_xscale(ax, np.asarray(x))
        ax.set_xlabel(axis)
        ax.set_ylabel(ylabel or var)
        if sel:
            ax.set_title(", ".join(f"{d} = {ds[d].values[i]}" for d, i in sel.items()), fontsize=9)
    for ax in axes[len(combos) :]:
        ax.set_visible(False)
    handles, labels = axes[0].get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="outside right upper", fontsize=7)
    return fig


__all__ = [
    "plot_S_posterior",
    "plot_correlators",
    "plot_p_lambda",
    "plot_sweep",
]
