"""The log evidence (marginal likelihood) of a model by Sequential Monte Carlo.

Del Moral, Doucet & Jasra, "Sequential Monte Carlo samplers", JRSS B 68, 411 (2006); PyMC's
``sample_smc``.
"""

from __future__ import annotations

import json
import math
import warnings
from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr
from scipy.special import gammaln

from bellmodels import _arviz
from bellmodels._util import draw_seed, versions
from bellmodels.data import Counts
from bellmodels.inference.fit import _as_counts, build_model, resolve_model

if TYPE_CHECKING:
    from bellmodels.models.base import HiddenVariableModel

EVIDENCE_SE_MAX = 1.0
"""Largest Monte Carlo error (nats) of an SMC log evidence that is used for a Bayes factor.

SMC's error estimate is the spread of independent chains; when they disagree by more than a nat
the tempering path lost the posterior (e.g. the RBM's thin ridge of 24 weights at 10^5 trials),
the spread itself is unreliable, and so is any Bayes factor formed from it.
"""


def evidence_reliable(se: float) -> bool:
    """Whether an SMC log evidence with Monte Carlo error ``se`` may enter a Bayes factor.

    >>> evidence_reliable(0.05), evidence_reliable(250.0), evidence_reliable(float("nan"))
    (True, False, False)
    """
    return bool(np.isfinite(se) and se <= EVIDENCE_SE_MAX)


def log_multinomial_coefficient(counts: Counts) -> float:
    """sum over setting pairs of log(n! / prod_c n_c!): Multinomial minus trial-sequence logp."""
    v = counts.values.astype(float)
    n = v.sum(axis=(2, 3))
    return float(gammaln(n + 1).sum() - gammaln(v + 1).sum())


def _clean_smc_stats(stats: xr.Dataset, n_chains: int) -> tuple[xr.Dataset, np.ndarray]:
    """Float arrays (dims ``chain, stage``) from SMC's ragged object stats; final log-ML/chain.

    PyMC stores the per-stage SMC statistics as object arrays in two layouts: ``(chain, stage)``
    of scalars when every chain ran the same number of tempering stages, and ``(1, chain)`` of
    per-chain lists when they did not. Both become NaN-padded float arrays.
    """
    out = {}
    final = None
    for name, da in stats.data_vars.items():
        vals = da.values
        flat = list(vals.ravel())
        if len(flat) == n_chains and all(np.ndim(v) >= 1 for v in flat):
            rows = [np.ravel(np.asarray(v, dtype=float)) for v in flat]
        else:
            rows = [np.ravel(np.asarray(list(row), dtype=float)) for row in vals]
        if len(rows) != n_chains:
            raise RuntimeError(
                f"cannot read SMC statistic {name!r}: {len(rows)} rows for {n_chains} chains"
            )
        width = max(r.size for r in rows)
        arr = np.full((n_chains, width), np.nan)
        for i, r in enumerate(rows):
            arr[i, : r.size] = r
        if name == "log_marginal_likelihood":
            final = np.array([r[~np.isnan(r)][-1] if np.any(~np.isnan(r)) else np.nan for r in arr])
        out[name] = xr.DataArray(arr, dims=("chain", "stage"))
    if final is None:
        raise RuntimeError("pm.sample_smc returned no log_marginal_likelihood")
    ds = xr.Dataset(out, coords={"chain": np.arange(n_chains)})
    ds["log_marginal_likelihood_final"] = xr.DataArray(final, dims=("chain",))
    ds.attrs = {k: str(v) for k, v in stats.attrs.items()}
    return ds, final


def log_evidence(
    model: HiddenVariableModel | str,
    counts: Counts,
    *,
    draws: int = 2000,
    chains: int = 4,
    seed: int | None = None,
    cores: int | None = 1,
) -> tuple[float, float, Any]:
    """Log marginal likelihood of the trial sequence given the settings, by SMC.

    Runs ``pm.sample_smc`` with ``chains`` independent chains; the estimate is the mean of the
    chains' final log marginal likelihoods and its Monte Carlo error their standard deviation
    divided by sqrt(chains). PyMC's Multinomial includes the multinomial coefficients
    log(n! / prod n_c!); they are subtracted so the value is the evidence of the ordered trials,
    on the same scale as the per-trial LOO (it changes no Bayes factor). The ragged
    ``sample_stats`` of SMC (object arrays) are replaced by float arrays (dims ``chain, stage``)
    and ``log_marginal_likelihood_final`` (dim ``chain``), so the result saves to NetCDF.

    Bayes factors are differences: ``log BF(1:2) = log_evidence(m1) - log_evidence(m2)`` with
    error ``sqrt(se1**2 + se2**2)``. Unlike LOO they depend on the priors (a wider prior on a
    parameter the data pin down lowers the evidence by about the log of the widening), so read
    them together with the stated priors.

    Returns
    -------
    (mean, se, idata)
        ``idata`` is the SMC posterior with the cleaned ``sample_stats`` and attrs
        ``log_evidence``, ``log_evidence_se``, ``log_multinomial_coefficient``.

    Examples
    --------
    >>> lz, se, _ = log_evidence("quantum-singlet", counts, seed=1)   # doctest: +SKIP
    """
    import pymc as pm

    counts = _as_counts(counts)
    model = resolve_model(model, counts)
    if chains < 2:
        raise ValueError(f"log_evidence needs chains >= 2 for its Monte Carlo error, got {chains}")
    seed = draw_seed(seed)
    pmodel = build_model(model, counts)
    with pmodel, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        idata = pm.sample_smc(
            draws=draws,
            chains=chains,
            cores=cores,
            random_seed=seed,
            progressbar=False,
            compute_convergence_checks=False,
        )
    stats, final = _clean_smc_stats(idata.sample_stats, idata.posterior.sizes["chain"])
    const = log_multinomial_coefficient(counts)
    per_chain = final - const
    if not np.all(np.isfinite(per_chain)):
        raise RuntimeError(f"SMC gave a non-finite log evidence in some chain: {per_chain}")
    mean = float(np.mean(per_chain))
    se = float(np.std(per_chain, ddof=1) / math.sqrt(len(per_chain)))
    _arviz.add_groups(idata, {"sample_stats": stats})
    idata.attrs = {
        "model": model.name,
        "scenario": counts.scenario.to_json(),
        "sampler": "pymc.sample_smc",
        "seed": str(seed),
        "log_evidence": repr(mean),
        "log_evidence_se": repr(se),
        "log_multinomial_coefficient": repr(const),
        "log_evidence_per_chain": json.dumps(per_chain.tolist()),
        "versions": json.dumps(versions()),
        "data_provenance": json.dumps(counts.provenance),
    }
    return mean, se, idata


__all__ = [
    "EVIDENCE_SE_MAX",
    "evidence_reliable",
    "log_evidence",
    "log_multinomial_coefficient",
]
