"""The HiddenVariableModel contract, checked for every registered model (including later ones).

For each name in ``bellmodels.models.names()``: declared claims, parameter specs and defaults,
a normalised behaviour, the PyTensor behaviour equal to the numpy one (defaults and prior
draws), the ontic table reproducing the behaviour, and the model's own sampler agreeing with its
behaviour (chi-square).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from bellmodels import models
from bellmodels.models import FAMILIES, HiddenVariableModel
from bellmodels.models.boltzmann import BoltzmannModel
from bellmodels.ontic import OnticTable

NAMES = models.names()
EXPECTED = {  # the explicit models, each of which must be registered
    "local-polytope",
    "bell1964",
    "quantum-singlet",
    "toner-bacon",
    "no-signalling",
    "brans",
    "hall2010",
    "dlr-one-sided",
}


def ontic_tol(model: HiddenVariableModel) -> float:
    """Numerical tolerance a model declares for its ontic table (quadrature), else 1e-10."""
    return float(getattr(model, "ontic_tolerance", 1e-10))


def chi_square_p(counts: np.ndarray, behaviour: np.ndarray) -> float:
    """Pearson chi-square p-value of counts against behaviour, pair totals fixed.

    Cells with zero expected probability must be empty (returns 0 otherwise) and are dropped;
    degrees of freedom: free cells minus one per setting pair.
    """
    n_pair = counts.sum(axis=(2, 3))
    expected = n_pair[:, :, None, None] * behaviour
    pos = expected > 1e-12
    if np.any(counts[~pos] > 0):
        return 0.0
    pairs = int((n_pair > 0).sum())
    stat = float((((counts - expected) ** 2)[pos] / expected[pos]).sum())
    dof = int(pos.sum()) - pairs
    return float(stats.chi2.sf(stat, dof)) if dof > 0 else 1.0


def prior_draws(model: HiddenVariableModel, n: int, seed: int) -> list[dict[str, np.ndarray]]:
    """``n`` parameter sets drawn from the model's own priors (PyMC, built lazily)."""
    import pymc as pm

    with pm.Model():
        rvs = model.prior_variables()
    assert list(rvs) == list(model.parameters)
    draws = pm.draw(list(rvs.values()), draws=n, random_seed=seed, mode="FAST_COMPILE")
    return [
        {name: np.asarray(d[k], dtype=float) for name, d in zip(rvs, draws, strict=True)}
        for k in range(n)
    ]


def test_every_explicit_model_is_registered() -> None:
    assert EXPECTED <= set(NAMES)


def test_unknown_model_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown model 'nope'"):
        models.get("nope")


@pytest.mark.parametrize("name", NAMES)
def test_declared_claims_and_parameters(name: str) -> None:
    model = models.get(name)
    assert model.name == name
    assert model.family in FAMILIES
    assert model.assumption_dropped and model.citation
    specs = model.parameters
    params = model.params()
    assert set(params) == set(specs)
    for pname, spec in specs.items():
        assert spec.name == pname
        assert params[pname].shape == spec.shape
        assert np.all(np.isfinite(params[pname]))
        assert isinstance(spec.prior_repr, str) and spec.prior_repr
    # an unknown parameter is refused (ValueError from the base class; a factory with a fixed
    # signature, such as a published instance, raises TypeError)
    with pytest.raises((ValueError, TypeError), match="not_a_parameter"):
        models.get(name, not_a_parameter=1.0)


@pytest.mark.parametrize("name", NAMES)
def test_behaviour_normalised(name: str) -> None:
    model = models.get(name)
    p = model.behaviour()
    assert p.shape == model.scenario.shape
    assert np.all(p >= -1e-12)
    np.testing.assert_allclose(p.sum(axis=(2, 3)), 1.0, atol=1e-10)


@pytest.mark.parametrize("name", NAMES)
def test_behaviour_tensor_matches_numpy(name: str) -> None:
    import pytensor
    import pytensor.tensor as pt

    model = models.get(name)
    specs = model.parameters
    inputs = {n: pt.tensor(name=n, shape=s.shape, dtype="float64") for n, s in specs.items()}
    out = model.behaviour_tensor(inputs)
    # differentiable: the gradient of a log-likelihood-like scalar exists for every parameter
    loglik = pt.sum(pt.log(pt.clip(out, 1e-300, 1.0)))
    grads = pytensor.grad(loglik, list(inputs.values()))
    fn = pytensor.function(list(inputs.values()), [out, *grads], mode="FAST_COMPILE")
    for values in [model.params(), *prior_draws(model, 3, seed=11)]:
        got, *g = fn(*[values[n] for n in inputs])
        np.testing.assert_allclose(got, model.behaviour(values), atol=1e-10, rtol=0)
        assert all(np.all(np.isfinite(x)) for x in g)


@pytest.mark.parametrize("name", NAMES)
def test_ontic_table_reproduces_behaviour(name: str) -> None:
    model = models.get(name)
    table = model.ontic_table()
    assert isinstance(table, OnticTable)
    assert table.scenario == model.scenario
    np.testing.assert_allclose(table.behaviour(), model.behaviour(), atol=ontic_tol(model))


@pytest.mark.parametrize("name", NAMES)
def test_ontic_table_at_prior_draws(name: str) -> None:
    model = models.get(name)
    for values in prior_draws(model, 2, seed=5):
        np.testing.assert_allclose(
            model.ontic_table(values).behaviour(), model.behaviour(values), atol=ontic_tol(model)
        )


def assert_sampler_agrees(name: str, n: int) -> None:
    model = models.get(name)
    trials = model.sample_trials(n, seed=2024)
    assert len(trials) == n
    again = model.sample_trials(n, seed=2024)
    assert np.array_equal(trials.outcome_b, again.outcome_b)  # same seed, same numbers
    p = chi_square_p(trials.counts().values, model.behaviour())
    assert p > 1e-3, f"{name}: sampler disagrees with behaviour (chi-square p = {p:.2e})"


FAST_SAMPLERS = [n for n in NAMES if not isinstance(models.get(n), BoltzmannModel)]
SLOW_SAMPLERS = [n for n in NAMES if isinstance(models.get(n), BoltzmannModel)]


@pytest.mark.parametrize("name", FAST_SAMPLERS)
def test_sampler_agrees_with_behaviour(name: str) -> None:
    assert_sampler_agrees(name, 100_000)


@pytest.mark.parametrize("name", SLOW_SAMPLERS)
def test_sampler_agrees_with_behaviour_small(name: str) -> None:
    """Gibbs samplers (the Boltzmann machines) are slow: 10^4 trials in the fast suite, 10^5 below."""
    assert_sampler_agrees(name, 10_000)


@pytest.mark.slow
@pytest.mark.parametrize("name", SLOW_SAMPLERS)
def test_sampler_agrees_with_behaviour_full(name: str) -> None:
    assert_sampler_agrees(name, 100_000)


def test_chi_square_check_can_fail() -> None:
    """The sampler check rejects a wrong behaviour (here: the singlet sampled, Bell's expected)."""
    trials = models.get("quantum-singlet").sample_trials(100_000, seed=1)
    assert chi_square_p(trials.counts().values, models.get("bell1964").behaviour()) < 1e-6


def test_inference_reads_declared_capabilities_not_the_family():
    """The machines declare their sampler order, start and ML fit; the family is only the
    assumption family their audit checks."""
    from bellmodels.inference import available_samplers, choose_sampler
    from bellmodels.models import CRBM, RBM

    for cls in (RBM, CRBM):
        assert cls.family == "measurement-dependent" and cls.trainable and cls.init == "mode"
        assert choose_sampler("auto", cls.samplers) == next(
            s for s in cls.samplers if s in available_samplers()
        )
    plain = models.get("quantum-singlet")
    assert not plain.trainable and plain.init == "prior"
    assert choose_sampler("auto", plain.samplers) == "pymc"
