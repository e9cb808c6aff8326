"""The log evidence (marginal likelihood) of a fitted model, by two independent estimators.

Both estimators work in the sampler's unconstrained space (the PyMC value variables; their
density includes the Jacobians of the transforms), so ``Z = integral exp(logp(z)) dz`` is the
evidence of the model's prior and likelihood. Both subtract the multinomial coefficients of the
count table, so the value is the evidence of the ordered trials given the settings, on the scale
of the per-trial LOO.

``"smc"`` (default)
    Tempered sequential Monte Carlo from the prior to the posterior with Hamiltonian moves
    (Del Moral, Doucet & Jasra, JRSS B 68, 411 (2006); adaptive temperatures, HMC whose mass
    matrix is the particles' covariance: :mod:`bellmodels.inference._tempered_smc`). Exact prior
    draws start it, so it needs no fit and covers every symmetric mode; the gradient moves keep
    the Boltzmann machines' thin curved ridge at 10^5 trials, where PyMC's random-walk and
    independent-Metropolis SMC kernels lose it.
``"reverse-smc"``
    The same tempering run backwards, from the fit's NUTS draws to the prior: it estimates
    ``1 / Z``. Forward and reverse are biased in opposite directions, so together they sandwich
    the evidence (bidirectional Monte Carlo, Grosse, Ghahramani & Adams, arXiv:1511.02543); the
    benchmark (``benchmarks/evidence.py``) reports their gap for every model.
``"bridge"``
    Bridge sampling (Meng & Wong, Statistica Sinica 6, 831 (1996); the optimal bridge function,
    iterated as in Gronau et al., J. Math. Psych. 81, 80 (2017)) between the posterior draws of
    the NUTS fit and a Gaussian proposal fitted to them. Cheap and exact where the posterior is
    close to Gaussian (the explicit models); on the machines' ridge at 10^5 trials a Gaussian
    proposal misses the posterior and the estimate is off by tens of nats, which its measured
    proposal sensitivity (below) flags as unreliable.
``"nested"``
    Nested sampling with dynesty (Skilling, Bayesian Analysis 1, 833 (2006); Speagle, MNRAS 493,
    3132 (2020); optional extra ``bellmodels[nested]``: :mod:`bellmodels.inference._nested`):
    the independent check, sharing no code with the others but the likelihood. Slow on the
    machines at 10^5 trials (tens of minutes per run), so not a default anywhere.
``"pymc-smc"``
    PyMC's ``sample_smc`` from the prior (independent-Metropolis moves), kept to show what fails
    on the machines (Monte Carlo errors of hundreds of nats at 10^5 trials).

**Monte Carlo errors are measured, not modelled.** ``bridge`` repeats the estimate on disjoint
blocks of the posterior draws (each block with a proposal fitted without it and fresh proposal
draws); the SMC and nested methods run independently seeded runs; the estimate is the mean of the repetitions and the
error their standard error. A Gaussian proposal that misses a curved posterior biases every
block alike, so ``bridge`` also repeats each block with the proposal widened by 25% and adds the
shift of the mean (the *proposal sensitivity*) to the error: where the proposal fits, the shift
is noise; where it does not (the Boltzmann machines' ridge at 10^5 trials), the error says so
and :func:`evidence_reliable` refuses the estimate.

**Symmetric modes.** A model may declare exact symmetries of its prior and likelihood
(:meth:`~bellmodels.models.base.HiddenVariableModel.parameter_symmetries`; for the Boltzmann
machines the permutations of the hidden units and the sign flip of a +-1-coded hidden unit:
``n! 2^n`` images of every point). A sampler explores one mode, but the evidence integrates over
all of them. The SMC methods need no correction (see :mod:`bellmodels.inference._tempered_smc`).
Bridge sampling uses the *symmetrised* proposal ``q_G(z) = mean_g q(g z)``: the
ratio ``p / q_G`` is invariant under the group, so draws from one mode stand for the whole
posterior, and the estimate is right whether or not the images overlap (for well-separated
modes it is the one-mode evidence plus ``log |G|``). The tests check this against brute force on
a machine small enough to integrate exhaustively.

Forward SMC is the one estimator that does not start from the NUTS draws: posterior mass the
sampler never found (beyond the declared symmetric images) is missed by ``bridge`` and
``reverse-smc`` alike, but not by ``smc``, so their agreement also checks the fit.

The bridge iteration, the block repetitions, the symmetrised proposal and the HMC-moved SMC
are hand-written: no maintained Python library does them on PyMC models.

Example
-------
>>> import bellmodels as bm
>>> import math
>>> from bellmodels.inference import estimate_log_evidence
>>> counts = bm.simulate_singlet(bm.Scenario.chsh(), n_trials=2000, seed=0).counts()
>>> idata = bm.fit("quantum-singlet", counts, draws=600, tune=400, chains=2, seed=1)
>>> ev = estimate_log_evidence("quantum-singlet", counts, idata, method="smc", seed=1)
>>> ev.method, bool(ev.se < 0.1), bool(2000 * math.log(0.25) < ev.log_evidence < -2000)
('smc', True, True)
>>> br = estimate_log_evidence("quantum-singlet", counts, idata, method="bridge", seed=1)
>>> bool(abs(br.log_evidence - ev.log_evidence) < 3 * math.hypot(br.se, ev.se) + 0.01)
True
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from bellmodels import _arviz
from bellmodels._evidence_methods import DEFAULT_EVIDENCE_METHOD, EVIDENCE_METHODS
from bellmodels._util import one_blas_thread, renamed_keywords, versions
from bellmodels.data import Counts
from bellmodels.inference._backend import frozen_heap
from bellmodels.inference._evidence_kernels import run_smc
from bellmodels.inference._layout import log_multinomial_coefficient
from bellmodels.inference.fit import _as_counts, build_model, resolve_model

if TYPE_CHECKING:
    from bellmodels.models.base import HiddenVariableModel


EVIDENCE_SE_MAX = 0.5
"""Largest Monte Carlo error (nats) of a log evidence that is used for a Bayes factor."""


def evidence_reliable(se: float) -> bool:
    """Whether a log evidence with Monte Carlo error ``se`` may enter a Bayes factor.

    >>> evidence_reliable(0.05), evidence_reliable(250.0), evidence_reliable(float("nan"))
    (True, False, False)
    """
    return bool(np.isfinite(se) and se <= EVIDENCE_SE_MAX)


class LogBayesFactor(NamedTuple):
    """A log Bayes factor log BF(a : b) = log Z_a - log Z_b (nats) and its Monte Carlo error.

    A named result (it still unpacks as ``log_bf, se = ...``).

    >>> LogBayesFactor(2.0, 0.1).log_bf
    2.0
    """

    log_bf: float
    se: float


def log_bayes_factor(a: EvidenceEstimate, b: EvidenceEstimate) -> LogBayesFactor:
    """log BF(a : b) = log Z_a - log Z_b and its Monte Carlo error.

    SMC runs of two models with the same seed, method and number of runs use the same random
    numbers run by run (common random numbers), so their errors are correlated: the error of the
    difference is then the standard error of the run-by-run differences (zero for observationally
    equivalent models, whose runs coincide). Otherwise the two errors add in quadrature.

    >>> a = EvidenceEstimate(-10.0, 0.1, "smc", (-10.1, -9.9), 1.0, {"seed": 1})
    >>> b = EvidenceEstimate(-12.0, 0.1, "smc", (-12.1, -11.9), 1.0, {"seed": 1})
    >>> log_bayes_factor(a, b)
    LogBayesFactor(log_bf=2.0, se=0.0)
    >>> c = EvidenceEstimate(-12.0, 0.1, "smc", (-12.1, -11.9), 1.0, {"seed": 2})
    >>> round(log_bayes_factor(a, c).se, 4)
    0.1414
    """
    diff = a.log_evidence - b.log_evidence
    paired = (
        a.method == b.method
        and a.method in ("smc", "reverse-smc")
        and len(a.repetitions) == len(b.repetitions) >= 2
        and a.details.get("seed") is not None
        and a.details.get("seed") == b.details.get("seed")
    )
    if paired:
        d = np.subtract(a.repetitions, b.repetitions)
        return LogBayesFactor(diff, float(d.std(ddof=1) / math.sqrt(d.size)))
    return LogBayesFactor(diff, math.hypot(a.se, b.se))


def log_bayes_factors(estimates: Mapping[str, EvidenceEstimate]) -> tuple[Any, Any]:
    """log BF(row : column) between every pair of models, and its Monte Carlo error.

    Each entry is :func:`log_bayes_factor` of the two estimates (paired by seed where the runs
    share random numbers, else in quadrature); entries involving an unreliable evidence
    (:func:`evidence_reliable`) are NaN. Returns two ``pandas.DataFrame`` (values, errors)
    indexed by model on both axes, in the order given.

    >>> a = EvidenceEstimate(-10.0, 0.1, "smc", (-10.1, -9.9), 1.0, {"seed": 1})
    >>> b = EvidenceEstimate(-12.0, 0.1, "smc", (-12.1, -11.9), 1.0, {"seed": 1})
    >>> c = EvidenceEstimate(-11.0, 9.0, "smc", (-20.0, -2.0), 1.0, {"seed": 1})
    >>> lbf, se = log_bayes_factors({"a": a, "b": b, "c": c})
    >>> float(lbf.loc["a", "b"]), float(lbf.loc["b", "a"]), float(se.loc["a", "b"])
    (2.0, -2.0, 0.0)
    >>> bool(np.isnan(lbf.loc["a", "c"]))
    True
    """
    import pandas as pd

    names = list(estimates)
    lbf = pd.DataFrame(np.nan, index=names, columns=names)
    se = lbf.copy()
    ok = [n for n in names if evidence_reliable(estimates[n].se)]
    for a in ok:
        for b in ok:
            lbf.loc[a, b], se.loc[a, b] = log_bayes_factor(estimates[a], estimates[b])
    return lbf, se


def pymc_smc(
    model: HiddenVariableModel,
    counts: Counts,
    *,
    draws: int,
    chains: int,
    seed: int,
    cores: int | None = 1,
) -> tuple[np.ndarray, Any]:
    """PyMC's ``sample_smc``: the per-chain log evidence of the trial sequence, and the SMC fit.

    The ``"pymc-smc"`` method of :func:`estimate_log_evidence` (use that: it returns the one
    evidence result, :class:`EvidenceEstimate`); here because the SMC posterior it also returns
    is what a test of the ragged statistics needs. The model's likelihood (the Multinomials')
    includes the multinomial coefficients log(n! / prod n_c!); they are subtracted so the value is the evidence of the
    ordered trials, on the same scale as the per-trial LOO. The ragged ``sample_stats`` of SMC
    (object arrays) are replaced by float arrays (dims ``chain, stage``) and
    ``log_marginal_likelihood_final`` (dim ``chain``), so the result saves to NetCDF.

    Returns
    -------
    (per_chain, idata)
        One log evidence per chain, and the SMC posterior with the cleaned ``sample_stats``.
    """
    if chains < 2:
        raise ValueError(
            f"pymc-smc needs evidence_chains >= 2 for its Monte Carlo error, got {chains}"
        )
    pmodel = build_model(model, counts)
    with pmodel:
        idata, stats, final = run_smc(draws=draws, chains=chains, cores=cores, seed=seed)
    const = log_multinomial_coefficient(counts)
    per_chain = np.asarray(final, dtype=float) - const
    _arviz.add_groups(idata, {"sample_stats": stats})
    idata.attrs = {
        "model": model.name,
        "scenario": counts.scenario.to_json(),
        "sampler": "pymc.sample_smc",
        "seed": str(seed),
        "log_multinomial_coefficient": repr(const),
        "log_evidence_per_chain": json.dumps(per_chain.tolist()),
        "versions": json.dumps(versions()),
        "data_provenance": json.dumps(counts.provenance),
    }
    return per_chain, idata


@dataclass(frozen=True)
class EvidenceEstimate:
    """A log evidence, its Monte Carlo error and how it was obtained.

    ``repetitions`` are the independent estimates (bridge blocks, SMC chains) whose mean is
    ``log_evidence``; ``se`` is their standard error, for ``"bridge"`` combined with the
    measured proposal sensitivity (:func:`~bellmodels.inference._evidence_kernels.bridge_sampling`).
    """

    log_evidence: float
    se: float
    method: str
    repetitions: tuple[float, ...]
    seconds: float
    details: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> EvidenceEstimate:
        """The inverse of :meth:`to_dict` (a stored task's ``evidence`` record; ``None``, as
        strict JSON writes NaN, reads as NaN).

        >>> from bellmodels._util import to_jsonable
        >>> est = EvidenceEstimate(-10.0, float("nan"), "smc", (-10.0,), float("nan"), {"seed": 1})
        >>> back = EvidenceEstimate.from_dict(to_jsonable(est.to_dict()))
        >>> back.log_evidence, math.isnan(back.se), back.details
        (-10.0, True, {'seed': 1})
        """
        core = {"log_evidence", "log_evidence_se", "log_evidence_method", "repetitions", "seconds"}

        def num(v: Any) -> float:
            return float("nan") if v is None else float(v)

        return cls(
            num(d["log_evidence"]),
            num(d.get("log_evidence_se")),
            str(d["log_evidence_method"]),
            tuple(num(x) for x in d.get("repetitions") or ()),
            num(d.get("seconds")),
            {k: v for k, v in d.items() if k not in core},
        )

    @property
    def reliable(self) -> bool:
        """Whether it may enter a Bayes factor (:func:`evidence_reliable`)."""
        return evidence_reliable(self.se)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``log_evidence``, ``log_evidence_se``, ``log_evidence_method``, ..."""
        return {
            "log_evidence": self.log_evidence,
            "log_evidence_se": self.se,
            "log_evidence_method": self.method,
            "repetitions": list(self.repetitions),
            "seconds": self.seconds,
            **self.details,
        }


@renamed_keywords(
    smc_draws="evidence_draws", smc_chains="evidence_chains", hmc_steps="evidence_hmc_steps"
)
@one_blas_thread()
def estimate_log_evidence(
    model: HiddenVariableModel | str,
    counts: Counts,
    idata: Any = None,
    *,
    method: str = DEFAULT_EVIDENCE_METHOD,
    seed: int | None = None,
    blocks: int = 8,
    proposal_draws: int = 4000,
    evidence_draws: int = 1000,
    evidence_chains: int = 4,
    evidence_hmc_steps: int = 8,
    cores: int = 1,
) -> EvidenceEstimate:
    """log p(trials | settings, model) with a measured Monte Carlo error.

    Parameters
    ----------
    model, counts
        The model (instance or registry name) and the data it was fitted to.
    idata
        The model's NUTS fit to ``counts`` (:func:`bellmodels.inference.fit`): ``"bridge"`` and
        ``"reverse-smc"`` start from its draws; ``"smc"`` and ``"pymc-smc"`` need none (it only
        checks that a given fit is of this model).
    method
        ``"smc"`` (default), ``"reverse-smc"``, ``"bridge"``, ``"nested"`` or ``"pymc-smc"``
        (module docstring). ``"bridge"`` is cheapest and agrees with ``"smc"`` on the explicit models,
        but its Gaussian proposal misses the Boltzmann machines' ridge at large n.
    seed, cores
        Seed of the proposal draws or SMC (``None``: the fit's seed, else 0); processes for
        ``"pymc-smc"``.
    blocks, proposal_draws
        Bridge sampling: disjoint blocks of posterior draws (the repetitions) and proposal
        draws per block.
    evidence_draws, evidence_chains, evidence_hmc_steps
        SMC: particles per run, independent runs (the repetitions), HMC transitions per stage.
        Nested sampling: live points per run and independent runs (no HMC).

    Returns
    -------
    EvidenceEstimate
        Its example is the module docstring's.
    """
    counts = _as_counts(counts)
    model = resolve_model(model, counts)
    _check_evidence_inputs(model, idata, method)
    t0 = time.perf_counter()
    if seed is None:
        seed = int(idata.attrs["seed"]) if idata is not None and "seed" in idata.attrs else 0
    if method == "pymc-smc":
        per_chain, _ = pymc_smc(
            model, counts, draws=evidence_draws, chains=evidence_chains, seed=seed, cores=cores
        )
        reps, systematic = [float(x) for x in per_chain], 0.0
        details: dict[str, Any] = {
            "evidence_draws": evidence_draws,
            "evidence_chains": evidence_chains,
        }
    else:
        settings = {
            "blocks": blocks,
            "proposal_draws": proposal_draws,
            "evidence_draws": evidence_draws,
            "evidence_chains": evidence_chains,
            "evidence_hmc_steps": evidence_hmc_steps,
        }
        with frozen_heap():  # PyMC and the fit are long-lived: not rescanned by each collection
            raw, systematic, details = _free_space_runs(
                model, counts, idata, method, seed, settings
            )
        const = log_multinomial_coefficient(counts)
        reps = [x - const for x in raw]
    details["seed"] = int(seed)
    if not all(math.isfinite(x) for x in reps):
        raise FloatingPointError(f"{model.name}: a {method} repetition gave {reps}")
    v = np.asarray(reps)
    se = math.hypot(float(v.std(ddof=1) / math.sqrt(v.size)), systematic)
    return EvidenceEstimate(
        float(v.mean()), se, method, tuple(reps), time.perf_counter() - t0, details
    )


def _check_evidence_inputs(model: HiddenVariableModel, idata: Any, method: str) -> None:
    """A known method, a fit of this model, and a fit where the method starts from one."""
    if method not in EVIDENCE_METHODS:
        raise ValueError(f"unknown evidence method {method!r}; choose one of {EVIDENCE_METHODS}")
    if idata is not None and idata.attrs.get("model") not in (None, model.name):
        raise ValueError(f"idata is a fit of {idata.attrs['model']!r}, not of {model.name!r}")
    if method in ("bridge", "reverse-smc") and idata is None:
        raise ValueError(f"evidence method {method!r} needs the model's NUTS fit (idata=...)")


def _free_space_runs(
    model: HiddenVariableModel,
    counts: Counts,
    idata: Any,
    method: str,
    seed: int,
    settings: Mapping[str, int],
) -> tuple[list[float], float, dict[str, Any]]:
    """The repetitions (before the multinomial coefficient is subtracted), the systematic error
    and the details of ``"bridge"``, ``"smc"``, ``"reverse-smc"`` or ``"nested"`` in the
    unconstrained space."""
    from bellmodels.inference import _evidence_kernels as kern

    space = kern.FreeSpace(build_model(model, counts))
    systematic = 0.0
    if method == "bridge":
        group = kern.parameter_group(model.parameter_symmetries(), space)
        draws = space.from_posterior(idata.posterior)
        raw, systematic, details = kern.bridge_sampling(
            space,
            draws,
            group,
            seed=seed,
            blocks=settings["blocks"],
            proposal_draws=settings["proposal_draws"],
        )
        details["symmetry_order"] = group.order
    elif method == "nested":
        from bellmodels.inference._nested import nested_runs

        raw, details = nested_runs(
            space,
            runs=settings["evidence_chains"],
            seed=seed,
            live_points=settings["evidence_draws"],
        )
    else:
        from bellmodels.inference._tempered_smc import SMCSettings, smc_runs

        smc = SMCSettings(
            particles=settings["evidence_draws"], hmc_steps=settings["evidence_hmc_steps"]
        )
        post = None
        if method == "reverse-smc":
            post = space.from_posterior(idata.posterior).reshape(-1, space.dim)
        raw, details = smc_runs(
            space,
            runs=settings["evidence_chains"],
            seed=seed,
            posterior_draws=post,
            settings=smc,
        )
    details["dim"] = space.dim
    return list(raw), systematic, details


__all__ = [
    "DEFAULT_EVIDENCE_METHOD",
    "EVIDENCE_METHODS",
    "EVIDENCE_SE_MAX",
    "EvidenceEstimate",
    "LogBayesFactor",
    "estimate_log_evidence",
    "evidence_reliable",
    "log_bayes_factor",
    "log_bayes_factors",
    "log_multinomial_coefficient",
    "pymc_smc",
]
