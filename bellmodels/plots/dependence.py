"""Figures of measurement dependence: MI(lambda; settings) and Hall's M against CHSH S, with the
regions no local model can reach.

A local model (parameter- and outcome-independent) may still reach any S if its hidden variable
depends on the settings; what it pays is measured two ways. The mutual information
MI(lambda; settings) has a least value for each S (:func:`min_mi_curve`, Hall, PRA 84, 022102
(2011); Barrett & Gisin, PRL 106, 100406 (2011)); Hall's M bounds S by |S| <= min(4, 2 + 3M)
(Hall, PRL 105, 250404 (2010)). The figure puts every model of a study against both.

>>> fig = plot_measurement_dependence([{"model": "m", "S": 2.0, "mi_bits": 0.0, "hall_M": 0.0}])
>>> [ax.get_ylabel()[:2] for ax in fig.axes]
['MI', 'Ha']
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from bellmodels.plots._style import TSIRELSON, model_colors

IMPOSSIBLE = "impossible for a local model"
"""Legend label of the shaded regions (below the least-MI curve, right of Hall's bound)."""

_SHADE = {"color": "0.78", "zorder": 0, "lw": 0}
_MIN_MI_STYLE = {"color": "black", "lw": 1.8, "ls": "-"}
_HALL_STYLE = {"color": "firebrick", "lw": 1.8, "ls": (0, (6, 2))}
_BOUNDS = ((2.0, "local bound 2", "--"), (TSIRELSON, "Tsirelson 2√2", "-."))


def min_mi_curve(
    scenario: Any = None, visibilities: Sequence[float] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The least MI(lambda; settings), in bits, any local model needs to reach CHSH value S,
    for S from the local bound to the algebraic 4; from :func:`bellmodels.auditing.min_mi_bits`.

    The behaviour at "visibility" V is ``p(x_a, x_b | s) = (1 - V x_a x_b cos(theta)) / 4``: the
    singlet at visibility V for V <= 1 (S = 2√2 V up to Tsirelson's bound) and, on the CHSH
    angles, the singlet's correlators scaled past it, which is the isotropic box that reaches the
    PR box (S = 4) at V = √2. The curve is the least MI for *any* behaviour with that S (uniform
    settings): the least MI is a convex function of the behaviour (the optimal value of a convex
    programme whose constraints are linear in it), the relabellings of settings and outcomes
    that keep the CHSH expression keep it too, and averaging over them turns every behaviour with
    CHSH value S into this isotropic one (Masanes, Acin & Gisin, PRA 73, 012112 (2006)). So the
    region below the curve is impossible for every local model.

    Parameters
    ----------
    scenario
        A two-setting scenario (default :meth:`~bellmodels.scenario.Scenario.chsh`).
    visibilities
        Values of V (default 41 from 1/√2 - 0.05 to √2); V times the largest ``|cos(theta)|``
        may not exceed 1 (the probabilities stay in [0, 1]).

    Returns
    -------
    S, mi : arrays over the visibilities.

    Local at V = 1/2; Hall's 0.046 bits at Tsirelson's bound; log2(4/3) = 0.415 bits for the PR
    box (Barrett & Gisin 2011):

    >>> S, mi = min_mi_curve(visibilities=[0.5, 1.0, np.sqrt(2)])
    >>> float(mi[0]) < 1e-6, [round(float(x), 3) for x in mi[1:]], round(float(S[-1]), 6)
    (True, [0.046, 0.415], 4.0)
    """
    from bellmodels.auditing import min_mi_bits
    from bellmodels.behaviour.arrays import chsh_values
    from bellmodels.scenario import Scenario

    scn = scenario if scenario is not None else Scenario.chsh()
    if visibilities is None:
        visibilities = np.linspace(1 / np.sqrt(2) - 0.05, np.sqrt(2), 41)
    v = np.asarray(visibilities, dtype=float)
    cos = np.cos(scn.angle_differences())
    limit = 1.0 / float(np.abs(cos).max())
    if np.any(v < 0) or np.any(v > limit * (1 + 1e-12)):
        raise ValueError(
            f"visibilities must lie in [0, {limit:.6g}] for this scenario "
            f"(largest |cos(theta)| = {1 / limit:.6g}), got {v.min():.6g}..{v.max():.6g}"
        )
    x = np.array([-1.0, 1.0])
    prod = np.multiply.outer(x, x)
    behaviours = [np.clip((1.0 - vv * cos[:, :, None, None] * prod) / 4.0, 0.0, 1.0) for vv in v]
    mi = np.array([min_mi_bits(b, scn) for b in behaviours])
    corr = np.array([-vv * cos for vv in v])  # E = P(same) - P(different)
    return np.abs(chsh_values(corr)).max(axis=-1), mi


def plot_measurement_dependence(
    points: Sequence[Mapping[str, Any]],
    *,
    curve: tuple[np.ndarray, np.ndarray] | None = None,
    data_S: float | None = None,
    colors: Mapping[str, Any] | None = None,
) -> Figure:
    """Measurement dependence against S: MI(lambda; settings) and Hall's M, one marker per
    (model, sweep point).

    Left: MI in bits against S, with the least MI any local model needs (``curve``, from
    :func:`min_mi_curve`), the region below it shaded. Right: Hall's M against S with Hall's
    bound |S| <= min(4, 2 + 3M) for local models (M. J. W. Hall, PRL 105, 250404 (2010)), the
    region right of it shaded. Nonlocal models (triangles) are bound by neither.

    Parameters
    ----------
    points
        ``[{"model", "S", "mi_bits", "hall_M", "family"?, "hollow"?, "label"?}, ...]``:
        ``hollow`` marks a posterior mean (open marker), ``label`` is written next to the
        marker (e.g. the sweep value).
    curve
        ``(S, mi)`` of :func:`min_mi_curve`.
    data_S
        The data's S (a vertical line).

    >>> s, mi = np.array([2.0, 4.0]), np.array([0.0, 0.415])
    >>> fig = plot_measurement_dependence([], curve=(s, mi))
    >>> [c.get_label() for c in fig.axes[0].collections]
    ['impossible for a local model']
    """
    names = list(dict.fromkeys(p["model"] for p in points))
    colors = colors or model_colors(names)
    fig = Figure(figsize=(11.0, 4.6), layout="constrained")
    ax_mi, ax_m = fig.subplots(1, 2)
    _markers(ax_mi, ax_m, points, colors)
    if curve is not None:
        s, mi = (np.asarray(c, dtype=float) for c in curve)
        ax_mi.fill_between(s, 0, mi, label=IMPOSSIBLE, **_SHADE)
        ax_mi.plot(s, mi, label="least MI a local model needs", **_MIN_MI_STYLE)
    m = np.linspace(0, 2, 200)
    ax_m.fill_betweenx(m, np.minimum(4, 2 + 3 * m), 4.2, label=IMPOSSIBLE, **_SHADE)
    ax_m.plot(np.minimum(4, 2 + 3 * m), m, label="Hall bound S = min(4, 2 + 3M)", **_HALL_STYLE)
    for ax in (ax_mi, ax_m):
        for x, label, ls in _BOUNDS:
            ax.axvline(x, color="black", ls=ls, lw=0.8, label=label)
        if data_S is not None and np.isfinite(data_S):
            ax.axvline(data_S, color="goldenrod", lw=1.2, label="data S")
        ax.set_xlabel("CHSH S of the model")
        ax.set_xlim(min(1.5, ax.get_xlim()[0]), 4.1)
    ax_mi.set_ylabel("MI(λ; settings) (bits)")
    ax_mi.set_ylim(bottom=-0.02)
    ax_m.set_ylabel("Hall's M (max L1 between p(λ | pairs))")
    ax_m.set_ylim(-0.03, 2.03)
    ax_mi.set_title(f"mutual information (grey: {IMPOSSIBLE})", fontsize=9)
    ax_m.set_title(f"Hall's M (grey: {IMPOSSIBLE})", fontsize=9)
    fig.legend(*_merged_legend(ax_mi, ax_m), loc="outside right upper", fontsize=7)
    hollow = any(p.get("hollow") for p in points)
    fig.suptitle(
        "measurement dependence against S   (▲ nonlocal, ● local"
        + ("\nfilled: at the model's parameters, open: posterior mean" if hollow else "")
        + ")",
        fontsize=10,
    )
    return fig


def _markers(
    ax_mi: Any, ax_m: Any, points: Sequence[Mapping[str, Any]], colors: Mapping[str, Any]
) -> None:
    """One marker per point in each panel: filled at the model's parameters, open for a
    posterior mean; triangles for nonlocal models; the point's ``label`` beside it."""
    seen: set[str] = set()
    for p in points:
        name = p["model"]
        label = None if name in seen else name
        seen.add(name)
        marker = "o" if p.get("family") != "nonlocal" else "^"
        hollow = bool(p.get("hollow"))
        for ax, key in ((ax_mi, "mi_bits"), (ax_m, "hall_M")):
            val = p.get(key)
            if val is None or not np.isfinite(val):
                continue
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


def _merged_legend(*axes: Any) -> tuple[list[Any], list[str]]:
    """The legend entries of several panels, each label once (models, then bounds)."""
    handles: list[Any] = []
    labels: list[str] = []
    for ax in axes:
        for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
            if lab not in labels:
                handles.append(h)
                labels.append(lab)
    return handles, labels


__all__ = ["IMPOSSIBLE", "min_mi_curve", "plot_measurement_dependence"]
