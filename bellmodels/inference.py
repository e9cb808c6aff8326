"""Bayesian fitting of hidden-variable models to Bell-test counts: PyMC fits, exact per-trial
PSIS-LOO from counts, SMC evidence and a convergence gate.

The likelihood is conditional on the settings (the settings are the design and are stored in
``constant_data``): for every setting pair one Multinomial over the four outcome cells, with
probabilities from the model's ``behaviour_tensor`` (clipped to ``[1e-12, 1]`` and renormalised,
for numerical safety only). Inference knows nothing about a model beyond the
:class:`~bellmodels.models.base.HiddenVariableModel` interface.

References
----------
- Vehtari, Gelman & Gabry, "Practical Bayesian model evaluation using leave-one-out
  cross-validation and WAIC", Stat. Comput. 27, 1413 (2017) — PSIS-LOO.
- Vehtari, Gelman, Simpson, Carpenter & Bürkner, "Rank-normalization, folding, and localization:
  an improved R-hat", Bayesian Analysis 16, 667 (2021) — the R-hat / ESS thresholds of the gate.
- Yao, Vehtari, Simpson & Gelman, "Using stacking to average Bayesian predictive
  distributions", Bayesian Analysis 13, 917 (2018) — stacking weights (in ``compare``).
- Del Moral, Doucet & Jasra, "Sequential Monte Carlo samplers", JRSS B 68, 411 (2006); PyMC's
  ``sample_smc`` — the evidence.

Example
-------
>>> import bellmodels as bm
>>> counts = bm.simulate_singlet(bm.Scenario.chsh(), n=2000, seed=0).counts()  # doctest: +SKIP
>>> idata = bm.fit("quantum-singlet", counts, draws=500, chains=2, seed=1)       # doctest: +SKIP
>>> bm.loo(idata)["elpd_loo"] < 0                                                # doctest: +SKIP
True
"""

from __future__ import annotations

import copy
import importlib.util
import itertools
import json
import math
import time
import warnings
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr
from scipy.special import gammaln

from bellmodels import _arviz
from bellmodels.data import Counts
from bellmodels.scenario import DIMS_BEHAVIOUR, OUTCOMES

if TYPE_CHECKING:
    from bellmodels.models.base import HiddenVariableModel

P_FLOOR = 1e-12
"""Probabilities are clipped to ``[P_FLOOR, 1]`` (then renormalised) inside the likelihood."""

SAMPLERS: tuple[str, ...] = ("pymc", "nutpie", "numpyro")
"""Samplers ``fit`` knows; only installed ones can be used (:func:`available_samplers`)."""

AUTO_ORDER: dict[str, tuple[str, ...]] = {
    "rbm": ("nutpie", "numpyro", "pymc"),
    "default": ("pymc", "nutpie", "numpyro"),
}
"""Preference of ``sampler="auto"`` by model family: the first installed sampler wins.

Measured by ``benchmarks/sampling.py`` (``docs/generated/sampling_benchmark.md``) on the wall
time of a whole fit. RBM posteriors (non-identified weights: NUTS runs at tree depth 9-10) are
sampling-dominated, and nutpie samples them ~5x faster than PyMC's NUTS (13 s vs 73 s for
2 x 1000 iterations on 20,000 trials), which outweighs its numba compile (~7 s cached, ~40 s the
first time). The other models are compile-dominated (PyMC: ~5 s compile, ~2 s sampling), where
PyMC is as fast or faster and has no first-compile penalty.
"""

RHAT_MAX = 1.01
ESS_MIN = 400.0
GATE_QUANTITIES = ("S", "correlators", "log_lik_total", "mi_bits", "hall_M")
"""Invariant quantities the diagnostics gate judges (never raw, possibly unidentified, weights)."""

AUDIT_TIME_BUDGET = 10.0
"""Seconds the per-draw audit may take before the draws are thinned (see :func:`fit`)."""

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


# -- helpers -------------------------------------------------------------------------------------
def available_samplers() -> list[str]:
    """The samplers installed here, in :data:`SAMPLERS` order.

    >>> "pymc" in available_samplers()
    True
    """
    found = ["pymc"]
    if importlib.util.find_spec("nutpie") is not None:
        found.append("nutpie")
    if (
        importlib.util.find_spec("numpyro") is not None
        and importlib.util.find_spec("jax") is not None
    ):
        found.append("numpyro")
    return found


def choose_sampler(sampler: str = "auto", family: str | None = None) -> str:
    """Resolve ``sampler``: ``"auto"`` is the first installed one in :data:`AUTO_ORDER` for the
    model ``family`` (``"rbm"`` or anything else).

    Raises ``ValueError`` for an unknown or uninstalled sampler.

    >>> choose_sampler("auto") in SAMPLERS
    True
    """
    installed = available_samplers()
    if sampler == "auto":
        order = AUTO_ORDER["rbm" if family == "rbm" else "default"]
        return next(s for s in order if s in installed)
    if sampler not in SAMPLERS:
        raise ValueError(f"unknown sampler {sampler!r}; choose one of {('auto', *SAMPLERS)}")
    if sampler not in installed:
        raise ValueError(
            f"sampler {sampler!r} is not installed (installed: {installed}); "
            f"install it or use sampler='auto'"
        )
    return sampler


def resolve_model(model: HiddenVariableModel | str, counts: Counts | None = None) -> Any:
    """A model instance from an instance or a registry name (built on the data's scenario).

    Raises ``ValueError`` when the model's scenario differs from the data's.
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


def _seed(seed: int | None) -> int:
    if seed is None:
        return int(np.random.SeedSequence().entropy % (2**31 - 1))
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer or None, got {seed!r}")
    return int(seed)


def correlators(behaviour: np.ndarray) -> np.ndarray:
    """E(s_a, s_b) = P(same) - P(different) over the last four axes ``(K_a, K_b, 2, 2)``.

    >>> import numpy as np
    >>> p = np.zeros((2, 2, 2, 2)); p[..., 0, 0] = p[..., 1, 1] = 0.5
    >>> correlators(p).tolist()
    [[1.0, 1.0], [1.0, 1.0]]
    """
    b = np.asarray(behaviour, dtype=float)
    return b[..., 0, 0] + b[..., 1, 1] - b[..., 0, 1] - b[..., 1, 0]


def chsh_values(corr: np.ndarray) -> np.ndarray:
    """The four CHSH variants S_k from ``(..., 2, 2)`` correlators, vectorised over draws.

    Same order as :mod:`bellmodels.behaviour` (``CHSH_MINUS_PAIRS``): S_k has the minus sign on
    the pair ``(1 - k // 2, 1 - k % 2)``, so S_0 = E(a,b) + E(a,b') + E(a',b) - E(a',b') is the
    textbook form (Clauser, Horne, Shimony & Holt, PRL 23, 880 (1969)), -2 sqrt(2) for the
    singlet at the CHSH angles. (``Behaviour`` computes one behaviour at a time; this is the
    same formula over an array of posterior draws.)

    >>> import numpy as np
    >>> e = -np.cos(np.subtract.outer([0, np.pi / 2], [np.pi / 4, -np.pi / 4]))
    >>> round(float(chsh_values(e)[0]), 6)
    -2.828427
    """
    from bellmodels.behaviour import CHSH_MINUS_PAIRS

    e = np.asarray(corr, dtype=float)
    if e.shape[-2:] != (2, 2):
        raise ValueError(f"CHSH needs 2x2 settings, got correlators of shape {e.shape}")
    total = e.sum(axis=(-2, -1))
    return np.stack([total - 2 * e[..., i, j] for i, j in CHSH_MINUS_PAIRS], axis=-1)


def chsh_posterior(corr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(S, S_values) per draw from ``(..., K_a, K_b)`` correlators.

    S = max_k |S_k|, maximised over every 2 x 2 sub-choice of settings when K > 2 (as
    ``Behaviour.S``); S_values are the four variants of the maximising sub-choice.

    >>> import numpy as np
    >>> s, v = chsh_posterior(np.ones((3, 2, 2)))
    >>> s.tolist()
    [2.0, 2.0, 2.0]
    """
    e = np.asarray(corr, dtype=float)
    ka, kb = e.shape[-2:]
    best_s = best_v = None
    for sa in itertools.combinations(range(ka), 2):
        for sb in itertools.combinations(range(kb), 2):
            v = chsh_values(e[..., list(sa), :][..., list(sb)])
            s = np.abs(v).max(axis=-1)
            if best_s is None:
                best_s, best_v = s, v
            else:
                better = s > best_s
                best_s = np.where(better, s, best_s)
                best_v = np.where(better[..., None], v, best_v)
    assert best_s is not None and best_v is not None
    return best_s, best_v


def log_multinomial_coefficient(counts: Counts) -> float:
    """sum over setting pairs of log(n! / prod_c n_c!): Multinomial minus trial-sequence logp."""
    v = counts.values.astype(float)
    n = v.sum(axis=(2, 3))
    return float(gammaln(n + 1).sum() - gammaln(v + 1).sum())


# -- the PyMC model -------------------------------------------------------------------------------
def build_model(model: HiddenVariableModel | str, counts: Counts) -> Any:
    """The PyMC model: priors from ``model.parameters``, one Multinomial per setting pair.

    The clipped, renormalised behaviour is a ``Deterministic`` named ``behaviour`` (dims
    ``setting_a, setting_b, outcome_a, outcome_b``), from which every derived quantity and the
    per-cell log-likelihood are computed, whatever the sampler.

    >>> import bellmodels as bm                                     # doctest: +SKIP
    >>> c = bm.simulate_singlet(bm.Scenario.chsh(), 100, seed=0).counts()   # doctest: +SKIP
    >>> "behaviour" in build_model("quantum-singlet", c).named_vars          # doctest: +SKIP
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
        p = pt.as_tensor_variable(model.behaviour_tensor(params))
        p = pt.clip(p, P_FLOOR, 1.0)
        p = p / p.sum(axis=(2, 3), keepdims=True)
        pm.Deterministic("behaviour", p, dims=DIMS_BEHAVIOUR)
        pm.Multinomial(
            "counts",
            n=observed.sum(axis=-1),
            p=p.reshape((ka, kb, 4)),
            observed=observed,
            dims=("setting_a", "setting_b", "cell"),
        )
    return pmodel


def _initvals(
    model: Any, counts: Counts, init: str, pmodel: Any
) -> tuple[dict[str, np.ndarray] | None, str]:
    """(initial values or None, how they were chosen).

    ``"auto"`` for the RBM family starts at the posterior mode (MAP, L-BFGS through
    ``pm.find_MAP``) reached from the exact maximum-likelihood fit. The ML fit alone is a poor
    start: the likelihood is flat along a ridge of weights with equal behaviour, and exact ML
    runs far out along it (weights of 35-55 on the 100,000-trial main job, where the prior puts
    the posterior's bulk near |w| < 6), so chains started there spent their tuning
    walking back and never agreed on MI (R-hat 1.03-1.08). From the MAP they start in the bulk.
    Values are those of the free PyMC variables (:meth:`HiddenVariableModel.free_values`).
    """
    if init not in ("auto", "params", "prior"):
        raise ValueError(f"init must be 'auto', 'params' or 'prior', got {init!r}")
    if init == "prior" or (init == "auto" and model.family != "rbm"):
        return None, "prior (PyMC default, jittered)"
    if init == "params" or not hasattr(model, "fit"):
        return model.free_values(model.params()), "model.params()"
    import pymc as pm

    fitted = copy.deepcopy(model).fit(counts)
    fitted = fitted if fitted is not None else model
    start = model.free_values(fitted.params())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        found = pm.find_MAP(start=start, model=pmodel, progressbar=False)
    mode = {k: np.asarray(found[k], dtype=float) for k in start}
    # L-BFGS returns its best point, never one worse than the start; only non-finite values fail
    if not all(np.isfinite(v).all() for v in mode.values()):
        return start, "exact maximum-likelihood fit (model.fit(counts)); the MAP search failed"
    return mode, "posterior mode (pm.find_MAP) from the exact maximum-likelihood fit"


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

    with warnings.catch_warnings():
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
            raw.posterior.attrs["sampling_time"] = time.perf_counter() - t0
            return raw
        with pmodel:
            return pm.sample(
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


# -- derived quantities ---------------------------------------------------------------------------
def _audit_posterior(
    model: Any, posterior: xr.Dataset, max_draws: int | None
) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Per-draw audit (MI, Hall M, classification) of the posterior ontic tables.

    One ontic table per draw from the model, then :func:`bellmodels.audit.audit_draws` on all
    of them at once. Returns arrays ``(chain, draw)`` for ``mi_bits`` and ``hall_M`` (over
    thinned draws if the tables would take longer than :data:`AUDIT_TIME_BUDGET` to build, see
    ``attrs``) and attrs describing what was done.
    """
    try:
        model.ontic_table(model.params())
    except NotImplementedError as exc:
        return {}, {"audit": f"not computed: model has no finite ontic table ({exc})"}
    from bellmodels.audit import audit_draws

    names = list(model.parameters)
    n_chain, n_draw = posterior.sizes["chain"], posterior.sizes["draw"]
    values = {n: posterior[n].values for n in names}

    def table(c: int, d: int) -> Any:
        return model.ontic_table({n: values[n][c, d] for n in names})

    t0 = time.perf_counter()
    probe = [table(0, d) for d in range(min(3, n_draw))]
    per = (time.perf_counter() - t0) / len(probe)
    step = 1
    if max_draws is not None and max_draws < n_draw:
        step = math.ceil(n_draw / max_draws)
    elif per * n_chain * n_draw > AUDIT_TIME_BUDGET:
        step = math.ceil(per * n_chain * n_draw / AUDIT_TIME_BUDGET)
    idx = np.arange(0, n_draw, step)
    tables = [
        probe[d] if c == 0 and d < len(probe) else table(c, int(d))
        for c in range(n_chain)
        for d in idx
    ]
    out = audit_draws(tables)
    classes = Counter(str(c) for c in out["classification"])
    attrs = {
        "audit": "bellmodels.audit.audit_draws of the ontic table of each posterior draw",
        "audit_thinning": str(step),
        "audit_seconds_per_draw": f"{per:.4g}",
        "classification_counts": json.dumps(dict(classes)),
        "classification": classes.most_common(1)[0][0],
    }
    shape = (n_chain, idx.size)
    return {
        "mi_bits": out["mi_bits"].reshape(shape),
        "hall_M": out["hall_M"].reshape(shape),
        "_audit_draws": idx,
    }, attrs


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
    s, sv = chsh_posterior(corr)
    out["S_values"] = xr.DataArray(sv, dims=("chain", "draw", "chsh_variant"))
    out["S"] = xr.DataArray(s, dims=("chain", "draw"))
    return out


def _versions() -> dict[str, str]:
    import pymc
    import pytensor

    import bellmodels

    out = {
        "bellmodels": bellmodels.__version__,
        "pymc": pymc.__version__,
        "pytensor": pytensor.__version__,
        "arviz": _arviz.version(),
        "numpy": np.__version__,
        "xarray": xr.__version__,
    }
    for opt in ("nutpie", "numpyro"):
        if importlib.util.find_spec(opt) is not None:
            out[opt] = __import__(opt).__version__
    return out


# -- fit -----------------------------------------------------------------------------------------
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
    """Fit a model to counts with NUTS; an ``InferenceData`` that says what made it.

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
        ``"pymc"``, ``"nutpie"``, ``"numpyro"`` or ``"auto"``: for RBM-family models nutpie,
        else numpyro, else PyMC; for all other models PyMC (see :data:`AUTO_ORDER`, an order
        measured by ``benchmarks/sampling.py``).
    progressbar
        Show the sampler's progress bar.
    init
        ``"prior"``: PyMC's jittered default start. ``"params"``: start every chain at
        ``model.params()``. ``"auto"``: ``"prior"``, except for RBM-family models, which start
        every chain, unjittered, at the posterior mode found by ``pm.find_MAP`` from the exact
        maximum-likelihood fit ``model.fit(counts)`` (on a copy), or at ``model.params()`` if the
        model has no ``fit``. ``attrs["init"]`` records which.
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
    arviz.InferenceData
        ``posterior``: the parameters, ``behaviour`` (clipped, renormalised), ``correlators``
        (dims ``setting_a, setting_b``), ``S_values`` (dim ``chsh_variant``) and ``S`` (2x2
        scenarios), and for models with an ontic table ``mi_bits`` and ``hall_M`` from
        :func:`bellmodels.audit.audit` of each draw's table. If the audit had to be thinned these
        two live in the group ``audit_posterior`` (dims ``chain, audit_draw``) instead, so that
        every ``posterior`` variable covers every draw. ``log_likelihood``: ``trial``, the
        single-trial log-likelihood log p(x_a, x_b | s_a, s_b) per unique cell (dims ``chain,
        draw, setting_a, setting_b, outcome_a, outcome_b``; see :func:`loo`).
        ``posterior_predictive``: ``counts`` (one replicated count table per draw, same trials
        per setting pair). ``observed_data``: ``counts``. ``constant_data``: ``trials`` per
        setting pair (the design). ``sample_stats`` from the sampler. ``attrs`` (strings,
        NetCDF-safe): ``model``, ``model_describe``, ``priors``, ``scenario``, ``sampler``,
        ``sampler_settings``, ``init``, ``versions``, ``seed``, ``data_provenance``,
        ``n_trials``, ``classification`` and the audit notes.

    Notes
    -----
    The log-likelihood is always computed from the posterior ``behaviour`` (so it exists for
    every sampler; nutpie, for one, returns none).

    **Mass matrix.** PyMC's NUTS adapts a diagonal mass matrix unless the model declares
    ``mass_matrix = "full"`` (:class:`~bellmodels.models.base.HiddenVariableModel`); then a dense
    one (``init="jitter+adapt_full"``), recorded in ``attrs["sampler_settings"]``. Inference
    does not ask why: the model's docstring says (``no-signalling``).

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
    when installed: NUTS runs at tree depth 9-10 along the ridge, and nutpie's compiled sampler
    does those long trajectories several times faster than PyMC's (``benchmarks/sampling.py``).
    A dense mass matrix (PyMC ``adapt_full``) and nutpie's low-rank mass matrix both raised the
    step size but produced divergences, because the ridge is curved; neither is used.

    Examples
    --------
    >>> import bellmodels as bm                                                   # doctest: +SKIP
    >>> counts = bm.simulate_singlet(bm.Scenario.chsh(), n=5000, seed=0).counts()  # doctest: +SKIP
    >>> idata = fit("quantum-singlet", counts, draws=500, chains=2, seed=1)         # doctest: +SKIP
    >>> float(idata.posterior["S"].mean()) > 2                                      # doctest: +SKIP
    True
    """
    counts = _as_counts(counts)
    model = resolve_model(model, counts)
    for name, value in (("draws", draws), ("tune", tune), ("chains", chains)):
        if not isinstance(value, (int, np.integer)) or value < (0 if name == "tune" else 1):
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    if not 0.0 < float(target_accept) < 1.0:
        raise ValueError(f"target_accept must lie strictly between 0 and 1, got {target_accept!r}")
    seed = _seed(seed)
    sampler = choose_sampler(sampler, model.family)
    # declared by the model (HiddenVariableModel.mass_matrix); PyMC's NUTS only
    mass_matrix = getattr(model, "mass_matrix", "diag") if sampler == "pymc" else "diag"
    pmodel = build_model(model, counts)
    initvals, init_source = _initvals(model, counts, init, pmodel)
    t0 = time.perf_counter()
    raw = _sample(
        pmodel,
        sampler,
        draws=int(draws),
        tune=int(tune),
        chains=int(chains),
        seed=seed,
        progressbar=progressbar,
        initvals=initvals,
        cores=cores,
        target_accept=target_accept,
        mass_matrix=mass_matrix,
    )
    wall = time.perf_counter() - t0
    return _assemble(
        model,
        counts,
        raw,
        seed=seed,
        sampler=sampler,
        settings={
            "draws": int(draws),
            "tune": int(tune),
            "chains": int(chains),
            "target_accept": target_accept,
            "mass_matrix": mass_matrix,
            "cores": cores or min(int(chains), 2),
            "wall_seconds": round(wall, 3),
        },
        init_source=init_source,
        audit_max_draws=audit_max_draws,
    )


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
    scn = counts.scenario
    posterior = raw.posterior
    for extra in [c for c in posterior.coords if c not in posterior.dims]:
        posterior = posterior.drop_vars(extra)
    beh_coords = scn.coords()
    posterior = posterior.assign_coords(
        {k: v for k, v in beh_coords.items() if k in ("label_a", "label_b")}
    )
    derived = _derived(posterior, scn)
    audit_vals, audit_attrs = _audit_posterior(model, posterior, audit_max_draws)
    posterior = posterior.assign(derived)
    groups: dict[str, xr.Dataset] = {}
    if audit_vals:
        idx = audit_vals.pop("_audit_draws")
        if idx.size == posterior.sizes["draw"]:
            posterior = posterior.assign({k: (("chain", "draw"), v) for k, v in audit_vals.items()})
        else:
            groups["audit_posterior"] = xr.Dataset(
                {k: (("chain", "audit_draw"), v) for k, v in audit_vals.items()},
                coords={"chain": posterior["chain"].values, "audit_draw": idx},
            )
    beh = posterior["behaviour"].transpose("chain", "draw", *DIMS_BEHAVIOUR)
    loglik = xr.Dataset({"trial": np.log(beh)})
    rng = np.random.default_rng(np.random.SeedSequence([seed, 1]))
    n_pair = counts.pair_totals()
    p4 = beh.values.reshape(*beh.shape[:2], scn.n_a, scn.n_b, 4)
    p4 = p4 / p4.sum(axis=-1, keepdims=True)
    rep = rng.multinomial(np.broadcast_to(n_pair, p4.shape[:-1]), p4).reshape(beh.shape)
    groups["posterior"] = posterior
    groups["log_likelihood"] = loglik
    groups["posterior_predictive"] = xr.Dataset(
        {"counts": xr.DataArray(rep, dims=beh.dims, coords=beh.coords)}
    )
    obs = counts.array.copy()
    obs.attrs = {}
    groups["observed_data"] = xr.Dataset({"counts": obs})
    groups["constant_data"] = xr.Dataset(
        {
            "trials": xr.DataArray(
                n_pair,
                dims=("setting_a", "setting_b"),
                coords={"setting_a": np.arange(scn.n_a), "setting_b": np.arange(scn.n_b)},
            )
        }
    )
    sample_stats = raw.sample_stats
    groups["sample_stats"] = sample_stats
    attrs = {
        "model": model.name,
        "model_describe": json.dumps(model.describe()),
        "priors": json.dumps({n: p.prior_repr for n, p in model.parameters.items()}),
        "scenario": scn.to_json(),
        "sampler": sampler,
        "sampler_settings": json.dumps(settings),
        "init": init_source,
        "versions": json.dumps(_versions()),
        "seed": str(seed),
        "data_provenance": json.dumps(counts.provenance),
        "n_trials": str(counts.total),
        "likelihood": (
            "one Multinomial per setting pair over the 4 outcome cells, conditional on the "
            f"settings; p clipped to [{P_FLOOR}, 1] and renormalised"
        ),
        **audit_attrs,
    }
    idata = _arviz.inference_data(groups, attrs)
    for name in ("posterior", "sample_stats"):
        getattr(idata, name).attrs.update({"model": model.name, "sampler": sampler})
    return idata


def invariant_draws(idata: Any) -> xr.Dataset:
    """S, MI and Hall's M per posterior draw, on one ``(chain, draw)`` grid.

    MI and M live in ``posterior`` when every draw was audited and in ``audit_posterior`` (dim
    ``audit_draw``) when :func:`fit` thinned the audit; this returns them, with ``S`` at the same
    draws, whichever it was, so that summaries and plots of the audit never miss a thinned fit.
    Variables a fit lacks (no ontic table, no S) are left out.

    >>> ds = invariant_draws(idata)        # doctest: +SKIP
    >>> float(ds["mi_bits"].mean())        # doctest: +SKIP
    1.09
    """
    post = idata.posterior
    out = xr.Dataset({k: post[k] for k in ("S", "mi_bits", "hall_M") if k in post})
    if "audit_posterior" in idata.groups():
        aud = idata.audit_posterior.rename({"audit_draw": "draw"})
        idx = aud["draw"].values
        out = out.isel(draw=idx).assign_coords(draw=idx) if "S" in out else xr.Dataset()
        out = out.assign({k: aud[k] for k in ("mi_bits", "hall_M") if k in aud})
    return out


# -- LOO -----------------------------------------------------------------------------------------
def _cell_arrays(idata: Any, var_name: str = "trial") -> tuple[np.ndarray, np.ndarray]:
    """(log-lik ``(chain, draw, n_cells)`` over all cells, counts ``(n_cells,)``)."""
    ll = idata.log_likelihood[var_name].transpose("chain", "draw", *DIMS_BEHAVIOUR).values
    n = idata.observed_data["counts"].transpose(*DIMS_BEHAVIOUR).values
    return ll.reshape(*ll.shape[:2], -1), n.reshape(-1).astype(np.int64)


def _reff(idata: Any, param_names: Sequence[str] | None = None) -> float:
    """ArviZ's relative efficiency: mean ESS (method "mean") of the sampled parameters / draws."""
    post = idata.posterior
    if param_names is None:
        desc = json.loads(idata.attrs.get("model_describe", "{}"))
        param_names = [n for n in desc.get("parameters", {}) if n in post]
    if post.sizes["chain"] == 1:
        return 1.0
    ess = _arviz.ess_dataset(post[list(param_names)], method="mean")
    vals = np.hstack([ess[v].values.ravel() for v in ess.data_vars]) if ess.data_vars else []
    vals = np.asarray(vals, dtype=float)
    vals = vals[np.isfinite(vals)]
    n_samples = post.sizes["chain"] * post.sizes["draw"]
    return float(vals.mean() / n_samples) if vals.size else 1.0


def loo(idata: Any, *, var_name: str = "trial") -> Any:
    """Exact per-trial PSIS-LOO from a count-table fit, without a draws x trials matrix.

    All trials in one (setting pair, outcome) cell have the same single-trial log-likelihood
    log p(x_a, x_b | s_a, s_b, theta), hence the same importance ratios 1 / p(y_i | theta) and,
    after Pareto smoothing (which depends only on those ratios), the same pointwise elpd. So PSIS
    runs on the (at most ``K_a K_b 4``) occupied cells (``az.loo``), and the result is weighted
    by the counts: ``elpd = sum_c n_c elpd_c``, ``p_loo = sum_c n_c (lppd_c - elpd_c)`` and
    ``se = sqrt(N var_w)`` with ``var_w`` the count-weighted (population) variance of the
    pointwise values. This equals ArviZ's brute-force LOO on the expanded per-trial matrix
    (tested to 1e-6). The relative efficiency ``reff`` is ArviZ's rule (mean ESS of the sampled
    parameters / draws). The weighting is hand-written because ``az.loo`` takes no frequency
    weights.

    Returns
    -------
    arviz.ELPDData
        ArviZ's fields (``elpd_loo``, ``se``, ``p_loo``, ``n_samples``, ``n_data_points`` = N
        trials, ``warning``, ``loo_i`` and ``pareto_k`` expanded to one value per trial in cell
        order, ``scale="log"``, ``good_k``) plus ``loo_cells``, ``pareto_k_cells`` and
        ``cell_counts`` (per cell, row-major over ``setting_a, setting_b, outcome_a,
        outcome_b``). It can be handed to ``az.compare`` as it is.

    Examples
    --------
    >>> elpd = loo(idata)                            # doctest: +SKIP
    >>> float(elpd["elpd_loo"]), float(elpd["se"])   # doctest: +SKIP
    """
    ll, n = _cell_arrays(idata, var_name)
    occupied = np.flatnonzero(n > 0)
    if occupied.size == 0:
        raise ValueError("the fit's observed counts are empty")
    cell_idata = _arviz.from_dict(log_likelihood={"cells": ll[:, :, occupied]})
    reff = _reff(idata)
    res = _arviz.loo(cell_idata, reff=reff, var_name="cells")
    elpd_c = np.asarray(res["loo_i"].values, dtype=float)
    k_c = np.asarray(res["pareto_k"].values, dtype=float)
    w = n[occupied].astype(float)
    big_n = float(w.sum())
    flat = ll[:, :, occupied].reshape(-1, occupied.size)
    lppd_c = _logmeanexp(flat, axis=0)
    elpd = float(np.dot(w, elpd_c))
    mean_w = elpd / big_n
    var_w = float(np.dot(w, (elpd_c - mean_w) ** 2) / big_n)
    loo_cells = np.full(n.size, np.nan)
    loo_cells[occupied] = elpd_c
    k_cells = np.full(n.size, np.nan)
    k_cells[occupied] = k_c
    return _arviz.elpd_data(
        elpd=elpd,
        se=math.sqrt(big_n * var_w),
        p=float(np.dot(w, lppd_c)) - elpd,
        n_samples=flat.shape[0],
        n_data_points=int(big_n),
        warning=bool(res["warning"]),
        pointwise=np.repeat(elpd_c, n[occupied]),
        pareto_k=np.repeat(k_c, n[occupied]),
        good_k=float(res["good_k"]),
        extra={"loo_cells": loo_cells, "pareto_k_cells": k_cells, "cell_counts": n},
    )


def _logmeanexp(x: np.ndarray, axis: int) -> np.ndarray:
    m = np.max(x, axis=axis, keepdims=True)
    return np.squeeze(m, axis) + np.log(np.mean(np.exp(x - m), axis=axis))


# -- evidence ------------------------------------------------------------------------------------
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
    seed = _seed(seed)
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
        "versions": json.dumps(_versions()),
        "data_provenance": json.dumps(counts.provenance),
    }
    return mean, se, idata


# -- diagnostics ---------------------------------------------------------------------------------
def _gate_arrays(idata: Any) -> dict[str, np.ndarray]:
    """name -> ``(chain, draw, k)`` arrays of the invariant quantities present in the fit."""
    out: dict[str, np.ndarray] = {}
    post = idata.posterior
    for name in ("S", "correlators"):
        if name in post:
            v = post[name].values
            out[name] = v.reshape(*v.shape[:2], -1)
    if "log_likelihood" in idata.groups() and "trial" in idata.log_likelihood:
        ll, n = _cell_arrays(idata)
        occupied = n > 0
        total = (ll[:, :, occupied] * n[occupied]).sum(axis=-1)
        out["log_lik_total"] = total[:, :, None]
    for name in ("mi_bits", "hall_M"):
        for group in ("posterior", "audit_posterior"):
            if group in idata.groups() and name in getattr(idata, group):
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
    >>> d = diagnostics(idata)          # doctest: +SKIP
    >>> d["ok"], d["reasons"]           # doctest: +SKIP
    (True, [])
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
    if "sample_stats" in idata.groups() and "diverging" in idata.sample_stats:
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


__all__ = [
    "AUTO_ORDER",
    "EVIDENCE_SE_MAX",
    "SAMPLERS",
    "available_samplers",
    "build_model",
    "choose_sampler",
    "chsh_values",
    "correlators",
    "diagnostics",
    "evidence_reliable",
    "fit",
    "invariant_draws",
    "log_evidence",
    "log_multinomial_coefficient",
    "loo",
    "resolve_model",
]
