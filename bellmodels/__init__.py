"""bellmodels: fit, compare and audit hidden-variable models of Bell/EPR correlations.

See ``docs/architecture.md`` for the architecture. The public surface::

    import bellmodels as bm
    scn    = bm.Scenario.chsh()
    trials = bm.simulate_singlet(scn, n_trials=100_000, seed=0)
    counts = trials.counts()
    counts = bm.read_counts("table.csv")
    counts = bm.datasets.load("delft2015")
    model  = bm.models.get("hall2010")
    report = bm.audit(model)
    idata  = bm.fit(model, counts, seed=1)
    table  = bm.compare(["local-polytope", "quantum-singlet", "rbm-weinstein2017"], counts)
    sig    = bm.significance(counts)     # p-values of local realism valid with memory
    bm.run_study("weinstein2017")

Names other than the core data types are imported on first use, so ``import bellmodels`` does not
import PyMC, xarray or matplotlib.
"""

from __future__ import annotations

import importlib
import os
import sys
import types
import warnings
from collections.abc import Sequence
from typing import Any

# First, before anything can import PyMC (which imports ArviZ): ArviZ 0.2x's "undergoing a major
# refactor" FutureWarning is filtered by its message, as ``bellmodels._arviz`` does; filtered here
# without importing ``_arviz`` (it imports xarray and pandas, a second of a cold start).
warnings.filterwarnings(
    "ignore", message=r"(?s).*ArviZ is undergoing a major refactor", category=FutureWarning
)

from bellmodels._util import renamed_keywords  # noqa: E402
from bellmodels.data import Counts, Trials  # noqa: E402
from bellmodels.ontic import OnticTable  # noqa: E402
from bellmodels.scenario import Scenario  # noqa: E402

__version__ = "0.1.0"

# names that are sub-modules themselves; every other lazy name is a function or class
_MODULES = frozenset({"auditing", "comparison", "datasets", "models", "plots"})

# public name -> module that defines it (``audit`` and ``compare`` are plain functions,
# re-exported from the packages ``auditing`` and ``comparison``, as ArviZ does with az.compare)
_LAZY: dict[str, str] = {
    "read_counts": "bellmodels.data",
    "write_counts": "bellmodels.data",
    "simulate_singlet": "bellmodels.simulate",
    "Behaviour": "bellmodels.behaviour",
    "significance": "bellmodels.significance",
    "audit": "bellmodels.auditing",
    "AuditReport": "bellmodels.auditing",
    "ModelAudit": "bellmodels.auditing",
    "BehaviourAudit": "bellmodels.auditing",
    "DataAudit": "bellmodels.auditing",
    "auditing": "bellmodels.auditing",
    "fit": "bellmodels.inference",
    "loo": "bellmodels.inference",
    "FitSummary": "bellmodels.inference",
    "compare": "bellmodels.comparison",
    "comparison": "bellmodels.comparison",
    "load_study": "bellmodels.study",
    "datasets": "bellmodels.datasets",
    "models": "bellmodels.models",
    "plots": "bellmodels.plots",
}


@renamed_keywords(out="out_dir", progress="progressbar")
def run_study(
    path: str | os.PathLike[str],
    out_dir: str | os.PathLike[str] | None = None,
    *,
    report: bool = True,
    workers: int | None = None,
    dask: bool = False,
    scheduler: str | None = None,
    progressbar: bool = True,
    compile_base: str | os.PathLike[str] | None = None,
    overrides: Sequence[str] = (),
) -> Any:
    """Run a study file end to end: its tasks, the results store, then (``report``) the report.

    The one way to run a study (``bellmodels.study.run_study`` is this function). The tasks and
    the ranking at every sweep point (:func:`bellmodels.study.runner.run_study_tasks`) write
    ``out_dir/results.nc``; with ``report=True`` the report (:func:`bellmodels.report.write_report`)
    reads it and writes ``report.md``, ``report.html`` and the figures. Composed here, so that
    the study never imports the report.

    Parameters
    ----------
    path
        The study's TOML file.
    out_dir
        Output directory (default ``out/<study name>``); re-running into it skips finished tasks.
    report
        Also write the report.
    workers, dask, scheduler, progressbar, compile_base
        Worker processes, a Dask cluster (local, or the one at ``scheduler``), the progress bar
        and the root of the per-process PyTensor compile directories
        (:func:`bellmodels.study.run_tasks`).
    overrides
        ``"section.key=value"`` settings over the file's (the CLI's ``--set``).

    Returns
    -------
    xarray.Dataset
        The aggregated results (also in ``out_dir/results.nc``).

    Examples
    --------
    >>> import bellmodels as bm

    A study takes minutes (``tests/study/test_study.py`` runs small ones)::

        ds = bm.run_study("weinstein2017")
    """
    from pathlib import Path

    from bellmodels.study.runner import run_study_tasks

    ds = run_study_tasks(
        path,
        out_dir,
        workers=workers,
        dask=dask,
        scheduler=scheduler,
        progressbar=progressbar,
        compile_base=compile_base,
        overrides=overrides,
    )
    if report:
        from bellmodels.report import write_report

        write_report(Path(out_dir) if out_dir is not None else Path("out") / ds.attrs["study"])
    return ds


_REMOVED = {
    "log_evidence": "bellmodels.inference.estimate_log_evidence (it returns an EvidenceEstimate)",
}
"""Public names removed in 0.x (one function per concept) -> what to use instead."""


def __getattr__(name: str) -> Any:
    if name in _REMOVED:
        raise AttributeError(f"bellmodels.{name} was removed: use {_REMOVED[name]}")
    if name not in _LAZY:
        raise AttributeError(f"module 'bellmodels' has no attribute {name!r}")
    module = importlib.import_module(_LAZY[name])
    value = module if name in _MODULES else getattr(module, name)
    globals()[name] = value
    return value


class _Package(types.ModuleType):
    """This package's module type: ``bm.significance`` stays the function.

    ``bm.significance`` is a plain function named like its sub-package, imported on first use
    (scipy.stats, xarray). Importing a sub-module binds it onto its package by ``setattr``; here
    that binding of ``bellmodels.significance`` stores the sub-package's function instead, so the
    attribute is the function whatever is imported first (the sub-package stays importable by
    name: ``from bellmodels.significance import chsh_game``).
    """

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "significance" and isinstance(value, types.ModuleType):
            value = value.significance
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "Counts",
    "OnticTable",
    "Scenario",
    "Trials",
    "__version__",
    "run_study",
    *_LAZY,
]
