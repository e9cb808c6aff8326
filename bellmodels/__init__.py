"""bellmodels: fit, compare and audit hidden-variable models of Bell/EPR correlations.

See ``DESIGN.md`` for the architecture. The public surface::

    import bellmodels as bm
    scn    = bm.Scenario.chsh()
    trials = bm.simulate_singlet(scn, n=100_000, seed=0)
    counts = trials.counts()
    counts = bm.read_counts("table.csv")
    counts = bm.datasets.load("delft2015")
    model  = bm.models.get("hall2010")
    report = bm.audit(model)
    idata  = bm.fit(model, counts, seed=1)
    table  = bm.compare(["local-polytope", "quantum-singlet", "rbm-weinstein2017"], counts)
    sig    = bm.significance(counts)     # p-values of local realism valid with memory
    bm.run_study("studies/weinstein2017.toml")

Names other than the core data types are imported on first use, so ``import bellmodels`` does not
import PyMC, cvxpy or matplotlib.
"""

from __future__ import annotations

import importlib
from typing import Any

from bellmodels.data import Counts, Trials
from bellmodels.ontic import OnticTable
from bellmodels.scenario import Scenario

# ``bm.significance`` is a plain function named like its module: imported here, before anything
# else can import the submodule, so the package attribute is the function whatever is imported
# later (a submodule already in sys.modules is not re-bound onto its package). No cvxpy / PyMC.
from bellmodels.significance import significance

__version__ = "0.1.0"

# names that are sub-modules themselves; every other lazy name is a function or class.
# ``audit`` and ``compare`` are callable modules (bellmodels/_callable_module.py): the import
# system would replace a same-named function by the module anyway.
_MODULES = frozenset({"datasets", "models", "plots", "audit", "compare"})

# public name -> module that defines it
_LAZY: dict[str, str] = {
    "read_counts": "bellmodels.data",
    "write_counts": "bellmodels.data",
    "simulate_singlet": "bellmodels.simulate",
    "Behaviour": "bellmodels.behaviour",
    "audit": "bellmodels.audit",
    "AuditReport": "bellmodels.audit",
    "fit": "bellmodels.inference",
    "loo": "bellmodels.inference",
    "log_evidence": "bellmodels.inference",
    "compare": "bellmodels.compare",
    "run_study": "bellmodels.study",
    "load_study": "bellmodels.study",
    "datasets": "bellmodels.datasets",
    "models": "bellmodels.models",
    "plots": "bellmodels.plots",
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'bellmodels' has no attribute {name!r}")
    module = importlib.import_module(_LAZY[name])
    value = module if name in _MODULES else getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "Counts",
    "OnticTable",
    "Scenario",
    "Trials",
    "__version__",
    "significance",
    *_LAZY,
]
