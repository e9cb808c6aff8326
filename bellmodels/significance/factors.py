"""Test factors (Zhang, Glancy & Knill 2011): a test supermartingale trained on one split of the counts and evaluated on the other."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from bellmodels._polytope_mle import PolytopeFit as _Fitter
from bellmodels.data import Counts, Trials
from bellmodels.scenario import Scenario
from bellmodels.significance._display import html_table
from bellmodels.significance._hypergeometric import hypergeometric
from bellmodels.significance._input import _as_counts, _settings, _strategies


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

    def __repr__(self) -> str:
        return (
            f"TestFactorResult(log10_p={self.log10_p:.4g}, n_test={self.n_test}, "
            f"n_train={self.n_train})"
        )

    def _repr_html_(self) -> str:
        return html_table(
            "test factors (p-value bound valid with memory)",
            [
                ("log10 p <=", f"{self.log10_p:.4g}"),
                ("test / training trials", f"{self.n_test} / {self.n_train}"),
                ("split", self.split),
                ("largest local E[T]", f"{self.max_local_mean:.6g}"),
            ],
        )


def random_split(counts: Counts, train_fraction: float, seed: int) -> tuple[Counts, Counts]:
    """Split a count table into training and test tables as a random subset of trials would.

    Exactly ``round(train_fraction * N)`` trials are chosen uniformly at random without
    replacement, which splits the cells by a multivariate hypergeometric law, drawn one cell at
    a time from its conditional hypergeometric law (the "marginals" method of numpy's
    ``multivariate_hypergeometric``; no per-trial array). Each draw is numpy's below its 10^9
    limit and Stadlober's ratio-of-uniforms sampler (HRUA, J. Comput. Appl. Math. 31, 181
    (1990)) with an accurate acceptance ratio beyond it (``_hypergeometric``), so a table of
    any size up to :data:`~bellmodels.data.MAX_COUNT` splits exactly in microseconds, and the
    same seed gives the same split.

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
        k = hypergeometric(rng, cell, remaining_pop, remaining_sample) if cell else 0
        train[c] = k
        remaining_sample -= k
    train = train.reshape(counts.values.shape)
    prov = dict(counts.provenance)
    return (
        Counts(train, counts.scenario, provenance={**prov, "split": "train"}),
        Counts(counts.values - train, counts.scenario, provenance={**prov, "split": "test"}),
    )


def optimal_test_factors(
    behaviour: np.ndarray, scenario: Scenario, setting_probs: Any = None
) -> np.ndarray:
    """Test factors T maximising E[log T] under ``behaviour``, with E_local[T] <= 1.

    The programme max_T sum_s p(s) sum_x P(x|s) log T(x, s) subject to T >= 0 and
    sum_s p(s) sum_x T(x, s) D(x|s) <= 1 for every local deterministic strategy D is the dual
    of min over local Q of the KL divergence sum_s p(s) KL(P(.|s) || Q(.|s)), and its optimum
    is T = P / Q* with Q* the KL projection (Zhang, Glancy & Knill, PRA 84, 062118 (2011)).
    Q* is solved with Clarabel; T is then divided by its largest E[T] over the deterministic
    strategies, so the constraint holds to rounding whatever the solver's tolerance.

    Parameters
    ----------
    behaviour
        ``(K_a, K_b, 2, 2)`` estimate of p(x_a, x_b | s_a, s_b), every entry positive.
    scenario
        Its scenario.
    setting_probs
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
    ps = _settings(scenario, setting_probs)
    q = _Fitter(scenario, "local").fit(ps[:, :, None, None] * p)
    t = p / q
    return t / local_means(t, scenario, ps).max()


def local_means(factors: np.ndarray, scenario: Scenario, setting_probs: Any = None) -> np.ndarray:
    """E[T] under each local deterministic strategy: sum_s p(s) T(x_strategy(s), s).

    >>> import numpy as np
    >>> from bellmodels import Scenario
    >>> local_means(np.ones((2, 2, 2, 2)), Scenario.chsh()).tolist() == [1.0] * 16
    True
    """
    ps = _settings(scenario, setting_probs)
    return np.einsum("ab,labxy,abxy->l", ps, _strategies(scenario), np.asarray(factors))


def test_factor_test(
    counts: Counts | Trials,
    setting_probs: Any = None,
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
    setting_probs
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
    memory. The settings must be drawn with ``setting_probs`` independently of the past.

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
    ps = _settings(scn, setting_probs)
    if pseudo_count < 0 or not math.isfinite(pseudo_count):
        raise ValueError(f"pseudo_count must be a non-negative number, got {pseudo_count}")
    train, test, split, used_seed = _split(counts, trials, train_fraction, seed)
    estimate = _smoothed_estimate(train, pseudo_count)
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


def _split(
    counts: Counts, trials: Trials | None, train_fraction: float, seed: int
) -> tuple[Counts, Counts, str, int | None]:
    """(training counts, test counts, how they were split, the seed used): trials split in time
    order, a count table at random (:func:`random_split`)."""
    if trials is None:
        train, test = random_split(counts, train_fraction, seed)
        split = f"random (hypergeometric per cell, seed {seed}); assumes exchangeable trials"
        return train, test, split, seed
    if not 0.0 < float(train_fraction) < 1.0:
        raise ValueError(f"train_fraction must lie strictly between 0 and 1, got {train_fraction}")
    cut = round(float(train_fraction) * len(trials))
    train, test = (
        Trials(
            counts.scenario,
            trials.setting_a[sl],
            trials.setting_b[sl],
            trials.outcome_a[sl],
            trials.outcome_b[sl],
        ).counts()
        for sl in (slice(0, cut), slice(cut, None))
    )
    return train, test, f"time order: the first {cut} trials train", None


def _smoothed_estimate(train: Counts, pseudo_count: float) -> np.ndarray:
    """The no-signalling maximum-likelihood behaviour of the training counts plus
    ``pseudo_count`` per cell, kept off zero so that no test factor is 0 where it is used."""
    estimate = _Fitter(train.scenario, "no-signalling").fit(train.values + float(pseudo_count))
    estimate = np.clip(estimate, 1e-15, None)
    return estimate / estimate.sum(axis=(2, 3), keepdims=True)


test_factor_test.__test__ = False  # type: ignore[attr-defined]  # a function, not a pytest test


__all__ = [
    "TestFactorResult",
    "local_means",
    "optimal_test_factors",
    "random_split",
    "test_factor_test",
]
