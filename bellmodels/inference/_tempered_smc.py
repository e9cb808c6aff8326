"""Tempered sequential Monte Carlo with Hamiltonian moves, from the prior to the posterior and
back: the two evidence estimators that hold on the Boltzmann machines' curved ridge.

The targets are ``pi_beta(z) ∝ prior(z) L(z)^beta`` in the model's unconstrained space. The
temperatures adapt so that each reweighting keeps an effective sample size of ``target_ess``
(Jasra, Stephens, Doucet & Tsagaris, Scand. J. Stat. 38, 1 (2011)); after each reweighting the
particles are resampled (systematic) and moved by Hamiltonian Monte Carlo whose mass matrix is
the particles' covariance and whose step size adapts to the acceptance rate (Buchholz, Chopin &
Jacob, Bayesian Analysis 16, 745 (2021)). The product of the stages' mean weights is an
unbiased estimate of the ratio of normalising constants (Del Moral, Doucet & Jasra, JRSS B 68,
411 (2006)).

Waste-free SMC (Dau & Chopin, JRSS B 84, 114 (2022); ``SMCSettings.waste_free_chain``) moves
instead only ``N / P`` resampled particles, each for ``P - 1`` transitions, and keeps every
state: the same product of mean weights over ``N`` particles that are ``N / P`` chains, whose
long chains follow a curved ridge further per stage than many short moves do. It is an option,
not the default; ``benchmarks/evidence_sizes.py`` (sizes ``wfNxP``) measures it on the machines
against the default estimator at equal cost.

*Forward* (prior -> posterior, from exact prior draws) estimates ``Z``; *reverse* (posterior ->
prior, from the NUTS draws) estimates ``1 / Z``. Their logs are biased in opposite directions
(Jensen), so the forward value tends to sit below log Z and the reverse one above it: the pair
sandwiches the evidence, and the gap between them is a measured bound on what either run
misses (bidirectional Monte Carlo, Grosse, Ghahramani & Adams, arXiv:1511.02543 (2015)).
Neither needs the symmetric modes counted by hand: forward starts from the prior, which covers
them all; reverse starts in one mode, but the whole run is equivariant under the symmetry group
(the mass matrix is the particles' covariance), so its estimate has the same distribution as
one started in every mode.

Hand-written: PyMC's ``sample_smc`` moves particles by random-walk or independent Metropolis
kernels, which cannot follow the machines' thin curved ridge in 24 dimensions (its estimates
beside these: ``docs/generated/evidence_benchmark.md``), and no maintained library runs
gradient-based tempered SMC on a PyMC model without JAX.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy.special import logsumexp

from bellmodels.inference._backend import compile_mode, numba_quiet

if TYPE_CHECKING:
    from bellmodels.inference._evidence_kernels import FreeSpace


@dataclass(frozen=True)
class SMCSettings:
    """Sizes of one tempered SMC run (defaults measured in docs/generated/evidence_benchmark.md)."""

    particles: int = 1000
    target_ess: float = 0.5
    hmc_steps: int = 8
    leapfrog: int = 12
    target_accept: float = 0.7
    max_stages: int = 500
    #: waste-free SMC (Dau & Chopin, JRSS B 84, 114 (2022)) when > 1: each stage resamples only
    #: ``particles // waste_free_chain`` particles and runs each for ``waste_free_chain - 1`` HMC
    #: transitions, keeping every state, so the ``particles`` are that many chains of this length
    #: (``hmc_steps`` is then unused). 0: the standard resample-and-move of every particle.
    waste_free_chain: int = 0

    def __post_init__(self) -> None:
        p = self.waste_free_chain
        if p and (p < 2 or self.particles % p):
            raise ValueError(
                f"waste_free_chain={p} must be >= 2 and divide particles={self.particles}"
            )


class TemperedParts:
    """Batched ``log prior``, ``log likelihood`` and their gradients of a PyMC model.

    ``log prior`` includes the transforms' Jacobians, so ``prior`` integrates to one in the
    unconstrained space; ``log likelihood`` is the observed variables' and potentials' log
    density. Out-of-support points give ``-inf`` (PyMC's bound checks become switches).
    """

    def __init__(self, space: FreeSpace) -> None:
        import pytensor
        import pytensor.tensor as pt
        from pymc.pytensorf import compile as compile_fn
        from pytensor.graph.replace import vectorize_graph

        pmodel = space.pmodel
        self.space = space
        prior = pmodel.logp(vars=pmodel.free_RVs, jacobian=True, sum=True)
        lik = pmodel.logp(vars=[*pmodel.observed_RVs, *pmodel.potentials], sum=True)
        batch = pt.matrix("z_batch")
        replace = {
            v: batch[:, space.slices[n]].reshape((batch.shape[0], *space.shapes[n]))
            for v, n in zip(space.value_vars, space.rv_names, strict=True)
        }
        b_prior, b_lik = vectorize_graph([prior, lik], replace)
        # rows are independent, so the gradient of the sum is each row's gradient
        g_prior = pytensor.grad(b_prior.sum(), batch)
        g_lik = pytensor.grad(b_lik.sum(), batch)
        self._fn = compile_fn([batch], [b_prior, b_lik, g_prior, g_lik], mode=compile_mode())

    def __call__(self, z: np.ndarray) -> tuple[np.ndarray, ...]:
        # a diverging point is -inf below
        with np.errstate(invalid="ignore", over="ignore"), numba_quiet():
            lp, ll, gp, gl = (np.asarray(x, dtype=float) for x in self._fn(z))
        bad = ~(np.isfinite(lp) & np.isfinite(ll))
        if bad.any():
            lp, ll = np.where(bad, -np.inf, lp), np.where(bad, -np.inf, ll)
            gp, gl = np.where(bad[:, None], 0.0, gp), np.where(bad[:, None], 0.0, gl)
        return lp, ll, gp, gl

    def prior_draws(self, n: int, seed: int) -> np.ndarray:
        """``n`` exact prior draws as flat unconstrained vectors."""
        import pymc as pm
        import xarray as xr

        pmodel = self.space.pmodel
        # drawn once per run: no C compile for it
        values = pm.draw(pmodel.free_RVs, draws=n, random_seed=seed, mode="FAST_COMPILE")
        ds = xr.Dataset(
            {
                rv.name: (
                    ("chain", "draw", *[f"{rv.name}_{i}" for i in range(v.ndim - 1)]),
                    v[None],
                )
                for rv, v in zip(pmodel.free_RVs, values, strict=True)
            }
        )
        return self.space.from_posterior(ds).reshape(n, self.space.dim)


def _ess(logw: np.ndarray) -> float:
    w = np.exp(logw - logw.max())
    return float(w.sum() ** 2 / (w**2).sum())


def _next_beta(ll: np.ndarray, beta: float, end: float, target: float) -> float:
    """The temperature nearest ``end`` whose reweighting keeps ESS >= ``target`` (bisection)."""
    if _ess((end - beta) * ll) >= target:
        return end
    lo, hi = beta, end
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if _ess((mid - beta) * ll) >= target:
            lo = mid
        else:
            hi = mid
    return lo


def _systematic(logw: np.ndarray, rng: np.random.Generator, m: int | None = None) -> np.ndarray:
    """``m`` (default: as many as weights) indices drawn by systematic resampling."""
    w = np.exp(logw - logsumexp(logw))
    m = w.size if m is None else m
    u = (rng.uniform() + np.arange(m)) / m
    return np.minimum(np.searchsorted(np.cumsum(w), u), w.size - 1)


def tempered_smc(
    parts: TemperedParts,
    start: np.ndarray,
    rng: np.random.Generator,
    *,
    reverse: bool = False,
    settings: SMCSettings | None = None,
    keep_particles: bool = False,
) -> tuple[float, dict[str, Any]]:
    """One run: ``(log Z estimate, details)``, from prior draws (forward) or posterior draws
    (``reverse=True``: the estimate of ``log 1/Z`` is negated). ``start`` is ``(N, dim)``.

    ``keep_particles`` (forward only): the last stage's weighted particles are resampled and
    moved by ``hmc_steps`` transitions at the posterior too, and returned, equally weighted, as
    ``details["particles"]`` (``(N, dim)``): draws from the posterior that weigh separated modes
    by their mass, which NUTS chains started in one mode cannot."""
    if keep_particles and reverse:
        raise ValueError("keep_particles needs a forward run (posterior draws at its end)")
    s = settings or SMCSettings()
    z = np.array(start, dtype=float)
    n, d = z.shape
    lp, ll, gp, gl = parts(z)
    if not np.all(np.isfinite(lp + ll)):
        raise FloatingPointError("a starting particle has a non-finite log density")
    beta, end = (1.0, 0.0) if reverse else (0.0, 1.0)
    log_ratio, eps, stages, accept = 0.0, 0.5 / d**0.25, 0, []
    while beta != end:
        if stages >= s.max_stages:
            raise RuntimeError(f"tempered SMC did not reach beta={end} in {s.max_stages} stages")
        new = _next_beta(ll, beta, end, s.target_ess * n)
        logw = (new - beta) * ll
        log_ratio += float(logsumexp(logw) - math.log(n))
        beta, stages = new, stages + 1
        if beta == end:
            break
        (z, lp, ll, gp, gl), eps = _resample_and_move(
            parts, (z, lp, ll, gp, gl), logw, beta, eps, s, rng, accept
        )
    details: dict[str, Any] = {"stages": stages}
    if keep_particles:  # the loop left at beta = 1 with the last weights unresampled
        (z, lp, ll, gp, gl), eps = _resample_and_move(
            parts, (z, lp, ll, gp, gl), logw, 1.0, eps, s, rng, accept
        )
        details["particles"] = z
        details["particles_logp"] = lp + ll  # log prior + log likelihood, up to a constant
    details["accept_mean"] = float(np.mean(accept)) if accept else 1.0
    return (-log_ratio if reverse else log_ratio), details


def _resample_and_move(
    parts: TemperedParts,
    state: tuple[np.ndarray, ...],
    logw: np.ndarray,
    beta: float,
    eps: float,
    s: SMCSettings,
    rng: np.random.Generator,
    accept: list[float],
) -> tuple[tuple[np.ndarray, ...], float]:
    """Resample ``state`` (particles, log prior, log likelihood and their gradients) by the
    weights ``logw`` and move it by ``s.hmc_steps`` HMC transitions at ``beta``, mass matrix
    the resampled particles' covariance; the step size adapts to the acceptance rates, which
    are appended to ``accept``.

    Waste-free (``s.waste_free_chain = P``; Dau & Chopin 2022): resample only ``M = N / P``
    particles and run each for ``P - 1`` transitions, all ``M`` chains in one batch; the ``N``
    new particles are every state of the chains, their starts included. The mass matrix is then
    the weighted covariance of all ``N`` particles (``M`` resampled ones would give a noisier
    one)."""
    n, d = state[0].shape
    chain = s.waste_free_chain
    idx = _systematic(logw, rng, n // chain if chain else None)
    cur = tuple(a[idx] for a in state)
    # waste-free: all N weighted particles' covariance; else the resampled ones'
    cov = (
        np.cov(state[0], rowvar=False, aweights=np.exp(logw - logsumexp(logw)))
        if chain
        else np.cov(cur[0], rowvar=False)
    ).reshape(d, d)
    cov += 1e-10 * max(float(np.trace(cov)) / d, 1e-12) * np.eye(d)
    chol = np.linalg.cholesky(cov)
    kept = [cur]
    for _ in range(chain - 1 if chain else s.hmc_steps):
        *moved, rate = _hmc_step(parts, *cur, beta, cov, chol, eps, s, rng)
        cur = tuple(moved)
        accept.append(rate)
        eps *= math.exp(1.5 * (rate - s.target_accept))
        if chain:
            kept.append(cur)
    if chain:
        cur = tuple(np.concatenate(col, axis=0) for col in zip(*kept, strict=True))
    return cur, eps


def _hmc_step(
    parts: TemperedParts,
    z: np.ndarray,
    lp: np.ndarray,
    ll: np.ndarray,
    gp: np.ndarray,
    gl: np.ndarray,
    beta: float,
    cov: np.ndarray,
    chol: np.ndarray,
    eps: float,
    s: SMCSettings,
    rng: np.random.Generator,
) -> tuple[np.ndarray, ...]:
    """One HMC transition of every particle at temperature ``beta``; mass matrix ``cov^-1``,
    step size and path length jittered (so no particle is stuck on a resonant trajectory)."""
    n, d = z.shape
    white = rng.standard_normal((n, d))
    mom = np.linalg.solve(chol.T, white.T).T  # p ~ N(0, cov^-1)
    e = eps * rng.uniform(0.8, 1.2)
    steps = int(rng.integers(max(1, s.leapfrog // 2), s.leapfrog + 1))
    h0 = -(lp + beta * ll) + 0.5 * (white**2).sum(axis=1)
    zn, pn = z.copy(), mom + 0.5 * e * (gp + beta * gl)
    for i in range(steps):
        zn = zn + e * pn @ cov
        lpn, lln, gpn, gln = parts(zn)
        grad = gpn + beta * gln
        pn = pn + (e if i < steps - 1 else 0.5 * e) * grad
    with np.errstate(over="ignore", invalid="ignore"):  # a diverging path is rejected below
        h1 = -(lpn + beta * lln) + 0.5 * ((pn @ chol) ** 2).sum(axis=1)
    log_a = np.where(np.isfinite(h1), h0 - h1, -np.inf)
    keep = np.log(rng.uniform(size=n)) < log_a
    out = [
        np.where(keep[:, None] if a.ndim == 2 else keep, b, a)
        for a, b in ((z, zn), (lp, lpn), (ll, lln), (gp, gpn), (gl, gln))
    ]
    rate = float(np.mean(np.exp(np.minimum(np.nan_to_num(log_a, nan=-np.inf), 0.0))))
    return (*out, rate)


def smc_runs(
    space: FreeSpace,
    *,
    runs: int,
    seed: int,
    posterior_draws: np.ndarray | None = None,
    settings: SMCSettings | None = None,
    keep_particles: bool = False,
) -> tuple[list[float], dict[str, Any]]:
    """Independent runs' log Z (no constant subtracted): forward from fresh prior draws, or, if
    ``posterior_draws`` (``(N, dim)``) are given, reverse from a fresh subsample of them.

    ``keep_particles`` (forward): the details also hold each run's posterior particles,
    ``particles`` ``(runs, N, dim)``, and their log prior + log likelihood, ``lp`` ``(runs, N)``
    (:func:`tempered_smc`); ``fit(sampler="smc")`` is these."""
    s = settings or SMCSettings()
    parts = TemperedParts(space)
    reverse = posterior_draws is not None
    out, stages, accept, kept = [], [], [], []
    for r in range(runs):
        rng = np.random.default_rng(np.random.SeedSequence([seed, r, int(reverse)]))
        if reverse:
            pool = np.asarray(posterior_draws)
            start = pool[rng.choice(len(pool), s.particles, replace=len(pool) < s.particles)]
        else:
            start = parts.prior_draws(s.particles, seed=int(rng.integers(2**31)))
        value, info = tempered_smc(
            parts, start, rng, reverse=reverse, settings=s, keep_particles=keep_particles
        )
        if keep_particles:
            kept.append((info["particles"], info["particles_logp"]))
        out.append(value)
        stages.append(info["stages"])
        accept.append(info["accept_mean"])
    details = {
        "direction": "reverse" if reverse else "forward",
        "evidence_chains": runs,
        "evidence_draws": s.particles,
        "evidence_hmc_steps": s.hmc_steps,
        "leapfrog": s.leapfrog,
        "stages_max": int(max(stages)),
        "accept_mean": float(np.mean(accept)),
    }
    if s.waste_free_chain:
        details["waste_free_chain"] = s.waste_free_chain
    if keep_particles:
        details["particles"] = np.stack([z for z, _ in kept])
        details["lp"] = np.stack([lp for _, lp in kept])
    return out, details


__all__ = ["SMCSettings", "TemperedParts", "smc_runs", "tempered_smc"]
