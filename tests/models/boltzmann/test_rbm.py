"""The RBM and conditional RBM models (Weinstein, arXiv:1707.03114 and arXiv:1807.03910)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from bellmodels import Scenario
from bellmodels.models import get, names
from bellmodels.models.boltzmann import CRBM, RBM, setting_codes


def correlators(p: np.ndarray) -> np.ndarray:
    return p[:, :, 0, 0] + p[:, :, 1, 1] - p[:, :, 0, 1] - p[:, :, 1, 0]


@pytest.fixture(scope="module")
def published() -> RBM:
    return RBM.weinstein2017()


def test_table_one_model_column_from_published_weights(published):
    """Weinstein (2017) Table I, Model column, to 3 decimals from the Table II weights."""
    e = correlators(published.behaviour())
    assert np.round(e, 3).tolist() == [[-0.711, -0.699], [-0.713, 0.704]]
    s = e[0, 0] + e[0, 1] + e[1, 0] - e[1, 1]
    assert abs(s) > 2.8  # violates CHSH


def test_machine_settings_distribution_is_not_uniform(published):
    ps = published.settings_distribution()
    assert np.round(ps, 3).tolist() == [[0.255, 0.247], [0.251, 0.247]]
    assert ps.sum() == pytest.approx(1.0, abs=1e-12)


def test_registry_names_and_defaults(published):
    assert {"rbm", "rbm-weinstein2017", "crbm"} <= set(names())
    assert get("rbm-weinstein2017").name == "rbm-weinstein2017"
    # the trainable machine's defaults for the paper's geometry are the published weights
    np.testing.assert_allclose(get("rbm").behaviour(), published.behaviour(), atol=1e-15)
    # ... and the CRBM's defaults are the published machine's conditional
    np.testing.assert_allclose(get("crbm").behaviour(), published.behaviour(), atol=1e-12)
    other = get("rbm", n_hidden=3, seed=5)
    assert other.params()["W"].shape == (4, 3)
    assert np.abs(other.params()["W"]).max() < 0.1  # small random initial weights
    np.testing.assert_array_equal(other.params()["W"], get("rbm", n_hidden=3, seed=5).params()["W"])


def test_ontic_table_reproduces_behaviour_and_factorises(published):
    table = published.ontic_table()
    assert table.n_lambda == 16
    np.testing.assert_allclose(table.behaviour(), published.behaviour(), atol=1e-12)
    r = table.response.values  # (Ka, Kb, L, 2, 2)
    pa = r.sum(axis=4)
    pb = r.sum(axis=3)
    # outcome independence: the response is the product of its marginals
    assert np.abs(r - pa[..., :, None] * pb[..., None, :]).max() < 1e-12
    # parameter independence: A's marginal does not depend on B's setting and vice versa
    assert np.abs(pa[:, 0] - pa[:, 1]).max() < 1e-12
    assert np.abs(pb[0] - pb[1]).max() < 1e-12
    # measurement dependence: p(h | settings) differs between setting pairs
    p_l = table.p_lambda.values
    assert np.abs(p_l[0, 0] - p_l[1, 1]).sum() > 0.5


def test_ontic_table_against_brute_force_joint(published):
    """p(h | s) from the enumeration equals the Boltzmann law summed by hand."""
    p = published.params()
    w, c, d = p["W"], p["c"], p["d"]
    hs = np.array([[(k >> (3 - j)) & 1 for j in range(4)] for k in range(16)], dtype=float)
    brute = np.zeros((2, 2, 16))
    for sa in range(2):
        for sb in range(2):
            for xa in range(2):
                for xb in range(2):
                    v = np.array([sa, sb, xa, xb], dtype=float)
                    brute[sa, sb] += np.exp(c @ v + hs @ d + hs @ (v @ w))
    brute /= brute.sum(axis=-1, keepdims=True)
    np.testing.assert_allclose(published.ontic_table().p_lambda.values, brute, rtol=1e-10)


def test_published_machine_audit(published):
    from bellmodels.auditing import audit

    report = audit(published)
    assert report.parameter_independence_violation < 1e-9
    assert report.outcome_independence_violation < 1e-9
    assert report.mi_bits > 0.5
    assert 0 < report.hall_M <= 2
    assert report.S <= report.hall_bound + 1e-9
    assert report.min_mi_bits < report.mi_bits
    # The machine's marginals depend on the remote setting: measurement dependence lets a local
    # model signal. p(x_b = +1 | a', b') - p(x_b = +1 | a, b') = 0.0316 from the weights. The
    # hidden variables are local all the same, so the class is local & measurement-dependent and
    # the signalling is reported as a number and a note.
    p = published.behaviour()
    pb = p.sum(axis=2)[:, :, 1]
    assert report.no_signalling == pytest.approx(np.abs(pb[0] - pb[1]).max(), abs=1e-9)
    assert report.no_signalling > 0.03
    assert not report.no_signalling_ok
    assert report.classification == "local & measurement-dependent"
    assert any("signals" in note for note in report.notes)


def test_behaviour_tensor_matches_numpy():
    pytensor = pytest.importorskip("pytensor")
    import pytensor.tensor as pt

    for model in (RBM.weinstein2017(), CRBM(Scenario.chained(3), n_hidden=3, seed=2)):
        specs = model.parameters
        variables = {k: pt.tensor(name=k, shape=s.shape, dtype="float64") for k, s in specs.items()}
        fn = pytensor.function(
            list(variables.values()), model.behaviour_tensor(variables), mode="FAST_COMPILE"
        )
        rng = np.random.default_rng(0)
        for scale in (1.0, 4.0):
            vals = {k: scale * rng.standard_normal(s.shape) for k, s in specs.items()}
            np.testing.assert_allclose(fn(*vals.values()), model.behaviour(vals), atol=1e-10)


def test_large_weights_are_stable():
    m = RBM.weinstein2017()
    big = {k: 200.0 * v for k, v in m.params().items()}
    p = m.behaviour(big)
    assert np.all(np.isfinite(p))
    np.testing.assert_allclose(p.sum(axis=(2, 3)), 1.0, atol=1e-12)
    t = m.ontic_table(big)
    np.testing.assert_allclose(t.behaviour(), p, atol=1e-9)


@pytest.mark.parametrize("encoding", ["binary", "onehot"])
def test_more_settings_per_party(encoding):
    scn = Scenario.chained(3)
    m = RBM(scn, n_hidden=3, seed=1, setting_encoding=encoding)
    rng = np.random.default_rng(1)
    vals = {k: rng.standard_normal(s.shape) for k, s in m.parameters.items()}
    p = m.behaviour(vals)
    assert p.shape == (3, 3, 2, 2)
    np.testing.assert_allclose(p.sum(axis=(2, 3)), 1.0, atol=1e-12)
    np.testing.assert_allclose(m.ontic_table(vals).behaviour(), p, atol=1e-12)
    assert m.n_visible == (2 * 2 + 2 if encoding == "binary" else 3 + 3 + 2)


def test_setting_codes():
    assert setting_codes(4).tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]]
    assert setting_codes(3, "onehot").tolist() == np.eye(3).tolist()
    with pytest.raises(ValueError, match="setting_encoding"):
        setting_codes(2, "gray")


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="n_hidden"):
        RBM(n_hidden=0)
    with pytest.raises(ValueError, match="parameter 'W'"):
        RBM(W=np.zeros((3, 4))).behaviour()
    with pytest.raises(ValueError, match="no parameter"):
        CRBM(A=np.zeros((2, 2)))  # only with local=False
    with pytest.raises(ValueError, match="two settings"):
        RBM.weinstein2017(Scenario.chained(3))


def test_crbm_locality_switch():
    local = CRBM(A_a=[1.5], A_b=[-2.0])
    t = local.ontic_table()
    pa = t.response.values.sum(axis=4)
    assert np.abs(pa[:, 0] - pa[:, 1]).max() < 1e-12  # A's outcome ignores B's setting
    nonlocal_ = CRBM(local=False, A=[[0.0, 2.0], [0.0, 0.0]])  # A's setting -> B's outcome
    pb = nonlocal_.ontic_table().response.values.sum(axis=3)
    assert np.abs(pb[0] - pb[1]).max() > 0.05


def test_gibbs_burn_in_is_exact_convergence(published):
    sweeps = published.gibbs_burn_in(tol=1e-6)
    t = published.gibbs_transition()
    target = published.behaviour().reshape(2, 2, 4)
    dist = np.full((2, 2, 4), 0.25)
    for _ in range(sweeps):
        dist = np.einsum("abx,abxy->aby", dist, t)
    assert 0.5 * np.abs(dist - target).sum(axis=-1).max() < 1e-6
    # the transition keeps the conditional stationary
    np.testing.assert_allclose(np.einsum("abx,abxy->aby", target, t), target, atol=1e-12)


def test_gibbs_and_exact_samplers_agree(published):
    """Chi-square on the 16 cells, 10^5 trials each (Weinstein's clamped-settings sampling)."""
    n = 100_000
    gibbs = published.sample_trials(n, seed=11, method="gibbs").counts().values.ravel()
    exact = published.sample_trials(n, seed=12, method="exact").counts().values.ravel()
    _, p_value, _, _ = stats.chi2_contingency(np.stack([gibbs, exact]))
    assert p_value > 1e-3
    # and each agrees with the exact behaviour (uniform settings)
    expected = published.behaviour().ravel() / 4 * n
    assert stats.chisquare(gibbs, expected).pvalue > 1e-3
    # same seed, same trials
    again = published.sample_trials(1000, seed=11, method="gibbs")
    first = published.sample_trials(1000, seed=11, method="gibbs")
    np.testing.assert_array_equal(again.outcome_a, first.outcome_a)


def test_gibbs_sampler_detects_too_short_burn_in(published):
    """A one-sweep chain from uniform is visibly off: the test above can fail."""
    n = 100_000
    short = published.sample_trials(n, seed=3, method="gibbs", burn_in=1).counts().values.ravel()
    expected = published.behaviour().ravel() / 4 * n
    assert stats.chisquare(short, expected).pvalue < 1e-3


def test_setting_probs_are_respected(published):
    t = published.sample_trials(20_000, seed=0, setting_probs=([0.9, 0.1], [0.5, 0.5]))
    assert np.mean(t.setting_a == 0) == pytest.approx(0.9, abs=0.01)


# -- the prior on the machine with +-1 units ------------------------------------------------
def _spin_behaviour_brute_force(free: dict, model) -> np.ndarray:
    """p(x | s) and p(h | s) from the +-1-coded energy, every unit enumerated as -1/+1 (no use of
    the package's conversion): sum over settings-independent terms only, as the model defines."""
    n_h = model.n_hidden
    hs = np.array(np.meshgrid(*[[-1.0, 1.0]] * n_h, indexing="ij")).reshape(n_h, -1).T
    beh = np.zeros((2, 2, 2, 2))
    ph = np.zeros((2, 2, hs.shape[0]))
    for sa in range(2):
        for sb in range(2):
            s = np.array([2.0 * sa - 1, 2.0 * sb - 1])
            logw = np.zeros((2, 2, hs.shape[0]))
            for xa in range(2):
                for xb in range(2):
                    x = np.array([2.0 * xa - 1, 2.0 * xb - 1])
                    if isinstance(model, RBM):
                        v = np.concatenate([s, x])
                        e = v @ free["W"] @ hs.T + free["c"] @ v + hs @ free["d"]
                    else:
                        a_full = model._full_a(free)
                        e = x @ free["W"] @ hs.T + s @ free["U"] @ hs.T + s @ a_full @ x
                        e = e + free["b"] @ x + hs @ free["d"]
                    logw[xa, xb] = e
            w = np.exp(logw - logw.max())
            w /= w.sum()
            beh[sa, sb] = w.sum(axis=2)
            ph[sa, sb] = w.sum(axis=(0, 1))
    return beh, ph


@pytest.mark.parametrize(
    "model", [RBM(), CRBM(), CRBM(local=False)], ids=["rbm", "crbm", "crbm-nl"]
)
def test_spin_coded_weights_define_the_same_machine(model):
    """The 0/1 machine built from +-1-coded weights has the behaviour and the hidden-state law
    p(h | s) of the +-1 energy itself (hidden states listed in the same order: bit 1 <-> +1)."""
    rng = np.random.default_rng(3)
    free = {k: rng.normal(0, 0.9, np.shape(v)) for k, v in model.params().items()}
    params = model._from_spin(free)
    beh, ph = _spin_behaviour_brute_force(free, model)
    np.testing.assert_allclose(model.behaviour(params), beh, atol=1e-12)
    np.testing.assert_allclose(model.hidden_given_settings(params), ph, atol=1e-12)
    back = model.free_values(params)
    for k, v in free.items():
        np.testing.assert_allclose(back[f"{k}_spin"], v, atol=1e-12)


def _relabel_setting_a(p: dict) -> dict:
    """The same RBM with A's two settings swapped (setting bit v_0 -> 1 - v_0), in 0/1 form."""
    w, c, d = p["W"].copy(), p["c"].copy(), p["d"].copy()
    d = d + w[0]
    c[0] = -c[0]
    w[0] = -w[0]
    return {"W": w, "c": c, "d": d}


def test_spin_prior_is_invariant_under_relabelling_and_the_binary_prior_is_not():
    """Relabelling a setting is a symmetry of the likelihood; only the +-1 prior shares it."""
    rng = np.random.default_rng(5)
    spin, binary = RBM(), RBM(prior="binary")
    p = {k: rng.normal(0, 2, np.shape(v)) for k, v in spin.params().items()}
    q = _relabel_setting_a(p)
    # the relabelled machine's behaviour is the original's with A's settings swapped
    np.testing.assert_allclose(spin.behaviour(q), spin.behaviour(p)[::-1], atol=1e-12)

    def logp(model, params):
        free = model.free_values(params)
        sigma = 0.75 if model.prior == "spin" else 3.0
        return sum(stats.norm.logpdf(v, scale=sigma).sum() for v in free.values())

    assert logp(spin, q) == pytest.approx(logp(spin, p), abs=1e-9)
    assert abs(logp(binary, q) - logp(binary, p)) > 0.1


def test_prior_variables_build_the_declared_prior():
    import pymc as pm

    for model, free in (
        (RBM(), {"W_spin", "c_spin", "d_spin"}),
        (RBM(prior="binary"), {"W", "c", "d"}),
        (CRBM(), {"W_spin", "U_spin", "b_spin", "d_spin", "A_a_spin", "A_b_spin"}),
    ):
        with pm.Model() as pmodel:
            made = model.prior_variables()
        assert {v.name for v in pmodel.free_RVs} == free
        assert set(made) == set(model.parameters)
        # the prior's draws of the 0/1 weights have the stated sd 3 either way
        w = pm.draw(made["W"], draws=4000, random_seed=1)
        assert np.std(w) == pytest.approx(3.0, rel=0.05)
    with pytest.raises(ValueError, match="prior must be one of"):
        RBM(prior="flat")
    with pytest.raises(NotImplementedError, match="prior_variables"):
        RBM().parameters["W"].prior("W")
