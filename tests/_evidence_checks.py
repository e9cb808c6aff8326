"""Shared by the evidence tests (tests/inference/test_evidence*.py): singlet counts, and the
agreement of an estimate with an exact answer."""

from __future__ import annotations

import math

import bellmodels as bm


def singlet_counts(n: int, seed: int = 0) -> bm.Counts:
    return bm.simulate_singlet(bm.Scenario.chsh(), n_trials=n, seed=seed).counts()


def agrees(est, exact: float, extra_se: float = 0.0) -> bool:
    """Within 3 combined standard errors (and 1e-3 for round-off)."""
    return abs(est.log_evidence - exact) <= 3 * math.hypot(est.se, extra_se) + 1e-3
