"""Figures of the physics: correlators, S posteriors, p(lambda | settings), measurement
dependence against S, and sweeps of a study.

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

    Local at V = 1/2 (no measurement dependence needed); Hall's 0.046 bits at V = 1 (Hall,
    PRL 105, 250404 (2010)):

    >>> S, mi = min_mi_curve(visibilities=[0.5, 1.0])
    >>> float(mi[0]) < 1e-6, round(float(mi[1]), 3)
    (True, 0.046)
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


__all__ = [
    "min_mi_curve",
    "plot_S_posterior",
    "plot_correlators",
    "plot_measurement_dependence",
    "plot_p_lambda",
    "plot_sweep",
]
