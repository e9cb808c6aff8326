"""Kernels of the evidence estimators (:mod:`bellmodels.inference.evidence`): the model's
unconstrained space, its symmetry group, the symmetrised Gaussian proposal, the bridge iteration
and the call of PyMC's SMC. (Tempered SMC with HMC moves is :mod:`._tempered_smc`.)

Hand-written: no maintained Python library does bridge sampling on PyMC models. References:
Meng & Wong, Statistica Sinica 6, 831 (1996); Gronau et al., J. Math. Psych. 81, 80 (2017);
Del Moral, Doucet & Jasra, JRSS B 68, 411 (2006).
"""

from __future__ import annotations

import functools
import itertools
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr
from scipy.special import logsumexp

from bellmodels.inference._backend import compile_mode, numba_quiet

if TYPE_CHECKING:
    from bellmodels.models.base import UnitSymmetry


# -- symmetries ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SignedPermutations:
    """A finite group acting on flat vectors: ``(g z)[i] = sign[g, i] * z[index[g, i]]``."""

    index: np.ndarray  # (G, d) int
    sign: np.ndarray  # (G, d) +-1.0

    @property
    def order(self) -> int:
        return int(self.index.shape[0])

    def images(self, z: np.ndarray) -> np.ndarray:
        """Every image of every point: ``(G, N, d)`` from ``(N, d)``."""
        return np.swapaxes(z[:, self.index], 0, 1) * self.sign[:, None, :]

    def compose(self, other: SignedPermutations) -> SignedPermutations:
        """The direct product: every ``h g`` with ``g`` from ``self`` and ``h`` from ``other``."""
        # (h g z)[i] = sh[i] (g z)[ih[i]] = sh[i] sg[ih[i]] z[ig[ih[i]]]
        d = self.index.shape[1]
        index = self.index[:, other.index]  # [a, b, i] = ig[a, ih[b, i]]
        sign = other.sign[None, :, :] * self.sign[:, other.index]
        return SignedPermutations(index.reshape(-1, d), sign.reshape(-1, d))

    @classmethod
    def identity(cls, d: int) -> SignedPermutations:
        return cls(np.arange(d)[None, :], np.ones((1, d)))


# -- the unconstrained space of a PyMC model ---------------------------------------------------------
class FreeSpace:
    """The flat unconstrained space of a PyMC model and its log density there.

    ``logp`` is PyMC's joint log density of the value variables with the transforms' Jacobians,
    vectorised over a batch of points (``pytensor.graph.replace.vectorize_graph``), so the
    evidence is ``integral exp(logp(z)) dz``.
    """

    def __init__(self, pmodel: Any) -> None:
        import pytensor
        import pytensor.tensor as pt

        self.pmodel = pmodel
        point = pmodel.initial_point()
        self.value_vars = list(pmodel.value_vars)
        self.rv_names: list[str] = [pmodel.values_to_rvs[v].name for v in self.value_vars]
        self.shapes: dict[str, tuple[int, ...]] = {}
        self.slices: dict[str, slice] = {}
        start = 0
        for v, rv_name in zip(self.value_vars, self.rv_names, strict=True):
            shape = tuple(np.shape(point[v.name]))
            size = int(np.prod(shape, dtype=int))
            self.shapes[rv_name] = shape
            self.slices[rv_name] = slice(start, start + size)
            start += size
        self.dim = start
        # forward transforms (constrained draws -> value space), batched over draws; applied
        # once per set of draws, so compiled without the C backend (no compiler run)
        self._forward: dict[str, Any] = {}
        for v, rv_name in zip(self.value_vars, self.rv_names, strict=True):
            rv = pmodel.values_to_rvs[v]
            tr = pmodel.rvs_to_transforms.get(rv)
            if tr is not None:
                x = pt.tensor(f"{rv_name}_x", shape=(None,) * (1 + rv.ndim))
                self._forward[rv_name] = pytensor.function(
                    [x], tr.forward(x, *rv.owner.inputs), mode="FAST_COMPILE"
                )

    @functools.cached_property
    def _logp(self) -> Any:
        """The batched log density, compiled on first use (tempered SMC compiles its own)."""
        import pytensor.tensor as pt
        from pymc.pytensorf import compile as compile_fn
        from pytensor.graph.replace import vectorize_graph

        logp = self.pmodel.logp(jacobian=True, sum=True)
        batch = pt.matrix("z_batch")
        replace = {
            v: batch[:, self.slices[n]].reshape((batch.shape[0], *self.shapes[n]))
            for v, n in zip(self.value_vars, self.rv_names, strict=True)
        }
        # PyMC's compile turns its parameter checks into -inf (pytensor.function would raise)
        return compile_fn([batch], vectorize_graph(logp, replace), mode=compile_mode())

    def logp(self, z: np.ndarray, chunk: int = 4096) -> np.ndarray:
        """log density at each row of ``z`` (``(N, dim)``); ``-inf`` where it is not finite."""
        z = np.atleast_2d(np.asarray(z, dtype=float))
        with numba_quiet():
            out = np.concatenate(
                [np.asarray(self._logp(z[i : i + chunk])) for i in range(0, len(z), chunk)]
            )
        return np.where(np.isfinite(out), out, -np.inf)

    def to_posterior(self, z: np.ndarray) -> xr.Dataset:
        """Flat unconstrained draws ``(chain, draw, dim)`` as a posterior: every free variable
        on its own scale (named and dimensioned as ``pm.sample`` names them) and the model's
        deterministics (``pm.compute_deterministics``), the inverse of :meth:`from_posterior`."""
        import pymc as pm
        import pytensor
        import pytensor.tensor as pt

        n_chain, n_draw = z.shape[:2]
        flat = np.asarray(z, dtype=float).reshape(n_chain * n_draw, self.dim)
        dims = self.pmodel.named_vars_to_dims
        data = {}
        for v, name in zip(self.value_vars, self.rv_names, strict=True):
            shape = self.shapes[name]
            x = flat[:, self.slices[name]].reshape(-1, *shape)
            rv = self.pmodel.values_to_rvs[v]
            tr = self.pmodel.rvs_to_transforms.get(rv)
            if tr is not None:  # applied once per set of draws: no C compile for it
                y = pt.tensor(f"{name}_y", shape=(None,) * (1 + len(shape)))
                back = pytensor.function([y], tr.backward(y, *rv.owner.inputs), mode="FAST_COMPILE")
                x = np.asarray(back(x))
            names = dims.get(name) or tuple(f"{name}_dim_{i}" for i in range(len(shape)))
            data[name] = (("chain", "draw", *names), x.reshape(n_chain, n_draw, *shape))
        coords = {
            d: np.asarray(self.pmodel.coords[d])
            for _, (names, _x) in data.items()
            for d in names[2:]
            if self.pmodel.coords.get(d) is not None
        }
        free = xr.Dataset(
            data, coords={"chain": np.arange(n_chain), "draw": np.arange(n_draw), **coords}
        )
        det = pm.compute_deterministics(free, model=self.pmodel, progressbar=False)
        return xr.merge([free, det])

    def from_posterior(self, posterior: xr.Dataset) -> np.ndarray:
        """The posterior draws as unconstrained flat vectors, ``(chain, draw, dim)``."""
        missing = [n for n in self.rv_names if n not in posterior]
        if missing:
            raise ValueError(
                f"the posterior has no draws of the free variable(s) {missing}; "
                "was it fitted to this model?"
            )
        n_chain, n_draw = posterior.sizes["chain"], posterior.sizes["draw"]
        parts = []
        for name in self.rv_names:
            x = posterior[name].transpose("chain", "draw", ...).values.astype(float)
            x = x.reshape(n_chain * n_draw, *x.shape[2:])
            if name in self._forward:
                x = np.asarray(self._forward[name](x))
            parts.append(x.reshape(n_chain, n_draw, -1))
        return np.concatenate(parts, axis=-1)


# -- the proposal ------------------------------------------------------------------------------------
@dataclass
class GaussianProposal:
    """A multivariate normal ``q`` and its symmetrised mixture ``q_G = mean_g q(g z)``."""

    mean: np.ndarray
    chol: np.ndarray
    group: SignedPermutations

    @classmethod
    def fit(cls, z: np.ndarray, group: SignedPermutations) -> GaussianProposal:
        """Mean and covariance of ``z`` (``(N, d)``, already aligned to one mode)."""
        mean = z.mean(axis=0)
        cov = np.cov(z, rowvar=False).reshape(z.shape[1], z.shape[1])
        cov += 1e-10 * np.eye(z.shape[1]) * max(1.0, float(np.trace(cov)) / z.shape[1])
        return cls(mean, np.linalg.cholesky(cov), group)

    def __post_init__(self) -> None:
        d = self.mean.size
        inv_l = np.linalg.inv(self.chol)
        # whitening of every image: L^-1 (g z - mu) = M_g z - L^-1 mu, M_g = L^-1 P_g, with
        # P_g the signed permutation matrix ((P_g z)[i] = sign[g, i] z[index[g, i]])
        m = np.zeros((self.group.order, d, d))
        for g in range(self.group.order):
            m[g][:, self.group.index[g]] = inv_l * self.group.sign[g][None, :]
        self._m_t = np.ascontiguousarray(np.swapaxes(m, 1, 2))
        self._shift = inv_l @ self.mean
        self._norm = -float(np.log(np.diag(self.chol)).sum()) - 0.5 * d * math.log(2 * math.pi)

    def log_q_images(self, z: np.ndarray, chunk: int = 2048) -> np.ndarray:
        """``log q(g z)`` for every group element and point: ``(G, N)``."""
        out = np.empty((self.group.order, len(z)))
        for i in range(0, len(z), chunk):
            w = np.matmul(z[i : i + chunk], self._m_t) - self._shift
            out[:, i : i + chunk] = -0.5 * np.einsum("gnd,gnd->gn", w, w) + self._norm
        return out

    def log_density(self, z: np.ndarray) -> np.ndarray:
        """``log q_G(z)``, the symmetrised proposal."""
        return logsumexp(self.log_q_images(z), axis=0) - math.log(self.group.order)

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return self.mean + rng.standard_normal((n, self.mean.size)) @ self.chol.T


def align_to_one_mode(z: np.ndarray, group: SignedPermutations, iterations: int = 3) -> np.ndarray:
    """Map every draw to the image of it closest to one mode, so one Gaussian can describe them.

    Chains (or one chain, now and then) may sit in different symmetric images of the same mode;
    ``p / q_G`` does not change under the group, so moving a draw to another image changes no
    term of either estimator, only the fitted proposal. Distances are Mahalanobis under the
    Gaussian of the aligned draws, refined ``iterations`` times from the first draw.
    """
    if group.order == 1:
        return z
    ref = GaussianProposal(z[0], np.eye(z.shape[1]) * max(float(z.std()), 1e-6), group)
    for _ in range(iterations):
        best = np.argmax(ref.log_q_images(z), axis=0)
        z = np.take_along_axis(z, group.index[best], axis=1) * group.sign[best]
        ref = GaussianProposal.fit(z, group)
    return z


# -- bridge sampling -----------------------------------------------------------------------------------
def bridge_iteration(
    l_post: np.ndarray,
    l_prop: np.ndarray,
    n_post_eff: float,
    tol: float = 1e-10,
    maxiter: int = 10_000,
) -> float:
    """log Z by Meng & Wong's iterative optimal bridge, in log space.

    ``l_post = log p - log q`` at the posterior draws, ``l_prop`` the same at the proposal draws;
    ``n_post_eff`` the posterior draws' effective size (Gronau et al. 2017, eq. 10, with the
    effective size in the weights ``s1, s2``).

    >>> rng = np.random.default_rng(0)                     # p = 3 N(0, 1), q = N(0, 1.2^2)
    >>> from scipy.stats import norm
    >>> x, y = rng.standard_normal(4000), 1.2 * rng.standard_normal(4000)
    >>> l = lambda t: math.log(3) + norm.logpdf(t) - norm.logpdf(t, scale=1.2)
    >>> round(bridge_iteration(l(x), l(y), 4000.0), 2) == round(math.log(3), 2)
    True
    """
    n2 = float(l_prop.size)
    s1 = n_post_eff / (n_post_eff + n2)
    s2 = n2 / (n_post_eff + n2)
    ls1, ls2 = math.log(s1), math.log(s2)
    lr = float(np.median(l_post))
    for _ in range(maxiter):
        num = logsumexp(-np.logaddexp(ls1, ls2 + lr - l_prop)) - math.log(n2)
        den = logsumexp(-np.logaddexp(ls1 + l_post, ls2 + lr)) - math.log(l_post.size)
        new = float(num - den)
        if not math.isfinite(new):
            raise FloatingPointError(
                "the bridge iteration diverged (no overlap of posterior and proposal)"
            )
        if abs(new - lr) < tol:
            return new
        lr = new
    return lr


def bridge_sampling(
    space: FreeSpace,
    draws: np.ndarray,
    group: SignedPermutations,
    *,
    seed: int,
    blocks: int = 8,
    proposal_draws: int = 4000,
    widen: float = 1.25,
) -> tuple[list[float], float, dict[str, Any]]:
    """Block estimates of log Z (no constant subtracted) from posterior draws ``(chain, draw, d)``.

    The draws are aligned to one symmetric mode and each chain is cut into contiguous blocks
    (``blocks`` in all). For each block a Gaussian proposal is fitted to the *other* blocks,
    ``proposal_draws`` fresh draws are taken from it, and the optimal bridge is iterated with
    the block's draws (their effective size by ArviZ's ESS of ``log p - log q_G``). The blocks
    are the independent repetitions.

    A Gaussian proposal can miss a curved posterior (the Boltzmann machines' ridge), and then
    every block is biased alike, which their spread cannot show. So each block is estimated a
    second time with the proposal's covariance widened by ``widen**2``; with enough overlap
    both agree, and the difference of the two means is returned as the *proposal sensitivity*,
    a measured systematic error the caller adds to the blocks' standard error.

    Returns (block estimates, proposal sensitivity, details).
    """
    from bellmodels import _arviz

    n_chain, n_draw, d = draws.shape
    per_chain = max(1, blocks // n_chain)
    if n_draw // per_chain < 50:
        raise ValueError(f"{n_draw} draws per chain are too few for {per_chain} blocks of >= 50")
    flat = align_to_one_mode(draws.reshape(-1, d), group)
    block_of = (np.arange(n_draw) * per_chain // n_draw)[None, :] + per_chain * np.arange(n_chain)[
        :, None
    ]
    block_of = block_of.ravel()
    lp_post = space.logp(flat)
    rng = np.random.default_rng(np.random.SeedSequence([seed, 7]))
    estimates, widened, ess_used, spread = [], [], [], []
    for blk in range(n_chain * per_chain):
        mine = block_of == blk
        q = GaussianProposal.fit(flat[~mine], group)
        for scale, out in ((1.0, estimates), (widen, widened)):
            qs = q if scale == 1.0 else GaussianProposal(q.mean, q.chol * scale, group)
            l_post = lp_post[mine] - qs.log_density(flat[mine])
            y = qs.sample(proposal_draws, rng)
            l_prop = space.logp(y) - qs.log_density(y)
            if scale == 1.0:
                ess = float(_arviz.ess(l_post[None, :], "bulk")) if np.ptp(l_post) > 0 else 1e9
                ess = min(max(ess, 2.0), float(l_post.size))
                ess_used.append(ess)
                spread.append(float(np.std(l_post)))
            out.append(bridge_iteration(l_post, l_prop, ess))
    sensitivity = abs(float(np.mean(widened)) - float(np.mean(estimates)))
    details = {
        "blocks": int(n_chain * per_chain),
        "draws_per_block": int(n_draw // per_chain),
        "proposal_draws": int(proposal_draws),
        "block_ess_min": float(min(ess_used)),
        "log_ratio_sd": float(np.mean(spread)),
        "proposal_sensitivity": sensitivity,
    }
    return estimates, sensitivity, details


def clean_smc_stats(stats: xr.Dataset, n_chains: int) -> tuple[xr.Dataset, np.ndarray]:
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


def run_smc(
    *, draws: int, chains: int, cores: int | None, seed: int, threshold: float = 0.5
) -> tuple[Any, xr.Dataset, np.ndarray]:
    """PyMC's ``sample_smc`` in the current model context, quietly: ``(idata, float stats,
    each chain's final log marginal likelihood)``."""
    import pymc as pm

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        idata = pm.sample_smc(
            draws=draws,
            chains=chains,
            cores=cores,
            random_seed=seed,
            threshold=threshold,
            progressbar=False,
            compute_convergence_checks=False,
        )
    stats, final = clean_smc_stats(idata.sample_stats, idata.posterior.sizes["chain"])
    return idata, stats, final


def parameter_group(symmetries: Sequence[UnitSymmetry], space: FreeSpace) -> SignedPermutations:
    """Declared symmetries (:meth:`HiddenVariableModel.parameter_symmetries`) as signed
    permutations of the flat free vector; the direct product when there are several."""
    group = SignedPermutations.identity(space.dim)
    for sym in symmetries:
        missing = sorted(set(sym.axes) - set(space.rv_names))
        if missing:
            raise ValueError(
                f"a declared symmetry names free variable(s) {missing}, which the "
                f"PyMC model does not have ({space.rv_names})"
            )
        idx, sgn = [], []
        flips = list(itertools.product((1.0, -1.0), repeat=sym.n_units)) if sym.sign_flip else [()]
        for perm in itertools.permutations(range(sym.n_units)):
            for flip in flips:
                gi, gs = np.arange(space.dim), np.ones(space.dim)
                for name, axis in sym.axes.items():
                    shape, sl = space.shapes[name], space.slices[name]
                    pos = np.arange(sl.start, sl.stop).reshape(shape)
                    gi[pos] = np.take(pos, list(perm), axis=axis)
                    if flip:
                        f = np.reshape(flip, [-1 if a == axis else 1 for a in range(len(shape))])
                        gs[pos] = np.broadcast_to(f, shape)
                idx.append(gi)
                sgn.append(gs)
        group = group.compose(SignedPermutations(np.array(idx), np.array(sgn)))
    return group


__all__ = [
    "FreeSpace",
    "GaussianProposal",
    "SignedPermutations",
    "align_to_one_mode",
    "bridge_iteration",
    "bridge_sampling",
    "clean_smc_stats",
    "parameter_group",
    "run_smc",
]
