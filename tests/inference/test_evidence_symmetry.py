"""The symmetry group the evidence estimators count modes with, the bridge on a target whose
chains saw one of two symmetric modes, and models that must tie: observationally equivalent
models with the same priors get exactly equal evidence."""

from __future__ import annotations

import math

import numpy as np
import pytest
from _evidence_checks import singlet_counts
from scipy.stats import norm

import bellmodels as bm
from bellmodels.inference import _evidence_kernels as kern
from bellmodels.inference import build_model, estimate_log_evidence
from bellmodels.models import CRBM, RBM


# -- the symmetry group ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("model", "order"),
    [(RBM(), 384), (CRBM(), 384), (RBM(prior="binary"), 24), (RBM(n_hidden=2), 8)],
)
def test_declared_symmetries_form_a_group_that_leaves_prior_and_likelihood_unchanged(model, order):
    space = kern.FreeSpace(build_model(model, singlet_counts(200)))
    group = kern.parameter_group(model.parameter_symmetries(), space)
    assert group.order == order
    rows = {(tuple(i), tuple(s)) for i, s in zip(group.index, group.sign, strict=True)}
    assert len(rows) == order  # distinct elements
    # closed under composition: a product of two elements is an element
    prod = kern.SignedPermutations(group.index[[3]], group.sign[[3]]).compose(
        kern.SignedPermutations(group.index[[order - 2]], group.sign[[order - 2]])
    )
    assert (tuple(prod.index[0]), tuple(prod.sign[0])) in rows
    z = np.random.default_rng(0).normal(0.0, 1.0, size=(5, space.dim))
    lp = space.logp(z)
    images = group.images(z)
    for g in np.random.default_rng(1).choice(order, size=min(order, 12), replace=False):
        np.testing.assert_allclose(space.logp(images[g]), lp, rtol=0, atol=1e-8)


def test_models_without_exchangeable_units_declare_no_symmetry():
    assert bm.models.get("local-polytope").parameter_symmetries() == ()


# -- the bridge itself ----------------------------------------------------------------------------
class _TwoModes:
    """log p = log Z0 + log(mixture of N(+m, s^2 I) and N(-m, s^2 I)): invariant under z -> -z."""

    def __init__(self, log_z0: float, m: float = 6.0, s: float = 0.7, dim: int = 2) -> None:
        self.log_z0, self.m, self.s, self.dim = log_z0, m, s, dim

    def logp(self, z: np.ndarray) -> np.ndarray:
        a = norm.logpdf(z, self.m, self.s).sum(-1)
        b = norm.logpdf(z, -self.m, self.s).sum(-1)
        return self.log_z0 + np.logaddexp(a, b) - math.log(2)


def test_bridge_counts_the_mode_the_chains_never_visited():
    target = _TwoModes(log_z0=3.0)
    rng = np.random.default_rng(0)
    draws = target.m + target.s * rng.standard_normal((2, 2000, 2))  # one mode only
    flip = kern.SignedPermutations(np.array([[0, 1], [0, 1]]), np.array([[1.0, 1], [-1, -1]]))
    est, _, _ = kern.bridge_sampling(target, draws, flip, seed=1)
    assert abs(np.mean(est) - 3.0) < 0.02
    naive, _, _ = kern.bridge_sampling(target, draws, kern.SignedPermutations.identity(2), seed=1)
    assert abs(np.mean(naive) - (3.0 - math.log(2))) < 0.02  # misses half the mass


def test_observationally_equivalent_models_with_the_same_priors_get_equal_evidence():
    """The singlet family (same behaviour, same priors, different stories) must tie exactly: with
    one seed (common random numbers) forward SMC runs the same particles through the same
    likelihood, so any difference would be an error, not noise."""
    counts = singlet_counts(300)
    # two members: that all five are one model to the data is checked numerically by
    # inference.sharing (tests/inference/test_sharing.py), which then fits them once
    family = ["quantum-singlet", "hall2010"]
    values = [
        estimate_log_evidence(
            m, counts, method="smc", seed=1, evidence_draws=200, evidence_hmc_steps=2
        )
        for m in family
    ]
    assert len({v.log_evidence for v in values}) == 1, [v.log_evidence for v in values]
    assert values[0].se > 0  # the runs differ from one another: a real Monte Carlo error
    # a model with another behaviour family does not tie
    other = estimate_log_evidence(
        "no-signalling", counts, method="smc", seed=1, evidence_draws=200, evidence_hmc_steps=2
    )
    assert abs(other.log_evidence - values[0].log_evidence) > 1.0
