"""Bayesian fitting of hidden-variable models to Bell-test counts with PyMC (:func:`fit`).

The likelihood is conditional on the settings (the settings are the design and are stored in
``constant_data``): for every setting pair one Multinomial over the four outcome cells, with
probabilities from the model's ``behaviour_tensor`` (clipped to ``[1e-12, 1]`` and renormalised,
for numerical safety only). Inference knows nothing about a model beyond the
:class:`~bellmodels.models.base.HiddenVariableModel` interface.

The fit
-------
:func:`fit` returns an ``InferenceData`` on ArviZ 0.2x, a ``DataTree`` on ArviZ 1.x, with the
same groups (read them with :func:`bellmodels._arviz.group` on either):

- ``posterior``: the parameters, ``behaviour`` (clipped, renormalised), ``correlators`` (dims
  ``setting_a, setting_b``), ``S_values`` (dim ``chsh_variant``) and ``S`` (2x2 scenarios):
  what the data inform.
- ``audit_posterior``: ``mi_bits`` and ``hall_M`` from :func:`bellmodels.audit.audit` of each
  draw's ontic table (dims ``chain, draw``; the ``draw`` coordinate names the draws audited,
  every draw unless the audit was thinned): what the data cannot see, kept out of
  ``posterior`` so that observationally equivalent models (the same behaviour, the same
  parameters) have identical posteriors, hence the same relative efficiency and identical LOO
  under ArviZ's rule (:func:`loo`); read all three with :func:`invariant_draws`.
- ``cell_log_likelihood``: ``trial``, the single-trial log-likelihood log p(x_a, x_b | s_a,
  s_b) per cell (dims ``chain, draw, setting_a, setting_b, outcome_a, outcome_b``), which
  :func:`loo`, the gate and the evidence read and ArviZ does not.
- ``log_likelihood``: ``outcomes`` (dims ``chain, draw, trial``), the same one column per
  trial, only when trials x draws <= :data:`~bellmodels.inference._layout.MAX_TRIAL_ELEMENTS`
  (4 million): then ``az.loo(fit)`` / ``az.compare`` are exact per-trial LOO; above it the
  group is absent and ArviZ's own loo refuses (use :func:`loo`).
  ``attrs["log_likelihood_layout"]`` says which.
- ``posterior_predictive``: ``counts`` (one replicated count table per draw, same trials per
  setting pair). ``observed_data``: ``counts``. ``constant_data``: ``trials`` per setting pair
  (the design). ``sample_stats`` from the sampler.
- ``attrs`` (strings, NetCDF-safe): ``model``, ``model_describe``, ``priors``, ``scenario``,
  ``sampler``, ``sampler_settings``, ``init``, ``versions``, ``seed``, ``data_provenance``,
  ``n_trials``, ``classification`` and the audit notes.

The log-likelihood is always computed from the posterior ``behaviour`` (so it exists for every
sampler; nutpie, for one, returns none).

**With ArviZ.** ``az.loo``, ``az.waic`` and ``az.compare`` read only the per-trial
``log_likelihood`` group, so they answer per trial or refuse (see above). Summaries and trace
plots are meaningful on the invariant quantities: ``az.summary(invariant_draws(fit))`` (S, MI
and M on the audited draws), ``az.summary(fit, var_names=["S"])`` and
``az.summary(fit, group="audit_posterior")``.

**RBM posteriors.** The weights of a restricted Boltzmann machine are not identifiable:
permuting hidden units, flipping a hidden unit's sign convention (with a bias shift) and other
symmetries give many modes with identical behaviour, so chains may sit in different modes and
the R-hat of raw weights is meaningless. Convergence is therefore judged (:func:`diagnostics`)
only on invariant quantities: the behaviour's correlators, S, the log-likelihood, MI and
Hall's M. Those symmetries are not the whole story: the conditional likelihood fixes the 12
numbers of the behaviour but the machine has 24 weights, so the posterior is a thin curved
ridge along which the behaviour stays put while the hidden-state distribution, and so MI,
moves. MI is therefore *not* pinned by the data; its posterior is the prior's weighting of
the ridge, and it mixes slowest of all the quantities judged. To make the fit reliable all
chains start, unjittered, at the posterior mode (``init="auto"``: ``pm.find_MAP`` from the
exact maximum-likelihood fit; ML alone lies far out on the ridge where the prior is
negligible, and chains started there disagreed on MI), and ``sampler="auto"`` picks nutpie
when installed: NUTS runs long trajectories along the ridge, and nutpie's compiled sampler
does them faster than PyMC's (measured in ``docs/generated/sampling_benchmark.md``).
The mass matrix stays diagonal: the ridge is curved (``docs/generated/sampling_benchmark.md``).

Example
-------
A fit takes seconds to minutes, so ``tests/inference/test_inference.py`` and
``tests/inference/test_arviz_safe.py`` check this::

    import arviz as az
    import bellmodels as bm
    counts = bm.datasets.load("delft2015")                   # 245 trials
    idata = bm.fit("quantum-singlet", counts, draws=500, chains=2, seed=1)
    float(idata.posterior["S"].mean()) > 2                   # -> True
    bm.loo(idata)["elpd_loo"] < 0                            # -> True
    az.loo(idata).n_data_points == bm.loo(idata)["n_data_points"] == 245   # -> True
"""

from __future__ import annotations

import json
import time
import warnings
from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr

from bellmodels import _arviz
from bellmodels._util import draw_seed, one_blas_thread
from bellmodels.behaviour import chsh_max_values, correlators
from bellmodels.data import Counts
from bellmodels.inference._backend import compiling_with, frozen_heap, numba_quiet
from bellmodels.inference._groups import data_groups, fit_attrs, posterior_predictive
from bellmodels.inference._layout import (
    P_FLOOR,
    SPREAD_VAR,
    log_likelihood_groups,
    log_multinomial_coefficient,
    pair_spread,
)
from bellmodels.inference._start import initial_values
from bellmodels.inference.posterior_audit import _audit_posterior
from bellmodels.inference.samplers import SMC_HMC_STEPS, SMC_SAMPLER, choose_sampler
from bellmodels.scenario import DIMS_BEHAVIOUR, OUTCOMES

if TYPE_CHECKING:
    from bellmodels.models.base import HiddenVariableModel


def resolve_model(model: HiddenVariableModel | str, counts: Counts | None = None) -> Any:
    """A model instance from an instance or a registry name (built on the data's scenario).

    Raises ``ValueError`` when the model's scenario differs from the data's, or when the data are
    a kind of table the model cannot describe (:meth:`HiddenVariableModel.check_counts`).
    """
    from bellmodels import models

    if isinstance(model, str):
        kwargs = {"scenario": counts.scenario} if counts is not None else {}
        model = models.get(model, **kwargs)
    if counts is not None and model.scenario != counts.scenario:
        raise ValueError(
            f"model {model.name!r} is built on scenario {model.scenario.to_json()} but the data "
            f"use {counts.scenario.to_json()}"
        )
    if counts is not None:
        model.check_counts(counts)  # a kind of table the model cannot describe is refused
    return model


def _as_counts(counts: Any) -> Counts:
    if isinstance(counts, Counts):
        out = counts
    elif isinstance(counts, xr.DataArray):
        out = Counts(counts)
    else:
        raise ValueError(f"counts must be a bellmodels Counts table, got {type(counts).__name__}")
    if out.total <= 0:
        raise ValueError("counts are empty: there are no trials to fit")
    return out


def build_model(model: HiddenVariableModel | str, counts: Counts) -> Any:
    """The PyMC model: priors from ``model.parameters``, one Multinomial per setting pair.

    The behaviour is a ``Deterministic`` named ``behaviour`` (dims ``setting_a, setting_b,
    outcome_a, outcome_b``), from which every derived quantity and the per-cell log-likelihood
    are computed, whatever the sampler: clipped to ``[P_FLOOR, 1]`` and renormalised, or, for a
    model that computes it exactly in log space (``log_behaviour_tensor``: the Boltzmann
    machines), as it is. The likelihood is the ``Potential`` ``counts``: the per-pair
    Multinomials' log probability, ``sum n log p`` plus the multinomial coefficients.

    A model of post-selected tables whose coincidence rate ``D(s)`` may depend on the settings
    (``coincidence_rate`` not ``None``: the detection loophole) also describes how the
    coincidences spread over the setting pairs (settings uniform): the likelihood gains
    ``sum_s n_s log(pi(s) / p(s))``, ``pi(s) = p(s) D(s) / sum p D`` (a ``Potential``; the
    ``Deterministic`` ``pair_spread``, see :func:`~bellmodels.inference._layout.pair_spread`).
    It is zero under fair sampling, so every model's likelihood stays on one scale.

    >>> import bellmodels as bm
    >>> c = bm.simulate_singlet(bm.Scenario.chsh(), 100, seed=0).counts()
    >>> "behaviour" in build_model("quantum-singlet", c).named_vars
    True
    """
    import pymc as pm
    import pytensor.tensor as pt

    counts = _as_counts(counts)
    model = resolve_model(model, counts)
    scn = counts.scenario
    ka, kb = scn.n_a, scn.n_b
    coords = {
        "setting_a": np.arange(ka),
        "setting_b": np.arange(kb),
        "outcome_a": np.array(OUTCOMES),
        "outcome_b": np.array(OUTCOMES),
        "cell": np.arange(4),
    }
    observed = counts.values.reshape(ka, kb, 4)
    with pm.Model(coords=coords) as pmodel:
        params = model.prior_variables()
        log_p = model.log_behaviour_tensor(params, {v.name: v for v in pmodel.free_RVs})
        if log_p is None:
            p = pt.as_tensor_variable(model.behaviour_tensor(params))
            p = pt.clip(p, P_FLOOR, 1.0)
            p = p / p.sum(axis=(2, 3), keepdims=True)
            pm.Deterministic("behaviour", p, dims=DIMS_BEHAVIOUR)
            log_p = pt.log(p)
        else:  # exact in log space: no floor needed
            log_p = pt.as_tensor_variable(log_p)
            pm.Deterministic("behaviour", pt.exp(log_p), dims=DIMS_BEHAVIOUR)
        # the Multinomial log likelihood written out: the value pm.Multinomial gives, without its
        # checks of p (the floored, renormalised p passes them by construction), which are a
        # third of the Ops every gradient and every compilation pays for
        log_lik = (log_p.reshape((ka, kb, 4)) * observed).sum()
        pm.Potential("counts", log_lik + log_multinomial_coefficient(counts))
        rate = model.coincidence_rate_tensor(params)
        if rate is not None:  # post-selected: how the coincidences spread over setting pairs
            spread = pair_spread(pt.as_tensor_variable(rate), scn.settings_distribution(), pt)
            pm.Deterministic(SPREAD_VAR, spread, dims=("setting_a", "setting_b"))
            pm.Potential("coincidences_per_pair", (observed.sum(axis=-1) * spread).sum())
    return pmodel


def _sample(
    pmodel: Any,
    sampler: str,
    *,
    draws: int,
    tune: int,
    chains: int,
    seed: int,
    progressbar: bool,
    initvals: dict[str, np.ndarray] | None,
    cores: int | None,
    target_accept: float,
    mass_matrix: str = "diag",
) -> Any:
    import pymc as pm

    # PyMC is imported and the model built: long-lived, kept out of the collector's scans
    with warnings.catch_warnings(), numba_quiet(), frozen_heap():
        warnings.simplefilter("ignore", UserWarning)
        warnings.simplefilter("ignore", FutureWarning)
        if sampler == "nutpie":
            import nutpie

            compiled = nutpie.compile_pymc_model(
                pmodel,
                initial_points=initvals,
                jitter_rvs=set() if initvals else None,
            )
            t0 = time.perf_counter()
            raw = nutpie.sample(
                compiled,
                draws=draws,
                tune=tune,
                chains=chains,
                cores=cores or min(chains, 2),
                seed=seed,
                progress_bar=progressbar,
                save_warmup=False,
                target_accept=target_accept,
            )
            # what PyMC records, so a fit says how long its sampler ran, whichever it was
            _arviz.update_group_attrs(raw, "posterior", {"sampling_time": time.perf_counter() - t0})
            return raw
        with pmodel, compiling_with():
            return pm.sample(
                trace=chain_trace(pmodel) if sampler == "pymc" else None,
                draws=draws,
                tune=tune,
                chains=chains,
                cores=cores or min(chains, 2),
                random_seed=seed,
                progressbar=progressbar,
                initvals=initvals,
                init=("" if initvals else "jitter+") + f"adapt_{mass_matrix}",
                nuts_sampler=sampler,
                target_accept=target_accept,
                compute_convergence_checks=False,
                idata_kwargs={"log_likelihood": False},
            )


def chain_trace(pmodel: Any) -> Any:
    """The trace ``pm.sample`` copies once per chain (its ``trace`` argument), whose copies share
    one compiled point function (the free values and deterministics of a draw).

    Left to itself ``pm.sample`` compiles that function again for every chain; the copies here
    are fresh ``NDArray`` traces (their own sample arrays) around the one function, compiled
    in the mode in force (:func:`_sample` calls this inside ``compiling_with()``).
    """
    from pymc.backends.ndarray import NDArray

    class ChainTrace(NDArray):
        def __copy__(self) -> NDArray:
            return NDArray(
                model=self.model, vars=self.vars, fn=self.fn,
                var_shapes=self.var_shapes, var_dtypes=self.var_dtypes,
            )  # fmt: skip

    return ChainTrace(model=pmodel)


def _derived(posterior: xr.Dataset, scenario: Any) -> dict[str, xr.DataArray]:
    beh = posterior["behaviour"].transpose("chain", "draw", *DIMS_BEHAVIOUR).values
    corr = correlators(beh)
    out = {
        "correlators": xr.DataArray(
            corr,
            dims=("chain", "draw", "setting_a", "setting_b"),
            coords={"setting_a": np.arange(scenario.n_a), "setting_b": np.arange(scenario.n_b)},
        )
    }
    s, sv = chsh_max_values(corr)
    out["S_values"] = xr.DataArray(sv, dims=("chain", "draw", "chsh_variant"))
    out["S"] = xr.DataArray(s, dims=("chain", "draw"))
    return out


# -- fit -----------------------------------------------------------------------------------------
@one_blas_thread()
def fit(
    model: HiddenVariableModel | str,
    counts: Counts,
    *,
    draws: int = 1000,
    tune: int = 1000,
    chains: int = 4,
    seed: int | None = None,
    sampler: str = "auto",
    progressbar: bool = False,
    init: str = "auto",
    cores: int | None = None,
    target_accept: float = 0.9,
    audit_max_draws: int | None = None,
) -> Any:
    """Fit a model to counts with NUTS (or tempered SMC); a fit (``InferenceData`` /
    ``DataTree``) that says what made it.

    Parameters
    ----------
    model
        A :class:`~bellmodels.models.base.HiddenVariableModel` or a registry name (then built on
        the data's scenario).
    counts
        The data, a :class:`~bellmodels.data.Counts`.
    draws, tune, chains
        NUTS draws and tuning steps per chain, and the number of chains.
    seed
        Seed of everything random (sampling and posterior predictive); ``None`` draws one and
        records it in ``attrs["seed"]``.
    sampler
        ``"pymc"``, ``"nutpie"``, ``"numpyro"`` or ``"auto"``: the first installed one in the
        model's declared ``samplers`` (the Boltzmann machines prefer nutpie, the others PyMC; the
        measurements behind these orders are in ``docs/generated/sampling_benchmark.md``).
        ``"smc"``: tempered SMC from the prior instead, for posteriors with separated modes
        (:data:`SMC_SAMPLER`; ``tune`` and ``init`` are not used).
    progressbar
        Show the sampler's progress bar.
    init
        ``"prior"``: PyMC's jittered default start. ``"params"``: start every chain at
        ``model.params()``. ``"auto"``: the model's declared ``init``: ``"prior"``, or
        ``"mode"`` (the Boltzmann machines), which starts every chain, unjittered, at the
        posterior mode found by ``pm.find_MAP`` from the exact maximum-likelihood fit
        ``model.train(counts)`` (on a copy), or at ``model.params()`` if the model is not
        ``trainable``. ``attrs["init"]`` records which.
    cores
        Processes for the chains (default ``min(chains, 2)``).
    target_accept
        NUTS target acceptance (0.9: the posteriors near the Tsirelson bound are curved).
    audit_max_draws
        Audit at most this many draws per chain (thinning evenly). By default every draw is
        audited unless that would take longer than :data:`AUDIT_TIME_BUDGET` seconds, in which
        case the draws are thinned; ``attrs["audit_thinning"]`` records the stride.

    Returns
    -------
    arviz.InferenceData or xarray.DataTree
        The fit, with the groups and ``attrs`` described under "The fit" in
        :mod:`bellmodels.inference.fit`.

    Notes
    -----
    How to read the fit with ArviZ, why RBM posteriors are judged on invariant quantities, and
    an example: :mod:`bellmodels.inference.fit`.
    """
    counts = _as_counts(counts)
    model = resolve_model(model, counts)
    _check_sampling(draws, tune, chains, target_accept)
    seed = draw_seed(seed)
    sampler = choose_sampler(sampler, model.samplers)
    pmodel = build_model(model, counts)
    nuts = {"draws": int(draws), "tune": int(tune), "chains": int(chains)}
    raw, settings, init_source = _run_sampler(
        model, counts, pmodel, sampler, nuts, init=init, seed=seed, progressbar=progressbar,
        cores=cores, target_accept=target_accept,
    )  # fmt: skip
    return _assemble(
        model, counts, raw, seed=seed, sampler=sampler, settings=settings,
        init_source=init_source, audit_max_draws=audit_max_draws,
    )  # fmt: skip


def _run_sampler(
    model: Any,
    counts: Counts,
    pmodel: Any,
    sampler: str,
    nuts: dict[str, int],
    *,
    init: str,
    cores: int | None,
    target_accept: float,
    **options: Any,
) -> tuple[Any, dict[str, Any], str]:
    """The sampler's raw result, the settings it ran with and where its chains started (both
    recorded in the fit's attrs)."""
    if sampler == SMC_SAMPLER:
        raw, settings = _smc_sample(pmodel, nuts["draws"], nuts["chains"], options["seed"])
        return raw, settings, "prior (tempered SMC)"
    initvals, init_source = initial_values(model, counts, init, pmodel)
    # declared by the model (HiddenVariableModel.mass_matrix); PyMC's NUTS only
    mass_matrix = model.mass_matrix if sampler == "pymc" else "diag"
    t0 = time.perf_counter()
    raw = _sample(
        pmodel, sampler, cores=cores, target_accept=target_accept, mass_matrix=mass_matrix,
        initvals=initvals, **nuts, **options,
    )  # fmt: skip
    settings = {
        **nuts, "target_accept": target_accept, "mass_matrix": mass_matrix,
        "cores": cores or min(nuts["chains"], 2), "wall_seconds": round(time.perf_counter() - t0, 3),
    }  # fmt: skip
    return raw, settings, init_source


def _smc_sample(pmodel: Any, draws: int, chains: int, seed: int) -> tuple[Any, dict[str, Any]]:
    """``fit(sampler="smc")``: the tempered SMC posterior as a raw fit (``posterior`` with the
    free variables and deterministics, ``sample_stats`` with each draw's ``lp``) and its
    settings."""
    from bellmodels.inference._evidence_kernels import FreeSpace
    from bellmodels.inference._tempered_smc import SMCSettings, smc_runs

    if chains < 2:
        raise ValueError(f"sampler='smc' needs chains >= 2 (runs, for R-hat), got {chains}")
    t0 = time.perf_counter()
    space = FreeSpace(pmodel)
    smc = SMCSettings(particles=draws, hmc_steps=SMC_HMC_STEPS)
    with numba_quiet(), frozen_heap():  # the model is built: long-lived, not rescanned
        _log_z, details = smc_runs(space, runs=chains, seed=seed, settings=smc, keep_particles=True)
        posterior = space.to_posterior(details["particles"])
    stats = xr.Dataset(
        {"lp": (("chain", "draw"), details["lp"])},
        coords={"chain": posterior["chain"], "draw": posterior["draw"]},
    )
    wall = time.perf_counter() - t0
    posterior.attrs["sampling_time"] = wall
    raw = _arviz.inference_data({"posterior": posterior, "sample_stats": stats})
    settings = {
        "draws": draws, "chains": chains, "particles": draws, "hmc_steps": SMC_HMC_STEPS,
        "stages_max": details["stages_max"], "accept_mean": round(details["accept_mean"], 3),
        "wall_seconds": round(wall, 3),
    }  # fmt: skip
    return raw, settings


def _check_sampling(draws: Any, tune: Any, chains: Any, target_accept: float) -> None:
    """Refuse draws or chains below 1, negative tuning and an acceptance outside (0, 1)."""
    for name, value in (("draws", draws), ("tune", tune), ("chains", chains)):
        if not isinstance(value, (int, np.integer)) or value < (0 if name == "tune" else 1):
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    if not 0.0 < float(target_accept) < 1.0:
        raise ValueError(f"target_accept must lie strictly between 0 and 1, got {target_accept!r}")


def _assemble(
    model: Any,
    counts: Counts,
    raw: Any,
    *,
    seed: int,
    sampler: str,
    settings: dict[str, Any],
    init_source: str,
    audit_max_draws: int | None,
) -> Any:
    """The fit's groups and attrs (see the module docstring) from the sampler's raw result."""
    posterior = _arviz.group(raw, "posterior")
    for extra in [c for c in posterior.coords if c not in posterior.dims]:
        posterior = posterior.drop_vars(extra)
    labels = {k: v for k, v in counts.scenario.coords().items() if k in ("label_a", "label_b")}
    posterior = posterior.assign_coords(labels)
    derived = _derived(posterior, counts.scenario)
    groups: dict[str, xr.Dataset] = {}
    groups["audit_posterior"], audit_attrs = audit_group(model, posterior, audit_max_draws)
    posterior = posterior.assign(derived)
    beh = posterior["behaviour"].transpose("chain", "draw", *DIMS_BEHAVIOUR)
    log_cell = np.log(beh)
    if SPREAD_VAR in posterior:  # each coincidence's setting pair is data too (build_model)
        log_cell = (log_cell + posterior[SPREAD_VAR]).transpose(*beh.dims)
    loglik, loglik_note = log_likelihood_groups(log_cell, counts.array)
    predictive = posterior_predictive(beh, counts, seed)
    groups["posterior"] = posterior
    groups |= {name: ds for name, ds in loglik.items() if ds is not None}
    groups |= {"posterior_predictive": predictive, **data_groups(counts)}
    sample_stats = _arviz.group(raw, "sample_stats")
    # NetCDF holds no Python objects (nutpie's per-draw divergence messages): drop such stats
    groups["sample_stats"] = sample_stats.drop_vars(
        [v for v in sample_stats.data_vars if sample_stats[v].dtype == object]
    )
    attrs = fit_attrs(model, counts, seed, sampler, settings, init_source, SPREAD_VAR in posterior)
    idata = _arviz.inference_data(
        groups, {**attrs, "log_likelihood_layout": loglik_note, **audit_attrs}
    )
    for name in ("posterior", "sample_stats"):
        _arviz.update_group_attrs(idata, name, {"model": model.name, "sampler": sampler})
    return idata


def audit_group(
    model: Any, posterior: xr.Dataset, audit_max_draws: int | None = None
) -> tuple[xr.Dataset, dict[str, str]]:
    """The group ``audit_posterior`` (MI and Hall's M per draw of ``model``'s ontic table) and
    the audit's attrs, for a posterior of ``model``'s parameters: what :func:`fit` stores, and
    what a model that shares another's fit computes for itself
    (:func:`bellmodels.inference.sharing.shared_fit`)."""
    audit_vals, audit_attrs = _audit_posterior(model, posterior, audit_max_draws)
    idx = audit_vals.pop("_audit_draws")
    # beside the posterior, not in it: ArviZ's LOO reads its relative efficiency off every
    # posterior variable, and MI and M are what the data cannot see (see the module docstring)
    ds = xr.Dataset(
        {k: (("chain", "draw"), v) for k, v in audit_vals.items()},
        coords={"chain": posterior["chain"].values, "draw": posterior["draw"].values[idx]},
    )
    return ds, audit_attrs


def load_fit(path: Any) -> tuple[Any, Any]:
    """A saved fit and the model that made it: ``(model, idata)`` from a NetCDF written from
    :func:`fit`'s result (e.g. by ``compare(..., out_dir=...)``).

    The model is rebuilt from ``attrs["model_describe"]``: its registry name, scenario,
    constructor options and parameter values (a published instance, whose factory takes no
    options, is rebuilt by name and scenario). A model of one's own that this process does not
    know yet is found by importing the module recorded beside its name (``module``: the module
    that defines its class); when that module cannot be imported, the error says which one to
    install or put on ``PYTHONPATH``. ``attrs`` also hold the sampler settings, the seed and
    the package versions.

    On a saved fit (``tests/test_compare.py`` checks that one rebuilds its model)::

        model, idata = load_fit("fits/rbm.nc")
    """
    from bellmodels import models
    from bellmodels.scenario import Scenario

    idata = _arviz.from_netcdf(str(path))
    desc = json.loads(idata.attrs["model_describe"])
    name = desc["name"]
    module = desc.get("module")
    if name not in models.names() and module:
        try:
            models.import_modules([module])
        except ValueError as exc:
            raise ValueError(
                f"{path}: the fit was made by model {name!r} (class {desc.get('class', '?')} of "
                f"module {module!r}), which this process cannot import: install the package "
                f"that provides {module!r} or put it on PYTHONPATH ({exc.__cause__})"
            ) from exc
    scenario = Scenario.from_json(desc["scenario"])
    kwargs = {**desc.get("options", {}), **desc.get("values", {})}
    try:
        model = models.get(name, scenario=scenario, **kwargs)
    except TypeError:  # a factory with a fixed signature (a published instance)
        model = models.get(name, scenario=scenario)
    return model, idata


__all__ = ["P_FLOOR", "build_model", "fit", "load_fit", "resolve_model"]
