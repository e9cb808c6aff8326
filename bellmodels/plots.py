"""Figures of a study: correlators, S posteriors, p(lambda | settings), measurement dependence,
sweeps, and the ArviZ diagnostics (rank, trace, energy, posterior predictive, compare).

Every function returns a :class:`matplotlib.figure.Figure` built with the object-oriented API
(no pyplot state, no backend needed), so the report can save it and close it. ArviZ plots go
through :mod:`bellmodels._arviz`.

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

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.colors import PowerNorm
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, NullLocator

TSIRELSON = 2.0 * np.sqrt(2.0)

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


def model_colors(names: Sequence[str]) -> dict[str, Any]:
    """A fixed colour per model name (``tab10`` then ``Dark2``: 18 distinct colours, in the
    order given), shared by every figure.

    >>> model_colors(["a", "b"])["b"][:3]
    (1.0, 0.4980392156862745, 0.054901960784313725)
    """
    from matplotlib import colormaps

    palette = list(colormaps["tab10"].colors) + list(colormaps["Dark2"].colors)
    return {n: palette[i % len(palette)] for i, n in enumerate(names)}


def data_correlators(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Empirical correlators ``E = (N_same - N_diff) / N`` and their standard errors
    ``sqrt((1 - E^2) / N)`` (binomial), each ``(K_a, K_b)``; NaN where a pair has no trials.

    >>> E, se = data_correlators(np.array([[[[40, 10], [10, 40]]]]))
    >>> float(E[0, 0]), round(float(se[0, 0]), 4)
    (0.6, 0.08)
    """
    n = np.asarray(counts, dtype=float)
    total = n.sum(axis=(2, 3))
    same = n[..., 0, 0] + n[..., 1, 1]
    with np.errstate(invalid="ignore", divide="ignore"):
        e = (2.0 * same - total) / total
        se = np.sqrt(np.clip(1.0 - e**2, 0.0, None) / total)
    return e, se


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
    data's standard error.

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
    lo_t, hi_t = float(theta.min()) - 30, float(theta.max()) + 30
    grid = np.linspace(lo_t, hi_t, 400)
    ax.plot(grid, -np.cos(np.radians(grid)), color="0.6", lw=1, ls="-", label="singlet -cos θ")
    wrapped = np.abs((grid + 180) % 360 - 180)
    ax.plot(grid, 2 * wrapped / 180 - 1, color="0.6", lw=1, ls=":", label="local sawtooth")
    pairs = sorted(set(np.round(theta.ravel(), 6)))
    for t in pairs:
        for a in (ax, axr):
            if a is not None:
                a.axvline(t, color="0.85", lw=0.8, zorder=0)
    labels = {}
    for i in range(scenario.n_a):
        for j in range(scenario.n_b):
            key = round(float(theta[i, j]), 6)
            labels.setdefault(key, []).append(f"({scenario.labels_a[i]},{scenario.labels_b[j]})")
    n_models = len(models)
    width = min(24.0, 2.2 * n_models)
    offsets = np.linspace(-width / 2, width / 2, n_models) if n_models > 1 else np.zeros(1)
    e_data = se_data = None
    zs: list[float] = []
    if counts is not None:
        e_data, se_data = data_correlators(counts)
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
        if axr is not None and e_data is not None:
            with np.errstate(invalid="ignore", divide="ignore"):
                z = (mean - e_data) / se_data
            axr.plot(x, z.ravel(), "o", ms=4, color=colors[name])
            zs.extend(z.ravel().tolist())
    if e_data is not None:
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
    ax.set_ylim(-1.12, 1.12)
    ax.set_xlim(lo_t, hi_t)
    ax.axhline(0, color="0.85", lw=0.8, zorder=0)
    for t in pairs:
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
    # outside the axes: inside, it hid data points wherever they fell (e.g. real data, rotated axes)
    fig.legend(*ax.get_legend_handles_labels(), fontsize=7, loc="outside right upper")
    if title:
        fig.suptitle(title)
    if axr is not None:
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
        axr.set_xlabel("θ = angle_a − angle_b (degrees); setting pairs marked")
    else:
        ax.set_xlabel("θ = angle_a − angle_b (degrees); setting pairs marked")
    return fig


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
    centre = data_S if data_S is not None and np.isfinite(data_S) else None
    if centre is None:
        means = [d.mean() for d in draws.values() if d.size]
        centre = float(np.median(means)) if means else TSIRELSON
    half = 0.08
    if data_S_se is not None and np.isfinite(data_S_se):
        half = max(half, 6 * data_S_se)
    lo_z, hi_z = centre - half, centre + half
    for y, name in enumerate(names):
        s = draws[name]
        if not s.size:
            continue
        m = float(s.mean())
        if s.size > 1:
            lo, hi = np.quantile(s, [0.03, 0.97])
            ax.plot([lo, hi], [y, y], color=colors[name], lw=3)
            ax.plot([m], [y], "o", color=colors[name], mec="black", ms=6)
        else:
            ax.plot([m], [y], "D", color=colors[name], mec="black", ms=6)
        if lo_z <= m <= hi_z:
            if s.size > 1 and np.ptp(s) > 1e-9:
                parts = az.violinplot(
                    s, positions=[y], orientation="horizontal", widths=0.8, showextrema=False
                )
                for body in parts["bodies"]:
                    body.set_facecolor(colors[name])
                    body.set_edgecolor("black")
                    body.set_alpha(0.9)
                    body.set_zorder(2)
                az.plot([m], [y], "|", color="black", ms=12)
            else:
                az.plot([m], [y], "D", color=colors[name], mec="black", ms=6)
        else:
            side = lo_z if m < lo_z else hi_z
            az.annotate(
                f"{'←' if m < lo_z else '→'} S = {m:.3f}",
                (side, y),
                xytext=(4 if m < lo_z else -4, 0),
                textcoords="offset points",
                ha="left" if m < lo_z else "right",
                va="center",
                fontsize=8,
                color="0.3",
            )
    for a in (ax, az):
        if data_S is not None and np.isfinite(data_S):
            if data_S_se is not None and np.isfinite(data_S_se):
                a.axvspan(
                    data_S - 2 * data_S_se,
                    data_S + 2 * data_S_se,
                    color="gold",
                    alpha=0.3,
                    zorder=0,
                )
            a.axvline(data_S, color="goldenrod", lw=1.2, label=f"data S = {data_S:.3f} (±2 SE)")
        for x, label, ls in (
            (2.0, "local bound 2", "--"),
            (TSIRELSON, "Tsirelson 2√2", "-."),
            (4.0, "algebraic 4", ":"),
        ):
            a.axvline(x, color="black", ls=ls, lw=1, label=label)
    ax.set_yticks(range(len(names)), names)
    ax.set_ylim(-0.7, len(names) - 0.3)
    ax.invert_yaxis()
    ax.set_xlim(1.0, 4.15)
    az.set_xlim(lo_z, hi_z)
    ax.set_xlabel("S: posterior mean and 94% interval")
    az.set_xlabel("S near the data: posterior draws")
    # below the axes: inside, it hid the last model's interval
    fig.legend(*ax.get_legend_handles_labels(), fontsize=7, loc="outside lower center", ncol=4)
    fig.suptitle("CHSH S = max_k |S_k| per model", fontsize=10)
    return fig


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
    fig = Figure(figsize=(6.5 * cols, 2.0 * rows + 0.6), layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
    pair_labels = [f"({a},{b})" for a in scenario.labels_a for b in scenario.labels_b]
    vmax = max(float(p.max()) for _, p, _ in items)
    im = None
    for ax, (name, p, lab) in zip(axes, items, strict=False):
        mat = p.reshape(-1, p.shape[2])
        im = ax.imshow(mat, aspect="auto", cmap="viridis", norm=PowerNorm(0.5, 0.0, vmax))
        ax.set_yticks(range(len(pair_labels)), pair_labels, fontsize=7)
        step = max(1, int(np.ceil(mat.shape[1] / 16)))
        ticks = list(range(0, mat.shape[1], step))
        rot = 0 if max(len(str(v)) for v in lab) * len(ticks) <= 90 else 45
        ax.set_xticks(
            ticks,
            [str(lab[t]) for t in ticks],
            rotation=rot,
            fontsize=6,
            ha="right" if rot else "center",
        )
        hall_m = float(np.abs(mat[:, None, :] - mat[None, :, :]).sum(axis=2).max())
        ax.set_title(
            f"{name}  (L = {mat.shape[1]}; rows differ by up to M = {hall_m:.2f})", fontsize=9
        )
        ax.set_xlabel("λ", fontsize=8)
    for ax in axes[n:]:
        ax.set_visible(False)
    if im is not None:
        fig.colorbar(
            im, ax=axes[:n].tolist(), label="p(λ | setting pair) (square-root scale)", shrink=0.8
        )
    return fig


def min_mi_curve(
    scenario: Any = None, visibilities: Sequence[float] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The least MI(lambda; settings) in bits any local model needs for the singlet at visibility
    V, against S = 2√2 V (CHSH scenario), from :func:`bellmodels.auditing.min_mi_bits`.

    Returns
    -------
    S, mi : arrays over the visibilities (default 41 values, V from 1/√2 - 0.05 to 1).

    >>> S, mi = min_mi_curve(visibilities=[0.5, 1.0])  # doctest: +SKIP
    >>> float(mi[0]) < 1e-6  # doctest: +SKIP
    True
    """
    from bellmodels.auditing import min_mi_bits
    from bellmodels.scenario import Scenario
    from bellmodels.simulate import singlet_behaviour

    scn = scenario if scenario is not None else Scenario.chsh()
    if visibilities is None:
        visibilities = np.linspace(1 / np.sqrt(2) - 0.05, 1.0, 41)
    v = np.asarray(visibilities, dtype=float)
    mi = np.array([min_mi_bits(singlet_behaviour(scn, float(x)), scn) for x in v])
    return TSIRELSON * v, mi


def plot_measurement_dependence(
    points: Sequence[Mapping[str, Any]],
    *,
    curve: tuple[np.ndarray, np.ndarray] | None = None,
    data_S: float | None = None,
    colors: Mapping[str, Any] | None = None,
) -> Figure:
    """Measurement dependence against S: MI(lambda; settings) and Hall's M, one marker per
    (model, sweep point).

    Left: MI in bits vs S, with the least MI any local model needs (``curve``, from
    :func:`min_mi_curve`). Right: Hall's M vs S with Hall's bound |S| <= min(4, 2 + 3M) for local
    models (M. J. W. Hall, PRL 105, 250404 (2010)): local models lie on or left of it.

    Parameters
    ----------
    points
        ``[{"model", "S", "mi_bits", "hall_M", "family"?}, ...]``.

    >>> fig = plot_measurement_dependence([{"model": "m", "S": 2.0, "mi_bits": 0.0, "hall_M": 0.0}])
    >>> len(fig.axes)
    2
    """
    names = list(dict.fromkeys(p["model"] for p in points))
    colors = colors or model_colors(names)
    fig = Figure(figsize=(11.0, 4.6), layout="constrained")
    # (optional "label": e.g. the sweep value, written next to the marker)
    ax_mi, ax_m = fig.subplots(1, 2)
    seen: set[str] = set()
    for p in points:
        name = p["model"]
        label = None if name in seen else name
        seen.add(name)
        local = p.get("family") != "nonlocal"
        marker = "o" if local else "^"
        for ax, key in ((ax_mi, "mi_bits"), (ax_m, "hall_M")):
            val = p.get(key)
            if val is None or not np.isfinite(val):
                continue
            hollow = bool(p.get("hollow"))
            ax.plot(
                [p["S"]],
                [val],
                marker,
                color=colors[name],
                mfc="none" if hollow else colors[name],
                mec=colors[name] if hollow else "black",
                mew=1.5 if hollow else 0.5,
                ms=9 if hollow else 7,
                label=label,
                alpha=0.85,
            )
            if p.get("label"):
                ax.annotate(
                    str(p["label"]),
                    (p["S"], val),
                    xytext=(5, 3),
                    textcoords="offset points",
                    fontsize=7,
                )
    if curve is not None:
        s, mi = curve
        ax_mi.plot(s, mi, color="black", lw=1.5, label="least MI a local model needs")
        ax_mi.fill_between(s, 0, mi, color="0.85", zorder=0, label="impossible for local models")
    m = np.linspace(0, 2, 200)
    ax_m.plot(np.minimum(4, 2 + 3 * m), m, color="black", lw=1.5, label="Hall bound S = 2 + 3M")
    ax_m.fill_betweenx(m, np.minimum(4, 2 + 3 * m), 4.2, color="0.85", zorder=0)
    for ax in (ax_mi, ax_m):
        ax.axvline(2, color="black", ls="--", lw=0.8)
        ax.axvline(TSIRELSON, color="black", ls="-.", lw=0.8)
        if data_S is not None and np.isfinite(data_S):
            ax.axvline(data_S, color="goldenrod", lw=1.2, label="data S")
        ax.set_xlabel("CHSH S of the model")
        ax.set_xlim(min(1.5, ax.get_xlim()[0]), 4.1)
    ax_mi.set_ylabel("MI(λ; settings) (bits)")
    ax_mi.set_ylim(bottom=-0.02)
    ax_m.set_ylabel("Hall's M (max L1 between p(λ | pairs))")
    ax_m.set_ylim(-0.03, 2.03)
    ax_mi.set_title("mutual information (grey: impossible for a local model)", fontsize=9)
    ax_m.set_title("Hall's M (grey: impossible for a local model)", fontsize=9)
    handles, labels = ax_mi.get_legend_handles_labels()
    h2, l2 = ax_m.get_legend_handles_labels()
    for h, lab in zip(h2, l2, strict=True):
        if lab not in labels:
            handles.append(h)
            labels.append(lab)
    fig.legend(handles, labels, loc="outside right upper", fontsize=7)
    hollow = any(p.get("hollow") for p in points)
    fig.suptitle(
        "measurement dependence against S   (▲ nonlocal, ● local"
        + ("\nfilled: at the model's parameters, open: posterior mean" if hollow else "")
        + ")",
        fontsize=10,
    )
    return fig


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


# -- ArviZ diagnostics ------------------------------------------------------------------------


def _invariants(idata: Any, var_names: Sequence[str] | None) -> tuple[Any, list[str]]:
    """(the draws of S, MI, Hall M -- thinned audits included -- and the names that vary)."""
    from bellmodels.inference import invariant_draws

    inv = invariant_draws(idata)
    wanted = var_names or ("S", "mi_bits", "hall_M")
    names = [v for v in wanted if v in inv and float(np.ptp(np.asarray(inv[v]))) > 1e-6]
    if names == ["S"] and "S" in idata.posterior:
        # MI and M constant (a measurement-independent model): S needs no thinned audit grid
        inv = idata.posterior[["S"]]
    return inv, names


def plot_rank_invariants(
    idata: Any, var_names: Sequence[str] | None = None, title: str = ""
) -> Figure:
    """Rank plots (ArviZ) of the quantities every parametrisation agrees on (S, MI, Hall M):
    the RBM's weights are not identified (hidden units permute), these are. Uniform histograms
    per chain mean the chains mix.

    >>> fig = plot_rank_invariants(idata)  # doctest: +SKIP
    """
    from bellmodels import _arviz

    inv, names = _invariants(idata, var_names)
    fig = Figure(figsize=(3.6 * max(1, len(names)), 3.0), layout="constrained")
    if not names:
        fig.text(0.5, 0.5, "no varying invariant quantity in the posterior", ha="center")
        return fig
    axes = np.atleast_1d(fig.subplots(1, len(names)))
    _arviz.plot_rank(inv, var_names=names, ax=axes)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def plot_trace_invariants(
    idata: Any, var_names: Sequence[str] | None = None, title: str = ""
) -> Figure:
    """Trace plots (ArviZ) of the invariant quantities (S, MI, Hall M).

    >>> fig = plot_trace_invariants(idata, ["S"])  # doctest: +SKIP
    """
    from bellmodels import _arviz

    inv, names = _invariants(idata, var_names)
    fig = Figure(figsize=(10.0, 2.2 * max(1, len(names))), layout="constrained")
    if not names:
        fig.text(0.5, 0.5, "no varying invariant quantity in the posterior", ha="center")
        return fig
    axes = np.atleast_2d(fig.subplots(len(names), 2))
    _arviz.plot_trace(inv, var_names=names, axes=axes, compact=True)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def plot_energy(idata: Any, title: str = "") -> Figure:
    """ArviZ energy plot (NUTS): marginal vs transition energy; similar widths mean the sampler
    explores the tails (Betancourt 2017). Only for fits with ``sample_stats.energy``.

    >>> fig = plot_energy(idata)  # doctest: +SKIP
    """
    fig = Figure(figsize=(4.6, 3.4), layout="constrained")
    ax = fig.subplots()
    _draw_energy(ax, idata)
    if title:
        ax.set_title(title, fontsize=9)
    return fig


def plot_ppc_counts(
    idata: Any, counts: np.ndarray, scenario: Any, *, prob: float = 0.94, title: str = ""
) -> Figure:
    """Posterior predictive check of the count table: for every (setting pair, outcomes) cell
    the observed count against the central ``prob`` interval of the replicated counts, drawn as
    standardised residuals ``(count - mean) / sd`` of the replications (red: outside).

    The replicated counts come from ``posterior_predictive`` (variable ``counts``) when present;
    otherwise they are drawn here: for each posterior draw of ``behaviour``, a multinomial
    with the observed trials per setting pair (seed 0).

    >>> fig = plot_ppc_counts(idata, counts.values, counts.scenario)  # doctest: +SKIP
    """
    fig = Figure(figsize=(10.0, 3.6), layout="constrained")
    _draw_ppc(fig.subplots(), idata, counts, scenario, prob, title)
    return fig


def _draw_ppc(
    ax: Any, idata: Any, counts: np.ndarray, scenario: Any, prob: float, title: str
) -> None:
    n = np.asarray(counts, dtype=float)
    reps = _replicated_counts(idata, n)
    mean = reps.mean(axis=0)
    sd = np.where(reps.std(axis=0) > 0, reps.std(axis=0), 1.0)
    lo, hi = np.quantile(reps, [(1 - prob) / 2, (1 + prob) / 2], axis=0)
    z_obs, z_lo, z_hi = ((v - mean) / sd for v in (n, lo, hi))
    labels = [
        f"{scenario.labels_a[i]}{scenario.labels_b[j]} {xa}{xb}"
        for i in range(n.shape[0])
        for j in range(n.shape[1])
        for xa in ("−", "+")
        for xb in ("−", "+")
    ]
    x = np.arange(len(labels))
    ax.vlines(
        x,
        z_lo.ravel(),
        z_hi.ravel(),
        color="tab:blue",
        lw=5,
        alpha=0.45,
        label=f"{prob:.0%} of replicated counts",
    )
    inside = ((n >= lo) & (n <= hi)).ravel()
    ax.plot(x[inside], z_obs.ravel()[inside], "ko", ms=5, label="observed count")
    if (~inside).any():
        ax.plot(
            x[~inside],
            z_obs.ravel()[~inside],
            "o",
            color="red",
            ms=6,
            label="observed, outside the interval",
        )
    ax.axhline(0, color="0.5", lw=0.8)
    ax.set_xticks(x, labels, rotation=90, fontsize=7)
    ax.set_xlim(-0.7, len(labels) - 0.3)
    ax.set_ylabel("(count − mean) / sd")
    ax.set_title(title or "posterior predictive check of the counts", fontsize=9, loc="left")
    ax.legend(fontsize=7, loc="lower right", bbox_to_anchor=(1.0, 1.0), ncol=3, frameon=False)


def plot_diagnostics(idata: Any, counts: np.ndarray, scenario: Any, *, title: str = "") -> Figure:
    """One figure per fit: rank plots of the invariant quantities (S, MI, Hall M), the NUTS
    energy plot, and the posterior predictive check of the counts (see the single plots).

    >>> fig = plot_diagnostics(idata, counts.values, counts.scenario, title="rbm")  # doctest: +SKIP
    """
    from bellmodels import _arviz

    inv, names = _invariants(idata, None)
    fig = Figure(figsize=(12.0, 6.4), layout="constrained")
    top, bottom = fig.subfigures(2, 1, height_ratios=(1.0, 1.05))
    axes = np.atleast_1d(top.subplots(1, len(names) + 1))
    if names:
        _arviz.plot_rank(inv, var_names=names, ax=axes[: len(names)])
        for ax, name in zip(axes, names, strict=False):
            ax.set_title(f"rank plot: {name}", fontsize=9)
            _shrink_fonts(ax)
    _draw_energy(axes[-1], idata)
    _draw_ppc(bottom.subplots(), idata, counts, scenario, 0.94, "")
    if title:
        fig.suptitle(title, fontsize=11, fontweight="bold")
    return fig


def _shrink_fonts(ax: Any, size: float = 8.0) -> None:
    """ArviZ scales its fonts for single plots; bring them back to the report's size."""
    ax.xaxis.label.set_fontsize(size)
    ax.yaxis.label.set_fontsize(size)
    ax.tick_params(labelsize=size - 1)


def _draw_energy(ax: Any, idata: Any) -> None:
    from bellmodels import _arviz

    if "sample_stats" not in idata.groups() or "energy" not in idata.sample_stats:
        ax.text(
            0.5,
            0.5,
            "no energy\n(sampler is not NUTS)",
            ha="center",
            va="center",
            transform=ax.transAxes,
        )
        ax.set_axis_off()
        return
    _arviz.plot_energy(idata, ax=ax, legend=True, textsize=8)
    ax.set_title("NUTS energy", fontsize=9)
    handles, labels = ax.get_legend_handles_labels()
    if ax.get_legend() is not None:
        ax.get_legend().remove()
    ax.legend(
        handles,
        labels,
        fontsize=7,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.02),
        ncol=2,
        frameon=False,
    )


def _replicated_counts(idata: Any, n: np.ndarray, max_draws: int = 400) -> np.ndarray:
    """The fit's replicated count tables (``posterior_predictive["counts"]``), at most
    ``max_draws`` of them, shaped like ``n``."""
    arr = np.asarray(idata.posterior_predictive["counts"])
    return arr.reshape(-1, *n.shape)[:max_draws].astype(float)


def plot_compare(table: Any, title: str = "") -> Figure:
    """Model comparison: ``az.plot_compare`` of a ranking (ELPD-LOO ± SE, best first) and,
    beside it, each model's ELPD difference to the best ± its SE on a symmetric-log axis, where
    differences of a few nats and of thousands are both visible.

    ``table`` is a ranking as :func:`bellmodels.comparison.rank` returns it (index: model;
    columns ``rank``, ``elpd_loo``, ``se``, ``d_loo``, ``dse``).

    >>> import numpy as np
    >>> from bellmodels.comparison import rank
    >>> t = rank({"a": np.log([0.4, 0.1, 0.1, 0.4]), "b": np.log([0.25] * 4)}, [4, 1, 1, 4],
    ...          {"a": True, "b": True})
    >>> len(plot_compare(t).axes)
    2
    """
    from bellmodels import _arviz

    n = len(table)
    fig = Figure(figsize=(12.0, 0.42 * n + 1.6), layout="constrained")
    ax, axd = fig.subplots(1, 2, width_ratios=(1.0, 1.0))
    az_table = table.rename(columns={"d_loo": "elpd_diff"}).assign(scale="log")  # ArviZ's
    _arviz.plot_compare(az_table, ax=ax, insample_dev=False, legend=False)
    ax.set_title(title or "az.plot_compare: ELPD-LOO ± SE (higher is better)", fontsize=9)
    _shrink_fonts(ax)
    ax.tick_params(axis="x", labelrotation=30)
    names = [str(m) for m in table.index]
    diff = np.asarray(table["d_loo"], dtype=float)
    dse = np.asarray(table["dse"], dtype=float)
    y = np.arange(n)
    axd.errorbar(diff, y, xerr=dse, fmt="o", color="black", mfc="white", capsize=3)
    axd.set_xscale("symlog", linthresh=1.0)
    axd.set_yticks(y, names, fontsize=8)
    axd.invert_yaxis()
    axd.axvline(0, color="0.5", ls="--", lw=1)
    axd.set_xlim(-0.5, max(10.0, float(np.nanmax(diff + dse)) * 2))
    axd.set_xlabel(
        "ELPD difference to the best (nats, symlog); bars: SE of the difference", fontsize=8
    )
    axd.set_title("how far behind the best model", fontsize=9)
    return fig
