"""The cvxpy solve the package used before its convex programmes went to Clarabel directly
(issue #28): kept for the tests, whose cvxpy formulations are the references the Clarabel forms
must reproduce. cvxpy is a test dependency only (the ``dev`` extra); ``pytest.importorskip``
skips a reference when it is missing.

Imported by the tests as ``from _cvxpy_reference import solve_convex`` (``tests/`` is on
``sys.path`` through ``tests/conftest.py``).
"""

from __future__ import annotations

import itertools
import warnings
from typing import Any

import numpy as np
import pytest


def solve_convex(problem: Any) -> None:
    """Solve a cvxpy problem: Clarabel with tight tolerances, then default Clarabel, then SCS.

    The first attempt that reports ``optimal`` is kept; ``optimal_inaccurate`` is accepted only
    from the last attempt. Raises ``RuntimeError`` if no attempt succeeds.
    """
    import cvxpy as cp

    attempts: list[tuple[str, dict[str, Any]]] = [
        (cp.CLARABEL, {"tol_gap_abs": 1e-10, "tol_gap_rel": 1e-10, "tol_feas": 1e-10}),
        (cp.CLARABEL, {}),
        (cp.SCS, {"eps": 1e-9, "max_iters": 200_000}),
    ]
    status = "not solved"
    for solver, options in attempts:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                problem.solve(solver=solver, **options)
        except (cp.error.SolverError, ValueError):
            continue
        status = problem.status
        if status == "optimal":
            return
    if status != "optimal_inaccurate":
        raise RuntimeError(f"convex solver failed: status {status}")


def cvxpy_ns_mle(n: np.ndarray) -> np.ndarray:
    """The no-signalling maximum likelihood as bellmodels solved it before issue #28."""
    cp = pytest.importorskip("cvxpy")
    ka, kb = n.shape[:2]
    m = ka * kb * 4
    w = n.reshape(m) / n.sum()
    idx = np.arange(m).reshape(ka, kb, 2, 2)
    var = cp.Variable(m, nonneg=True)
    cons = [cp.sum(var[idx[i, j].ravel()]) == 1 for i in range(ka) for j in range(kb)]
    for i, j in itertools.product(range(ka), range(1, kb)):
        cons.append(cp.sum(var[idx[i, j, 1, :]]) == cp.sum(var[idx[i, 0, 1, :]]))
    for i, j in itertools.product(range(1, ka), range(kb)):
        cons.append(cp.sum(var[idx[i, j, :, 1]]) == cp.sum(var[idx[0, j, :, 1]]))
    pos = np.flatnonzero(w > 0)
    solve_convex(cp.Problem(cp.Maximize(cp.sum(cp.multiply(w[pos], cp.log(var[pos])))), cons))
    p = np.clip(np.asarray(var.value, dtype=float), 1e-300, None).reshape(ka, kb, 2, 2)
    return p / p.sum(axis=(2, 3), keepdims=True)
