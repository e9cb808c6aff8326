"""Bayesian inference for hidden-variable models on Bell-test counts.

Six rooms, re-exported here: :mod:`~bellmodels.inference.fit` (the PyMC model and
:func:`fit`), :mod:`~bellmodels.inference.loo` (exact per-trial PSIS-LOO from counts),
:mod:`~bellmodels.inference.evidence` (the log evidence: tempered SMC and bridge sampling),
:mod:`~bellmodels.inference.diagnostics` (the convergence gate),
:mod:`~bellmodels.inference.posterior_audit` (the audit of every posterior draw) and
:mod:`~bellmodels.inference.summary` (:class:`FitSummary`, the one summary of a fit).

References
----------
- Vehtari, Gelman & Gabry, Stat. Comput. 27, 1413 (2017) — PSIS-LOO.
- Vehtari, Gelman, Simpson, Carpenter & Bürkner, Bayesian Analysis 16, 667 (2021) — the R-hat /
  ESS thresholds of the gate.
- Yao, Vehtari, Simpson & Gelman, Bayesian Analysis 13, 917 (2018) — stacking weights (in
  :mod:`bellmodels.comparison`).
- Del Moral, Doucet & Jasra, JRSS B 68, 411 (2006); PyMC's ``sample_smc`` — the evidence.
"""

from __future__ import annotations

from bellmodels.inference.diagnostics import (
    ESS_MIN,
    GATE_QUANTITIES,
    RHAT_MAX,
    diagnostics,
    evidence_consistency,
)
from bellmodels.inference.evidence import (
    DEFAULT_EVIDENCE_METHOD,
    EVIDENCE_METHODS,
    EVIDENCE_SE_MAX,
    EvidenceEstimate,
    LogBayesFactor,
    estimate_log_evidence,
    evidence_reliable,
    log_bayes_factor,
    log_bayes_factors,
    log_multinomial_coefficient,
)
from bellmodels.inference.fit import P_FLOOR, build_model, fit, load_fit, resolve_model
from bellmodels.inference.loo import loo
from bellmodels.inference.posterior_audit import AUDIT_TIME_BUDGET, invariant_draws
from bellmodels.inference.samplers import SAMPLERS, available_samplers, choose_sampler
from bellmodels.inference.summary import HDI_PROB, FitSummary, summarize_fit

REMOVED = {
    "log_evidence": "estimate_log_evidence, which returns an EvidenceEstimate (.log_evidence, "
    ".se, .method, .repetitions); method='pymc-smc' is what log_evidence ran",
}
"""Public names removed in 0.x (one function per concept) -> what to use instead."""


def __getattr__(name: str) -> object:
    if name in REMOVED:
        raise AttributeError(f"bellmodels.inference.{name} was removed: use {REMOVED[name]}")
    raise AttributeError(f"module 'bellmodels.inference' has no attribute {name!r}")


__all__ = [
    "AUDIT_TIME_BUDGET",
    "DEFAULT_EVIDENCE_METHOD",
    "ESS_MIN",
    "EVIDENCE_METHODS",
    "EVIDENCE_SE_MAX",
    "GATE_QUANTITIES",
    "HDI_PROB",
    "P_FLOOR",
    "RHAT_MAX",
    "SAMPLERS",
    "EvidenceEstimate",
    "FitSummary",
    "LogBayesFactor",
    "available_samplers",
    "build_model",
    "choose_sampler",
    "diagnostics",
    "estimate_log_evidence",
    "evidence_consistency",
    "evidence_reliable",
    "fit",
    "invariant_draws",
    "load_fit",
    "log_bayes_factor",
    "log_bayes_factors",
    "log_multinomial_coefficient",
    "loo",
    "resolve_model",
    "summarize_fit",
]
