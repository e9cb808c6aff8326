"""The evidence estimators against exact answers: closed forms, quadrature, exact sums over the
vertices of a mixture, brute-force importance sampling of a tiny machine, and the counting of
symmetric modes."""

from __future__ import annotations

import itertools
import math
from collections import defaultdict

import numpy as np
import pytest
from _prior_reference import prior_importance_sampling
from scipy.special import gammaln, logsumexp
from scipy.stats import norm

import bellmodels as bm
from bellmodels.inference import _evidence_kernels as kern
from bellmodels.inference import build_model, estimate_log_evidence, log_multinomial_coefficient
from bellmodels.models import CRBM, RBM


def _counts(n: int, seed: int = 0) -> bm.Counts:
    return bm.simulate_singlet(bm.Scenario.chsh(), n_trials=n, seed=seed).counts()


def _agree(est, exact: float, extra_se: float = 0.0) -> bool:
    """Within 3 combined standard errors (and 1e-3 for round-off)."""
    return abs(est.log_evidence - exact) <= 3 * math.hypot(est.se, extra_se) + 1e-3


# -- the symmetry group ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("model", "order"),
    [(RBM(), 384), (CRBM(), 384), (RBM(prior="binary"), 24), (RBM(n_hidden=2), 8)],
)
def test_declared_symmetries_form_a_group_that_leaves_prior_and_likelihood_unchanged(model, order):
    space = kern.FreeSpace(build_model(model, _counts(200)))
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


@pytest.fixture(scope="module")
def dirichlet_multinomial():
    """p ~ Dirichlet(1, 1, 1, 1), counts ~ Multinomial(p): the space, a NUTS fit and the exact
    log evidence 3! n! / (n + 3)!."""
    import pymc as pm

    counts = np.array([70, 10, 20, 100])
    n = int(counts.sum())
    with pm.Model() as model:
        p = pm.Dirichlet("p", a=np.ones(4))
        pm.Multinomial("y", n=n, p=p, observed=counts)
        # PyMC's own NUTS on both lines (PyMC 6 picks nutpie by default when it is installed)
        idata = pm.sample(
            1000, tune=500, chains=2, random_seed=3, progressbar=False, nuts_sampler="pymc"
        )
    exact = math.log(6) + gammaln(n + 1) - gammaln(n + 4)
    return kern.FreeSpace(model), idata, exact


def test_dirichlet_multinomial_evidence_matches_its_closed_form(dirichlet_multinomial):
    space, idata, exact = dirichlet_multinomial
    draws = space.from_posterior(idata.posterior)
    est, sens, _ = kern.bridge_sampling(space, draws, kern.SignedPermutations.identity(3), seed=0)
    se = np.std(est, ddof=1) / math.sqrt(len(est))
    assert abs(np.mean(est) - exact) <= 3 * math.hypot(se, sens) + 1e-3


# -- registered models against brute force ---------------------------------------------------------
# nested sampling is calibrated in the fast suite on the tiny machine (symmetric images and all)
@pytest.mark.parametrize(
    "method", ["smc", "bridge", pytest.param("nested", marks=pytest.mark.slow)]
)
def test_quantum_singlet_evidence_matches_quadrature_at_50_trials(method):
    counts = _counts(50, seed=2)
    idata = None  # forward SMC starts from the prior: it needs no fit
    if method == "bridge":
        idata = bm.fit("quantum-singlet", counts, draws=1000, tune=500, chains=2, seed=1)
    est = estimate_log_evidence(
        "quantum-singlet",
        counts,
        idata,
        method=method,
        seed=1,
        evidence_draws=500,
        evidence_hmc_steps=4,
    )
    space = kern.FreeSpace(build_model("quantum-singlet", counts))
    assert space.rv_names == ["visibility", "offset_a", "offset_b"]
    # visibility (logit) on a fine grid; each offset, prior N(0, 0.05), by Gauss-Hermite
    zv = np.linspace(-12.0, 10.0, 441)
    x, w = np.polynomial.hermite_e.hermegauss(7)
    nodes = np.array(list(itertools.product(x, repeat=4)))
    weights = np.prod(np.array(list(itertools.product(w, repeat=4))), axis=1) / (2 * np.pi) ** 2
    o = 0.05 * nodes
    grid = np.concatenate([np.repeat(zv, len(o))[:, None], np.tile(o, (len(zv), 1))], axis=1)
    log_phi = norm.logpdf(o, 0, 0.05).sum(-1)
    lf = space.logp(grid).reshape(len(zv), len(o)) - log_phi + np.log(weights)
    inner = logsumexp(lf, axis=1)
    exact = logsumexp(inner) + math.log(zv[1] - zv[0]) - log_multinomial_coefficient(counts)
    assert _agree(est, exact), (est.log_evidence, est.se, exact)
    assert est.se < 0.05


# bridge sampling is calibrated in the fast suite on the quadrature and the tiny machine; on the
# vertex mixture (a NUTS fit of its own) it runs with the slow tests
@pytest.mark.parametrize("method", ["smc", pytest.param("bridge", marks=pytest.mark.slow)])
def test_vertex_mixture_evidence_matches_the_exact_sum_over_vertices(method):
    counts = _counts(12, seed=4)
    model = bm.models.get("local-polytope", scenario=counts.scenario)
    k = model.parameters["weights"].shape[0]
    vertex = np.array([model.behaviour({"weights": np.eye(k)[i]}) for i in range(k)])
    # E_Dirichlet(1) prod_c (sum_k w_k a_ck)^n_c, expanded exactly over the vertices
    cells = np.argwhere(counts.values > 0)
    terms: dict[tuple[int, ...], float] = {(0,) * k: 1.0}
    for cell in cells:
        a = vertex[(slice(None), *cell)]
        for _ in range(int(counts.values[tuple(cell)])):
            new: dict[tuple[int, ...], float] = defaultdict(float)
            for m, coef in terms.items():
                for j in np.flatnonzero(a > 0):
                    mm = list(m)
                    mm[j] += 1
                    new[tuple(mm)] += coef * a[j]
            terms = new
    n = int(counts.values.sum())
    log_terms = [
        math.log(c) + gammaln(k) + gammaln(np.array(m) + 1).sum() - gammaln(k + n)
        for m, c in terms.items()
    ]
    exact = float(logsumexp(log_terms))
    idata = None
    if method == "bridge":
        idata = bm.fit(model, counts, draws=1000, tune=500, chains=2, seed=1)
    est = estimate_log_evidence(
        model, counts, idata, method=method, seed=1, evidence_draws=500, evidence_hmc_steps=4
    )
    assert _agree(est, exact), (est.log_evidence, est.se, exact)


@pytest.fixture(scope="module")
def tiny_machine():
    """A 2-hidden-unit RBM on 20 trials: its exact evidence by importance sampling from the prior
    (2,000,000 draws, with that estimate's own SE, checked to have a large effective sample size)
    and one NUTS fit, shared by the estimators. On 50 trials the prior was too poor a proposal
    (an effective sample size of 45 at 200,000 draws) for the reference to be trusted."""
    counts = _counts(20, seed=5)
    model = RBM(n_hidden=2)
    space = kern.FreeSpace(build_model(model, counts))
    exact, is_se, ess = prior_importance_sampling(space, counts, 2_000_000)
    assert ess > 1000, ess
    idata = bm.fit(model, counts, draws=1000, tune=500, chains=2, seed=1)
    return model, counts, exact, is_se, idata


def test_bridge_on_a_tiny_machine_counts_its_symmetries_as_prior_importance_sampling_does(
    tiny_machine,
):
    model, counts, exact, is_se, idata = tiny_machine
    est = estimate_log_evidence(model, counts, idata, method="bridge", seed=1)
    assert est.details["symmetry_order"] == 8
    assert _agree(est, exact, extra_se=is_se), (est.log_evidence, est.se, exact, is_se)


def test_estimator_arguments_are_checked():
    counts = _counts(20)
    with pytest.raises(ValueError, match="unknown evidence method"):
        estimate_log_evidence("quantum-singlet", counts, None, method="harmonic")
    with pytest.raises(ValueError, match="needs the model's NUTS fit"):
        estimate_log_evidence("quantum-singlet", counts, None, method="bridge")


def test_tempered_smc_both_ways_matches_the_dirichlet_multinomial_closed_form(
    dirichlet_multinomial,
):
    from bellmodels.inference._tempered_smc import SMCSettings, smc_runs

    space, idata, exact = dirichlet_multinomial
    fwd, info = smc_runs(space, runs=4, seed=0, settings=SMCSettings(particles=500, hmc_steps=4))
    post = space.from_posterior(idata.posterior).reshape(-1, space.dim)
    # the reverse run needs many more moves per stage than the forward one: with too few the
    # particles do not spread out as the target widens towards the prior, and the estimate sits
    # high (a harmonic-mean bias: the low-likelihood region is never visited). Here it sat
    # 0.3 nat high at 500 particles x 4 HMC steps and 0.19 nat (3.5 SE) at 1,000 x 8; at 1,000 x
    # 20 and at 2,000 x 8 it is within 1.5 SE.
    rev, _ = smc_runs(
        space,
        runs=4,
        seed=0,
        posterior_draws=post,
        settings=SMCSettings(particles=1000, hmc_steps=20),
    )
    assert info["stages_max"] > 1  # it tempered
    for est in (fwd, rev):
        se = np.std(est, ddof=1) / math.sqrt(len(est))
        assert abs(np.mean(est) - exact) <= 3 * se + 0.02, (est is rev, est, exact)


# the reverse run needs more moves per stage than the forward one (see the Dirichlet test
# above): at 500 x 4 it sat 0.56 nat (3.5 combined SE) high on PyMC 6 / PyTensor 3, whose random streams
# differ from the 5.x line's; benchmarks/evidence.py runs it at 1,000 x 20 too
@pytest.mark.parametrize(
    ("method", "particles", "hmc_steps"),
    # the reverse direction is calibrated in the fast suite on the Dirichlet-multinomial above;
    # here, at the 20 HMC steps it needs, with the slow tests. Forward, the default 1,000 x 8: on
    # these 20 trials 500 x 4 sat about 0.02 nat low, outside its 4-run error at one seed of five
    # Nested sampling (300 live points, 4 runs) integrates the prior volume, every image included
    [
        ("smc", 1000, 8),
        ("nested", 300, 0),
        pytest.param("reverse-smc", 1000, 20, marks=pytest.mark.slow),
    ],
)
def test_smc_and_nested_sampling_on_the_tiny_machine_match_prior_importance_sampling(
    tiny_machine, method, particles, hmc_steps
):
    model, counts, exact, is_se, idata = tiny_machine
    est = estimate_log_evidence(
        model,
        counts,
        idata,
        method=method,
        seed=1,
        evidence_draws=particles,
        evidence_hmc_steps=hmc_steps,
    )
    if method == "nested":
        assert est.details["live_points"] == particles
        assert len(est.repetitions) == 4
    else:
        assert est.details["direction"] == ("reverse" if method == "reverse-smc" else "forward")
    if method in ("smc", "nested"):
        assert _agree(est, exact, extra_se=is_se), (method, est.log_evidence, est.se, exact)
    else:
        # Backwards from the NUTS draws the estimate sits high on this machine: its 20 trials
        # leave the posterior so wide that the chains cross between the symmetric images, and
        # the reverse run's bias is the harmonic mean's (the prior's tails are never visited).
        # On PyMC 6 it sat 0.0-0.15 nat high (up to 4 of its errors) at 1,000-4,000 particles x
        # 20-40 steps. The test holds it to the side and size of that bias: never low beyond
        # its error, never more than 0.3 nat high.
        diff = est.log_evidence - exact
        tol = 3 * math.hypot(est.se, is_se)
        assert -tol <= diff <= tol + 0.3, (method, est.log_evidence, est.se, exact)


def test_nested_sampling_refuses_a_hierarchical_prior_and_names_its_extra(monkeypatch):
    """The unit-cube transform needs priors with constant parameters; without dynesty the
    method says which extra to install."""
    import pymc as pm

    from bellmodels.inference._nested import UnitCubeSpace, nested_runs

    with pm.Model() as hier:
        mu = pm.Normal("mu", 0.0, 1.0)
        pm.Normal("x", mu, 1.0)
    with pytest.raises(ValueError, match="prior of 'x' depends on another free variable"):
        UnitCubeSpace(kern.FreeSpace(hier))
    with pm.Model() as simplex:
        pm.Dirichlet("w", np.ones(3))
    with pytest.raises(ValueError, match=r"prior of 'w' .* has no inverse CDF"):
        UnitCubeSpace(kern.FreeSpace(simplex))
    monkeypatch.setitem(__import__("sys").modules, "dynesty", None)
    with pytest.raises(ImportError, match=r"bellmodels\[nested\]"):
        nested_runs(kern.FreeSpace(hier), runs=1, seed=0, live_points=50)


def test_observationally_equivalent_models_with_the_same_priors_get_equal_evidence():
    """The singlet family (same behaviour, same priors, different stories) must tie exactly: with
    one seed (common random numbers) forward SMC runs the same particles through the same
    likelihood, so any difference would be an error, not noise."""
    counts = _counts(300)
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
