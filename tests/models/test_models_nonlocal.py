"""Nonlocal models: quantum-singlet, toner-bacon (PRL 91, 187904), no-signalling (PR boxes)."""

from __future__ import annotations

import numpy as np
import pytest

from bellmodels import Scenario, models
from bellmodels.auditing import audit_draws
from bellmodels.models import HiddenVariableModel, nonlocal_
from bellmodels.models.blocks import TWO_PI, arc_partition, sign
from bellmodels.models.nonlocal_ import TonerBacon, pr_boxes, ratio_cdf
from bellmodels.ontic import OnticTable
from tests.models.test_models_local import audit, chsh_values
from tests.models.test_ontic_tables import assert_same_audit, loop, prior_draws

TSIRELSON = 2.0 * np.sqrt(2.0)


def correlators(p: np.ndarray) -> np.ndarray:
    return p[..., 0, 0] + p[..., 1, 1] - p[..., 0, 1] - p[..., 1, 0]


def sample_s(model, n: int, seed: int) -> tuple[float, float]:
    """|S_0| from the model's own samples and its standard error (sum of the four E's SEs)."""
    c = model.sample_trials(n, seed=seed).counts().values.astype(float)
    n_pair = c.sum(axis=(2, 3))
    e = correlators(c) / n_pair
    s0 = e[0, 0] + e[0, 1] + e[1, 0] - e[1, 1]
    se = np.sqrt(((1 - e**2) / n_pair).sum())
    return abs(s0), se


# -- quantum-singlet --------------------------------------------------------------------------
def test_quantum_singlet_tsirelson_and_visibility() -> None:
    assert np.abs(chsh_values(models.get("quantum-singlet").behaviour())).max() == pytest.approx(
        TSIRELSON, abs=1e-12
    )
    p = models.get("quantum-singlet", visibility=0.8).behaviour()
    np.testing.assert_allclose(
        correlators(p), -0.8 * np.cos(Scenario.chsh().angle_differences()), atol=1e-12
    )


def test_quantum_singlet_sampler_s() -> None:
    s, se = sample_s(models.get("quantum-singlet"), 100_000, seed=3)
    assert abs(s - TSIRELSON) < 4 * se


def test_quantum_singlet_classification() -> None:
    r = audit(models.get("quantum-singlet"))
    assert r.classification == "outcome-dependent (nonlocal)"
    assert r.parameter_independence_violation == pytest.approx(0.0, abs=1e-12)
    assert r.outcome_independence_violation > 0.1
    assert r.no_signalling_ok


# -- toner-bacon ------------------------------------------------------------------------------
def test_ratio_cdf_against_monte_carlo() -> None:
    rng = np.random.default_rng(0)
    r = np.sqrt(1 - rng.uniform(-1, 1, (2, 400_000)) ** 2)
    ratio = r[1] / r[0]
    for t in (0.1, 0.5, 0.9, 1.0, 1.7, 4.0):
        mc = (ratio <= t).mean()
        assert abs(ratio_cdf(t) - mc) < 4 * np.sqrt(mc * (1 - mc) / ratio.size) + 1e-6


def test_toner_bacon_ontic_table_reaches_tsirelson() -> None:
    m = models.get("toner-bacon")
    table = m.ontic_table()
    s = np.abs(chsh_values(table.behaviour())).max()
    assert abs(s - TSIRELSON) < 4 * m.ontic_tolerance  # quadrature, documented bound
    assert np.abs(chsh_values(m.behaviour())).max() == pytest.approx(TSIRELSON, abs=1e-12)
    # lambda -> deterministic strategy: every response is 0/1, probabilities sum to 1
    assert set(np.unique(table.response.values[:, :, :-1])) <= {0.0, 1.0}
    assert table.p_lambda.values[0, 0].sum() == pytest.approx(1.0, abs=1e-12)


def test_toner_bacon_sampler_reproduces_the_singlet() -> None:
    s, se = sample_s(models.get("toner-bacon"), 100_000, seed=4)
    assert abs(s - TSIRELSON) < 4 * se


def test_toner_bacon_quadrature_converges() -> None:
    """Doubling the nodes changes the table by less than the declared bound."""
    off = {"offset_a": np.array([0.03, -0.04]), "offset_b": np.array([0.05, 0.01])}
    coarse = models.get("toner-bacon", nodes=24, **off)
    fine = models.get("toner-bacon", nodes=48, **off)
    exact = fine.behaviour()
    err_coarse = np.abs(coarse.ontic_table().behaviour() - exact).max()
    err_fine = np.abs(fine.ontic_table().behaviour() - exact).max()
    assert err_fine < fine.ontic_tolerance
    assert err_fine < err_coarse


def test_toner_bacon_classification() -> None:
    m = models.get("toner-bacon")
    r = audit(m, tol=m.ontic_tolerance)
    assert r.classification == "parameter-dependent (nonlocal)"
    assert r.no_signalling_ok
    assert r.parameter_independence_violation == pytest.approx(1.0)  # deterministic flip
    assert r.mi_bits == pytest.approx(0.0, abs=1e-9)


def test_toner_bacon_three_settings() -> None:
    m = models.get("toner-bacon", scenario=Scenario.chained(3), nodes=24)
    np.testing.assert_allclose(m.ontic_table().behaviour(), m.behaviour(), atol=1e-9)
    assert audit(m, tol=m.ontic_tolerance).classification == "parameter-dependent (nonlocal)"


def listed_strategies(
    angles_a: np.ndarray, angles_b: np.ndarray, nodes: int = 48
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The reference for ``toner_bacon_strategies``: the same quadrature with every point's
    ``K_b + 1`` strategies listed as array rows, then merged by their codes."""
    a, b = np.asarray(angles_a, float), np.asarray(angles_b, float)
    ka, kb = a.size, b.size
    lo, hi = arc_partition(a, b)
    x, w = np.polynomial.legendre.leggauss(nodes)
    half = 0.5 * (hi - lo)
    psi = (((lo + hi) / 2)[:, None] + half[:, None] * x[None, :]).ravel()
    wts = (half[:, None] * w[None, :]).ravel() / TWO_PI
    p1, p2 = (g.ravel() for g in np.meshgrid(psi, psi, indexing="ij"))
    weight = np.outer(wts, wts).ravel()
    s1 = sign(np.cos(p1[:, None] - a[None, :]))
    s2 = sign(np.cos(p2[:, None] - a[None, :]))
    c = s1 * s2
    u = np.cos(p1[:, None] - b[None, :])
    v = np.cos(p2[:, None] - b[None, :])
    thr = np.abs(u / v)  # B's answer at b flips from sgn(u) to c sgn(v) at t = |u / v|
    rank = np.argsort(np.argsort(thr, axis=1), axis=1)
    n = thr.shape[0]
    edges = np.concatenate([np.zeros((n, 1)), np.sort(thr, axis=1), np.full((n, 1), np.inf)], 1)
    cdf = np.where(np.isinf(edges), 1.0, ratio_cdf(np.where(np.isinf(edges), 0.0, edges)))
    mass = np.diff(cdf, axis=1)
    rows, probs = [], []
    for k in range(kb + 1):
        beta = np.where(
            (k <= rank)[:, None, :], sign(u)[:, None, :], c[:, :, None] * sign(v)[:, None, :]
        )
        rows.append(np.concatenate([-s1, beta.reshape(-1, ka * kb)], axis=1))
        probs.append(weight * mass[:, k])
    allrows = np.concatenate(rows)
    codes = (allrows > 0).astype(np.int64) @ (np.int64(1) << np.arange(allrows.shape[1]))
    _, first, inv = np.unique(codes, return_index=True, return_inverse=True)
    prob = np.bincount(inv.ravel(), weights=np.concatenate(probs), minlength=first.size)
    keep = prob > 0
    uniq, prob = allrows[first][keep], prob[keep]
    return prob / prob.sum(), uniq[:, :ka], uniq[:, ka:].reshape(-1, ka, kb)


def test_toner_bacon_tables_equal_the_listed_quadrature(monkeypatch) -> None:
    """``ontic_tables`` (the Numba quadrature, batched) against the loop of ``ontic_table`` on
    :func:`listed_strategies`: at prior draws (angles offset, some listing fewer strategies)
    and at the CHSH angles, the same strategies, labels and order, the same numbers to
    round-off, the same audit; and the behaviour within ``ontic_tolerance`` of the singlet."""
    model = models.get("toner-bacon")
    values = prior_draws(model, 12, seed=20280)
    for name in ("offset_a", "offset_b"):  # one more draw: no offsets, the CHSH angles
        values[name] = np.concatenate([values[name], np.zeros((1, 2))])
    values["visibility"] = np.append(values["visibility"], 1.0)
    stack = model.ontic_tables(values)
    tables = loop(model, values)
    monkeypatch.setattr(nonlocal_, "toner_bacon_strategies", listed_strategies)
    listed = loop(model, values)
    listed_stack = HiddenVariableModel.ontic_tables(model, values)  # the base class's loop
    assert len({t.n_lambda for t in listed}) > 1  # the padding is exercised
    assert stack.lam_labels == listed_stack.lam_labels
    np.testing.assert_array_equal(stack.response_values, listed_stack.response_values)
    np.testing.assert_allclose(stack.p_lambda_values, listed_stack.p_lambda_values, atol=1e-12)
    for i, (table, want) in enumerate(zip(tables, listed, strict=True)):
        assert table.lam_labels == want.lam_labels
        np.testing.assert_array_equal(table.response_values, want.response_values)
        np.testing.assert_allclose(table.p_lambda_values, want.p_lambda_values, atol=1e-12)
        exact = model.behaviour({k: v[i] for k, v in values.items()})
        assert np.abs(stack[i].behaviour() - exact).max() < model.ontic_tolerance
    assert_same_audit(audit_draws(stack), audit_draws(listed_stack))


def test_toner_bacon_tables_keep_shared_labels_and_a_redefined_table() -> None:
    """Draws of one set of angles list the same strategies: the stack keeps their labels. A
    subclass that redefines ``ontic_table`` gets its own tables (the base class's loop)."""
    model = models.get("toner-bacon", nodes=8, offset_a=np.array([0.02, -0.01]))
    stack = model.ontic_tables({"visibility": np.array([0.6, 0.9])})
    assert stack.lam_labels == model.ontic_table().lam_labels
    np.testing.assert_allclose(stack.p_lambda_values[:, 0, 0, -1], [0.4, 0.1], rtol=1e-12)

    class OnlyNoise(TonerBacon):
        name = "test-toner-bacon-only-noise"

        def ontic_table(self, params=None) -> OnticTable:
            table = super().ontic_table(params)
            p = np.zeros_like(table.p_lambda_values)
            p[:, :, -1] = 1.0
            return OnticTable(p, table.response_values, self.scenario, table.lam_labels)

    own = OnlyNoise(nodes=8).ontic_tables({"visibility": np.array([0.6, 0.9])})
    np.testing.assert_array_equal(own.p_lambda_values[:, :, :, -1], 1.0)


# -- no-signalling ----------------------------------------------------------------------------
def test_pr_boxes_reach_four_and_are_no_signalling() -> None:
    boxes, _ = pr_boxes()
    for box in boxes:
        assert np.abs(chsh_values(box)).max() == pytest.approx(4.0)
        np.testing.assert_allclose(box.sum(axis=3), 0.5)  # A's marginals fair
        np.testing.assert_allclose(box.sum(axis=2), 0.5)  # B's marginals fair


def test_no_signalling_pr_component() -> None:
    w = np.zeros(24)
    w[16] = 1.0
    m = models.get("no-signalling", weights=w)
    assert np.abs(chsh_values(m.behaviour())).max() == pytest.approx(4.0)
    s, _se = sample_s(m, 100_000, seed=5)
    assert s == pytest.approx(4.0)  # deterministic parity: no sampling error
    w = np.full(24, 0.01)
    w[18] += 1 - w.sum()
    r = audit(models.get("no-signalling", weights=w))
    assert r.classification == "outcome-dependent (nonlocal)"
    assert r.S > TSIRELSON
    assert r.no_signalling_ok


def test_no_signalling_local_only_is_local() -> None:
    w = np.zeros(24)
    w[:16] = np.random.default_rng(2).dirichlet(np.ones(16))
    r = audit(models.get("no-signalling", weights=w))
    assert r.classification == "local & measurement-independent"


def test_no_signalling_rejects_more_settings() -> None:
    with pytest.raises(ValueError, match="2 settings per party only"):
        models.get("no-signalling", scenario=Scenario.chained(3))


def test_no_signalling_probit_weights_are_exactly_dirichlet() -> None:
    """The normal-quantile form keeps the prior Dirichlet(ones(24)) (so its evidence): each
    marginal weight is Beta(1, 23), and the start values map back to the weights."""
    import pymc as pm
    from pymc.initial_point import make_initial_point_fn
    from scipy import stats

    m = models.get("no-signalling")
    assert m.parameters["weights"].prior_repr == "Dirichlet(ones(24))"
    with pm.Model() as pmodel:
        w = m.prior_variables()["weights"]
    draws = pm.draw(w, draws=20_000, random_seed=0)
    np.testing.assert_allclose(draws.sum(axis=1), 1.0, atol=1e-12)
    np.testing.assert_allclose(draws.mean(axis=0), 1 / 24, rtol=0.05)
    for k in (0, 17):
        assert stats.kstest(draws[:, k], stats.beta(1, 23).cdf).pvalue > 1e-3
    target = np.random.default_rng(3).dirichlet(np.ones(24))
    target[5] = 0.0
    target /= target.sum()
    start = m.free_values(m.params({"weights": target}))
    assert set(start) == {"weights_z"}
    point = make_initial_point_fn(model=pmodel, overrides=start, jitter_rvs=set())(0)
    fn = pmodel.compile_fn(pmodel["weights"], inputs=[pmodel["weights_z"]], point_fn=False)
    np.testing.assert_allclose(fn(point["weights_z"]), target, atol=1e-8)


def test_no_signalling_keeps_its_dirichlet_prior_and_declares_a_dense_metric() -> None:
    """The divergence fix keeps the prior (evidence and LOO unchanged) and adds a dense metric."""
    m = models.get("no-signalling")
    assert m.mass_matrix == "full"
    assert m.parameters["weights"].prior_repr == "Dirichlet(ones(24))"
    assert models.get("quantum-singlet").mass_matrix == "diag"  # the default
    from bellmodels.models.nonlocal_ import NoSignalling

    with pytest.raises(TypeError, match="mass_matrix"):
        type("Dense", (NoSignalling,), {"mass_matrix": "dense"})


def test_fit_adapts_the_mass_matrix_the_model_declares(monkeypatch) -> None:
    """inference.fit turns ``mass_matrix = "full"`` into PyMC's ``jitter+adapt_full``."""
    import pymc as pm

    import bellmodels as bm

    seen: list[str] = []

    class Stop(Exception):
        pass

    def fake_sample(*args, **kwargs):
        seen.append(kwargs["init"])
        raise Stop

    monkeypatch.setattr(pm, "sample", fake_sample)
    counts = bm.simulate_singlet(Scenario.chsh(), n_trials=500, seed=0).counts()
    for name in ("no-signalling", "local-polytope"):
        with pytest.raises(Stop):
            bm.fit(name, counts, draws=5, tune=5, chains=1, seed=0, sampler="pymc")
    assert seen == ["jitter+adapt_full", "jitter+adapt_diag"]


@pytest.mark.slow  # one main-job fit: a few minutes on 2 cores
def test_no_signalling_main_job_fit_has_no_divergence_for_seed_3() -> None:
    """The main job's no-signalling fit (100,000 singlet trials, 2 x 1,500 draws after 500
    tuning steps) had 3 divergent transitions for inference.seed = 3 with log-scale weights and
    a diagonal metric; with normal-quantile weights and a dense metric it must have none and pass
    the gate with the 1.25x ESS margin."""
    import bellmodels as bm
    from bellmodels import inference

    counts = bm.simulate_singlet(Scenario.chsh(), n_trials=100_000, seed=0).counts()
    idata = inference.fit("no-signalling", counts, draws=1500, tune=500, chains=2, seed=3, cores=1)
    assert '"mass_matrix": "full"' in idata.attrs["sampler_settings"]
    diag = inference.diagnostics(idata, ess_min=1.25 * inference.ESS_MIN)
    assert diag["divergences"] == 0
    assert diag["ok"], diag["reasons"]
