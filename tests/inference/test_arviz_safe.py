"""ArviZ on bellmodels' fits gives the right answer or a clear error, on both lines (issue #24).

A fit's likelihood is written on counts, 16 cells; ArviZ reads every column of ``log_likelihood``
as one observation. These tests run ArviZ's own functions, as a user would, on fits of
``quantum-singlet`` and ``local-polytope`` to Delft 2015 (245 trials) and on a 100,000-trial table,
and hold them to bellmodels' per-trial LOO.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import _arviz_reference
import numpy as np
import pytest
import xarray as xr

import bellmodels as bm
from bellmodels import _arviz
from bellmodels.comparison import rank
from bellmodels.inference import _layout, invariant_draws
from bellmodels.inference import loo as bm_loo

MODELS = ("quantum-singlet", "local-polytope")
N_DELFT = 245
DATA = Path(__file__).resolve().parents[1] / "data"


def _az():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import arviz as az
    return az


@pytest.fixture(scope="module")
def delft():
    counts = bm.datasets.load("delft2015")
    fits = {m: bm.fit(m, counts, draws=200, tune=300, chains=2, seed=3) for m in MODELS}
    return counts, fits


def _fields(e) -> dict:
    """elpd, se, p, n and pointwise arrays of an ELPDData of either line (ArviZ's or ours)."""
    if _arviz.ARVIZ_1:
        return dict(elpd=e.elpd, se=e.se, p=e.p, n=e.n_data_points, i=e.elpd_i, k=e.pareto_k)
    return dict(
        elpd=e["elpd_loo"], se=e["se"], p=e["p_loo"], n=e["n_data_points"], i=e["loo_i"],
        k=e["pareto_k"],
    )  # fmt: skip


def _az_loo(data):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return _az().loo(data, pointwise=True)


def _az_compare(elpds) -> dict:
    """``az.compare`` as a user calls it; {model: (rank, elpd_diff >= 0, dse)} on either line."""
    # ArviZ 1.x rounds its table unless told not to (a display choice, not a number it computes)
    kwargs = {"round_to": "none"} if _arviz.ARVIZ_1 else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = _az().compare(dict(elpds), **kwargs)
    diff = table["elpd_diff"].astype(float).abs()
    return {
        m: (int(table.loc[m, "rank"]), diff[m], float(table.loc[m, "dse"])) for m in table.index
    }


def _assert_same_loo(ours, theirs, n_trials):
    a, b = _fields(ours), _fields(theirs)
    assert a["n"] == b["n"] == n_trials
    assert float(a["elpd"]) == pytest.approx(float(b["elpd"]), abs=1e-9)
    assert float(a["p"]) == pytest.approx(float(b["p"]), abs=1e-9)
    # ArviZ 1.x takes the sample variance in se; bellmodels keeps ArviZ 0.2x's population one
    ratio = np.sqrt(n_trials / (n_trials - _arviz_reference.LOO_SE_DDOF))
    assert float(a["se"]) * ratio == pytest.approx(float(b["se"]), abs=1e-9)
    assert a["i"].shape == b["i"].shape == (n_trials,)
    np.testing.assert_allclose(np.asarray(a["i"]), np.asarray(b["i"]), atol=1e-9, rtol=0)
    np.testing.assert_allclose(np.asarray(a["k"]), np.asarray(b["k"]), atol=1e-9, rtol=0)


# -- az.loo and az.compare on fits -----------------------------------------------------------------
@pytest.mark.parametrize("model", MODELS)
def test_az_loo_on_a_fit_is_bm_loo_per_trial(delft, model):
    _, fits = delft
    fit = fits[model]
    assert "log_likelihood" in _arviz.group_names(fit)
    assert _arviz.group(fit, "log_likelihood")[_layout.TRIAL_VAR].shape == (2, 200, N_DELFT)
    ours = bm_loo(fit)
    _assert_same_loo(ours, _az_loo(fit), N_DELFT)
    # the pointwise values are the per-cell ones repeated by the counts, and sum to elpd
    n = ours["cell_counts"]
    expanded = np.repeat(ours["loo_cells"][n > 0], n[n > 0])
    np.testing.assert_array_equal(np.asarray(ours["loo_i"]), expanded)
    assert float(np.sum(ours["loo_i"])) == pytest.approx(float(ours["elpd_loo"]), abs=1e-9)


def test_az_compare_on_fits_and_on_bm_loo_ranks_like_bm_compare(delft):
    _, fits = delft
    elpds = {m: bm_loo(f) for m, f in fits.items()}
    ours = rank(
        {m: e["loo_cells"] for m, e in elpds.items()},
        elpds[MODELS[0]]["cell_counts"],
        dict.fromkeys(MODELS, True),
    )
    # Delft's S = 2.42 is above the local bound: the quantum model predicts it better
    assert list(ours.index) == ["quantum-singlet", "local-polytope"]
    assert ours.loc["local-polytope", "elpd_diff"] > 2 * ours.loc["local-polytope", "dse"]
    for given in (fits, elpds):  # the fits themselves, and bm.loo's results
        theirs = _az_compare(given)
        for m in MODELS:
            r, diff, dse = theirs[m]
            assert r == int(ours.loc[m, "rank"])
            assert diff == pytest.approx(ours.loc[m, "elpd_diff"], abs=1e-9)
            assert dse == pytest.approx(ours.loc[m, "dse"], abs=1e-9)


def test_a_fit_saved_and_read_back_answers_the_same(delft, tmp_path):
    _, fits = delft
    fit = fits["quantum-singlet"]
    path = tmp_path / "fit.nc"
    _arviz.to_netcdf(fit, str(path))
    back = _arviz.from_netcdf(str(path))
    assert set(_arviz.group_names(back)) == set(_arviz.group_names(fit))
    assert back.attrs["log_likelihood_layout"] == fit.attrs["log_likelihood_layout"]
    _assert_same_loo(bm_loo(back), _az_loo(back), N_DELFT)
    # read by ArviZ / xarray alone, not through bellmodels: the file holds the per-trial group
    if _arviz.ARVIZ_1:
        raw = xr.open_datatree(str(path), engine="h5netcdf").load()
    else:
        raw = _az().from_netcdf(str(path), engine="h5netcdf")
    _assert_same_loo(bm_loo(fit), _az_loo(raw), N_DELFT)


@pytest.mark.parametrize("writer", ["pymc5", "pymc6"])
def test_fits_saved_in_the_old_layout_are_converted_on_reading(writer):
    """``tests/data/fit_pymc*_v1.nc`` were written when ``log_likelihood`` held the 16 cells
    (ArviZ read them as 16 observations of 400 trials)."""
    path = DATA / f"fit_{writer}_v1.nc"
    with xr.open_dataset(path, group="log_likelihood", engine="h5netcdf") as raw:
        assert _layout.is_cell_layout(raw)  # what is on disk
    _, fit = bm.inference.load_fit(path)
    assert _layout.CELL_GROUP in _arviz.group_names(fit)
    assert not _layout.is_cell_layout(_arviz.group(fit, "log_likelihood"))
    assert "az.loo" in fit.attrs["log_likelihood_layout"]
    ours = bm_loo(fit)
    _assert_same_loo(ours, _az_loo(fit), 400)
    # the value the writing line computed, under the previous relative-efficiency rule (ESS of
    # the sampled parameters only, reff 1.39; now ArviZ's, of every posterior variable, 1.50):
    # 5e-6 nats apart on ArviZ 0.2x, 2.4e-3 on arviz-stats, whose PSIS tail uses reff otherwise
    tol = 5e-3 if _arviz.ARVIZ_1 else 1e-4
    assert float(ours["elpd_loo"]) == pytest.approx(float(fit.attrs["elpd_loo_written"]), abs=tol)


# -- a large table: ArviZ refuses --------------------------------------------------------------------
def test_on_a_large_table_az_loo_refuses_and_bm_loo_answers():
    counts = bm.simulate_singlet(bm.Scenario.chsh(), n_trials=100_000, seed=0).counts()
    fit = bm.fit("quantum-singlet", counts, draws=50, tune=100, chains=2, seed=1)
    assert "log_likelihood" not in _arviz.group_names(fit)
    assert "bellmodels.loo" in fit.attrs["log_likelihood_layout"]
    with pytest.raises((TypeError, ValueError, KeyError), match=r"(?i)log.likelihood"):
        _az_loo(fit)
    ours = bm_loo(fit)
    assert ours["n_data_points"] == 100_000 and ours["loo_i"].shape == (100_000,)
    assert float(np.sum(ours["loo_i"])) == pytest.approx(float(ours["elpd_loo"]), rel=1e-12)
    # the singlet at the CHSH angles: each trial's outcome pair has probability (1 +- cos 45°)/4
    p_same = (1 - np.cos(np.pi / 4)) / 4  # E = -cos: 'same' outcomes are the rare ones
    expect = 100_000 * -(2 * p_same * np.log(p_same) + 2 * (0.5 - p_same) * np.log(0.5 - p_same))
    assert float(ours["elpd_loo"]) == pytest.approx(-expect, abs=400)


def test_above_the_pointwise_bound_bm_loo_leaves_loo_i_out_and_says_so(delft, monkeypatch):
    import importlib

    _, fits = delft
    monkeypatch.setattr(
        importlib.import_module("bellmodels.inference.loo"), "MAX_POINTWISE_TRIALS", 100
    )
    with pytest.warns(UserWarning, match="245 trials exceed MAX_POINTWISE_TRIALS = 100"):
        small = {m: bm_loo(f) for m, f in fits.items()}
    assert all("loo_i" not in e and "loo_cells" in e for e in small.values())
    with pytest.raises(ValueError) as refused:
        _az_compare(small)
    # ArviZ 0.2x wraps its reason ("... calculated with pointwise=True") in another ValueError
    reasons = f"{refused.value} {refused.value.__cause__}"
    assert "pointwise=True" in reasons, reasons
    with pytest.raises(ValueError, match="MAX_POINTWISE_TRIALS"):
        bm_loo(fits["quantum-singlet"], pointwise=True)
    assert "loo_i" not in bm_loo(fits["quantum-singlet"], pointwise=False)


# -- summaries and plots on the invariant quantities ------------------------------------------------
INVARIANTS = ["S", "mi_bits", "hall_M"]


def test_az_summary_reads_the_invariant_quantities(delft):
    az = _az()
    _, fits = delft

    def summary(data, **kwargs):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return az.summary(data, **kwargs)

    for fit in fits.values():
        s = float(_arviz.group(fit, "posterior")["S"].mean())
        table = summary(invariant_draws(fit))
        assert list(table.index) == INVARIANTS
        assert float(table.loc["S", "mean"]) == pytest.approx(s, abs=0.01)
        audit = summary(fit, group="audit_posterior")
        assert list(audit.index) == ["mi_bits", "hall_M"]
        assert float(summary(fit, var_names=["S"]).loc["S", "mean"]) == pytest.approx(s, abs=0.01)
        # the posterior holds what the data inform; the audit lives beside it
        assert not set(_arviz.group(fit, "posterior").data_vars) & {"mi_bits", "hall_M"}
    # local-polytope is local and measurement-independent: MI = 0 in every draw, and its S
    # cannot pass the local bound, where the singlet's sits
    lp = summary(invariant_draws(fits["local-polytope"]))
    assert abs(float(lp.loc["mi_bits", "mean"])) < 1e-12
    assert float(lp.loc["S", "mean"]) <= 2.0 + 1e-6
    qs = summary(invariant_draws(fits["quantum-singlet"]))
    assert float(qs.loc["S", "mean"]) > 2.0


def test_az_plot_trace_shows_the_invariant_quantities(delft):
    import matplotlib.pyplot as plt

    az = _az()
    _, fits = delft
    inv = invariant_draws(fits["quantum-singlet"])
    data = xr.DataTree.from_dict({"posterior": inv}) if _arviz.ARVIZ_1 else inv
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = az.plot_trace(data)
    if _arviz.ARVIZ_1:
        assert set(out.viz.children["plot"].data_vars) == set(INVARIANTS)
    else:
        titles = [ax.get_title() for ax in np.ravel(out)]
        assert [t for t in titles if t] == [v for v in INVARIANTS for _ in range(2)]
    plt.close("all")


def test_observationally_equivalent_models_tie_exactly_in_az_loo_and_bm_loo(delft):
    """hall2010 predicts the singlet's behaviour with the same parameters: with the same seed its
    fit's posterior is the singlet's, so ArviZ's relative efficiency, and every LOO number, are
    too (MI and M, which differ, are not in the posterior)."""
    counts, fits = delft
    hall = bm.fit("hall2010", counts, draws=200, tune=300, chains=2, seed=3)
    qs = fits["quantum-singlet"]
    post_h, post_q = _arviz.group(hall, "posterior"), _arviz.group(qs, "posterior")
    assert set(post_h.data_vars) == set(post_q.data_vars)
    for name in post_q.data_vars:
        np.testing.assert_allclose(
            post_h[name].values, post_q[name].values, rtol=1e-12, err_msg=name
        )
    assert float(invariant_draws(hall)["mi_bits"].mean()) > 0.0  # what tells them apart
    a, b = bm_loo(hall), bm_loo(qs)
    assert float(a["elpd_loo"]) == pytest.approx(float(b["elpd_loo"]), abs=1e-9)
    assert float(a["p_loo"]) == pytest.approx(float(b["p_loo"]), abs=1e-9)
    np.testing.assert_allclose(np.asarray(a["pareto_k"]), np.asarray(b["pareto_k"]), atol=1e-9)
    _assert_same_loo(a, _az_loo(qs), N_DELFT)


def test_az_pointwise_and_comparison_plots_take_our_results(delft):
    import matplotlib.pyplot as plt

    az = _az()
    _, fits = delft
    elpds = {m: bm_loo(f) for m, f in fits.items()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = az.compare(elpds)
        cmp_out = az.plot_compare(table)
        if _arviz.ARVIZ_1:  # arviz-plots names the models on the figure it drew
            fig = cmp_out.viz["figure"].item()
            labels = [t.get_text() for ax in fig.axes for t in [*ax.get_yticklabels(), *ax.texts]]
            assert all(any(m in s for s in labels) for m in MODELS), labels
        if _arviz.ARVIZ_1:  # arviz-plots has no plot_elpd: the per-trial Pareto k plot instead
            k_out = az.plot_khat(elpds["quantum-singlet"])
            assert k_out is not None
        else:
            ax = az.plot_elpd(elpds)
            # one point per trial: the pointwise difference of the two models
            offsets = np.vstack([c.get_offsets() for c in ax.collections if len(c.get_offsets())])
            assert offsets.shape[0] == N_DELFT
            diff = np.asarray(elpds[MODELS[0]]["loo_i"]) - np.asarray(elpds[MODELS[1]]["loo_i"])
            np.testing.assert_allclose(np.sort(np.abs(offsets[:, 1])), np.sort(np.abs(diff)))
    if not _arviz.ARVIZ_1:
        labels = [t.get_text() for t in cmp_out.get_yticklabels()]
        assert labels[:2] == list(MODELS), labels  # best first
    plt.close("all")


# -- the layout itself (no fit) ----------------------------------------------------------------------
def test_the_per_trial_group_is_the_cells_repeated_by_the_counts():
    counts = bm.datasets.load("delft2015")
    rng = np.random.default_rng(0)
    cell_ll = xr.DataArray(
        rng.normal(size=(2, 3, 2, 2, 2, 2)), dims=("chain", "draw", *_layout.DIMS)
    )
    groups, note = _layout.log_likelihood_groups(cell_ll, counts.array)
    per = groups["log_likelihood"][_layout.TRIAL_VAR]
    assert per.dims == ("chain", "draw", "trial") and per.sizes["trial"] == N_DELFT
    # the coordinates say which cell each trial is in; they give back the count table
    sa, sb = per["setting_a"].values, per["setting_b"].values
    oa, ob = (per["outcome_a"].values + 1) // 2, (per["outcome_b"].values + 1) // 2
    table = np.zeros((2, 2, 2, 2), dtype=int)
    np.add.at(table, (sa, sb, oa, ob), 1)
    np.testing.assert_array_equal(table, counts.values)
    # and each trial's column is its cell's
    np.testing.assert_array_equal(per.values, cell_ll.values[:, :, sa, sb, oa, ob])
    assert "az.loo" in note
    # above the bound the group is absent, and the note says what to use instead
    big, big_note = _layout.log_likelihood_groups(cell_ll, counts.array, max_elements=6 * 245 - 1)
    assert big["log_likelihood"] is None and "bellmodels.loo" in big_note
    xr.testing.assert_identical(big[_layout.CELL_GROUP], groups[_layout.CELL_GROUP])
    # a fit in this layout needs no conversion; one in the old layout does
    observed = xr.Dataset({"counts": counts.array})
    assert _layout.upgraded_groups(
        {"log_likelihood": groups["log_likelihood"], "observed_data": observed}
    ) == ({}, {})
    old = xr.Dataset({_layout.CELL_VAR: cell_ll})
    changes, attrs = _layout.upgraded_groups({"log_likelihood": old, "observed_data": observed})
    xr.testing.assert_identical(changes["log_likelihood"], groups["log_likelihood"])
    assert attrs == {_layout.LAYOUT_ATTR: note}
