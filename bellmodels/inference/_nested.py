"""Nested sampling of a model's evidence with dynesty: the ``"nested"`` method of
:func:`bellmodels.inference.estimate_log_evidence` (optional extra ``bellmodels[nested]``).

Nested sampling (J. Skilling, Bayesian Analysis 1, 833 (2006)) integrates the likelihood over
the prior's volume, compressing a set of live points from the whole prior towards the
likelihood's peak; dynesty (J. S. Speagle, MNRAS 493, 3132 (2020)) does the compression with
multi-ellipsoid bounds and slice moves. It shares nothing with the tempered SMC and the bridge
estimators but the log density, so it is the independent check of their evidence: it needs no
fit, and the prior-volume integral counts every symmetric image of a mode (the images of one
mode shrink alike, so live points that settle on some images still measure the volume of all).

dynesty reports an error of its own (from the information H), which on the Boltzmann machines
understates the spread between runs (issue #28); here, as for the other estimators, the error is
measured from independent runs with different seeds, and dynesty's own is kept in the details.

The prior transform maps the unit cube to the prior through each free variable's inverse CDF
(PyMC's ``icdf``), then to PyMC's value space, where the model's likelihood (its observed
variables and potentials) is evaluated. It needs priors whose parameters are constants (every
prior in :mod:`bellmodels.models.priors` and the machines' Gaussian weights); a hierarchical
prior is refused by name. The transform and the runs are hand-written glue around dynesty.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from bellmodels.inference._backend import compile_mode, numba_quiet

INSTALL_HINT = "nested sampling needs dynesty: pip install 'bellmodels[nested]'"


def _import_dynesty() -> Any:
    try:
        import dynesty
    except ImportError as exc:  # the optional extra
        raise ImportError(INSTALL_HINT) from exc
    return dynesty


class UnitCubeSpace:
    """A PyMC model's prior as a map from the unit cube, and its log-likelihood there.

    ``transform(u)`` takes ``u`` in ``[0, 1]^dim`` to the flat value-space point (the layout of
    :class:`bellmodels.inference._evidence_kernels.FreeSpace`) whose free variables are the
    prior's inverse CDF at ``u``; ``loglike(z)`` is the model's log density minus its priors'
    (the observed variables and potentials, no Jacobian: the prior measure is the cube's).
    """

    def __init__(self, space: Any) -> None:
        import pymc as pm
        import pytensor
        import pytensor.tensor as pt
        from pymc.pytensorf import compile as compile_fn
        from pytensor.graph.replace import graph_replace

        try:
            from pytensor.graph.traversal import ancestors
        except ImportError:  # PyTensor before 2.31 (the PyMC 5 line)
            from pytensor.graph.basic import ancestors

        pmodel = space.pmodel
        self.dim = space.dim
        free = set(pmodel.free_RVs)
        u = pt.vector("u", shape=(space.dim,))
        parts = []
        for v, name in zip(space.value_vars, space.rv_names, strict=True):
            rv = pmodel.values_to_rvs[v]
            if free & set(ancestors(rv.owner.inputs)):
                raise ValueError(
                    f"nested sampling: the prior of {name!r} depends on another free variable; "
                    "the unit-cube transform needs priors with constant parameters"
                )
            shape = space.shapes[name]
            try:
                x = pm.icdf(rv, u[space.slices[name]].reshape(shape))
            except NotImplementedError as exc:  # e.g. Dirichlet: no inverse CDF in PyMC
                raise ValueError(
                    f"nested sampling: the prior of {name!r} ({rv.owner.op}) has no inverse CDF "
                    "in PyMC, which the unit-cube transform needs"
                ) from exc
            tr = pmodel.rvs_to_transforms.get(rv)
            z = tr.forward(x, *rv.owner.inputs) if tr is not None else x
            parts.append(pt.as_tensor(z).reshape((-1,)))
        # applied once per proposed point, like the likelihood: the same compile mode
        self._transform = pytensor.function([u], pt.concatenate(parts), mode=compile_mode())

        terms = list(pmodel.observed_RVs) + list(pmodel.potentials)
        loglike = pmodel.logp(vars=terms, jacobian=False, sum=True)
        z = pt.vector("z", shape=(space.dim,))
        replace = {
            v: z[space.slices[n]].reshape(space.shapes[n])
            for v, n in zip(space.value_vars, space.rv_names, strict=True)
        }
        graph = graph_replace(loglike, replace)
        # PyMC's compile turns parameter checks into -inf (pytensor.function would raise)
        self._loglike = compile_fn([z], graph, mode=compile_mode())

    def transform(self, u: np.ndarray) -> np.ndarray:
        return np.asarray(self._transform(np.asarray(u, dtype=float)))

    def loglike(self, z: np.ndarray) -> float:
        out = float(self._loglike(np.asarray(z, dtype=float)))
        return out if np.isfinite(out) else -1e300  # dynesty wants a finite floor


def _moves(dim: int) -> str:
    """dynesty's way of drawing a new live point: uniform inside the ellipsoids in a few
    dimensions, slice moves above. Uniform draws stall on the machines (10 or more weights):
    as the ellipsoids around the n! 2^n images overlap and overreach, almost every draw is
    rejected (seen at 245 trials)."""
    return "unif" if dim <= 5 else "rslice"


def nested_runs(
    space: Any, *, runs: int, seed: int, live_points: int, dlogz: float = 0.05
) -> tuple[list[float], dict[str, Any]]:
    """``runs`` independent dynesty runs (static sampler, multi-ellipsoid bounds, the moves of
    :func:`_moves`), seeded ``seed, seed + 1, ...``: their log evidences (the model's density
    in value space, multinomial coefficient not subtracted) and details (dynesty's own errors,
    likelihood calls, seconds per run).

    >>> import pymc as pm
    >>> from bellmodels.inference._evidence_kernels import FreeSpace
    >>> with pm.Model() as m:
    ...     mu = pm.Normal("mu", 0.0, 1.0)
    ...     _ = pm.Normal("y", mu, 1.0, observed=[0.0])
    >>> raw, info = nested_runs(FreeSpace(m), runs=2, seed=1, live_points=200)
    >>> exact = -0.5 * np.log(2 * np.pi * 2.0)   # y ~ Normal(0, sqrt 2)
    >>> bool(abs(np.mean(raw) - exact) < 0.3), info["live_points"]
    (True, 200)
    """
    dynesty = _import_dynesty()
    cube = UnitCubeSpace(space)
    logz, own_err, calls, seconds = [], [], [], []
    with numba_quiet():
        for r in range(runs):
            t0 = time.perf_counter()
            sampler = dynesty.NestedSampler(
                cube.loglike,
                cube.transform,
                cube.dim,
                nlive=live_points,
                bound="multi",
                sample=_moves(cube.dim),
                rstate=np.random.default_rng(seed + r),
            )
            sampler.run_nested(dlogz=dlogz, print_progress=False)
            res = sampler.results
            logz.append(float(res.logz[-1]))
            own_err.append(float(res.logzerr[-1]))
            calls.append(int(np.sum(res.ncall)))
            seconds.append(time.perf_counter() - t0)
    details = {
        "live_points": live_points,
        "runs": runs,
        "dlogz": dlogz,
        "dynesty_logzerr": own_err,
        "likelihood_calls": calls,
        "run_seconds": seconds,
    }
    return logz, details
