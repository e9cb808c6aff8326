"""p-values of local realism that stay valid when the devices have memory.

Three frequentist tests of the local-realist hypothesis on a count table, each beside the
Bayesian answer the package already gives:

- **CHSH game** (:func:`chsh_game`). A trial is *won* when the outcomes satisfy the relation the
  CHSH expression rewards at that setting pair (equal outcomes where the term has a plus sign,
  different ones where it has the minus sign, swapped if the chosen variant is negative). A
  local model wins each trial with probability at most ``omega`` given the past (3/4 for uniform
  independent settings), so the number of wins in ``n`` trials is stochastically dominated by
  Binomial(n, omega) even with memory, and p = P(Binomial(n, omega) >= k) (R. D. Gill, in
  *Mathematical Statistics and Applications: Festschrift for Constance van Eeden*, IMS Lecture
  Notes 42, 133 (2003), arXiv:quant-ph/0110137; D. Elkouss and S. Wehner, npj Quantum Inf. 2,
  16026 (2016)). For other setting probabilities ``omega`` is the largest win probability of a
  local model under them: a linear programme over the local polytope, whose optimum sits at a
  vertex, i.e. the best of the 2^(K_a + K_b) deterministic strategies (:func:`local_win_bound`).
- **Test factors** (:func:`test_factor_test`), the prediction-based ratio of Y. Zhang,
  S. Glancy and E. Knill, PRA 84, 062118 (2011), used by L. K. Shalm et al., PRL 115, 250402
  (2015): a table T(x_a, x_b, s_a, s_b) >= 0 with E[T] <= 1 for every local deterministic
  strategy under the setting distribution; the running product of T is then a test
  supermartingale and p <= 1 / prod T. T is chosen on a training split to maximise the expected
  log T under an estimate of the behaviour; its optimum is T = P_est / P_loc with P_loc the
  KL projection of P_est onto the local polytope (ZGK 2011), solved with cvxpy.
- **Likelihood ratio** (:func:`likelihood_ratio_test`) of the local polytope against the
  no-signalling polytope (R. D. Gill, arXiv:2209.00702 (2022)): G = 2 [max_NS loglik -
  max_local loglik], both maxima convex programmes (cvxpy), its p-value by parametric bootstrap
  from the best local fit (this one assumes i.i.d. trials: it is not valid with memory).

and, with ``bayesian=True``, the posterior P(S > 2) of a fitted no-signalling model and the log
Bayes factor of the local polytope against no-signalling (:func:`significance`).

Everything works on the counts: a table of 3.5e9 trials is 16 numbers here, and no per-trial
array is ever built (the training split draws hypergeometric counts per cell; log10 p is a sum
over cells of n_cell log10 T_cell).

Example
-------
>>> import bellmodels as bm
>>> r = bm.significance(bm.datasets.load("delft2015"), bootstrap=0)
>>> r.chsh_game.wins, r.chsh_game.n, round(r.chsh_game.p_value, 3)
(196, 245, 0.039)
"""

from __future__ import annotations

import itertools
import math
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from scipy import stats

from bellmodels._polytope_mle import PolytopeFit as _Fitter
from bellmodels._polytope_mle import loglik as _loglik
from bellmodels.behaviour import CHSH_MINUS_PAIRS, Behaviour
from bellmodels.data import Counts, Trials
from bellmodels.ontic import local_deterministic_strategies
from bellmodels.scenario import Scenario

_SAME = np.array([[1, 0], [0, 1]], dtype=bool)  # x_a == x_b in array order (index 0 <-> -1)


# ---------------------------------------------------------------------------------------------
# input
# ---------------------------------------------------------------------------------------------
def _as_counts(counts: Any) -> Counts:
    if isinstance(counts, Trials):
        return counts.counts()
    if not isinstance(counts, Counts):
        raise TypeError(
            f"counts must be a bellmodels Counts (or Trials), got {type(counts).__name__}"
        )
    if counts.total == 0:
        raise ValueError("counts: the table holds no trials")
    return counts


def _settings(scenario: Scenario, settings_probs: Any) -> np.ndarray:
    """The design distribution p(s_a, s_b) (default uniform), validated by the scenario."""
    try:
        return scenario.settings_distribution(settings_probs)
    except ValueError as exc:
        raise ValueError(f"settings_probs: {exc}") from None


def _strategies(scenario: Scenario) -> np.ndarray:
    """``(L, K_a, K_b, 2, 2)`` 0/1 responses of the local deterministic strategies."""
    return local_deterministic_strategies(scenario)[0]


# ---------------------------------------------------------------------------------------------
# CHSH game
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CHSHGame:
    """Result of :func:`chsh_game` (JSON keys ``wins``, ``n``, ``p_value`` plus details).

    ``win_probability_bound`` is omega, the largest win probability of a local model under
    ``settings_probs``; ``variant`` the CHSH variant k (minus sign on ``CHSH_MINUS_PAIRS[k]``)
    and ``sign`` +1 / -1 its sign; ``variant_from_data`` whether they were chosen from the data,
    in which case ``p_value_any_variant = min(1, 8 p)`` is the union bound over the 8 signed
    variants (the p-value if the variant was *not* fixed before the experiment).
    """

    wins: int
    n: int
    p_value: float
    win_probability_bound: float
    variant: int
    sign: int
    settings_a: tuple[int, int]
    settings_b: tuple[int, int]
    variant_from_data: bool
    p_value_any_variant: float


def _win_table(variant: int, sign: int) -> np.ndarray:
    """``(2, 2, 2, 2)`` bool: which outcomes win at each pair of the 2 x 2 sub-choice."""
    win = np.zeros((2, 2, 2, 2), dtype=bool)
    for i, j in itertools.product(range(2), range(2)):
        term = -1 if (i, j) == CHSH_MINUS_PAIRS[variant] else 1
        win[i, j] = _SAME if term * sign > 0 else ~_SAME
    return win


def local_win_bound(settings_probs: Any = None, variant: int = 0, sign: int = 1) -> float:
    """Largest probability that a local model wins one round of the CHSH game.

    The win probability of a local measurement-independent model is linear in its mixture of
    deterministic strategies, so its maximum over the local polytope (a linear programme) is
    attained at a vertex: the best of the 16 deterministic strategies, each scored as
    sum_s p(s) [strategy wins at s]. For uniform settings this is 3/4, the CHSH bound S <= 2
    in game form (Gill 2003; Elkouss & Wehner, npj Quantum Inf. 2, 16026 (2016)).

    Parameters
    ----------
    settings_probs
        p(s_a, s_b) of the 2 x 2 game (``(2, 2)`` joint or a tuple of marginals); default uniform.
    variant, sign
        Which CHSH variant defines a win (minus sign on ``CHSH_MINUS_PAIRS[variant]``) and its
        sign (+1, or -1 for the negated expression).

    Examples
    --------
    >>> local_win_bound()
    0.75
    >>> round(local_win_bound(([0.6, 0.4], [0.5, 0.5])), 6)      # A biased towards a
    0.8
    """
    ps = _settings(Scenario.chsh(), settings_probs)
    if variant not in range(4):
        raise ValueError(f"variant must be 0, 1, 2 or 3, got {variant!r}")
    if sign not in (1, -1):
        raise ValueError(f"sign must be +1 or -1, got {sign!r}")
    win = _win_table(variant, sign)
    resp = _strategies(Scenario.chsh())  # (16, 2, 2, 2, 2)
    scores = np.einsum("ab,labxy,abxy->l", ps, resp, win.astype(float))
    return float(scores.max())


def chsh_game(
    counts: Counts,
    settings_probs: Any = None,
    *,
    variant: int | None = None,
    sign: int | None = None,
) -> CHSHGame:
    """CHSH-game p-value of local realism, valid with memory: P(Binomial(n, omega) >= wins).

    Parameters
    ----------
    counts
        The data. With more than two settings per party the 2 x 2 sub-choice with the largest S
        is used and only its trials count (the settings distribution is then the design's,
        conditioned on that sub-choice).
    settings_probs
        The design's setting probabilities p(s_a, s_b) (on all the scenario's settings);
        default uniform. They must be the probabilities the random number generators were built
        to give, not frequencies estimated from the same data.
    variant, sign
        The CHSH variant and sign that define a win, as fixed before the experiment. Default:
        the variant and sign giving the data's S (``max_k |S_k|``); ``p_value_any_variant``
        then says what that choice costs.

    Returns
    -------
    CHSHGame

    Notes
    -----
    Validity with memory needs only that at each trial the settings are drawn with
    ``settings_probs`` independently of the past and of the hidden state; then, given the past,
    a local model wins with probability at most omega (:func:`local_win_bound`), and the sum of
    such Bernoulli indicators is stochastically smaller than Binomial(n, omega) (Gill 2003).
    The number of trials ``n`` must be fixed in advance (or by a stopping rule that does not
    look at the outcomes).

    Examples
    --------
    Hensen et al., Nature 526, 682 (2015) report 196 wins out of 245 and p = 0.039:

    >>> from bellmodels import datasets
    >>> g = chsh_game(datasets.load("delft2015"))
    >>> g.wins, g.n, round(g.p_value, 3), g.win_probability_bound
    (196, 245, 0.039, 0.75)
    """
    counts = _as_counts(counts)
    scn = counts.scenario
    ps_full = _settings(scn, settings_probs)
    b = Behaviour.from_counts(counts)
    choice = b.chsh_max()
    sa, sb = choice.settings_a, choice.settings_b
    from_data = variant is None or sign is None
    if variant is None:
        variant = int(np.argmax(np.abs(choice.values)))
    if sign is None:
        sign = 1 if choice.values[variant] >= 0 else -1
    sub = ps_full[np.ix_(list(sa), list(sb))]
    if sub.sum() <= 0:
        raise ValueError("settings_probs: the CHSH sub-choice has probability zero")
    ps = sub / sub.sum()
    omega = local_win_bound(ps, variant, sign)
    win = _win_table(variant, sign)
    n_sub = counts.values[np.ix_(list(sa), list(sb))]
    wins = int(n_sub[win].sum())
    n = int(n_sub.sum())
    p = float(stats.binom.sf(wins - 1, n, omega)) if wins > 0 else 1.0
    return CHSHGame(
        wins=wins,
        n=n,
        p_value=p,
        win_probability_bound=omega,
        variant=int(variant),
        sign=int(sign),
        settings_a=(int(sa[0]), int(sa[1])),
        settings_b=(int(sb[0]), int(sb[1])),
        variant_from_data=from_data,
        p_value_any_variant=min(1.0, 8.0 * p) if from_data else p,
    )


# ---------------------------------------------------------------------------------------------
# test factors
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TestFactorResult:
    """Result of :func:`test_factor_test` (JSON keys ``n_train``, ``n_test``, ``log10_p``).

    ``factors`` is T as a ``(K_a, K_b, 2, 2)`` nested list; ``max_local_mean`` the largest
    E[T] over the local deterministic strategies (<= 1 up to rounding); ``split`` says how the
    training trials were chosen.
    """

    __test__ = False  # not a pytest class

    n_train: int
    n_test: int
    log10_p: float
    train_fraction: float
    seed: int | None
    split: str
    factors: list[Any]
    max_local_mean: float
    expected_log10_gain_per_trial: float


def _hypergeometric(rng: np.random.Generator, good: int, bad: int, nsample: int) -> int:
    """One hypergeometric draw; by exact inversion of the CDF when numpy's limits (1e9) bind."""
    if good < 10**9 and bad < 10**9:
        return int(rng.hypergeometric(good, bad, nsample))
    return int(stats.hypergeom.ppf(rng.random(), good + bad, good, nsample))


def random_split(counts: Counts, train_fraction: float, seed: int) -> tuple[Counts, Counts]:
    """Split a count table into training and test tables as a random subset of trials would.

    Exactly ``round(train_fraction * N)`` trials are chosen uniformly at random without
    replacement, which splits the cells by a multivariate hypergeometric law, drawn one cell at
    a time from its conditional hypergeometric law (no per-trial array; exact also beyond
    numpy's 1e9 limit, by inverting scipy's hypergeometric CDF).

    Examples
    --------
    >>> from bellmodels import datasets
    >>> train, test = random_split(datasets.load("delft2015"), 0.2, seed=0)
    >>> train.total, test.total, (train.values + test.values == datasets.load("delft2015").values).all()
    (49, 196, np.True_)
    """
    if not 0.0 < float(train_fraction) < 1.0:
        raise ValueError(f"train_fraction must lie strictly between 0 and 1, got {train_fraction}")
    rng = np.random.default_rng(seed)
    flat = counts.values.ravel()
    total = int(flat.sum())
    remaining_sample = round(float(train_fraction) * total)
    remaining_pop = total
    train = np.zeros_like(flat)
    for c, cell in enumerate(flat):
        cell = int(cell)
        remaining_pop -= cell
        if remaining_sample == 0:
            break
        if remaining_pop == 0:
            train[c] = remaining_sample
            break
        k = _hypergeometric(rng, cell, remaining_pop, remaining_sample) if cell else 0
        train[c] = k
        remaining_sample -= k
    train = train.reshape(counts.values.shape)
    prov = dict(counts.provenance)
    return (
        Counts(train, counts.scenario, provenance={**prov, "split": "train"}),
        Counts(counts.values - train, counts.scenario, provenance={**prov, "split": "test"}),
    )


def optimal_test_factors(
    behaviour: np.ndarray, scenario: Scenario, settings_probs: Any = None
) -> np.ndarray:
    """Test factors T maximising E[log T] under ``behaviour``, with E_local[T] <= 1.

    The programme max_T sum_s p(s) sum_x P(x|s) log T(x, s) subject to T >= 0 and
    sum_s p(s) sum_x T(x, s) D(x|s) <= 1 for every local deterministic strategy D is the dual
    of min over local Q of the KL divergence sum_s p(s) KL(P(.|s) || Q(.|s)), and its optimum
    is T = P / Q* with Q* the KL projection (Zhang, Glancy & Knill, PRA 84, 062118 (2011)).
    Q* is solved with cvxpy; T is then divided by its largest E[T] over the deterministic
    strategies, so the constraint holds to rounding whatever the solver's tolerance.

    Parameters
    ----------
    behaviour
        ``(K_a, K_b, 2, 2)`` estimate of p(x_a, x_b | s_a, s_b), every entry positive.
    scenario
        Its scenario.
    settings_probs
        The design's setting distribution (default uniform).

    Examples
    --------
    For a noisy PR box the nearest local behaviour wins the CHSH game with probability 3/4,
    so each winning cell gets T = 0.495 / 0.375:

    >>> import numpy as np
    >>> from bellmodels import Scenario
    >>> pr = np.zeros((2, 2, 2, 2))
    >>> for i in range(2):
    ...     for j in range(2):
    ...         for x in range(2):
    ...             pr[i, j, x, x if i * j == 0 else 1 - x] = 0.5
    >>> T = optimal_test_factors(0.98 * pr + 0.005, Scenario.chsh())
    >>> bool(local_means(T, Scenario.chsh()).max() <= 1 + 1e-12), round(float(T[0, 0, 1, 1]), 2)
    (True, 1.32)
    """
    p = np.asarray(behaviour, dtype=float)
    if p.shape != scenario.shape:
        raise ValueError(f"behaviour must have shape {scenario.shape}, got {p.shape}")
    if not np.all(np.isfinite(p)) or np.any(p <= 0):
        raise ValueError("behaviour: every entry must be positive and finite (smooth it first)")
    ps = _settings(scenario, settings_probs)
    q = _Fitter(scenario, "local").fit(ps[:, :, None, None] * p)
    t = p / q
    return t / local_means(t, scenario, ps).max()


def local_means(factors: np.ndarray, scenario: Scenario, settings_probs: Any = None) -> np.ndarray:
    """E[T] under each local deterministic strategy: sum_s p(s) T(x_strategy(s), s).

    >>> import numpy as np
    >>> from bellmodels import Scenario
    >>> local_means(np.ones((2, 2, 2, 2)), Scenario.chsh()).tolist() == [1.0] * 16
    True
    """
    ps = _settings(scenario, settings_probs)
    return np.einsum("ab,labxy,abxy->l", ps, _strategies(scenario), np.asarray(factors))


def test_factor_test(
    counts: Counts | Trials,
    settings_probs: Any = None,
    *,
    train_fraction: float = 0.2,
    seed: int = 0,
    pseudo_count: float = 0.5,
) -> TestFactorResult:
    """Test-factor (prediction-based ratio) p-value bound: log10 p = -sum n_test log10 T.

    Parameters
    ----------
    counts
        A count table (split at random, see Notes) or :class:`~bellmodels.data.Trials` (split
        in time order: the first ``train_fraction`` of the trials train, the rest test).
    settings_probs
        The design's setting distribution (default uniform).
    train_fraction
        Fraction of the trials used to choose T (declared before looking at the data).
    seed
        Seed of the random split of a count table.
    pseudo_count
        Added to every training cell before the estimate (so no T is 0 on a cell the test
        trials might hit); the estimate is the no-signalling maximum-likelihood behaviour of the
        smoothed training counts.

    Returns
    -------
    TestFactorResult
        ``log10_p`` = min(0, -sum_cells n_test log10 T): p <= 1 / prod over test trials of T.

    Notes
    -----
    **What the random split assumes.** A count table has lost the order of the trials. The
    split treats the training set as a uniformly random subset of the trials, which is the
    same as assuming the trials exchangeable (for example i.i.d.): then the training counts
    are independent of the test trials' outcomes given the table's margins, T is fixed before
    the test trials are read, and prod T is a test martingale under every local model. With
    memory, the guarantee of Zhang, Glancy & Knill needs T to be chosen from trials that came
    *before* the test trials in time; a random split of a table cannot promise that (training
    trials may lie after test trials, and a local model with memory could correlate them).
    Pass :class:`~bellmodels.data.Trials` for the time-ordered split, which is valid with
    memory. The settings must be drawn with ``settings_probs`` independently of the past.

    Examples
    --------
    >>> from bellmodels import datasets
    >>> r = test_factor_test(datasets.load("vienna2015"), seed=0)
    >>> r.n_train + r.n_test == 3_502_784_150, r.log10_p < -20
    (True, True)
    """
    trials = counts if isinstance(counts, Trials) else None
    counts = _as_counts(counts)
    scn = counts.scenario
    ps = _settings(scn, settings_probs)
    if pseudo_count < 0 or not math.isfinite(pseudo_count):
        raise ValueError(f"pseudo_count must be a non-negative number, got {pseudo_count}")
    if trials is not None:
        if not 0.0 < float(train_fraction) < 1.0:
            raise ValueError(
                f"train_fraction must lie strictly between 0 and 1, got {train_fraction}"
            )
        cut = round(float(train_fraction) * len(trials))
        parts = [
            Trials(
                scn,
                trials.setting_a[sl],
                trials.setting_b[sl],
                trials.outcome_a[sl],
                trials.outcome_b[sl],
            ).counts()
            for sl in (slice(0, cut), slice(cut, None))
        ]
        train, test = parts
        split = f"time order: the first {cut} trials train"
        used_seed: int | None = None
    else:
        train, test = random_split(counts, train_fraction, seed)
        split = f"random (hypergeometric per cell, seed {seed}); assumes exchangeable trials"
        used_seed = seed
    smoothed = train.values + float(pseudo_count)
    estimate = _Fitter(scn, "no-signalling").fit(smoothed)
    estimate = np.clip(estimate, 1e-15, None)
    estimate /= estimate.sum(axis=(2, 3), keepdims=True)
    t = optimal_test_factors(estimate, scn, ps)
    n_test = test.values
    log10_t = np.log10(t)
    if np.any(np.isneginf(log10_t) & (n_test > 0)):
        log10_p = 0.0
    else:
        log10_p = min(0.0, -float(np.sum(n_test[n_test > 0] * log10_t[n_test > 0])))
    gain = float(np.sum(ps[:, :, None, None] * estimate * log10_t))
    return TestFactorResult(
        n_train=train.total,
        n_test=test.total,
        log10_p=log10_p,
        train_fraction=float(train_fraction),
        seed=used_seed,
        split=split,
        factors=t.tolist(),
        max_local_mean=float(local_means(t, scn, ps).max()),
        expected_log10_gain_per_trial=gain,
    )


test_factor_test.__test__ = False  # type: ignore[attr-defined]  # a function, not a pytest test


# ---------------------------------------------------------------------------------------------
# likelihood ratio
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LikelihoodRatioResult:
    """Result of :func:`likelihood_ratio_test` (JSON keys ``statistic``, ``p_value``,
    ``bootstrap``).

    ``p_value`` = (1 + #{G_rep >= G}) / (bootstrap + 1), so it is never below
    1 / (bootstrap + 1); ``None`` when ``bootstrap`` is 0. ``asymptotic_p_value`` =
    P(chi^2_1 >= G) / 2, the large-sample tail of a likelihood ratio whose true value sits on
    one facet of the local polytope (Chernoff, Ann. Math. Stat. 25, 573 (1954); Self & Liang,
    JASA 82, 605 (1987)): on an edge or vertex more facets are active and the tail is heavier
    (a chi-bar-square mixture up to P(chi^2_d >= G) for d facets), which is why the bootstrap
    is the p-value reported.
    """

    statistic: float
    p_value: float | None
    bootstrap: int
    seed: int | None
    exceedances: int
    asymptotic_p_value: float
    local_fit: list[Any]


def _g(n: np.ndarray, loc: _Fitter, ns: _Fitter) -> tuple[float, np.ndarray]:
    q_loc = loc.fit(n)
    q_ns = ns.fit(n)
    return max(0.0, 2.0 * (_loglik(n, q_ns) - _loglik(n, q_loc))), q_loc


def _progress(done: int, total: int) -> None:
    step = max(1, total // 20)
    if done == total or done % step == 0:
        print(f"\rbootstrap {done}/{total}", end="\n" if done == total else "", file=sys.stderr)
        sys.stderr.flush()


def likelihood_ratio_test(
    counts: Counts,
    *,
    bootstrap: int = 200,
    seed: int = 0,
    progress: bool | Callable[[int, int], None] = False,
) -> LikelihoodRatioResult:
    """Likelihood-ratio test of the local polytope against no-signalling (Gill 2022).

    G = 2 [max over no-signalling Q of loglik - max over local Q of loglik], each a concave
    maximisation of the multinomial log-likelihood (cvxpy, Clarabel), evaluated in float64 from
    the fitted behaviours. The p-value is a parametric bootstrap: ``bootstrap`` replicate tables
    drawn from the best local fit with the data's trials per setting pair (the least favourable
    local behaviour, asymptotically), each refitted.

    Unlike the CHSH game and the test factors, this p-value assumes i.i.d. trials (it is not
    valid with memory) and is approximate (the bootstrap draws from the *estimated* least
    favourable local behaviour); it is the efficient test under i.i.d. sampling, which is why
    Gill (2022) proposes it beside the martingale tests.

    Parameters
    ----------
    counts
        The data.
    bootstrap
        Number of replicates (0: statistic only). Each costs two small convex solves.
    seed
        Seed of the replicate draws.
    progress
        ``True`` prints ``bootstrap i/B`` on stderr; a callable ``f(done, total)`` is called
        instead.

    Examples
    --------
    >>> from bellmodels import datasets
    >>> r = likelihood_ratio_test(datasets.load("delft2015"), bootstrap=20, seed=1)
    >>> round(r.statistic, 2), r.bootstrap
    (3.94, 20)
    """
    counts = _as_counts(counts)
    if not isinstance(bootstrap, (int, np.integer)) or bootstrap < 0:
        raise ValueError(f"bootstrap must be a non-negative integer, got {bootstrap!r}")
    scn = counts.scenario
    n = counts.values
    if np.any(n.sum(axis=(2, 3)) == 0):
        raise ValueError("counts: every setting pair needs trials for the likelihood ratio")
    loc, ns = _Fitter(scn, "local"), _Fitter(scn, "no-signalling")
    g, q_loc = _g(n, loc, ns)
    report = _progress if progress is True else (progress or None)
    exceed = 0
    if bootstrap:
        rng = np.random.default_rng(seed)
        totals = n.sum(axis=(2, 3))
        for b in range(int(bootstrap)):
            rep = np.empty_like(n)
            for i, j in itertools.product(range(scn.n_a), range(scn.n_b)):
                rep[i, j] = rng.multinomial(int(totals[i, j]), q_loc[i, j].ravel()).reshape(2, 2)
            g_rep, _ = _g(rep, loc, ns)
            exceed += g_rep >= g - 1e-9 * max(1.0, g)
            if report:
                report(b + 1, int(bootstrap))
    return LikelihoodRatioResult(
        statistic=g,
        p_value=(1 + exceed) / (bootstrap + 1) if bootstrap else None,
        bootstrap=int(bootstrap),
        seed=seed if bootstrap else None,
        exceedances=int(exceed),
        asymptotic_p_value=float(0.5 * stats.chi2.sf(g, 1)) if g > 0 else 1.0,
        local_fit=q_loc.tolist(),
    )


# ---------------------------------------------------------------------------------------------
# Bayesian answers (optional)
# ---------------------------------------------------------------------------------------------
def log_evidence(model: str, counts: Counts, idata: Any, seed: int) -> tuple[float, float]:
    """(log evidence, its Monte Carlo error) of a fitted registered model: the one call to the
    estimator (:func:`bellmodels.inference.estimate_log_evidence`, bridge sampling on the fit's
    draws)."""
    from bellmodels.inference import estimate_log_evidence

    est = estimate_log_evidence(model, counts, idata, seed=seed)
    return est.log_evidence, est.se


def bayesian_answers(counts: Counts, seed: int = 0, draws: int = 500) -> dict[str, float | None]:
    """Posterior P(S > 2) under a fitted no-signalling model and log BF(local : no-signalling).

    Quick fits (``bm.fit`` of ``no-signalling`` and ``local-polytope`` with 2 chains of
    ``draws``); the log Bayes factor is the difference of their log evidences, with its error.
    Takes tens of seconds; not run unless asked (``significance(..., bayesian=True)``).
    """
    from bellmodels.inference import fit

    fits = {
        m: fit(m, counts, draws=draws, tune=draws, chains=2, seed=seed)
        for m in ("no-signalling", "local-polytope")
    }
    p_s = float((fits["no-signalling"].posterior["S"] > 2.0).mean())
    lz_loc, se_loc = log_evidence("local-polytope", counts, fits["local-polytope"], seed)
    lz_ns, se_ns = log_evidence("no-signalling", counts, fits["no-signalling"], seed)
    return {
        "posterior_p_s_gt_2": p_s,
        "log_bayes_factor_local_vs_ns": lz_loc - lz_ns,
        "log_bayes_factor_se": math.hypot(se_loc, se_ns),
    }


# ---------------------------------------------------------------------------------------------
# all together
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Significance:
    """Result of :func:`significance`; :meth:`to_dict` gives the JSON of ``bellmodels test``."""

    source: str
    n_trials: int
    settings_distribution: list[Any]
    chsh_game: CHSHGame
    test_factor: TestFactorResult
    likelihood_ratio: LikelihoodRatioResult
    posterior_p_s_gt_2: float | None = None
    log_bayes_factor_local_vs_ns: float | None = None
    log_bayes_factor_se: float | None = None
    notes: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (keys of issue #15 plus details).

        >>> from bellmodels import datasets
        >>> d = significance(datasets.load("delft2015"), bootstrap=0).to_dict()
        >>> sorted(d["chsh_game"])[:3], d["posterior_p_s_gt_2"]
        (['n', 'p_value', 'p_value_any_variant'], None)
        """
        d = asdict(self)
        d["notes"] = list(self.notes)
        return d

    def summary_rows(self) -> list[tuple[str, str]]:
        """(test, result) rows for a text or Markdown table.

        >>> from bellmodels import datasets
        >>> significance(datasets.load("delft2015"), bootstrap=0).summary_rows()[0][0]
        'CHSH game'
        """
        g, t, lr = self.chsh_game, self.test_factor, self.likelihood_ratio
        rows = [
            (
                "CHSH game",
                f"{g.wins} wins of {g.n} (local bound {g.win_probability_bound:.4g}), "
                f"p = {g.p_value:.3g}",
            ),
            (
                "test factors",
                f"log10 p <= {t.log10_p:.3g} ({t.n_test} test trials, {t.n_train} training)",
            ),
        ]
        lr_text = f"G = {lr.statistic:.4g}, asymptotic p = {lr.asymptotic_p_value:.3g}"
        if lr.p_value is not None:
            lr_text += f", bootstrap p = {lr.p_value:.3g} ({lr.bootstrap} replicates)"
        rows.append(("likelihood ratio (local vs NS)", lr_text))
        if self.posterior_p_s_gt_2 is not None:
            rows.append(("posterior P(S > 2)", f"{self.posterior_p_s_gt_2:.3g}"))
        if self.log_bayes_factor_local_vs_ns is not None:
            rows.append(
                (
                    "log BF (local : NS)",
                    f"{self.log_bayes_factor_local_vs_ns:.3g} ± {self.log_bayes_factor_se:.2g}",
                )
            )
        return rows

    def __str__(self) -> str:
        width = max(len(k) for k, _ in self.summary_rows())
        return "\n".join(f"{k:<{width}}  {v}" for k, v in self.summary_rows())


def significance(
    counts: Counts | Trials,
    settings_probs: Any = None,
    *,
    train_fraction: float = 0.2,
    bootstrap: int = 200,
    seed: int = 0,
    bayesian: bool = False,
    progress: bool = False,
) -> Significance:
    """p-values of local realism valid with memory: CHSH game, test factors, likelihood ratio.

    Parameters
    ----------
    counts
        A :class:`~bellmodels.data.Counts` (or :class:`~bellmodels.data.Trials`: then the
        test-factor split follows the time order).
    settings_probs
        The design's setting distribution; default uniform (the fair random bits of every
        loophole-free experiment shipped).
    train_fraction
        Training fraction of the test-factor split (:func:`test_factor_test`).
    bootstrap
        Replicates of the likelihood-ratio bootstrap (0 skips it).
    seed
        Seed of the training split and of the bootstrap.
    bayesian
        Also fit the no-signalling model and estimate the evidences (slow, see
        :func:`bayesian_answers`).
    progress
        Bootstrap progress on stderr.

    Returns
    -------
    Significance

    Examples
    --------
    >>> from bellmodels import datasets
    >>> r = significance(datasets.load("delft2015"), bootstrap=50, seed=0)
    >>> round(r.chsh_game.p_value, 3), r.likelihood_ratio.bootstrap, r.test_factor.n_test
    (0.039, 50, 196)
    """
    trials = counts if isinstance(counts, Trials) else None
    counts = _as_counts(counts)
    ps = _settings(counts.scenario, settings_probs)
    game = chsh_game(counts, ps)
    tf = test_factor_test(
        trials if trials is not None else counts, ps, train_fraction=train_fraction, seed=seed
    )
    lr = likelihood_ratio_test(counts, bootstrap=bootstrap, seed=seed, progress=progress)
    notes = []
    if game.variant_from_data:
        notes.append(
            "the CHSH variant was chosen from the data; if it was not fixed in advance use "
            f"p_value_any_variant = {game.p_value_any_variant:.3g}"
        )
    bayes: dict[str, float | None] = {}
    if bayesian:
        bayes = bayesian_answers(counts, seed=seed)
    name = counts.provenance.get("name") or counts.provenance.get("source") or "data"
    return Significance(
        source=str(name),
        n_trials=counts.total,
        settings_distribution=ps.tolist(),
        chsh_game=game,
        test_factor=tf,
        likelihood_ratio=lr,
        notes=tuple(notes),
        **bayes,  # type: ignore[arg-type]
    )


def audit_section(counts: Counts, *, as_json: bool = False) -> Any:
    """The significance block of the data-level audit (``bellmodels audit --data``).

    Without bootstrap (fast): a dict for the audit's JSON (key ``significance``) or the text
    block printed under the audit table. The one call the audit output needs.

    >>> from bellmodels import datasets
    >>> print(audit_section(datasets.load("delft2015")).splitlines()[1][:40])
    CHSH game                       196 wins
    """
    r = significance(counts, bootstrap=0)
    if as_json:
        return r.to_dict()
    return "significance (p-values of local realism valid with memory; `bellmodels test`)\n" + str(
        r
    )


def report_table(
    data_config: dict[str, Any], axes: list[dict[str, Any]]
) -> tuple[str, list[str], list[list[str]]] | None:
    """(title, header, rows) of a study report's significance table, or None.

    Only for a study on one shipped dataset (``data.source = "dataset"``, not swept); the one
    call a study report needs.

    >>> title, header, rows = report_table({"source": "dataset", "dataset": "delft2015"}, [])
    >>> title, header, rows[0][0]
    ('Significance', ['test', 'result'], 'CHSH game')
    """
    from bellmodels import datasets

    swept = any(a.get("key") == "data.dataset" for a in axes)
    if data_config.get("source") != "dataset" or swept:
        return None
    r = significance(datasets.load(str(data_config["dataset"])), bootstrap=0)
    rows = [[k, v] for k, v in r.summary_rows()]
    rows.append(
        ["command", f"`bellmodels test --data {data_config['dataset']}` (adds a bootstrap)"]
    )
    return "Significance", ["test", "result"], rows


__all__ = [
    "CHSHGame",
    "LikelihoodRatioResult",
    "Significance",
    "TestFactorResult",
    "audit_section",
    "bayesian_answers",
    "chsh_game",
    "likelihood_ratio_test",
    "local_means",
    "local_win_bound",
    "log_evidence",
    "optimal_test_factors",
    "random_split",
    "report_table",
    "significance",
    "test_factor_test",
]
