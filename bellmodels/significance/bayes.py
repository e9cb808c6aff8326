"""The Bayesian answers beside the p-values: P(S > 2) under a fitted no-signalling model and the log Bayes factor of local against no-signalling."""

from __future__ import annotations

import math

from bellmodels.data import Counts


def bayesian_answers(counts: Counts, seed: int = 0, draws: int = 500) -> dict[str, float | None]:
    """Posterior P(S > 2) under a fitted no-signalling model and log BF(local : no-signalling).

    Quick fits (``bm.fit`` of ``no-signalling`` and ``local-polytope`` with 2 chains of
    ``draws``); the log Bayes factor is the difference of their log evidences
    (:func:`bellmodels.inference.estimate_log_evidence`, its default method), with their errors
    in quadrature. Two PyMC fits and two evidences, so it runs only when asked
    (``significance(..., bayesian=True)``, ``bellmodels test --bayesian``).
    """
    from bellmodels.inference import estimate_log_evidence, fit

    fits = {
        m: fit(m, counts, draws=draws, tune=draws, chains=2, seed=seed)
        for m in ("no-signalling", "local-polytope")
    }
    p_s = float((fits["no-signalling"].posterior["S"] > 2.0).mean())
    loc, ns = (
        estimate_log_evidence(m, counts, fits[m], seed=seed)
        for m in ("local-polytope", "no-signalling")
    )
    return {
        "posterior_p_s_gt_2": p_s,
        "log_bayes_factor_local_vs_ns": loc.log_evidence - ns.log_evidence,
        "log_bayes_factor_se": math.hypot(loc.se, ns.se),
    }


__all__ = ["bayesian_answers"]
