"""Training of the Boltzmann-machine models: exact ML, PCD, CD-k, the MI penalty, the frontier."""

from __future__ import annotations

import numpy as np
import pytest

from bellmodels import Counts, Scenario
from bellmodels.experiments import mi_frontier
from bellmodels.models.boltzmann import CRBM, RBM
from bellmodels.models.boltzmann.training import (
    EmpiricalData,
    kl_divergence,
    loss_and_gradient,
    mi_bits_and_gradient,
)
from bellmodels.simulate import simulate_singlet


def correlators(p: np.ndarray) -> np.ndarray:
    return p[:, :, 0, 0] + p[:, :, 1, 1] - p[:, :, 0, 1] - p[:, :, 1, 0]


@pytest.fixture(scope="module")
def singlet_counts() -> Counts:
    """Weinstein's training set: 100,000 simulated singlet trials (seed 0)."""
    return simulate_singlet(Scenario.chsh(), 100_000, seed=0).counts()


def _flat(d):
    return np.concatenate([np.ravel(d[k]) for k in d])


@pytest.mark.parametrize(
    ("cls", "objective", "kwargs"),
    [
        (RBM, "joint", {}),
        (RBM, "conditional", {}),
        (CRBM, "conditional", {}),
        (CRBM, "conditional", {"local": False}),
    ],
)
def test_gradient_matches_finite_differences(singlet_counts, cls, objective, kwargs):
    model = cls(n_hidden=3, seed=1, **kwargs)
    rng = np.random.default_rng(4)
    params = {k: rng.standard_normal(s.shape) for k, s in model.parameters.items()}
    data = EmpiricalData.from_counts(singlet_counts, model)
    beta = 0.7
    _, _, _, grads = loss_and_gradient(model, params, data, objective, beta)
    eps = 1e-6
    for name, value in params.items():
        for idx in np.ndindex(value.shape):
            up = {k: v.copy() for k, v in params.items()}
            dn = {k: v.copy() for k, v in params.items()}
            up[name][idx] += eps
            dn[name][idx] -= eps
            num = (
                loss_and_gradient(model, up, data, objective, beta)[0]
                - loss_and_gradient(model, dn, data, objective, beta)[0]
            ) / (2 * eps)
            assert grads[name][idx] == pytest.approx(num, abs=1e-7), (name, idx)


def test_mi_gradient_alone_matches_finite_differences():
    model = RBM(Scenario.chained(3), n_hidden=2, seed=0)
    arr = model.machine_arrays()
    rng = np.random.default_rng(0)
    arr = type(arr)(rng.normal(size=arr.W.shape), rng.normal(size=arr.c.shape),
                    rng.normal(size=arr.d.shape), arr.A)  # fmt: skip
    probs = ([0.2, 0.3, 0.5], [0.6, 0.2, 0.2])
    mi, grad = mi_bits_and_gradient(arr, model, probs)
    assert mi > 0
    eps = 1e-6
    for idx in np.ndindex(arr.W.shape):
        w_up, w_dn = arr.W.copy(), arr.W.copy()
        w_up[idx] += eps
        w_dn[idx] -= eps
        f_up = mi_bits_and_gradient(type(arr)(w_up, arr.c, arr.d, arr.A), model, probs, False)[0]
        f_dn = mi_bits_and_gradient(type(arr)(w_dn, arr.c, arr.d, arr.A), model, probs, False)[0]
        assert grad.W[idx] == pytest.approx((f_up - f_dn) / (2 * eps), abs=1e-7)


def test_mi_agrees_with_the_audit():
    from bellmodels.auditing import audit

    model = RBM.weinstein2017()
    mi, _ = mi_bits_and_gradient(model.machine_arrays(), model, gradient=False)
    assert mi == pytest.approx(audit(model, compute_min_mi=False).mi_bits, abs=1e-9)


def test_exact_ml_on_weinstein_training_set(singlet_counts):
    """Acceptance: KL <= 1e-3 nats and every correlator within 0.01 of the data's."""
    data_e = correlators(singlet_counts.values / singlet_counts.pair_totals()[:, :, None, None])
    for objective in ("joint", "conditional"):
        model = RBM(n_hidden=4, seed=0).train(singlet_counts, objective=objective, seed=0)
        assert model.kl_ <= 1e-3
        assert np.abs(correlators(model.behaviour()) - data_e).max() <= 0.01
        assert model.kl_ == pytest.approx(model.kl(singlet_counts, objective=objective))
        # the fitted parameters are params_ (what params() returns, usable as PyMC initial
        # values); the constructor's arguments are untouched
        np.testing.assert_array_equal(model.params()["W"], model.params_["W"])
        assert model.values == {} and model.n_hidden == 4 and model.seed == 0
        assert model.history_["loss"].size == model.n_iter_
        assert model.restarts_.size == 8
        assert model.training_["objective"] == objective


def test_exact_fit_is_reproducible_and_beats_the_published_machine(singlet_counts):
    a = RBM(seed=0).train(singlet_counts, seed=3)
    b = RBM(seed=0).train(singlet_counts, seed=3)
    np.testing.assert_array_equal(a.params()["W"], b.params()["W"])
    published = RBM.weinstein2017().kl(singlet_counts, objective="joint")
    assert a.kl_ < published / 10


def test_fit_warns_it_is_deprecated_and_trains_like_train(singlet_counts):
    """``fit`` is the Bayesian verb (bm.fit); the machines' old ML ``fit`` warns and trains."""
    trained = RBM(seed=0).train(singlet_counts, seed=3, n_restarts=1)
    old = RBM(seed=0)
    with pytest.warns(DeprecationWarning, match=r"RBM\.train"):
        returned = old.fit(singlet_counts, seed=3, n_restarts=1)
    assert returned is old
    np.testing.assert_array_equal(old.params_["W"], trained.params_["W"])


def test_crbm_fits_conditionally(singlet_counts):
    model = CRBM(seed=0).train(singlet_counts, seed=0)
    assert model.kl_ <= 1e-3
    with pytest.raises(ValueError, match="conditional"):
        CRBM().train(singlet_counts, objective="joint")


def test_trained_machine_on_exact_singlet_is_local_and_measurement_dependent():
    """Trained on (rounded) exact singlet statistics the machine is no-signalling to 1e-6."""
    from bellmodels.auditing import audit
    from bellmodels.simulate import singlet_behaviour

    scn = Scenario.chsh()
    counts = Counts(np.round(singlet_behaviour(scn) * 1e9).astype(np.int64), scn)
    model = CRBM(seed=0).train(counts, seed=1)
    report = audit(model, tol=1e-6, compute_min_mi=False, compute_min_hall_M=False)
    assert report.classification == "local & measurement-dependent"
    assert report.S == pytest.approx(2 * np.sqrt(2), abs=1e-3)
    assert report.S <= report.hall_bound


@pytest.mark.parametrize("method", ["pcd", "cd"])
def test_stochastic_methods_learn(singlet_counts, method):
    model = RBM(seed=0)
    start_kl = model.kl(singlet_counts, params={k: 0 * v for k, v in model.params().items()})
    model.train(singlet_counts, method=method, seed=0, n_iter=1500, n_chains=500, k=2)
    assert model.kl_ < 0.02 < start_kl
    assert model.history_["kl"][-1] == pytest.approx(model.kl_)


def test_mi_penalty_lowers_mi(singlet_counts):
    free = RBM(seed=0).train(singlet_counts, objective="conditional", seed=0, n_restarts=2)
    penalised = RBM(seed=0).train(
        singlet_counts, objective="conditional", mi_penalty=1.0, seed=0, n_restarts=2
    )
    assert penalised.mi_bits_ < free.mi_bits_ - 0.1
    assert penalised.loss_ == pytest.approx(penalised.kl_ + penalised.mi_bits_, rel=1e-9)
    assert penalised.kl_ > free.kl_


def test_kl_definitions(singlet_counts):
    model = RBM.weinstein2017()
    joint = kl_divergence(model, singlet_counts, objective="joint")
    cond = kl_divergence(model, singlet_counts, objective="conditional")
    q = singlet_counts.values / singlet_counts.total
    qs = q.sum(axis=(2, 3))
    p = model.behaviour()
    ps = model.settings_distribution()
    assert cond == pytest.approx(np.sum(q * np.log(q / qs[:, :, None, None] / p)), rel=1e-10)
    assert joint == pytest.approx(np.sum(q * np.log(q / (ps[:, :, None, None] * p))), rel=1e-10)
    # chain rule: joint KL = settings KL + conditional KL
    assert joint == pytest.approx(cond + np.sum(qs * np.log(qs / ps)), rel=1e-10)


def test_bad_training_input(singlet_counts):
    with pytest.raises(ValueError, match="scenario"):
        RBM(Scenario.chained(3)).train(singlet_counts)
    with pytest.raises(ValueError, match="method"):
        RBM().train(singlet_counts, method="sgd")
    with pytest.raises(ValueError, match="mi_penalty"):
        RBM().train(singlet_counts, mi_penalty=-1)
    with pytest.raises(ValueError, match="empty"):
        RBM().train(Counts(np.zeros((2, 2, 2, 2), dtype=int), Scenario.chsh()))


def test_frontier_dataset(singlet_counts):
    ds = mi_frontier(singlet_counts, [0.0, 0.3], n_hidden=4, seed=0, n_restarts=1,
                     objective="conditional")  # fmt: skip
    assert set(ds.data_vars) >= {"kl", "S", "mi_bits", "hall_M"}
    assert ds.sizes["beta"] == 2
    assert ds.mi_bits.values[1] < ds.mi_bits.values[0]
    assert 0.04 < ds.attrs["min_mi_bits"] < 0.06  # Hall (2011): ~0.046 bits for the singlet
    assert np.all(ds.mi_bits.values >= ds.attrs["min_mi_bits"] - 0.01)


def test_cli_train_rbm(tmp_path, capsys, singlet_counts):
    import argparse
    import json

    from bellmodels.cli import rbm as rbm_cli
    from bellmodels.data import write_counts

    path = tmp_path / "counts.csv"
    write_counts(singlet_counts, path)
    parser = argparse.ArgumentParser()
    rbm_cli.add_commands(parser.add_subparsers())
    args = parser.parse_args(["train-rbm", "--data", str(path), "--n-hidden", "4", "--json"])
    assert args.func(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["kl_nats"] <= 1e-3
    assert out["parameter_independence_violation"] < 1e-9
    assert out["mi_bits"] > out["min_mi_bits"]
    assert np.asarray(out["parameters"]["W"]).shape == (4, 4)
    with pytest.raises(SystemExit):
        parser.parse_args(["train-rbm", "--data", str(path), "--mi-penalty", "-1"])
