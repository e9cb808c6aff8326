"""``fit(sampler="smc")``: the tempered SMC posterior (bellmodels.inference._tempered_smc).

Two properties: on a posterior with two separated modes of known mass, which a NUTS chain does
not cross, the particles weigh the modes by their mass; on a unimodal posterior the SMC fit
agrees with NUTS, and is a whole fit (every group, the audit, the gate) that saves to NetCDF.
"""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytest

import bellmodels as bm
from bellmodels import _arviz
from bellmodels.inference import diagnostics, fit
from bellmodels.inference._evidence_kernels import FreeSpace
from bellmodels.inference._tempered_smc import SMCSettings, smc_runs


def test_particles_weigh_two_separated_modes_by_their_mass():
    # prior N(0, 3^2), symmetric; likelihood 0.8 N(-4, 0.1^2) + 0.2 N(4, 0.1^2): the posterior
    # puts mass 0.8 on the left mode (the prior's density is equal at -4 and 4), and the modes
    # are 80 standard deviations apart, which no NUTS chain crosses
    with pm.Model() as model:
        x = pm.Normal("x", 0.0, 3.0)
        comp = pm.math.stack(
            [pm.logp(pm.Normal.dist(-4.0, 0.1), x), pm.logp(pm.Normal.dist(4.0, 0.1), x)]
        )
        pm.Potential("lik", pm.math.logsumexp(comp + np.log([0.8, 0.2])))
    log_z, details = smc_runs(
        FreeSpace(model),
        runs=4,
        seed=3,
        settings=SMCSettings(particles=1000, hmc_steps=16),
        keep_particles=True,
    )
    z = details["particles"]
    left = (z[..., 0] < 0).mean(axis=1)  # per run
    # binomial error of 1000 particles ~0.013; resampling adds some: 0.05 is about 3 sigma
    assert np.all(np.abs(left - 0.8) < 0.05), left
    assert np.abs(z[z < 0] + 4.0).max() < 0.6 and np.abs(z[z > 0] - 4.0).max() < 0.6
    # the runs' evidence is the closed form: log( N(-4; 0, 3^2 + 0.1^2) ), both modes alike
    exact = float(pm.logp(pm.Normal.dist(0.0, np.hypot(3.0, 0.1)), -4.0).eval())
    assert np.mean(log_z) == pytest.approx(exact, abs=0.05)


@pytest.fixture(scope="module")
def delft_fits():
    counts = bm.datasets.load("delft2015")
    smc = fit("quantum-singlet", counts, sampler="smc", draws=500, chains=2, seed=1)
    nuts = fit("quantum-singlet", counts, draws=500, tune=500, chains=2, seed=1)
    return smc, nuts


def test_smc_fit_agrees_with_nuts_on_a_unimodal_posterior(delft_fits):
    smc, nuts = delft_fits
    for name in ("visibility", "S"):
        a, b = smc.posterior[name], nuts.posterior[name]
        # posterior SDs ~0.07 (visibility) and ~0.18 (S); 1000 draws each: a mean moves ~0.01
        assert float(a.mean()) == pytest.approx(float(b.mean()), abs=0.25 * float(b.std()))
        assert float(a.std()) == pytest.approx(float(b.std()), rel=0.15)


def test_smc_fit_is_a_whole_fit_that_passes_the_gate_and_saves(delft_fits, tmp_path):
    smc, _ = delft_fits
    assert smc.attrs["sampler"] == "smc" and "tempered SMC" in smc.attrs["init"]
    for group in ("posterior", "sample_stats", "cell_log_likelihood", "audit_posterior"):
        assert group in _arviz.group_names(smc)
    assert smc.posterior.sizes["chain"] == 2 and smc.posterior.sizes["draw"] == 500
    gate = diagnostics(smc)
    assert gate["ok"], gate["reasons"]
    smc.to_netcdf(tmp_path / "smc.nc")
    with pytest.raises(ValueError, match="chains >= 2"):
        fit("quantum-singlet", bm.datasets.load("delft2015"), sampler="smc", draws=10, chains=1)
