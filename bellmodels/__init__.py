"""bellmodels: fit, compare and audit hidden-variable models of Bell/EPR correlations.

See ``DESIGN.md`` for the architecture. The public surface::

    import bellmodels as bm
    scn = bm.Scenario.chsh()
    trials = bm.simulate_singlet(scn, n=100_000, seed=0)
    counts = trials.counts()
    report = bm.audit(counts)
"""

from __future__ import annotations

from bellmodels.data import Counts, Trials
from bellmodels.ontic import OnticTable
from bellmodels.scenario import Scenario

__version__ = "0.1.0"

__all__ = ["Counts", "OnticTable", "Scenario", "Trials", "__version__"]
