"""One fit, summarised once: :class:`FitSummary` and the one function that computes it.

``bm.compare``, the study worker and the report used to assemble fit -> LOO -> evidence ->
diagnostics -> S HDI -> MI / Hall M each on their own, with different keys. Now
:func:`summarize_fit` computes it and :class:`FitSummary` holds it: the LOO of the fit (exact
per-trial PSIS-LOO from the counts, Vehtari, Gelman & Gabry, Stat. Comput. 27, 1413 (2017):
:func:`bellmodels.inference.loo`), the diagnostics gate's verdict and reasons (Vehtari et al.,
Bayesian Analysis 16, 667 (2021): :func:`bellmodels.inference.diagnostics`), the log evidence
(:class:`~bellmodels.inference.EvidenceEstimate`), the posterior mean and highest-density
interval of S, the posterior means of MI and Hall's M (Hall, PRL 105, 250404 (2010)) and the
posterior's most common classification. :meth:`FitSummary.to_dict` is what a study's task file
stores (JSON keys of ``docs/api/glossary.md``) and :meth:`FitSummary.from_dict` reads it back,
from files written by older 0.x versions too.

Example
-------
>>> s = FitSummary.from_dict({"elpd_loo": -293.5, "se": 8.7, "p_loo": 1.1,
...                           "diagnostics": {"ok": True, "reasons": []}}, model="quantum-singlet")
>>> s.diagnostics_ok, s.to_dict()["elpd_loo"], s.hdi_prob
(True, -293.5, 0.94)
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from bellmodels import _arviz
from bellmodels._evidence_methods import DEFAULT_EVIDENCE_METHOD
from bellmodels._util import RENAMED_RESULT_KEYS, to_jsonable
from bellmodels.inference.diagnostics import diagnostics as gate
from bellmodels.inference.diagnostics import evidence_consistency
from bellmodels.inference.evidence import EvidenceEstimate, estimate_log_evidence
from bellmodels.inference.fit import resolve_model
from bellmodels.inference.loo import loo as exact_loo
from bellmodels.inference.posterior_audit import invariant_draws

if TYPE_CHECKING:
    from bellmodels.data import Counts
    from bellmodels.models.base import HiddenVariableModel

HDI_PROB = 0.94
"""Probability mass of the highest-density interval of S (ArviZ's default ``hdi_prob``)."""

NAN = float("nan")

SUMMARY_KEYS: tuple[str, ...] = (
    "model", "elpd_loo", "se", "p_loo", "pareto_k_max", "loo_cells", "cell_counts",
    "diagnostics_ok", "diagnostics", "log_evidence", "log_evidence_se", "log_evidence_method",
    "evidence", "S_mean", "S_hdi", "hdi_prob", "mi_bits_mean", "hall_M_mean", "classification",
)  # fmt: skip
"""Keys of :meth:`FitSummary.to_dict`, in order (every one in ``docs/api/glossary.md``)."""


@dataclass(frozen=True)
class FitSummary:
    """The numbers of one fit that a comparison, a study and a report need.

    Attributes
    ----------
    model
        The model's registered name.
    elpd_loo, se, p_loo, pareto_k_max
        Exact leave-one-trial-out ELPD, its standard error, the effective number of parameters
        and the largest Pareto k (:func:`bellmodels.inference.loo`).
    loo_cells, cell_counts
        Per-cell pointwise LOO values (NaN where a cell has no trials) and trials per cell:
        what :func:`bellmodels.comparison.rank` ranks fits by, without reading them again.
    diagnostics
        The gate's dict (``ok``, ``reasons``, ``rhat_max``, ``ess_bulk_min``, ...).
    evidence
        The log evidence, or ``None`` when not estimated.
    S_mean, S_hdi, hdi_prob
        Posterior mean of S and its highest-density interval of mass ``hdi_prob``.
    mi_bits_mean, hall_M_mean
        Posterior means of MI(lambda; settings) in bits and of Hall's M (``None`` for a model
        without an ontic table).
    classification
        The most common classification of the audited posterior draws.
    """

    model: str
    elpd_loo: float = NAN
    se: float = NAN
    p_loo: float = NAN
    pareto_k_max: float = NAN
    loo_cells: tuple[float, ...] = ()
    cell_counts: tuple[int, ...] = ()
    diagnostics: dict[str, Any] = field(default_factory=dict)
    evidence: EvidenceEstimate | None = None
    S_mean: float = NAN
    S_hdi: tuple[float, float] | None = None
    hdi_prob: float = HDI_PROB
    mi_bits_mean: float | None = None
    hall_M_mean: float | None = None
    classification: str | None = None

    @property
    def diagnostics_ok(self) -> bool:
        """Whether the fit passed the diagnostics gate."""
        return bool(self.diagnostics.get("ok", False))

    @property
    def reasons(self) -> list[str]:
        """Why the gate failed the fit (empty when it passed)."""
        r = self.diagnostics.get("reasons") or []
        return [r] if isinstance(r, str) else [str(x) for x in r]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, keys :data:`SUMMARY_KEYS` (NaN -> ``None``); :meth:`from_dict` inverts it.

        >>> FitSummary("bell1964", elpd_loo=-10.0).to_dict()["log_evidence"] is None
        True
        """
        ev = self.evidence
        out = {
            "model": self.model,
            "elpd_loo": self.elpd_loo,
            "se": self.se,
            "p_loo": self.p_loo,
            "pareto_k_max": self.pareto_k_max,
            "loo_cells": list(self.loo_cells),
            "cell_counts": list(self.cell_counts),
            "diagnostics_ok": self.diagnostics_ok,
            "diagnostics": self.diagnostics,
            "log_evidence": ev.log_evidence if ev else None,
            "log_evidence_se": ev.se if ev else None,
            "log_evidence_method": ev.method if ev else None,
            "evidence": ev.to_dict() if ev else None,
            "S_mean": self.S_mean,
            "S_hdi": list(self.S_hdi) if self.S_hdi is not None else None,
            "hdi_prob": self.hdi_prob,
            "mi_bits_mean": self.mi_bits_mean,
            "hall_M_mean": self.hall_M_mean,
            "classification": self.classification,
        }
        return to_jsonable(out)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], model: str | None = None) -> FitSummary:
        """A summary from :meth:`to_dict`'s record, or from a task file's ``fit`` record written
        by an older 0.x version (renamed keys are read by their old name; a record without
        ``model`` takes ``model``; one without ``hdi_prob`` had the 94% interval).

        >>> old = {"elpd_se": 2.0, "elpd_loo": -5.0, "log_evidence": -7.0,
        ...        "log_evidence_se": 0.1, "log_evidence_method": "smc"}
        >>> s = FitSummary.from_dict(old, model="bell1964")
        >>> s.se, s.evidence.log_evidence, s.evidence.method
        (2.0, -7.0, 'smc')
        """
        d = {RENAMED_RESULT_KEYS.get(k, k): v for k, v in d.items()}
        name = d.get("model") or model
        if not name:
            raise ValueError("a fit summary record names no model (pass model=...)")
        diag = dict(d.get("diagnostics") or {})
        if "ok" not in diag and "diagnostics_ok" in d:
            diag["ok"] = bool(d["diagnostics_ok"])
        hdi = d.get("S_hdi")
        return cls(
            model=str(name),
            elpd_loo=_float(d.get("elpd_loo")),
            se=_float(d.get("se")),
            p_loo=_float(d.get("p_loo")),
            pareto_k_max=_float(d.get("pareto_k_max")),
            loo_cells=tuple(_float(x) for x in d.get("loo_cells") or ()),
            cell_counts=tuple(int(x) for x in d.get("cell_counts") or ()),
            diagnostics=diag,
            evidence=_evidence_from(d),
            S_mean=_float(d.get("S_mean")),
            S_hdi=(_float(hdi[0]), _float(hdi[1])) if hdi else None,
            hdi_prob=_float(d.get("hdi_prob", HDI_PROB)),
            mi_bits_mean=_optional(d.get("mi_bits_mean")),
            hall_M_mean=_optional(d.get("hall_M_mean")),
            classification=d.get("classification"),
        )

    def __repr__(self) -> str:
        """Two lines: LOO and the gate, then S, MI, M and the evidence.

        >>> FitSummary("quantum-singlet", elpd_loo=-293.5, se=8.7, p_loo=1.1, S_mean=2.7,
        ...            S_hdi=(2.5, 2.9), diagnostics={"ok": True})
        <FitSummary quantum-singlet: elpd_loo -293.50 ± 8.70, p_loo 1.10, gate passed
          S 2.700 [2.500, 2.900] (94% HDI), MI –, Hall M –, log_evidence –>
        """
        gate_text = "gate passed" if self.diagnostics_ok else "FAILS the gate"
        ev = self.evidence
        lz = f"{ev.log_evidence:.2f} ± {ev.se:.2f} ({ev.method})" if ev else "–"
        hdi = "[–]" if self.S_hdi is None else f"[{self.S_hdi[0]:.3f}, {self.S_hdi[1]:.3f}]"
        return (
            f"<FitSummary {self.model}: elpd_loo {self.elpd_loo:.2f} ± {self.se:.2f}, "
            f"p_loo {self.p_loo:.2f}, {gate_text}\n  S {self.S_mean:.3f} {hdi} "
            f"({self.hdi_prob:.0%} HDI), MI {_num(self.mi_bits_mean)}, "
            f"Hall M {_num(self.hall_M_mean)}, log_evidence {lz}>"
        )

    def _repr_html_(self) -> str:
        """A two-column table for notebooks (quantity, value)."""
        ev = self.evidence
        hdi = "–" if self.S_hdi is None else f"[{self.S_hdi[0]:.3f}, {self.S_hdi[1]:.3f}]"
        rows = [
            ("elpd_loo ± se", f"{self.elpd_loo:.2f} ± {self.se:.2f}"),
            ("p_loo", f"{self.p_loo:.2f}"),
            ("pareto_k_max", f"{self.pareto_k_max:.2f}"),
            ("diagnostics_ok", "yes" if self.diagnostics_ok else "no: " + "; ".join(self.reasons)),
            ("log_evidence", f"{ev.log_evidence:.2f} ± {ev.se:.2f} ({ev.method})" if ev else "–"),
            ("S_mean", f"{self.S_mean:.3f}"),
            (f"S_hdi ({self.hdi_prob:.0%})", hdi),
            ("mi_bits_mean", _num(self.mi_bits_mean)),
            ("hall_M_mean", _num(self.hall_M_mean)),
            ("classification", self.classification or "–"),
        ]
        body = "".join(
            f"<tr><td>{html.escape(k)}</td><td>{html.escape(v)}</td></tr>" for k, v in rows
        )
        head = f"<p>Fit summary of <code>{html.escape(self.model)}</code></p>"
        return f"<div>{head}<table>{body}</table></div>"


def _float(v: Any) -> float:
    return NAN if v is None else float(v)


def _optional(v: Any) -> float | None:
    return None if v is None else float(v)


def _num(v: float | None) -> str:
    return "–" if v is None or not math.isfinite(v) else f"{v:.3f}"


def _evidence_from(d: Mapping[str, Any]) -> EvidenceEstimate | None:
    """The evidence of a record: its full ``evidence`` entry, else the three flat keys."""
    if d.get("evidence"):
        return EvidenceEstimate.from_dict(d["evidence"])
    if d.get("log_evidence") is None:
        return None
    return EvidenceEstimate(
        float(d["log_evidence"]),
        _float(d.get("log_evidence_se")),
        str(d.get("log_evidence_method") or "given"),
        (),
        NAN,
    )


def posterior_S(idata: Any, hdi_prob: float = HDI_PROB) -> tuple[float, tuple[float, float] | None]:
    """Posterior mean of S and its highest-density interval (NaN and ``None`` without S).

    >>> fake = _arviz.from_dict(posterior={"S": np.linspace(2.0, 3.0, 101)[None, :]})
    >>> mean, (lo, hi) = posterior_S(fake, 0.5)
    >>> round(mean, 3), round(hi - lo, 2)
    (2.5, 0.5)
    """
    post = _arviz.group(idata, "posterior")
    if "S" not in post:
        return NAN, None
    s = np.asarray(post["S"].values, dtype=float).ravel()
    return float(s.mean()), _arviz.hdi(s, hdi_prob)


def _gate(idata: Any, est: EvidenceEstimate | None) -> dict[str, Any]:
    """The diagnostics gate, failed also by draws below the evidence (they hold the wrong mode,
    however well their chains agree: :func:`evidence_consistency`)."""
    diag = to_jsonable(gate(idata))
    missed = None if est is None else evidence_consistency(idata, est.log_evidence, est.se)
    if missed:
        diag = diag | {"ok": False, "reasons": [*diag["reasons"], missed]}
    return diag


def summarize_fit(
    model: HiddenVariableModel | str,
    counts: Counts,
    idata: Any,
    *,
    elpd: Any = None,
    evidence: bool = True,
    evidence_method: str = DEFAULT_EVIDENCE_METHOD,
    seed: int | None = None,
    evidence_draws: int = 1000,
    evidence_chains: int = 4,
    evidence_hmc_steps: int = 8,
    cores: int = 1,
    hdi_prob: float = HDI_PROB,
    callback: Callable[[str], None] | None = None,
) -> FitSummary:
    """Summarise the fit ``idata`` of ``model`` to ``counts``: the one place this is computed.

    Parameters
    ----------
    model, counts, idata
        The model (instance or registered name), the data and its fit
        (:func:`bellmodels.inference.fit`).
    elpd
        The fit's :func:`~bellmodels.inference.loo` if already computed (it is not computed again).
    evidence, evidence_method, seed, evidence_draws, evidence_chains, evidence_hmc_steps, cores
        Whether and how to estimate the log evidence
        (:func:`~bellmodels.inference.estimate_log_evidence`; ``seed`` ``None``: the fit's).
    hdi_prob
        Mass of the highest-density interval of S (:data:`HDI_PROB`).
    callback
        Called with a line of text before each slow step (the evidence), e.g. ``print``.

    Examples
    --------
    A fit takes seconds, so ``tests/inference/test_summary.py`` checks this on a small one::

        s = summarize_fit("quantum-singlet", counts, bm.fit("quantum-singlet", counts, seed=1))
        s.elpd_loo, s.S_hdi, s.evidence.log_evidence
    """
    model = resolve_model(model, counts)
    elpd = exact_loo(idata) if elpd is None else elpd
    est = None
    if evidence:
        if callback is not None:
            callback(f"evidence of {model.name} ({evidence_method})")
        est = estimate_log_evidence(
            model,
            counts,
            idata,
            method=evidence_method,
            seed=seed,
            evidence_draws=evidence_draws,
            evidence_chains=evidence_chains,
            evidence_hmc_steps=evidence_hmc_steps,
            cores=cores,
        )
    diag = _gate(idata, est)
    s_mean, s_hdi = posterior_S(idata, hdi_prob)
    inv = invariant_draws(idata)
    means = {k: float(inv[k].mean()) if k in inv else None for k in ("mi_bits", "hall_M")}
    return FitSummary(
        model=model.name,
        elpd_loo=float(elpd["elpd_loo"]),
        se=float(elpd["se"]),
        p_loo=float(elpd["p_loo"]),
        pareto_k_max=float(np.nanmax(np.asarray(elpd["pareto_k_cells"], dtype=float))),
        loo_cells=tuple(float(x) for x in np.asarray(elpd["loo_cells"], dtype=float)),
        cell_counts=tuple(int(x) for x in np.asarray(elpd["cell_counts"])),
        diagnostics=diag,
        evidence=est,
        S_mean=s_mean,
        S_hdi=s_hdi,
        hdi_prob=hdi_prob,
        mi_bits_mean=means["mi_bits"],
        hall_M_mean=means["hall_M"],
        classification=idata.attrs.get("classification"),
    )


__all__ = ["HDI_PROB", "SUMMARY_KEYS", "FitSummary", "posterior_S", "summarize_fit"]
