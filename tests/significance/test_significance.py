"""p-values of local realism (bellmodels.significance): exactness, validity, calibration."""

from __future__ import annotations

import itertools
import json
import math
import subprocess
import sys
from fractions import Fraction

import numpy as np
import pytest
from scipy.optimize import linprog

import bellmodels as bm
from bellmodels import Counts, Scenario, Trials, datasets
from bellmodels.behaviour import Behaviour
from bellmodels.cli import main
from bellmodels.ontic import local_deterministic_strategies
from bellmodels.significance import (
    chsh_game,
    likelihood_ratio_test,
    local_win_bound,
    optimal_test_factors,
    random_split,
    significance,
    test_factor_test,
)
from bellmodels.significance.games import _win_table
from bellmodels.simulate import singlet_behaviour

SCN = Scenario.chsh()
ALPHAS = (0.05, 0.1, 0.2)


def _exact_binomial_tail(k: int, n: int, p: Fraction) -> float:
    """P(Binomial(n, p) >= k) in exact rational arithmetic."""
    return float(sum(math.comb(n, j) * p**j * (1 - p) ** (n - j) for j in range(k, n + 1)))


def _strategy_means(t: np.ndarray, ps: np.ndarray) -> list[float]:
    """E[T] of every deterministic strategy, enumerated by hand (not via local_means)."""
    ka, kb = t.shape[:2]
    out = []
    for xa in itertools.product((0, 1), repeat=ka):
        for xb in itertools.product((0, 1), repeat=kb):
            out.append(sum(ps[i, j] * t[i, j, xa[i], xb[j]] for i in range(ka) for j in range(kb)))
    return out


def _facet_behaviour() -> np.ndarray:
    """A local behaviour on the CHSH facet S_0 = 2: the hardest local case for the tests."""
    resp = local_deterministic_strategies(SCN)[0]
    win = np.array([[1, 1], [1, -1]])  # S_0 sign pattern
    prod = np.array([[-1, 1], [1, -1]])[None, None] * -1  # x_a x_b in array order
    scores = np.einsum("ab,labxy,abxy->l", win, resp, np.broadcast_to(prod, (2, 2, 2, 2)))
    best = resp[scores == scores.max()]  # the 8 strategies with S_0 = 2
    return best.mean(axis=0)


def _draw_counts(p: np.ndarray, n: int, rng: np.random.Generator) -> Counts:
    """Counts of n i.i.d. trials with uniform settings (a multinomial per pair, no trial array)."""
    per_pair = rng.multinomial(n, np.full(4, 0.25)).reshape(2, 2)
    v = np.empty((2, 2, 2, 2), dtype=np.int64)
    for i, j in itertools.product(range(2), range(2)):
        v[i, j] = rng.multinomial(per_pair[i, j], p[i, j].ravel()).reshape(2, 2)
    return Counts(v, SCN)


def _assert_super_uniform(pvalues: np.ndarray, label: str) -> None:
    m = pvalues.size
    for a in ALPHAS:
        rate = float(np.mean(pvalues <= a))
        tol = 3.0 * math.sqrt(a * (1 - a) / m)
        assert rate <= a + tol, f"{label}: P(p <= {a}) = {rate} over {m} seeds"


# ---------------------------------------------------------------------------------------------
# CHSH game
# ---------------------------------------------------------------------------------------------
def test_delft_reproduces_published_wins_and_p_value():
    g = chsh_game(datasets.load("delft2015"))
    assert (g.wins, g.n) == (196, 245)
    assert round(g.p_value, 3) == 0.039  # Hensen et al., Nature 526, 682 (2015)
    assert g.p_value == pytest.approx(_exact_binomial_tail(196, 245, Fraction(3, 4)), rel=1e-12)
    assert (g.variant, g.sign, g.win_probability_bound) == (0, 1, 0.75)


def test_chsh_game_sign_flip_and_fixed_variant():
    # exchanging B's outcome labels negates every correlator: S_0 becomes -2.42, same wins
    c = datasets.load("delft2015")
    flipped = Counts(c.values[:, :, :, ::-1], c.scenario)
    g = chsh_game(flipped)
    assert (g.wins, g.n, g.sign) == (196, 245, -1)
    fixed = chsh_game(c, variant=0, sign=-1)  # the wrong sign fixed in advance: 49 wins
    assert fixed.wins == 49 and not fixed.variant_from_data and fixed.p_value > 0.999


def test_local_win_bound_is_the_lp_optimum():
    rng = np.random.default_rng(3)
    resp = local_deterministic_strategies(SCN)[0]
    for _ in range(5):
        ps = rng.dirichlet(np.ones(4)).reshape(2, 2)
        variant, sign = int(rng.integers(4)), int(rng.choice([-1, 1]))
        win = _win_table(variant, sign)
        # LP over mixtures r of the 16 strategies: maximise sum_s p(s) P(win | s)
        c = -np.einsum("ab,labxy,abxy->l", ps, resp, win.astype(float))
        lp = linprog(c, A_eq=np.ones((1, 16)), b_eq=[1.0], bounds=(0, None))
        assert local_win_bound(ps, variant, sign) == pytest.approx(-lp.fun, abs=1e-9)
    assert local_win_bound() == 0.75


def test_chsh_game_p_values_are_super_uniform_for_bell1964():
    # Bell's 1964 model reaches S = 2 at the CHSH angles: local data at the bound
    model = bm.models.get("bell1964")
    p = np.array([chsh_game(model.sample_trials(400, seed=s).counts()).p_value for s in range(400)])
    _assert_super_uniform(p, "bell1964")


def test_chsh_game_valid_with_memory():
    # a local model with memory: each trial's deterministic strategy is chosen from the previous
    # trial's settings and outcomes; every strategy of the S_0 facet wins with probability 3/4
    rng = np.random.default_rng(7)
    resp = local_deterministic_strategies(SCN)[0]
    win = _win_table(0, 1)
    score = np.einsum("labxy,abxy->l", resp, win.astype(float)) / 4
    best = np.flatnonzero(np.isclose(score, 0.75))
    seeds, n = 2000, 200
    state = np.zeros(seeds, dtype=np.int64)
    wins = np.zeros(seeds, dtype=np.int64)
    for _ in range(n):
        lam = best[state % best.size]
        sa, sb = rng.integers(2, size=seeds), rng.integers(2, size=seeds)
        won = win[sa, sb][np.arange(seeds), :, :]
        outcome = resp[lam, sa, sb]  # (seeds, 2, 2) one-hot
        w = (outcome * won).sum(axis=(1, 2)).astype(np.int64)
        wins += w
        state = 3 * state + 2 * sa + sb + w  # memory of the whole past
    from scipy import stats

    _assert_super_uniform(stats.binom.sf(wins - 1, n, 0.75), "memory")


# ---------------------------------------------------------------------------------------------
# test factors
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("settings", ["uniform", "biased"])
def test_test_factors_have_local_mean_at_most_one_for_every_strategy(settings):
    ps = np.full((2, 2), 0.25) if settings == "uniform" else np.outer([0.7, 0.3], [0.4, 0.6])
    singlet = singlet_behaviour(SCN, visibility=0.9)
    pr = np.zeros((2, 2, 2, 2))
    for i, j, x in itertools.product(range(2), range(2), range(2)):
        pr[i, j, x, x if i * j == 0 else 1 - x] = 0.5
    vienna = Behaviour.from_counts(datasets.load("vienna2015")).p
    rng = np.random.default_rng(0)
    noise = rng.dirichlet(np.ones(4), size=(2, 2)).reshape(2, 2, 2, 2)
    for p in (singlet, 0.9 * pr + 0.025, vienna, 0.5 * noise + 0.5 * singlet, _facet_behaviour()):
        t = optimal_test_factors(
            np.clip(p, 1e-9, None) / np.clip(p, 1e-9, None).sum(axis=(2, 3), keepdims=True), SCN, ps
        )
        assert np.all(t >= 0)
        means = _strategy_means(t, ps)
        assert len(means) == 16 and max(means) <= 1 + 1e-12


def test_test_factors_are_one_inside_the_local_polytope():
    t = optimal_test_factors(np.full((2, 2, 2, 2), 0.25), SCN)
    assert np.allclose(t, 1.0, atol=1e-6)


def test_vienna_j_and_test_factor_p_value():
    counts = datasets.load("vienna2015")
    assert counts.total == 3_502_784_150 and counts.values.dtype == np.int64
    v = counts.values / counts.pair_totals()[:, :, None, None]
    j = v[0, 0, 1, 1] - v[0, 1, 1, 0] - v[1, 0, 0, 1] - v[1, 1, 1, 1]  # P(dd|11)-P(dn|12)-...
    assert round(j, 8) == 7.27e-6
    assert bm.audit(counts, compute_min_mi=False).ch_J == pytest.approx(j, rel=1e-12)
    r = test_factor_test(counts, seed=0)
    assert r.n_train == round(0.2 * counts.total) and r.n_train + r.n_test == counts.total
    assert max(_strategy_means(np.array(r.factors), np.full((2, 2), 0.25))) <= 1 + 1e-12
    assert r.log10_p < math.log10(3.74e-31)  # stronger than the published p (see docs)


@pytest.mark.parametrize("seeds", [30, pytest.param(400, marks=pytest.mark.slow)])
def test_test_factor_p_values_are_super_uniform_on_local_data(seeds):
    rng = np.random.default_rng(11)
    p = _facet_behaviour()
    logs = np.array(
        [test_factor_test(_draw_counts(p, 2000, rng), seed=s).log10_p for s in range(seeds)]
    )
    _assert_super_uniform(10.0**logs, "test factors")


def test_random_split_is_exact_and_handles_tables_beyond_numpy_limits():
    counts = datasets.load("vienna2015")  # cells and totals beyond numpy's 1e9 limit
    train, test = random_split(counts, 0.3, seed=5)
    assert np.array_equal(train.values + test.values, counts.values)
    assert train.total == round(0.3 * counts.total)
    frac = train.values / counts.values
    assert np.allclose(frac, 0.3, atol=5 * np.sqrt(0.3 * 0.7 / counts.values.min()))
    again, _ = random_split(counts, 0.3, seed=5)
    assert again == train


def test_trials_split_in_time_order():
    trials = bm.models.get("quantum-singlet").sample_trials(4000, seed=2)
    r = test_factor_test(trials, train_fraction=0.25)
    assert (r.n_train, r.n_test, r.seed) == (1000, 3000, None)
    assert "time order" in r.split and r.log10_p < -5  # S = 2.83 on 3000 trials


# ---------------------------------------------------------------------------------------------
# likelihood ratio
# ---------------------------------------------------------------------------------------------
def test_likelihood_ratio_delft_and_reproducibility():
    c = datasets.load("delft2015")
    a = likelihood_ratio_test(c, bootstrap=30, seed=4)
    b = likelihood_ratio_test(c, bootstrap=30, seed=4)
    assert a == b and a.statistic == pytest.approx(3.9425, abs=1e-3)
    assert a.p_value is not None and 1 / 31 <= a.p_value <= 1
    fit = Behaviour(np.array(a.local_fit), SCN)
    assert fit.S <= 2 + 1e-9 and fit.no_signalling_violation() < 1e-9


def test_likelihood_ratio_is_zero_for_local_frequencies():
    c = Counts(np.full((2, 2, 2, 2), 10), SCN)
    assert likelihood_ratio_test(c, bootstrap=0).statistic == pytest.approx(0.0, abs=1e-7)


def test_likelihood_ratio_progress_goes_to_the_callback():
    seen: list[tuple[int, int]] = []
    likelihood_ratio_test(
        datasets.load("delft2015"), bootstrap=3, progressbar=lambda d, t: seen.append((d, t))
    )
    assert seen == [(1, 3), (2, 3), (3, 3)]


def _facet_lr_p_values(seed: int, tables: int, bootstrap: int) -> np.ndarray:
    """Likelihood-ratio p-values of ``tables`` local tables of 1,000 trials on the facet S = 2."""
    rng = np.random.default_rng(seed)
    p = _facet_behaviour()
    return np.array(
        [
            likelihood_ratio_test(_draw_counts(p, 1000, rng), bootstrap=bootstrap, seed=s).p_value
            for s in range(tables)
        ]
    )


@pytest.mark.slow
def test_likelihood_ratio_p_values_are_super_uniform_on_local_data():
    _assert_super_uniform(_facet_lr_p_values(seed=13, tables=150, bootstrap=19), "likelihood ratio")


def test_likelihood_ratio_calibration_small():
    # the fast version of the slow test above: 10 local tables on the facet, 9 replicates each
    pv = _facet_lr_p_values(seed=17, tables=10, bootstrap=9)
    assert np.all((pv >= 0.1) & (pv <= 1.0))  # (1 + k) / 10
    assert np.mean(pv <= 0.2) <= 0.2 + 3 * math.sqrt(0.16 / 10)


# ---------------------------------------------------------------------------------------------
# together: JSON, CLI, memory, errors
# ---------------------------------------------------------------------------------------------
def test_json_keys():
    d = json.loads(json.dumps(significance(datasets.load("delft2015"), bootstrap=5).to_dict()))
    assert {"wins", "n", "p_value"} <= set(d["chsh_game"])
    assert {"n_train", "n_test", "log10_p"} <= set(d["test_factor"])
    assert {"statistic", "p_value", "bootstrap"} <= set(d["likelihood_ratio"])
    assert d["posterior_p_s_gt_2"] is None and d["likelihood_ratio"]["bootstrap"] == 5


def test_cli_test_json(capsys):
    code = main(["test", "--data", "delft2015", "--json", "--bootstrap", "5", "--quiet"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["chsh_game"]["wins"] == 196
    assert round(out["chsh_game"]["p_value"], 3) == 0.039


def test_cli_bad_input_exits_2(capsys):
    assert main(["test", "--data", "delft2015", "--train-fraction", "1.5"]) == 2
    assert "train_fraction" in capsys.readouterr().err
    assert main(["test", "--data", "delft2015", "--setting-probs", "[[1, 0]]"]) == 2
    assert "setting_probs" in capsys.readouterr().err


def test_bad_input_names_the_field():
    c = datasets.load("delft2015")
    with pytest.raises(ValueError, match="train_fraction"):
        test_factor_test(c, train_fraction=0.0)
    with pytest.raises(ValueError, match="bootstrap"):
        likelihood_ratio_test(c, bootstrap=-1)
    with pytest.raises(ValueError, match="setting_probs"):
        chsh_game(c, [[0.5, 0.5]])
    with pytest.raises(TypeError, match="counts"):
        significance(np.ones((2, 2, 2, 2)))
    with pytest.raises(ValueError, match="variant"):
        local_win_bound(variant=4)


def test_vienna_runs_in_small_memory():
    # 3.5e9 trials as per-trial arrays would be >= 7 GB; everything here must stay on the counts
    code = (
        "import tracemalloc, bellmodels as bm\n"
        "import clarabel, scipy.special\n"
        "tracemalloc.start()\n"
        "c = bm.datasets.load('vienna2015')\n"
        "bm.audit(c)\n"
        "bm.significance(c, bootstrap=2)\n"
        "print(tracemalloc.get_traced_memory()[1])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert int(out.stdout.strip()) < 100e6  # measured: about 11 MB


def test_significance_is_a_plain_function_whatever_was_imported_first():
    code = (
        "import bellmodels.significance\n"
        "import types, bellmodels as bm\n"
        "print(callable(bm.significance), isinstance(bm.significance, types.ModuleType))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "False"]


@pytest.mark.slow
def test_bayesian_answers_on_delft():
    # measured: P(S > 2) = 0.33 (the no-signalling model's uniform prior on 24 box weights sits
    # near S = 0 and 245 events do not overcome it) and log BF(local : NS) = -4.4 +- 0.1
    r = significance(datasets.load("delft2015"), bootstrap=0, bayesian=True, seed=1)
    assert r.posterior_p_s_gt_2 is not None and 0.1 < r.posterior_p_s_gt_2 < 0.9
    assert r.log_bayes_factor_local_vs_ns is not None and r.log_bayes_factor_se is not None
    assert r.log_bayes_factor_local_vs_ns + 3 * r.log_bayes_factor_se < 0  # favours NS


def test_trials_input_equals_counts_for_the_game():
    t = Trials(SCN, [0, 0, 1, 1], [0, 1, 0, 1], [1, 1, 1, 1], [1, 1, 1, -1])
    assert chsh_game(t).wins == chsh_game(t.counts()).wins == 4


def test_audit_output_and_report_table_carry_the_significance(capsys):
    assert main(["audit", "--data", "delft2015", "--json", "--skip-min-mi"]) == 0
    sig = json.loads(capsys.readouterr().out)["significance"]
    assert sig["chsh_game"]["wins"] == 196 and sig["likelihood_ratio"]["bootstrap"] == 0
    assert main(["audit", "--data", "delft2015", "--skip-min-mi"]) == 0
    assert "196 wins of 245" in capsys.readouterr().out
    from bellmodels.significance import report_table

    title, header, rows = report_table({"source": "dataset", "dataset": "delft2015"}, [])
    assert (title, header, rows[0][0]) == ("Significance", ["test", "result"], "CHSH game")
    swept = [{"key": "data.dataset", "values": ["delft2015", "weihs1998"]}]
    assert report_table({"source": "dataset", "dataset": "delft2015"}, swept) is None
    assert report_table({"source": "simulate"}, []) is None
