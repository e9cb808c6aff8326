"""Exact per-trial PSIS-LOO from counts equals brute-force LOO on the expanded trials."""

from __future__ import annotations

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
    ll = idata.log_likelihood["trial"].transpose("chain", "draw", *DIMS_BEHAVIOUR).values
    n = idata.observed_data["counts"].transpose(*DIMS_BEHAVIOUR).values.ravel()
    ll = ll.reshape(*ll.shape[:2], -1)
    expanded = np.repeat(ll, n, axis=-1)
    params = list(idata.posterior.data_vars)[:1]  # the saturated model's one parameter, "p"
    assert params == ["p"]
    full = _arviz.inference_data(
        {
            "posterior": idata.posterior[params],
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
    for key in ("elpd_loo", "se", "p_loo"):
        assert abs(float(fast[key]) - float(brute[key])) < 1e-6, key
    assert fast["n_data_points"] == brute["n_data_points"] == 2000
    np.testing.assert_allclose(fast["loo_i"].values, brute["loo_i"].values, atol=1e-6, rtol=0)
    np.testing.assert_allclose(fast["pareto_k"].values, brute["pareto_k"].values, atol=1e-9)


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


def test_compare_accepts_expanded_elpd(fitted):
    _, _, idata = fitted
    a = loo(idata)
    table = _arviz.compare({"m1": a, "m2": a})
    assert list(table["elpd_loo"]) == [float(a["elpd_loo"])] * 2
    assert np.allclose(table["elpd_diff"], 0.0) and np.allclose(table["dse"], 0.0)
