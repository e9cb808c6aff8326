"""fit / the PyMC-SMC evidence / diagnostics: structure, physics and statistics of the fits."""

from __future__ import annotations

import json

import _arviz_reference
import numpy as np
import pytest
import xarray as xr
from _dirichlet import SaturatedDirichlet, cached_fit, random_counts

import bellmodels as bm
from bellmodels import _arviz
from bellmodels.behaviour import Behaviour, chsh_max_values, chsh_values
from bellmodels.inference import (
    diagnostics,
    fit,
    log_multinomial_coefficient,
)
from bellmodels.inference._backend import compiling_with
from bellmodels.inference.evidence import pymc_smc
from bellmodels.scenario import DIMS_BEHAVIOUR, Scenario


@pytest.fixture(scope="module")
def fitted():
    return cached_fit()


@pytest.fixture(scope="module")
def singlet_fit():
    counts = bm.simulate_singlet(Scenario.chsh(), n_trials=4000, seed=3).counts()
    idata = fit("quantum-singlet", counts, draws=300, tune=300, chains=2, seed=4)
    return counts, idata


def test_fit_has_every_group_with_named_dims(fitted):
    _, counts, idata = fitted
    missing = _arviz_reference.FIT_GROUPS - set(_arviz.group_names(idata))
    assert not missing, missing
    post = idata.posterior
    assert post["correlators"].dims == ("chain", "draw", "setting_a", "setting_b")
    assert post["S"].dims == ("chain", "draw")
    assert post["behaviour"].dims[2:] == DIMS_BEHAVIOUR
    assert _arviz.group(idata, "cell_log_likelihood")["trial"].shape == (2, 250, 2, 2, 2, 2)
    # 2000 trials x 500 draws fit under the bound: one log-likelihood column per trial
    assert _arviz.group(idata, "log_likelihood")["outcomes"].shape == (2, 250, 2000)
    assert list(idata.posterior.coords["outcome_a"].values) == [-1, 1]
    np.testing.assert_array_equal(idata.observed_data["counts"].values, counts.values)
    np.testing.assert_array_equal(idata.constant_data["trials"].values, counts.pair_totals())


def test_fit_attrs_say_what_made_it_and_save_to_netcdf(fitted, tmp_path):
    model, counts, idata = fitted
    attrs = idata.attrs
    assert attrs["model"] == model.name
    assert json.loads(attrs["model_describe"])["name"] == model.name
    assert "Dirichlet" in json.loads(attrs["priors"])["p"]
    assert Scenario.from_json(attrs["scenario"]) == counts.scenario
    assert attrs["sampler"] in ("pymc", "nutpie", "numpyro")
    assert json.loads(attrs["sampler_settings"])["draws"] == 250
    assert attrs["seed"] == "1"
    assert "pymc" in json.loads(attrs["versions"])
    assert all(isinstance(v, str) for v in attrs.values())
    path = tmp_path / "fit.nc"
    _arviz.to_netcdf(idata, str(path))
    back = _arviz.from_netcdf(str(path))
    assert back.attrs["model"] == model.name
    np.testing.assert_allclose(back.posterior["S"].values, idata.posterior["S"].values)


def test_derived_quantities_match_the_behaviour_per_draw(fitted):
    model, _, idata = fitted
    post = idata.posterior
    beh = post["behaviour"].isel(chain=1, draw=7).values
    b = Behaviour(beh, model.scenario, atol=1e-9)
    np.testing.assert_allclose(post["correlators"].isel(chain=1, draw=7).values, b.correlators())
    np.testing.assert_allclose(post["S_values"].isel(chain=1, draw=7).values, b.chsh_values())
    assert float(post["S"].isel(chain=1, draw=7)) == pytest.approx(b.S)
    # the saturated model's posterior is the conjugate Dirichlet(1 + n): check its mean
    n = idata.observed_data["counts"].values.reshape(2, 2, 4)
    exact = (1 + n) / (4 + n.sum(-1, keepdims=True))
    got = post["behaviour"].mean(("chain", "draw")).values.reshape(2, 2, 4)
    sd = np.sqrt(exact * (1 - exact) / (5 + n.sum(-1, keepdims=True)))
    assert np.all(np.abs(got - exact) < 5 * sd / np.sqrt(100) + 1e-3)


def test_loglik_is_the_log_of_the_behaviour(fitted):
    _, _, idata = fitted
    np.testing.assert_allclose(
        np.exp(_arviz.group(idata, "cell_log_likelihood")["trial"].values),
        idata.posterior["behaviour"].values,
        rtol=1e-12,
    )


def test_posterior_predictive_keeps_the_design(fitted):
    _, counts, idata = fitted
    rep = idata.posterior_predictive["counts"]
    assert rep.dims == ("chain", "draw", *DIMS_BEHAVIOUR)
    totals = rep.sum(("outcome_a", "outcome_b")).values
    assert np.all(totals == counts.pair_totals())
    # replicated data centre on the observed counts (saturated model): mean within 4 SE
    mean = rep.mean(("chain", "draw")).values
    sd = rep.std(("chain", "draw")).values
    assert np.all(np.abs(mean - counts.values) < 4 * sd / np.sqrt(rep.sizes["draw"]) + 2)


def test_chsh_helpers_agree_with_behaviour_module():
    rng = np.random.default_rng(5)
    scn = Scenario.chained(3)
    p = rng.dirichlet(np.ones(4), size=(3, 3)).reshape(3, 3, 2, 2)
    b = Behaviour(p, scn)
    s, v = chsh_max_values(b.correlators()[None])
    assert s[0] == pytest.approx(b.S)
    np.testing.assert_allclose(v[0], b.S_values)
    e = -np.cos(Scenario.chsh().angle_differences())
    assert chsh_values(e)[0] == pytest.approx(-2 * np.sqrt(2))


def test_singlet_fit_recovers_tsirelson_and_audits_each_draw(singlet_fit):
    counts, idata = singlet_fit
    post = idata.posterior
    s_data = Behaviour.from_counts(counts).S
    assert abs(float(post["S"].mean()) - s_data) < 0.1
    assert float(post["S"].max()) <= 2 * np.sqrt(2) + 1e-9  # the model obeys Tsirelson
    assert float(post["visibility"].mean()) > 0.95
    group = idata.posterior if "mi_bits" in idata.posterior else idata.audit_posterior
    assert np.all(group["hall_M"].values >= 0) and np.all(group["hall_M"].values <= 2)
    assert idata.attrs["classification"] == "outcome-dependent (nonlocal)"


def test_diagnostics_report_fields_and_fail_small_fits(fitted):
    _, _, idata = fitted
    d = diagnostics(idata)
    assert set(d) >= {"ok", "rhat_max", "ess_bulk_min", "ess_tail_min", "divergences", "reasons"}
    assert "S" in d["quantities"] and "log_lik_total" in d["quantities"]
    assert d["ess_bulk_min"] > 0 and d["rhat_max"] < 1.2
    # 2 x 250 draws cannot give 400 effective draws on every correlator: the gate says so
    strict = diagnostics(idata, ess_min=10_000)
    assert not strict["ok"] and any("ESS" in r for r in strict["reasons"])


def test_diagnostics_catch_disagreeing_chains_and_divergences(fitted):
    _, _, idata = fitted
    bad = idata.copy()
    post = _arviz.group(bad, "posterior").copy()
    post["S"] = post["S"] + xr.DataArray([0.0, 1.0], dims="chain")
    _arviz.add_groups(bad, {"posterior": post})
    d = diagnostics(bad)
    assert not d["ok"] and any(r.startswith("R-hat of S ") for r in d["reasons"])
    stats = _arviz.group(idata, "sample_stats").copy()
    div = np.zeros(stats["diverging"].shape, dtype=bool)
    div[0, :3] = True
    stats["diverging"] = (stats["diverging"].dims, div)
    bad2 = idata.copy()
    _arviz.add_groups(bad2, {"sample_stats": stats})
    d2 = diagnostics(bad2)
    assert d2["divergences"] == 3 and "3 divergent transition(s)" in d2["reasons"]


def test_smc_evidence_matches_the_analytic_dirichlet_multinomial(tmp_path):
    scn = Scenario.chsh()
    counts = random_counts(scn, 100, seed=2)
    model = SaturatedDirichlet(scn)
    per_chain, idata = pymc_smc(model, counts, draws=1000, chains=4, seed=3)
    mean, se = float(per_chain.mean()), float(per_chain.std(ddof=1) / 2.0)
    exact = model.analytic_log_evidence(counts)
    assert 0 < se < 0.5
    assert abs(mean - exact) < 3 * se + 0.05, (mean, se, exact)
    # the multinomial coefficient really was removed (it is ~ 300 nats here)
    assert log_multinomial_coefficient(counts) > 100
    path = tmp_path / "smc.nc"
    _arviz.to_netcdf(idata, str(path))
    back = _arviz.from_netcdf(str(path))
    assert back.sample_stats["log_marginal_likelihood_final"].shape == (4,)


def test_ragged_smc_stats_are_cleaned_per_chain():
    """Chains with different numbers of tempering stages: PyMC's (1, chain) list layout."""
    from bellmodels.inference._evidence_kernels import clean_smc_stats

    ragged = np.empty((1, 3), dtype=object)
    ragged[0, 0] = [np.nan, np.nan, -5.0]
    ragged[0, 1] = [np.nan, -6.0]
    ragged[0, 2] = [np.nan, np.nan, np.nan, -7.0]
    stats = xr.Dataset({"log_marginal_likelihood": (("chain", "draw"), ragged)})
    ds, final = clean_smc_stats(stats, 3)
    assert final.tolist() == [-5.0, -6.0, -7.0]
    assert ds["log_marginal_likelihood"].shape == (3, 4)
    square = np.empty((2, 2), dtype=object)
    square[:] = [[np.nan, -1.0], [np.nan, -2.0]]
    _, final2 = clean_smc_stats(xr.Dataset({"log_marginal_likelihood": (("c", "d"), square)}), 2)
    assert final2.tolist() == [-1.0, -2.0]


def test_bad_input_is_named():
    counts = random_counts(Scenario.chsh(), 10, seed=0)
    with pytest.raises(ValueError, match="unknown model"):
        fit("no-such-model", counts)
    with pytest.raises(ValueError, match="scenario"):
        fit(SaturatedDirichlet(Scenario.chained(3)), counts)
    with pytest.raises(ValueError, match="sampler"):
        fit(SaturatedDirichlet(), counts, sampler="gibbs")
    with pytest.raises(ValueError, match="empty"):
        fit(SaturatedDirichlet(), bm.Counts(np.zeros((2, 2, 2, 2), int), Scenario.chsh()))
    with pytest.raises(ValueError, match="draws"):
        fit(SaturatedDirichlet(), counts, draws=0)


@pytest.mark.slow  # nutpie compiles the model with numba: minutes, not seconds
def test_nutpie_fit_has_log_likelihood_when_installed():
    pytest.importorskip("nutpie")
    model, counts, _ = cached_fit()
    idata = fit(model, counts, draws=100, tune=100, chains=2, seed=2, sampler="nutpie")
    assert idata.attrs["sampler"] == "nutpie"
    assert _arviz.group(idata, "cell_log_likelihood")["trial"].shape[:2] == (2, 100)
    assert "S" in idata.posterior
    # the sampler's own clock, as PyMC records it, within the whole call's
    wall = json.loads(idata.attrs["sampler_settings"])["wall_seconds"]
    assert 0 < idata.posterior.attrs["sampling_time"] < wall


def test_rbm_chains_start_at_the_posterior_mode_on_the_likelihood_ridge():
    """init="auto" for the RBM: pm.find_MAP from the exact ML fit. The mode keeps the ML fit's
    behaviour (the data's ridge) but comes back from the far end of the ridge, where ML runs
    because the likelihood is flat there, to weights the Normal(0, 3) prior allows."""
    from bellmodels.inference._start import initial_values as _initvals
    from bellmodels.inference.fit import build_model

    counts = bm.simulate_singlet(Scenario.chsh(), n_trials=20_000, seed=0).counts()
    model = bm.models.get("rbm")
    pmodel = build_model(model, counts)
    mode, source = _initvals(model, counts, "auto", pmodel)
    assert source.startswith("posterior mode")
    ml = bm.models.get("rbm").train(counts)
    with compiling_with("FAST_COMPILE"):  # two evaluations: no C compiler run
        logp = pmodel.compile_logp()
    # the chains' start is in the free variables (the +-1-coded machine)
    assert set(mode) == {"W_spin", "c_spin", "d_spin"}
    assert logp(mode) > logp(model.free_values(ml.params())) + 10
    mode_params = model._from_spin({k.removesuffix("_spin"): v for k, v in mode.items()})
    assert np.abs(mode_params["W"]).max() < 0.5 * np.abs(ml.params()["W"]).max()
    # same behaviour as the data (the ridge), to within sampling error at 20,000 trials
    emp = Behaviour.from_counts(counts).correlators()
    at_mode = bm.models.get("rbm", **mode_params).behaviour()
    assert np.allclose(Behaviour(at_mode, counts.scenario).correlators(), emp, atol=0.03)


def test_invariant_draws_find_a_thinned_audit(singlet_fit):
    """A fit whose audit was thinned keeps MI / M in ``audit_posterior``; summaries and plots read
    them through invariant_draws, with S at the same draws (the crbm's MI went missing before)."""
    from bellmodels.inference import invariant_draws

    counts, _ = singlet_fit
    idata = fit("hall2010", counts, draws=60, tune=100, chains=2, seed=4, audit_max_draws=20)
    assert "audit_posterior" in _arviz.group_names(idata) and "mi_bits" not in idata.posterior
    inv = invariant_draws(idata)
    assert inv.sizes == {"chain": 2, "draw": 20}
    # hall2010 is the minimum-MI model for the singlet: 0.0463 bits at visibility 1, less below
    assert 0.0 < float(inv["mi_bits"].mean()) <= 0.0463 + 1e-3
    s = idata.posterior["S"].isel(draw=inv["draw"].values).values
    assert np.array_equal(inv["S"].values, s)


def test_init_params_starts_a_dirichlet_model_at_its_weights():
    """init="params" goes through the free variables: a Dirichlet's start is its Exponentials
    (an override of the Deterministic ``weights`` was silently ignored by PyMC)."""
    from pymc.initial_point import make_initial_point_fn

    from bellmodels.inference._start import initial_values as _initvals
    from bellmodels.inference.fit import build_model

    counts = bm.simulate_singlet(Scenario.chsh(), n_trials=1000, seed=0).counts()
    w = np.full(16, 0.01)
    w[3] = 0.85
    model = bm.models.get("local-polytope", weights=w)
    pmodel = build_model(model, counts)
    start, source = _initvals(model, counts, "params", pmodel)
    assert source == "model.params()" and set(start) == {"weights_gamma"}
    point = make_initial_point_fn(model=pmodel, overrides=start, jitter_rvs=set())(0)
    g = np.exp(point["weights_gamma_log__"])
    np.testing.assert_allclose(g / g.sum(), w, atol=1e-12)


@pytest.mark.parametrize("name", ["rbm", "crbm", "local-polytope"])
def test_likelihood_is_the_per_pair_multinomials(name):
    """The likelihood ``build_model`` writes out (``sum n log p`` plus the coefficients; for the
    machines exact in log space on their free variables, one fused Op) is the per-pair
    Multinomials' log probability of the floored behaviour: the same log density and gradient at
    points across the prior as ``pm.Multinomial``'s, so fits and evidences are unchanged by it."""
    import pymc as pm
    import pytensor
    import pytensor.tensor as pt

    from bellmodels.inference.fit import build_model

    counts = bm.simulate_singlet(Scenario.chsh(), n_trials=5000, seed=0).counts()
    model = bm.models.get(name, **({"n_hidden": 2} if "rbm" in name else {}))
    pmodel = build_model(model, counts)
    assert not pmodel.observed_RVs and [p.name for p in pmodel.potentials] == ["counts"]
    # the reference: pm.Multinomial of the floored behaviour of the parameters (for a machine
    # its Op on the canonical arrays, the +-1 map as PyTensor algebra), same prior variables
    with pm.Model() as reference:
        p = pt.clip(model.behaviour_tensor(model.prior_variables()), 1e-12, 1.0)
        p = p / p.sum(axis=(2, 3), keepdims=True)
        obs = counts.values.reshape(2, 2, 4)
        pm.Multinomial("counts", n=obs.sum(-1), p=p.reshape((2, 2, 4)), observed=obs)

    def value_and_grad(pm_model):
        logp = pm_model.logp()
        return pytensor.function(
            pm_model.value_vars,
            [logp, *pytensor.grad(logp, pm_model.value_vars)],
            mode="FAST_COMPILE",  # the values; the Op's Numba kernels: test_tensor_op.py
        )

    f, g = value_and_grad(pmodel), value_and_grad(reference)
    assert [v.name for v in pmodel.value_vars] == [v.name for v in reference.value_vars]
    rng = np.random.default_rng(0)
    for _ in range(5):
        point = [rng.normal(0, 1.0, v.type.shape) for v in pmodel.value_vars]
        for a, b in zip(f(*point), g(*point), strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-8)
