"""The cvxpy solve the package used before its convex programmes went to Clarabel directly
(issue #28): kept for the tests, whose cvxpy formulations are the references the Clarabel forms
must reproduce. cvxpy is a test dependency only (the ``dev`` extra); ``pytest.importorskip``
skips a reference when it is missing.

Imported by the tests as ``from _cvxpy_reference import solve_convex`` (``tests/`` is on
``sys.path`` through ``tests/conftest.py``).
"""

from __future__ import annotations

import warnings
from typing import Any


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
