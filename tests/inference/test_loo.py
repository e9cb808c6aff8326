"""Exact per-trial PSIS-LOO from counts equals brute-force LOO on the expanded trials."""

from __future__ import annotations

import _arviz_reference
import numpy as np
import pytest
import xarray as xr
from _dirichlet import cached_fit

from bellmodels import _arviz
from bellmodels.inference import loo
from bellmodels.scenario import DIMS_BEHAVIOUR


@pytest.fixture(scope="module")
def fitted():
    return cached_fit()


def _brute_force(idata):
    """az.loo on the full draws x N matrix: one column per trial, cells repeated n_c times."""
    ll = (
        _arviz.group(idata, "cell_log_likelihood")["trial"]
        .transpose("chain", "draw", *DIMS_BEHAVIOUR)
        .values
    )
    n = idata.observed_data["counts"].transpose(*DIMS_BEHAVIOUR).values.ravel()
    ll = ll.reshape(*ll.shape[:2], -1)
    expanded = np.repeat(ll, n, axis=-1)
    full = _arviz.inference_data(
        {
            "posterior": _arviz.group(idata, "posterior"),  # ArviZ reads its reff off all of it
            "log_likelihood": xr.Dataset({"y": (("chain", "draw", "trial"), expanded)}),
        }
    )
    return _arviz.loo(full, var_name="y"), expanded.shape


def test_counts_loo_equals_brute_force_per_trial_loo(fitted):
    _, counts, idata = fitted
    assert counts.total == 2000
    fast = loo(idata)
    brute, shape = _brute_force(idata)
    assert shape[-1] == 2000
    for key in ("elpd_loo", "p_loo"):
        assert abs(float(fast[key]) - float(brute[key])) < 1e-6, key
    # our se is sqrt(N var) with the population variance on both lines (ArviZ 0.2x's rule);
    # ArviZ 1.x's loo takes the sample variance, larger by N / (N - 1)
    big_n = 2000
    ratio = np.sqrt(big_n / (big_n - _arviz_reference.LOO_SE_DDOF))
    assert abs(float(fast["se"]) * ratio - float(brute["se"])) < 1e-6
    assert fast["n_data_points"] == brute["n_data_points"] == 2000
    n = fast["cell_counts"]
    per_trial = np.repeat(fast["loo_cells"][n > 0], n[n > 0])
    k_per_trial = np.repeat(fast["pareto_k_cells"][n > 0], n[n > 0])
    np.testing.assert_allclose(per_trial, brute["loo_i"].values, atol=1e-6, rtol=0)
    np.testing.assert_allclose(k_per_trial, brute["pareto_k"].values, atol=1e-9)


def test_loo_pointwise_values_are_constant_within_a_cell_and_weighted(fitted):
    _, _, idata = fitted
    res = loo(idata)
    cells, n = res["loo_cells"], res["cell_counts"]
    occupied = n > 0
    assert np.isclose(float(np.nansum(cells * n)), float(res["elpd_loo"]))
    # the per-trial log predictive density is a log-probability: negative, and above the
    # log of the least probable cell's posterior mean probability minus a margin
    assert np.all(cells[occupied] < 0)
    assert 0 < float(res["p_loo"]) < 20  # 12 free parameters in the saturated model


def test_loo_holds_one_value_per_trial_and_one_per_cell(fitted):
    _, counts, idata = fitted
    res = loo(idata)
    assert res["loo_i"].shape == res["pareto_k"].shape == (counts.total,)
    assert res["loo_i"].dims == ("trial",)
    assert res["loo_cells"].shape == res["pareto_k_cells"].shape == (counts.values.size,)
    # the fit's own per-trial log_likelihood group is in the same trial order
    per_trial = _arviz.group(idata, "log_likelihood")["outcomes"]
    first = int(np.argmax(counts.values.ravel() > 0))
    assert int(per_trial["setting_a"][0]) == np.unravel_index(first, counts.values.shape)[0]


def _expanded(elpd):
    """An ELPDData with one pointwise value per trial (what az.compare needs), for tests only."""
    n = elpd["cell_counts"]
    occ = n > 0
    return _arviz.elpd_data(
        elpd=float(elpd["elpd_loo"]),
        se=float(elpd["se"]),
        p=float(elpd["p_loo"]),
        n_samples=int(elpd["n_samples"]),
        n_data_points=int(n.sum()),
        warning=bool(elpd["warning"]),
        pointwise=np.repeat(elpd["loo_cells"][occ], n[occ]),
        pareto_k=np.repeat(elpd["pareto_k_cells"][occ], n[occ]),
        good_k=float(elpd["good_k"]),
    )


def test_rank_matches_az_compare_on_the_expanded_trials(fitted):
    """Stacking weights, elpd_diff and dse from cells x counts equal az.compare's on the per-trial
    expansion (affordable here: 2000 trials)."""
    from bellmodels.comparison import rank

    _, _, idata = fitted
    sat = loo(idata)
    n = sat["cell_counts"]
    cells = {"saturated": sat["loo_cells"]}
    # two rivals on the same cells (neither a mixture of the others, so the weights are
    # identified): a uniform model and a tempered one, p^(1/2) renormalised per setting pair
    cells["uniform"] = np.where(n > 0, np.log(0.25), np.nan)
    half = np.exp(0.5 * sat["loo_cells"]).reshape(-1, 4)
    cells["tempered"] = np.log(half / half.sum(axis=1, keepdims=True)).ravel()
    ours = rank(cells, n, dict.fromkeys(cells, True))
    elpds = {
        name: _arviz_reference.cell_elpd(c, n, se=float(ours.loc[name, "se"]), n_samples=4000)
        for name, c in cells.items()
    }
    ref = _arviz_reference.compare(elpds)
    assert list(ours.index) == list(ref.index)
    for name in cells:
        assert ours.loc[name, "elpd_loo"] == pytest.approx(ref.loc[name, "elpd_loo"], abs=1e-8)
        assert ours.loc[name, "elpd_diff"] == pytest.approx(ref.loc[name, "elpd_diff"], abs=1e-8)
        assert ours.loc[name, "dse"] == pytest.approx(ref.loc[name, "dse"], abs=1e-8)
        assert ours.loc[name, "weight"] == pytest.approx(ref.loc[name, "weight"], abs=2e-3)
    # az's standard errors agree with ours too (the same weighted population variance)
    expanded = _expanded(sat)
    assert float(expanded["se"]) == pytest.approx(float(ours.loc["saturated", "se"]), rel=1e-9)


def test_stacking_weights_split_between_complementary_models():
    """Two models each right on half the cells: stacking mixes them, az.compare agrees."""
    from bellmodels.comparison import stacking_weights

    n = np.array([300, 100, 100, 300])
    a = np.log([0.45, 0.05, 0.25, 0.25])
    b = np.log([0.25, 0.25, 0.05, 0.45])
    w = stacking_weights(np.column_stack([a, b]), n)
    assert w.sum() == pytest.approx(1.0) and w == pytest.approx([0.5, 0.5], abs=1e-3)
    elpds = {"a": _arviz_reference.cell_elpd(a, n), "b": _arviz_reference.cell_elpd(b, n)}
    ref = _arviz_reference.compare(elpds)
    assert [w[0], w[1]] == pytest.approx([ref.loc["a", "weight"], ref.loc["b", "weight"]], abs=2e-3)
