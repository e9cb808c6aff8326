"""A reference log evidence that knows nothing of a model's symmetries: importance sampling from
the +-1 prior of a Boltzmann machine, which integrates over every symmetric image of every mode
because it never looks for modes. Used where the data are few enough (about 20 trials for 1-2
hidden units) that the prior is an efficient proposal; the effective sample size it returns says
whether it was."""

from __future__ import annotations

import math

import numpy as np
from scipy.special import logsumexp
from scipy.stats import norm

import bellmodels as bm
from bellmodels.inference import _evidence_kernels as kern
from bellmodels.inference import log_multinomial_coefficient
from bellmodels.models.boltzmann.base import PRIOR_SIGMA_SPIN


def prior_importance_sampling(
    space: kern.FreeSpace, counts: bm.Counts, draws: int, chunk: int = 100_000
) -> tuple[float, float, float]:
    """log Z by importance sampling from the prior (every free variable iid Normal(0, 0.75) under
    the +-1 prior): its estimate, its standard error and its effective sample size. The draws
    are taken and weighed ``chunk`` at a time, so memory does not grow with ``draws``."""
    assert all(name.endswith("_spin") for name in space.rv_names)  # the iid +-1 prior
    rng = np.random.default_rng(0)
    lw = np.concatenate(
        [
            space.logp(z) - norm.logpdf(z, 0.0, PRIOR_SIGMA_SPIN).sum(-1)
            for z in (
                PRIOR_SIGMA_SPIN * rng.standard_normal((min(chunk, draws - i), space.dim))
                for i in range(0, draws, chunk)
            )
        ]
    )
    lw = lw - log_multinomial_coefficient(counts)
    w = np.exp(lw - lw.max())
    se = float(np.std(w) / math.sqrt(w.size) / np.mean(w))
    return float(logsumexp(lw) - math.log(lw.size)), se, float(w.sum() ** 2 / (w**2).sum())
