"""The Bayesian answers beside the p-values: P(S > 2) under a fitted no-signalling model and the log Bayes factor of local against no-signalling."""

from __future__ import annotations

import math
from typing import Any

from bellmodels.data import Counts


def log_evidence(model: str, counts: Counts, idata: Any, seed: int) -> tuple[float, float]:
    """(log evidence, its Monte Carlo error) of a fitted registered model: the one call to the
    estimator (:func:`bellmodels.inference.estimate_log_evidence`, its default method)."""
    from bellmodels.inference import estimate_log_evidence

    est = estimate_log_evidence(model, counts, idata, seed=seed)
    return est.log_evidence, est.se


def bayesian_answers(counts: Counts, seed: int = 0, draws: int = 500) -> dict[str, float | None]:
    """Posterior P(S > 2) under a fitted no-signalling model and log BF(local : no-signalling).

    Quick fits (``bm.fit`` of ``no-signalling`` and ``local-polytope`` with 2 chains of
    ``draws``); the log Bayes factor is the difference of their log evidences, with its error.
    Two PyMC fits and two evidences, so it runs only when asked
    (``significance(..., bayesian=True)``, ``bellmodels test --bayesian``).
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


__all__ = [
    "bayesian_answers",
    "log_evidence",
]
