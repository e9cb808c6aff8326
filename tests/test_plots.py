"""Figures: they draw what they are given (data points, bounds, curves) and save as PNG."""

from __future__ import annotations

import numpy as np
import pytest

from bellmodels import Scenario, plots
from bellmodels.simulate import simulate_singlet, singlet_behaviour


def correlators_of(p):
    return p[..., 0, 0] + p[..., 1, 1] - p[..., 0, 1] - p[..., 1, 0]


def test_data_correlators_known_value_and_se():
    counts = simulate_singlet(Scenario.chsh(), n_trials=40_000, seed=2).counts().values
    e, se = plots.data_correlators(counts)
    truth = correlators_of(singlet_behaviour(Scenario.chsh()))
    assert np.all(np.abs(e - truth) < 4 * se)
    assert np.allclose(se, np.sqrt((1 - e**2) / counts.sum(axis=(2, 3))))


def test_correlator_figure_draws_data_and_models(tmp_path, chsh):
    counts = simulate_singlet(chsh, n_trials=10_000, seed=0).counts().values
    e, _se = plots.data_correlators(counts)
    singlet = correlators_of(singlet_behaviour(chsh))
    fig = plots.plot_correlators(
        chsh, counts, {"quantum-singlet": {"mean": singlet}, "bell1964": {"mean": singlet / 2}}
    )
    ax, axr = fig.axes
    # the data markers sit at the pairs' angle differences with the empirical correlators
    data = next(c for c in ax.containers if c.get_label() == "data ± 1 SE")
    x, y = data.lines[0].get_data()
    assert np.allclose(np.sort(x), np.sort(np.degrees(chsh.angle_differences()).ravel()))
    assert np.allclose(np.sort(y), np.sort(e.ravel()))
    # residual panel: the exact singlet model lies within a few SE, half the correlation far off
    zs = [ln.get_ydata() for ln in axr.lines if len(ln.get_ydata()) == 4]
    assert any(np.all(np.abs(z) < 4) for z in zs) and any(np.all(np.abs(z) > 10) for z in zs)
    fig.savefig(tmp_path / "c.png")
    assert (tmp_path / "c.png").read_bytes()[:4] == b"\x89PNG"


def test_S_posterior_marks_the_three_bounds():
    rng = np.random.default_rng(0)
    fig = plots.plot_S_posterior(
        {"a": 2.8 + 0.01 * rng.normal(size=400), "b": np.array([2.0])}, data_S=2.81, data_S_se=0.01
    )
    ax = fig.axes[0]
    xs = {round(float(ln.get_xdata()[0]), 6) for ln in ax.lines if len(ln.get_xdata()) == 2}
    assert {2.0, round(2 * np.sqrt(2), 6), 4.0, 2.81} <= xs
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a", "b"]


def test_p_lambda_heatmap_shows_hall_M_of_the_published_rbm(chsh):
    from bellmodels import audit, models

    rbm = models.get("rbm-weinstein2017")
    table = rbm.ontic_table()
    p = table.p_lambda.values
    fig = plots.plot_p_lambda({"rbm-weinstein2017": (p, list(range(p.shape[2])))}, chsh)
    title = fig.axes[0].get_title()
    m = float(title.split("M = ")[1].rstrip(")"))
    assert m == pytest.approx(audit(rbm).hall_M, abs=0.01)
    assert m > 1.0  # the RBM's lambda depends strongly on the settings


def test_min_mi_curve_zero_below_local_bound_and_increasing():
    s, mi = plots.min_mi_curve(visibilities=[0.6, 1 / np.sqrt(2), 0.85, 1.0])
    assert np.allclose(s, 2 * np.sqrt(2) * np.array([0.6, 1 / np.sqrt(2), 0.85, 1.0]))
    assert mi[0] < 1e-6 and mi[1] < 1e-5  # S <= 2: a local model needs no MI
    assert 0 < mi[2] < mi[3]
    fig = plots.plot_measurement_dependence(
        [
            {"model": "local-polytope", "S": 2.0, "mi_bits": 0.0, "hall_M": 0.0},
            {"model": "rbm", "S": 2.82, "mi_bits": 0.9, "hall_M": 1.8, "family": "rbm"},
        ],
        curve=(s, mi),
    )
    ax_mi, ax_m = fig.axes[:2]
    curve = next(ln for ln in ax_mi.lines if ln.get_label() == "least MI a local model needs")
    assert np.allclose(curve.get_ydata(), mi)
    hall = next(ln for ln in ax_m.lines if ln.get_label().startswith("Hall bound"))
    sx, my = hall.get_data()
    assert np.allclose(sx, np.minimum(4, 2 + 3 * my))


def test_min_mi_curve_runs_from_the_local_bound_to_the_pr_box():
    s, mi = plots.min_mi_curve(visibilities=[1 / np.sqrt(2), 1.0, 1.2, np.sqrt(2)])
    assert np.allclose(s, [2.0, 2 * np.sqrt(2), 2.4 * np.sqrt(2), 4.0])
    assert mi[0] < 1e-5 and np.all(np.diff(mi) > 0)
    assert mi[1] == pytest.approx(0.0462, abs=5e-4)  # Hall 2010 at Tsirelson's bound
    assert mi[3] == pytest.approx(np.log2(4 / 3), abs=1e-4)  # the PR box (Barrett & Gisin 2011)
    with pytest.raises(ValueError, match="visibilities must lie in"):
        plots.min_mi_curve(visibilities=[1.5])  # correlators beyond 1: not a behaviour


def test_min_mi_curve_is_the_least_over_behaviours_with_that_S(chsh):
    """Half the PR box and half a deterministic local box reach S = 3 but are not isotropic:
    they need at least the curve's MI at S = 3 (the curve is a lower bound for any behaviour)."""
    from bellmodels.auditing import min_mi_bits

    s_curve, mi_curve = plots.min_mi_curve(visibilities=[3 / (2 * np.sqrt(2))])
    x = np.array([-1.0, 1.0])
    sign = np.sign(-np.cos(chsh.angle_differences()))  # the singlet's S_0 pattern
    pr = (1 + sign[:, :, None, None] * np.multiply.outer(x, x)) / 4
    det = np.zeros_like(pr)
    det[:, :, 1, 0] = 1.0  # A always +1, B always -1: E = -1 everywhere, S_0 = -2 (local)
    mixed = 0.5 * pr + 0.5 * det
    e = mixed[..., 0, 0] + mixed[..., 1, 1] - mixed[..., 0, 1] - mixed[..., 1, 0]
    assert e[0, 0] + e[0, 1] + e[1, 0] - e[1, 1] == pytest.approx(-3.0)
    assert s_curve[0] == pytest.approx(3.0)
    assert min_mi_bits(mixed, chsh) >= mi_curve[0] - 1e-6


def test_measurement_dependence_shows_the_impossible_regions_and_distinct_bounds():
    from matplotlib.collections import PolyCollection
    from matplotlib.colors import to_rgba
    from matplotlib.lines import Line2D

    from bellmodels.plots.dependence import IMPOSSIBLE

    s, mi = plots.min_mi_curve(visibilities=np.linspace(1 / np.sqrt(2), np.sqrt(2), 5))
    fig = plots.plot_measurement_dependence(
        [{"model": "rbm", "S": 2.82, "mi_bits": 0.9, "hall_M": 1.8}], curve=(s, mi), data_S=2.82
    )
    ax_mi, ax_m = fig.axes[:2]
    for ax in (ax_mi, ax_m):  # the shaded region is drawn in both panels, inside their limits
        shade = [c for c in ax.collections if c.get_label() == IMPOSSIBLE]
        assert len(shade) == 1 and isinstance(shade[0], PolyCollection)
        xy = shade[0].get_paths()[0].vertices
        assert xy[:, 0].max() >= 4.0 - 1e-9 and xy[:, 1].max() > 0.4
        assert ax.get_xlim()[1] >= 4.0 and ax.get_ylim()[0] <= 0.0
    curve = next(ln for ln in ax_mi.lines if ln.get_label() == "least MI a local model needs")
    assert curve.get_xdata().max() >= 2 * np.sqrt(2)  # past Tsirelson's bound, to the PR box
    # every legend entry has a style of its own: the Hall bound is not the least-MI curve
    legend = fig.legends[0]
    styles = [
        (to_rgba(h.get_color()), str(h.get_linestyle()), str(h.get_marker()))
        for h in legend.legend_handles
        if isinstance(h, Line2D)
    ]
    labels = [t.get_text() for t in legend.get_texts()]
    assert len(set(labels)) == len(labels)
    assert len(set(styles)) == len(styles)
    assert any(lab.startswith("Hall bound") for lab in labels) and IMPOSSIBLE in labels


def test_p_lambda_labels_are_readable(chsh):
    from bellmodels import models

    p = models.get("rbm-weinstein2017").ontic_table().p_lambda.values
    labels = [format(i, "04b") for i in range(16)]
    fig = plots.plot_p_lambda({"rbm": (p, labels), "rbm2": (p, labels)}, chsh)
    ax = fig.axes[0]
    ticks = ax.get_xticklabels() + ax.get_yticklabels() + fig.axes[-1].get_yticklabels()
    assert [t.get_text() for t in ax.get_xticklabels()] == labels
    assert min(t.get_fontsize() for t in ticks) >= 8
    # the figure fits a report page (~1200 px at 110 dpi) without shrinking the labels much
    assert fig.get_size_inches()[0] * 110 <= 1300


def _fake_fit(seed=0, chains=2, draws=200):
    """A small InferenceData with the groups a fit has (posterior S, behaviour, energy)."""
    from bellmodels import _arviz

    rng = np.random.default_rng(seed)
    scn = Scenario.chsh()
    v = 0.99 + 0.005 * rng.normal(size=(chains, draws))
    beh = np.stack(
        [[singlet_behaviour(scn, min(1.0, x)) for x in row] for row in v]
    )  # (chains, draws, 2, 2, 2, 2)
    s = 2 * np.sqrt(2) * np.minimum(v, 1.0)
    energy = rng.normal(size=(chains, draws))
    # replicated counts, as fit() stores them: 5,000 trials per setting pair
    p4 = beh.reshape(chains, draws, 2, 2, 4)
    rep = rng.multinomial(5000, p4 / p4.sum(axis=-1, keepdims=True)).reshape(beh.shape)
    return _arviz.from_dict(
        posterior={"S": s, "behaviour": beh, "hall_M": 0.5 + 0.01 * rng.normal(size=v.shape)},
        posterior_predictive={"counts": rep},
        sample_stats={"energy": energy},
    )


def test_diagnostics_figure_rank_energy_and_ppc(tmp_path, chsh):
    idata = _fake_fit()
    counts = simulate_singlet(chsh, n_trials=20_000, seed=1).counts().values
    fig = plots.plot_diagnostics(idata, counts, chsh, title="fake")
    titles = [ax.get_title() for ax in fig.axes]
    assert "rank plot: S" in titles and "rank plot: hall_M" in titles and "NUTS energy" in titles
    ppc = fig.axes[-1]
    observed = [ln for ln in ppc.lines if ln.get_label().startswith("observed")]
    z = np.concatenate([ln.get_ydata() for ln in observed])
    assert z.size == 16 and np.all(np.abs(z) < 5)  # data from the model: no wild residuals
    fig.savefig(tmp_path / "d.png")
    assert (tmp_path / "d.png").stat().st_size > 10_000


def test_sweep_plot_one_line_per_model():
    import xarray as xr

    ds = xr.Dataset(
        {"weight": (("visibility", "model"), np.array([[0.9, 0.1], [0.2, 0.8], [0.0, 1.0]]))},
        coords={"visibility": [0.6, 0.8, 1.0], "model": ["local-polytope", "quantum-singlet"]},
    )
    fig = plots.plot_sweep(ds, "visibility", "weight")
    lines = {ln.get_label(): ln.get_ydata() for ln in fig.axes[0].lines}
    assert np.allclose(lines["quantum-singlet"], [0.1, 0.8, 1.0])
