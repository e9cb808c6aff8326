"""The convergence gate (:func:`diagnostics`): R-hat, bulk and tail ESS on invariant quantities,
divergences; and, where the log evidence is known, whether the draws hold the posterior's mass
(:func:`evidence_consistency`).

Vehtari, Gelman, Simpson, Carpenter & Bürkner, "Rank-normalization, folding, and localization:
an improved R-hat", Bayesian Analysis 16, 667 (2021).
"""

from __future__ import annotations

import math
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
        out["log_lik_total"] = _log_lik_total(idata)[:, :, None]
    for name in ("mi_bits", "hall_M"):
        for group in ("posterior", "audit_posterior"):
            if _arviz.has_group(idata, group) and name in getattr(idata, group):
                v = getattr(idata, group)[name].values
                out[name] = v.reshape(*v.shape[:2], -1)
    return out


def _log_lik_total(idata: Any) -> np.ndarray:
    """``(chain, draw)``: each draw's log likelihood of all the trials (cells times counts)."""
    ll, n = _cell_arrays(idata)
    occupied = n > 0
    return (ll[:, :, occupied] * n[occupied]).sum(axis=-1)


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


def evidence_consistency(idata: Any, log_evidence: float, log_evidence_se: float) -> str | None:
    """Why the fit's draws cannot be the posterior of this log evidence, or ``None`` if they can.

    Thermodynamic integration writes ``log Z = integral_0^1 E_beta[log L] d beta`` over the
    tempered posteriors ``prior x L^beta``, and ``E_beta[log L]`` grows with ``beta`` (its
    derivative is ``Var_beta[log L]``), so ``log Z <= E_posterior[log L]``: the mean total log
    likelihood of posterior draws is never below the log evidence (the difference is
    KL(posterior || prior); Gelman & Meng, Statistical Science 13, 163 (1998)). Draws whose mean
    falls below an evidence estimated from the prior (forward SMC, nested sampling) by more than
    three combined Monte Carlo errors sit in a mode of lower likelihood than the one holding the
    posterior's mass, e.g. chains started at a local optimum of the likelihood that R-hat
    cannot see when every chain starts there. Every number read from them (ELPD, MI, S)
    describes that mode, not the posterior. Both are on the scale of the per-trial likelihood
    (the multinomial coefficient subtracted from the evidence, as
    :func:`~bellmodels.inference.estimate_log_evidence` does).

    >>> import numpy as np, xarray as xr
    >>> from bellmodels import _arviz
    >>> dims = ("setting_a", "setting_b", "outcome_a", "outcome_b")
    >>> quarter = np.broadcast_to(np.log(0.25), (2, 100, 1, 1, 2, 2))  # every draw, every cell
    >>> fit = _arviz.inference_data({
    ...     "cell_log_likelihood": xr.Dataset({"trial": (("chain", "draw", *dims), quarter)}),
    ...     "observed_data": xr.Dataset({"counts": (dims, np.full((1, 1, 2, 2), 25))}),
    ... })
    >>> evidence_consistency(fit, -140.0, 0.1) is None  # mean log L = 100 log(1/4) = -138.63
    True
    >>> print(evidence_consistency(fit, -130.0, 0.1)[:56])
    the draws' mean total log likelihood -138.63 is 8.63 nat
    """
    if not has_cells(idata):
        return None
    total = _log_lik_total(idata)
    mean = float(total.mean())
    spread = float(total.std())
    mcse = spread / math.sqrt(max(_arviz.ess(total, "mean"), 1.0)) if spread > 0 else 0.0
    err = math.hypot(mcse, log_evidence_se)
    if log_evidence - mean <= 3 * err:
        return None
    return (
        f"the draws' mean total log likelihood {mean:.2f} is {log_evidence - mean:.2f} nat below "
        f"the log evidence {log_evidence:.2f} ± {log_evidence_se:.2f}, which no posterior allows: "
        "the sampler holds a mode of lower likelihood than the one the evidence found"
    )


__all__ = ["ESS_MIN", "GATE_QUANTITIES", "RHAT_MAX", "diagnostics", "evidence_consistency"]
