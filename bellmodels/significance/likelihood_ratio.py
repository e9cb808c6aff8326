"""The likelihood ratio of the local polytope against the no-signalling polytope, with a parametric-bootstrap p-value (i.i.d. trials)."""

from __future__ import annotations

import itertools
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from bellmodels._polytope_mle import PolytopeFit as _Fitter
from bellmodels._polytope_mle import loglik as _loglik
from bellmodels._util import renamed_keywords
from bellmodels.behaviour.no_signalling import chi2_sf
from bellmodels.data import Counts
from bellmodels.significance._display import fmt_p, html_table
from bellmodels.significance._input import _as_counts


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

    def __repr__(self) -> str:
        return (
            f"LikelihoodRatioResult(G={self.statistic:.4g}, p_value={fmt_p(self.p_value)}, "
            f"bootstrap={self.bootstrap})"
        )

    def _repr_html_(self) -> str:
        return html_table(
            "likelihood ratio, local vs no-signalling",
            [
                ("G", f"{self.statistic:.4g}"),
                ("bootstrap p-value", f"{fmt_p(self.p_value)} ({self.bootstrap} replicates)"),
                ("asymptotic p-value", fmt_p(self.asymptotic_p_value)),
            ],
        )


def _g(n: np.ndarray, loc: _Fitter, ns: _Fitter) -> tuple[float, np.ndarray]:
    q_loc = loc.fit(n)
    q_ns = ns.fit(n)
    return max(0.0, 2.0 * (_loglik(n, q_ns) - _loglik(n, q_loc))), q_loc


def _progress(done: int, total: int) -> None:
    step = max(1, total // 20)
    if done == total or done % step == 0:
        print(f"\rbootstrap {done}/{total}", end="\n" if done == total else "", file=sys.stderr)
        sys.stderr.flush()


@renamed_keywords(progress="progressbar")
def likelihood_ratio_test(
    counts: Counts,
    *,
    bootstrap: int = 200,
    seed: int = 0,
    progressbar: bool | Callable[[int, int], None] = False,
) -> LikelihoodRatioResult:
    """Likelihood-ratio test of the local polytope against no-signalling (Gill 2022).

    G = 2 [max over no-signalling Q of loglik - max over local Q of loglik], each a concave
    maximisation of the multinomial log-likelihood (Clarabel, polished by Newton), evaluated in float64 from
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
    progressbar
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
    report = _progress if progressbar is True else (progressbar or None)
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
        asymptotic_p_value=0.5 * chi2_sf(g, 1) if g > 0 else 1.0,
        local_fit=q_loc.tolist(),
    )


__all__ = [
    "LikelihoodRatioResult",
    "likelihood_ratio_test",
]
