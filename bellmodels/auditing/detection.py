"""Detection efficiency and fair sampling: what a post-selected violation costs a local model.

A post-selected Bell test keeps only the pairs both detectors saw. A local model whose detection
depends on the hidden variable (and the local setting) can then reach any coincidence CHSH value
up to ``4 / eta - 2`` with equal efficiencies ``eta`` (Garg & Mermin, PRD 35, 3831 (1987);
Larsson, PRA 57, 3304 (1998)), so a coincidence violation ``S`` is out of every local model's
reach only when the efficiency exceeds ``4 / (S + 2)``: ``2 (sqrt 2 - 1) = 0.828`` for the
singlet's ``S = 2 sqrt 2``. A complete table (every trial, no detection an outcome) needs no
fair sampling; its CH/Eberhard ``J > 0`` needs efficiency above 2/3 with weakly entangled
states (Eberhard, PRA 47, R747 (1993)).

:func:`detection_measures` gives, for a model, the efficiencies it spends and how far its
coincidence probability depends on lambda and on the settings; for data, the kind of table,
the threshold its violation implies and, for a shipped dataset, which loopholes the experiment
closes (its provenance record).

>>> from bellmodels import models
>>> d = detection_measures(models.get("gisin-gisin"))
>>> d["efficiency_a"], d["efficiency_b"], d["fair_sampling"]
(0.5, 1.0, False)
>>> round(efficiency_threshold_chsh(2 * 2**0.5), 6)
0.828427
"""

from __future__ import annotations

from typing import Any

import numpy as np

EBERHARD_THRESHOLD = 2.0 / 3.0
"""Least efficiency (equal at both sides) at which a CH/Eberhard violation is possible at all,
approached with weakly entangled states (Eberhard, PRA 47, R747 (1993))."""

GARG_MERMIN_THRESHOLD = 2.0 * (np.sqrt(2.0) - 1.0)
"""Efficiency above which no local model fakes the singlet's coincidence S = 2 sqrt 2
(Garg & Mermin, PRD 35, 3831 (1987); Larsson, PRA 57, 3304 (1998))."""


def efficiency_threshold_chsh(S: float) -> float:
    """Least equal efficiency at which a post-selected CHSH value ``S`` excludes local models.

    With efficiency ``eta`` at both sides, local models reach post-selected values up to
    ``4 / eta - 2`` (Garg & Mermin 1987; Larsson 1998): the threshold is ``4 / (S + 2)``, and 1
    for ``S <= 2``.

    >>> efficiency_threshold_chsh(2.0), round(efficiency_threshold_chsh(2.73), 4)
    (1.0, 0.8457)
    """
    return float(min(1.0, 4.0 / (float(S) + 2.0)))


def max_local_chsh(eta: float) -> float:
    """The largest post-selected CHSH value a local model reaches with equal efficiency ``eta``.

    >>> max_local_chsh(1.0), round(max_local_chsh(GARG_MERMIN_THRESHOLD), 6)
    (2.0, 2.828427)
    """
    return float(min(4.0, 4.0 / float(eta) - 2.0))


def _model_measures(model: Any, params: Any, tol: float) -> dict[str, Any]:
    table = getattr(model, "table", None)
    out: dict[str, Any] = {"kind": table}
    if callable(getattr(model, "detection_profile", None)):
        p_lam, det = model.detection_profile(params)  # (L,), (K_a, K_b, L)
        live = p_lam > 1e-15
        mean = np.einsum("l,abl->ab", p_lam, det)
        spread = np.abs(det[:, :, live] - mean[:, :, None])
        out["fair_sampling_violation"] = float(spread.max()) if live.any() else 0.0
        out["coincidence_setting_dependence"] = float(np.ptp(mean))
        out["coincidence_probability"] = mean.tolist()
    elif table is None or table == "post-selected":
        # no detection stage: every pair is detected, whatever lambda and the settings
        out["fair_sampling_violation"] = 0.0
        out["coincidence_setting_dependence"] = 0.0
    if callable(getattr(model, "efficiencies", None)):
        eta_a, eta_b = model.efficiencies(params)
    else:
        eta_a = eta_b = 1.0
    out["efficiency_a"], out["efficiency_b"] = float(eta_a), float(eta_b)
    if "fair_sampling_violation" in out:
        fair = out["fair_sampling_violation"] <= tol
        out["fair_sampling"] = bool(fair and out["coincidence_setting_dependence"] <= tol)
    else:
        out["fair_sampling"] = None  # a complete table post-selects nothing
    return out


def _data_measures(counts: Any, S: float | None, ch_J: float | None) -> dict[str, Any]:
    kind = getattr(counts, "kind", None)
    prov = getattr(counts, "provenance", {}) or {}
    detections = bool(prov.get("detection_outcomes"))  # outcome +1 = a click, -1 = none
    out: dict[str, Any] = {"kind": kind}
    if kind == "post-selected" and S is not None:
        out["efficiency_threshold"] = efficiency_threshold_chsh(S)
        out["threshold_source"] = "Garg & Mermin 1987; Larsson 1998: 4 / (S + 2)"
    elif kind == "complete" and ch_J is not None and ch_J > 0 and detections:
        out["efficiency_threshold"] = EBERHARD_THRESHOLD
        out["threshold_source"] = "Eberhard 1993: 2/3 (weakly entangled states)"
    else:
        out["efficiency_threshold"] = None
    if "loopholes" in prov:
        out["loopholes"] = dict(prov["loopholes"])
    return out


def detection_measures(
    obj: Any,
    params: Any = None,
    *,
    S: float | None = None,
    ch_J: float | None = None,
    tol: float = 1e-9,
) -> dict[str, Any]:
    """Detection-efficiency and fair-sampling measures of a model or of count data.

    Model: ``kind``, ``efficiency_a`` / ``efficiency_b`` (the least detection probability
    over each party's settings; 1 for models without a detection stage),
    ``fair_sampling_violation`` (largest ``|P(both detect | lambda, s) - P(both detect | s)|``
    over supported lambda), ``coincidence_setting_dependence`` (spread of
    ``P(both detect | s)`` over setting pairs) and ``fair_sampling``; for a model of complete
    tables the fair-sampling entries are absent (``fair_sampling`` is ``None``: nothing is
    post-selected). Data: ``kind``, ``efficiency_threshold`` (from the table's ``S`` or
    ``J``) and, for a shipped dataset, ``loopholes``.

    >>> from bellmodels import datasets
    >>> d = detection_measures(datasets.load("weihs1998"), S=2.73)
    >>> d["kind"], round(d["efficiency_threshold"], 4), d["loopholes"]["detection"][:4]
    ('post-selected', 0.8457, 'open')
    """
    from bellmodels.data import Counts

    if isinstance(obj, Counts):
        return _data_measures(obj, S, ch_J)
    return _model_measures(obj, params, tol)


__all__ = [
    "EBERHARD_THRESHOLD",
    "GARG_MERMIN_THRESHOLD",
    "detection_measures",
    "efficiency_threshold_chsh",
    "max_local_chsh",
]
