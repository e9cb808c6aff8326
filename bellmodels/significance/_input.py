"""What every test of local realism reads first: the count table, the setting distribution and the local deterministic strategies."""

from __future__ import annotations

from typing import Any

import numpy as np

from bellmodels.data import Counts, Trials
from bellmodels.ontic import local_deterministic_strategies
from bellmodels.scenario import Scenario

_SAME = np.array([[1, 0], [0, 1]], dtype=bool)  # x_a == x_b in array order (index 0 <-> -1)


def _as_counts(counts: Any) -> Counts:
    if isinstance(counts, Trials):
        counts = counts.counts(provenance={"source": "trials"})
    if not isinstance(counts, Counts):
        raise TypeError(
            f"counts must be a bellmodels Counts (or Trials), got {type(counts).__name__}"
        )
    if counts.total == 0:
        source = counts.provenance.get("source") or "counts"
        raise ValueError(
            f"{source}: the table holds no trials (every count is 0, or only the header): "
            "there is nothing to test"
        )
    return counts


def _settings(scenario: Scenario, setting_probs: Any) -> np.ndarray:
    """The design distribution p(s_a, s_b) (default uniform), validated by the scenario."""
    try:
        return scenario.settings_distribution(setting_probs)
    except ValueError as exc:
        raise ValueError(f"setting_probs: {exc}") from None


def _strategies(scenario: Scenario) -> np.ndarray:
    """``(L, K_a, K_b, 2, 2)`` 0/1 responses of the local deterministic strategies."""
    return local_deterministic_strategies(scenario)[0]
