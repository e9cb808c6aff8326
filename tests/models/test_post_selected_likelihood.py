"""The post-selected likelihood includes how the coincidences spread over the setting pairs.

A local model whose detection depends on the settings decides how many coincidences each setting
pair gets: with settings drawn uniformly, a coincidence falls on pair s with probability
pi(s) = D(s) / sum D, D(s) = P(both detect | s). ``build_model`` adds
sum_s n_s log(pi(s) / p(s)) to the per-pair Multinomials (zero under fair sampling). These tests
evaluate the PyMC graph at known weights and compare with the value worked out by hand.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from bellmodels import Counts, Scenario, models
from bellmodels.inference.fit import build_model
from bellmodels.models.detection import pair_spread_loglik

VALUES = np.array(
    [[[[5, 1], [2, 2]], [[3, 7], [6, 4]]], [[[9, 9], [9, 3]], [[1, 2], [3, 34]]]]
)  # 10, 20, 30, 40 coincidences per setting pair


def _at(pmodel, graph, values: dict[str, np.ndarray]) -> float:
    """``graph`` (built on the free variables) evaluated at their values in ``values``."""
    import pytensor
    import pytensor.tensor as pt

    replace = {
        rv: pt.as_tensor_variable(np.asarray(values[rv.name], dtype=rv.dtype))
        for rv in pmodel.free_RVs
    }
    return np.asarray(pytensor.graph.clone_replace(graph, replace=replace).eval())


def _loophole_point() -> tuple[object, dict[str, np.ndarray]]:
    """A's photon is detected at a always and at a' for half of the pairs: D = 1, 1, 1/2, 1/2."""
    m = models.get("local-detection-loophole", table="post-selected")
    w = np.zeros(81)
    w[m.strategy_index("++;--")] = 0.5  # detected everywhere, outcomes (+, +) / (-, -) ...
    w[m.strategy_index("-0;+-")] = 0.5  # ... A undetected at a'
    return m, {"weights": w}


def test_spread_term_has_the_value_worked_out_by_hand() -> None:
    m, point = _loophole_point()
    counts = Counts(VALUES, Scenario.chsh(), kind="post-selected")
    assert m.coincidence_rate(point).tolist() == [[1.0, 1.0], [0.5, 0.5]]
    # pi = (1/3, 1/3, 1/6, 1/6) against p = 1/4: log(4/3) for (a, .), log(2/3) for (a', .)
    want = 30 * np.log(4 / 3) + 70 * np.log(2 / 3)
    assert pair_spread_loglik(m, counts, point) == pytest.approx(want, rel=1e-12)
    pmodel = build_model(m, counts)
    free = m.free_values(point)
    # the sampler's parametrisation keeps every weight positive: zeros come back as ~1e-9
    weights = _at(pmodel, pmodel["weights"], free)
    assert weights == pytest.approx(point["weights"], abs=1e-7)
    potential = pmodel["coincidences_per_pair"]
    got = float(_at(pmodel, potential, free))
    assert got == pytest.approx(pair_spread_loglik(m, counts, {"weights": weights}), rel=1e-12)
    assert got == pytest.approx(want, rel=1e-6)
    spread = _at(pmodel, pmodel["pair_spread"], free)
    assert spread == pytest.approx(np.log([[4 / 3, 4 / 3], [2 / 3, 2 / 3]]), rel=1e-6)


def test_outcome_term_is_the_coincidence_multinomial() -> None:
    """The per-pair Multinomial reads the behaviour conditioned on both detecting."""
    m, point = _loophole_point()
    counts = Counts(VALUES, Scenario.chsh(), kind="post-selected")
    pmodel = build_model(m, counts)
    free = m.free_values(point)
    got = float(_at(pmodel, pmodel["counts"], free))
    weights = _at(pmodel, pmodel["weights"], free)  # as the sampler represents them (> 0)
    beh = np.clip(m.behaviour({"weights": weights}), 1e-12, 1.0)
    beh = beh / beh.sum(axis=(2, 3), keepdims=True)
    want = sum(
        stats.multinomial.logpmf(VALUES[i, j].ravel(), VALUES[i, j].sum(), beh[i, j].ravel())
        for i in range(2)
        for j in range(2)
    )
    assert got == pytest.approx(want, rel=1e-9)


@pytest.mark.parametrize(
    "name, options",
    [("quantum-two-qubit", {"table": "post-selected"}), ("gisin-gisin", {})],
)
def test_fair_sampling_models_add_zero(name: str, options: dict) -> None:
    """Their coincidence rate ignores the settings: the spread term is 0 at any counts."""
    m = models.get(name, **options)
    counts = Counts(VALUES, Scenario.chsh(), kind="post-selected")
    assert pair_spread_loglik(m, counts) == pytest.approx(0.0, abs=1e-9)
    pmodel = build_model(m, counts)
    potential = pmodel["coincidences_per_pair"]
    assert float(_at(pmodel, potential, m.free_values(m.params()))) == pytest.approx(0.0, abs=1e-9)


def test_complete_tables_and_models_without_detection_have_no_spread_term() -> None:
    counts = Counts(VALUES, Scenario.chsh(), kind="complete")
    for m in (models.get("local-detection-loophole", table="complete"), "quantum-singlet"):
        pmodel = build_model(m, counts)
        assert [p.name for p in pmodel.potentials] == ["counts"]  # the likelihood only
        assert "pair_spread" not in pmodel.named_vars


def test_check_catches_a_coincidence_rate_whose_forms_disagree() -> None:
    """bm.models.check compares coincidence_rate_tensor with coincidence_rate at prior draws."""
    import pytensor.tensor as pt

    from bellmodels.models.detection import LocalDetectionLoophole

    class FairTensor(LocalDetectionLoophole):
        name = "fair-tensor"

        def coincidence_rate_tensor(self, params):  # wrong: ignores the weights
            return pt.ones((2, 2))

    result = models.check(FairTensor(), draws=2, trials=2000, seed=1)
    (tensor,) = [i for i in result.items if i.name == "tensor"]
    assert (
        not tensor.passed
        and "coincidence_rate_tensor differs from coincidence_rate" in tensor.detail
    )


def test_check_catches_a_sampler_that_spreads_coincidences_unlike_its_rate() -> None:
    """A post-selected sampler must keep pairs in proportion to D(s): one that keeps every
    emitted pair's settings uniform (say, drawing the settings after detection) fails."""
    from bellmodels.models.detection import LocalDetectionLoophole

    m0 = models.get("local-detection-loophole")
    w = np.full(81, 0.02 / 81)  # inside the simplex: check evaluates the sampler's parametrisation
    w[[m0.strategy_index("++;--"), m0.strategy_index("-0;+-")]] += 0.49

    class Unfair(LocalDetectionLoophole):
        name = "unfair"

        def sample_trials(self, n, seed, setting_probs=None):
            from bellmodels import Trials

            t = super().sample_trials(4 * n, seed, setting_probs)  # its own coincidences ...
            pick = np.concatenate([np.flatnonzero(t.setting_a == k)[: n // 2] for k in (0, 1)])
            cols = (t.setting_a, t.setting_b, t.outcome_a, t.outcome_b)  # ... as many at a as at a'
            return Trials(self.scenario, *(c[pick] for c in cols))

    good = models.check(models.get("local-detection-loophole", weights=w), draws=0, trials=4000)
    assert good.ok, good.report()
    bad = models.check(Unfair(weights=w), draws=0, trials=4000)
    (sampler,) = [i for i in bad.items if i.name == "sampler"]
    assert not sampler.passed and "spread over the setting pairs" in sampler.detail
