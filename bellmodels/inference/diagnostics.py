"""The convergence gate (:func:`diagnostics`): R-hat, bulk and tail ESS on invariant quantities,
divergences.

Vehtari, Gelman, Simpson, Carpenter & Bürkner, "Rank-normalization, folding, and localization:
an improved R-hat", Bayesian Analysis 16, 667 (2021).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bellmodels import _arviz
from bellmodels.inference.loo import _cell_arrays, has_cells

RHAT_MAX = 1.01
ESS_MIN = 400.0
GATE_QUANTITIES = ("S", "correlators", "log_lik_total", "mi_bits", "hall_M")
"""Invariant quantities the diagnostics gate judges (never raw, possibly unidentified, weights)."""


def _gate_arrays(idata: Any) -> dict[str, np.ndarray]:
    """name -> ``(chain, draw, k)`` arrays of the invariant quantities present in the fit."""
    out: dict[str, np.ndarray] = {}
    post = idata.posterior
    for name in ("S", "correlators"):
        if name in post:
            v = post[name].values
            out[name] = v.reshape(*v.shape[:2], -1)
    if has_cells(idata):
        ll, n = _cell_arrays(idata)
        occupied = n > 0
        total = (ll[:, :, occupied] * n[occupied]).sum(axis=-1)
        out["log_lik_total"] = total[:, :, None]
    for name in ("mi_bits", "hall_M"):
        for group in ("posterior", "audit_posterior"):
            if _arviz.has_group(idata, group) and name in getattr(idata, group):
                v = getattr(idata, group)[name].values
                out[name] = v.reshape(*v.shape[:2], -1)
    return out


def diagnostics(idata: Any, *, rhat_max: float = RHAT_MAX, ess_min: float = ESS_MIN) -> dict:
    """The convergence gate: R-hat, bulk/tail ESS on invariant quantities, divergences.

    Judged on S, the correlators, the total log-likelihood and (if present) MI and Hall's M —
    quantities every parameterisation agrees on — never on raw weights (see :func:`fit` on RBM
    posteriors). Rank-normalised split R-hat must be <= ``rhat_max`` (1.01) and bulk and tail ESS
    >= ``ess_min`` (400) for every component (Vehtari et al. 2021); there must be no divergent
    transitions. Components constant over all draws (e.g. MI of a measurement-independent model)
    carry no convergence information and are skipped. MI / Hall M computed on thinned draws
    (group ``audit_posterior``) are held to the ESS bar scaled by the thinning stride.

    Returns
    -------
    dict
        ``ok`` (bool), ``rhat_max``, ``ess_bulk_min``, ``ess_tail_min``, ``divergences`` (int),
        ``reasons`` (list of str, empty when ok), ``quantities`` (names judged).

    Examples
    --------
    A fit takes seconds to minutes, so ``tests/inference/test_inference.py`` checks this::

        d = diagnostics(idata)
        d["ok"], d["reasons"]
        # -> (True, [])
    """
    arrays = _gate_arrays(idata)
    thin = int(idata.attrs.get("audit_thinning", "1")) if hasattr(idata, "attrs") else 1
    rh, eb, et = [], [], []
    reasons: list[str] = []
    judged = []
    for name, arr in arrays.items():
        bar = ess_min / thin if name in ("mi_bits", "hall_M") else ess_min
        judged.append(name)
        for k in range(arr.shape[-1]):
            x = arr[:, :, k]
            if not np.all(np.isfinite(x)):
                reasons.append(f"{name}[{k}] has non-finite draws")
                continue
            if np.ptp(x) <= 1e-12 * max(1.0, float(np.abs(x).max())):
                continue
            r = _arviz.rhat(x) if x.shape[0] > 1 or x.shape[1] >= 4 else float("nan")
            b, t = _arviz.ess(x, "bulk"), _arviz.ess(x, "tail")
            rh.append(r)
            eb.append(b)
            et.append(t)
            label = name if arr.shape[-1] == 1 else f"{name}[{k}]"
            if not (r <= rhat_max):
                reasons.append(f"R-hat of {label} is {r:.4f} > {rhat_max}")
            if not (b >= bar):
                reasons.append(f"bulk ESS of {label} is {b:.0f} < {bar:.0f}")
            if not (t >= bar):
                reasons.append(f"tail ESS of {label} is {t:.0f} < {bar:.0f}")
    div = 0
    if _arviz.has_group(idata, "sample_stats") and "diverging" in idata.sample_stats:
        div = int(np.asarray(idata.sample_stats["diverging"].values, dtype=bool).sum())
    if div:
        reasons.append(f"{div} divergent transition(s)")
    if not rh:
        reasons_extra = [] if judged else ["no invariant quantity found to judge"]
        reasons.extend(reasons_extra)
    return {
        "ok": not reasons,
        "rhat_max": float(np.nanmax(rh)) if rh else float("nan"),
        "ess_bulk_min": float(np.min(eb)) if eb else float("nan"),
        "ess_tail_min": float(np.min(et)) if et else float("nan"),
        "divergences": div,
        "reasons": reasons,
        "quantities": judged,
    }


__all__ = ["ESS_MIN", "GATE_QUANTITIES", "RHAT_MAX", "diagnostics"]
