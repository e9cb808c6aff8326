"""ArviZ diagnostics of a fit, drawn into bellmodels' figure layout: rank, trace and energy
plots, the posterior predictive check of the counts, and the model-comparison plot.

ArviZ draws them on both lines (ArviZ 0.2x's plots, or arviz-plots' on ArviZ 1.x) through
:mod:`bellmodels._arviz`, which alone knows which is installed; the layout, titles and legends are
this module's and the same on both.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from bellmodels import _arviz
from bellmodels.plots._style import _shrink_fonts


def _invariants(idata: Any, var_names: Sequence[str] | None) -> tuple[Any, list[str]]:
    """(the draws of S, MI, Hall M -- thinned audits included -- and the names that vary)."""
    from bellmodels.inference import invariant_draws

    inv = invariant_draws(idata)
    wanted = var_names or ("S", "mi_bits", "hall_M")
    names = [v for v in wanted if v in inv and float(np.ptp(np.asarray(inv[v]))) > 1e-6]
    post = _arviz.group(idata, "posterior")
    if names == ["S"] and "S" in post:
        # MI and M constant (a measurement-independent model): S needs no thinned audit grid
        inv = post[["S"]]
    return inv, names


def plot_rank_invariants(
    idata: Any, var_names: Sequence[str] | None = None, title: str = ""
) -> Figure:
    """Rank plots (ArviZ) of the quantities every parametrisation agrees on (S, MI, Hall M):
    the RBM's weights are not identified (hidden units permute), these are. Uniform histograms
    per chain mean the chains mix.

    On a fit (``tests/test_plots.py`` draws the figures on a small one)::

        fig = plot_rank_invariants(idata)
    """
    inv, names = _invariants(idata, var_names)
    fig = Figure(figsize=(3.6 * max(1, len(names)), 3.0), layout="constrained")
    if not names:
        fig.text(0.5, 0.5, "no varying invariant quantity in the posterior", ha="center")
        return fig
    axes = np.atleast_1d(fig.subplots(1, len(names)))
    _arviz.plot_rank(inv, names, axes)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def plot_trace_invariants(
    idata: Any, var_names: Sequence[str] | None = None, title: str = ""
) -> Figure:
    """Trace plots (ArviZ) of the invariant quantities (S, MI, Hall M).

    On a fit (``tests/test_plots.py`` draws the figures on a small one)::

        fig = plot_trace_invariants(idata, ["S"])
    """
    inv, names = _invariants(idata, var_names)
    fig = Figure(figsize=(10.0, 2.2 * max(1, len(names))), layout="constrained")
    if not names:
        fig.text(0.5, 0.5, "no varying invariant quantity in the posterior", ha="center")
        return fig
    axes = np.atleast_2d(fig.subplots(len(names), 2))
    _arviz.plot_trace(inv, names, axes)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def plot_energy(idata: Any, title: str = "") -> Figure:
    """ArviZ energy plot (NUTS): marginal vs transition energy; similar widths mean the sampler
    explores the tails (Betancourt 2017). Only for fits with ``sample_stats.energy``.

    On a fit (``tests/test_plots.py`` draws the figures on a small one)::

        fig = plot_energy(idata)
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

    On a fit (``tests/test_plots.py`` draws the figures on a small one)::

        fig = plot_ppc_counts(idata, counts.values, counts.scenario)
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

    On a fit (``tests/test_plots.py`` draws the figures on a small one)::

        fig = plot_diagnostics(idata, counts.values, counts.scenario, title="rbm")
    """
    inv, names = _invariants(idata, None)
    fig = Figure(figsize=(12.0, 6.4), layout="constrained")
    top, bottom = fig.subfigures(2, 1, height_ratios=(1.0, 1.05))
    axes = np.atleast_1d(top.subplots(1, len(names) + 1))
    if names:
        _arviz.plot_rank(inv, names, axes[: len(names)])
        for ax, name in zip(axes, names, strict=False):
            ax.set_title(f"rank plot: {name}", fontsize=9)
            _shrink_fonts(ax)
    _draw_energy(axes[-1], idata)
    _draw_ppc(bottom.subplots(), idata, counts, scenario, 0.94, "")
    if title:
        fig.suptitle(title, fontsize=11, fontweight="bold")
    return fig


def _draw_energy(ax: Any, idata: Any) -> None:
    if not _arviz.has_group(idata, "sample_stats") or "energy" not in _arviz.group(
        idata, "sample_stats"
    ):
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
    _arviz.plot_energy(idata, ax)
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
    columns ``rank``, ``elpd_loo``, ``se``, ``elpd_diff``, ``dse``).

    >>> import numpy as np
    >>> from bellmodels.comparison import rank
    >>> t = rank({"a": np.log([0.4, 0.1, 0.1, 0.4]), "b": np.log([0.25] * 4)}, [4, 1, 1, 4],
    ...          {"a": True, "b": True})
    >>> len(plot_compare(t).axes)
    2
    """
    n = len(table)
    fig = Figure(figsize=(12.0, 0.42 * n + 1.6), layout="constrained")
    ax, axd = fig.subplots(1, 2, width_ratios=(1.0, 1.0))
    _arviz.plot_compare(table, ax)
    ax.set_title(title or "ArviZ plot_compare: ELPD-LOO ± SE (higher is better)", fontsize=9)
    _shrink_fonts(ax)
    ax.tick_params(axis="x", labelrotation=30)
    names = [str(m) for m in table.index]
    diff = np.asarray(table["elpd_diff"], dtype=float)
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


__all__ = [
    "plot_compare",
    "plot_diagnostics",
    "plot_energy",
    "plot_ppc_counts",
    "plot_rank_invariants",
    "plot_trace_invariants",
]
