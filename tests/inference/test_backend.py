"""The compile backend: Numba where installed, the user's own PyTensor mode respected, and the
batched SMC density it compiles equal to PyMC's own log density at the same points."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

import bellmodels as bm
from bellmodels.inference import _backend, build_model
from bellmodels.inference._evidence_kernels import FreeSpace
from bellmodels.inference._tempered_smc import TemperedParts

HAS_NUMBA = importlib.util.find_spec("numba") is not None


@pytest.fixture
def fresh_mode(monkeypatch):
    _backend.compile_mode.cache_clear()
    yield monkeypatch
    _backend.compile_mode.cache_clear()


def test_numba_is_chosen_unless_the_user_set_a_mode(fresh_mode):
    fresh_mode.setenv("PYTENSOR_FLAGS", "floatX=float64")
    assert _backend.compile_mode() == ("NUMBA" if HAS_NUMBA else None)
    _backend.compile_mode.cache_clear()
    fresh_mode.setenv("PYTENSOR_FLAGS", "floatX=float64,mode=FAST_RUN")
    assert _backend.compile_mode() is None


@pytest.mark.parametrize("model", ["no-signalling", "rbm"])
def test_batched_smc_density_equals_pymcs_log_density(model):
    """log prior + log likelihood of every particle, as compiled for SMC, is PyMC's joint log
    density (with Jacobians) at that point, and the gradient matches finite differences."""
    counts = bm.simulate_singlet(bm.Scenario.chsh(), n_trials=5000, seed=0).counts()
    pmodel = build_model(model, counts)
    space = FreeSpace(pmodel)
    parts = TemperedParts(space)
    z = parts.prior_draws(6, seed=3)
    lp, ll, gp, gl = parts(z)
    logp = pmodel.compile_logp(jacobian=True)
    for row, total in zip(z, lp + ll, strict=True):
        point = {
            v.name: row[space.slices[n]].reshape(space.shapes[n])
            for v, n in zip(space.value_vars, space.rv_names, strict=True)
        }
        assert total == pytest.approx(float(logp(point)), rel=1e-9, abs=1e-6)
    # central differences along a random direction, at one particle
    rng = np.random.default_rng(0)
    u = rng.standard_normal(space.dim)
    h = 1e-5
    up, down = parts(z[:1] + h * u), parts(z[:1] - h * u)
    numeric = ((up[0] + up[1]) - (down[0] + down[1]))[0] / (2 * h)
    assert float((gp[0] + gl[0]) @ u) == pytest.approx(numeric, rel=1e-4)
