"""Convex programmes posed directly to Clarabel, the interior-point solver cvxpy called for them
before (Goulart & Chen, arXiv:2405.12762 (2024)); shared by the audit's programmes
(:mod:`bellmodels.auditing.programmes`), the no-signalling test (:mod:`bellmodels.behaviour`) and
the polytope maximum likelihood (:mod:`bellmodels._polytope_mle`).

cvxpy costs seconds to import and to canonicalise a programme, while these programmes are small
and fixed in shape (at most a few hundred variables), so they are written in Clarabel's standard
form here:

    minimise  c . x   subject to   A x + s = b,   s in K,

with K a product of zero cones (equalities), non-negative orthants and exponential cones
{(u, v, w): v exp(u / v) <= w, v > 0}. :class:`ConicProgram` collects the rows of ``A`` block by
block as sparse triplets, each block with its cone; :meth:`ConicProgram.solve` tries tight
tolerances first, then Clarabel's defaults. :func:`max_weighted_log` is the one programme the
likelihoods need: the maximum of sum_i w_i log (D x)_i over a polytope.

Clarabel's Python binding reads a matrix through its compressed-column arrays (``data``,
``indices``, ``indptr``, ``shape``, ``has_canonical_format``), which :class:`CscArrays` holds
as numpy arrays: importing scipy.sparse only to hand those arrays over would cost a fifth of a
second of a command that answers in one. Should a release of the binding want a real
``scipy.sparse`` matrix, the same arrays are passed as one (the fallback in
:meth:`ConicProgram.solve`; ``tests/auditing/test_programmes.py`` runs both).

>>> import numpy as np
>>> prog = ConicProgram(2)  # minimise x0 + x1 subject to x0 >= 1, x1 >= 2
>>> prog.add("nonneg", rows=[0, 1], cols=[0, 1], vals=[-1.0, -1.0], b=[-1.0, -2.0])
>>> [round(float(v), 6) for v in prog.solve(np.array([1.0, 1.0]), "example")]
[1.0, 2.0]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

# the attempts, in order: tight tolerances (the audit's numbers are quoted to 1e-6 and compared
# at 1e-8), then Clarabel's defaults; "almost solved" is accepted from the last attempt only
_ATTEMPTS: tuple[dict[str, float], ...] = (
    {"tol_gap_abs": 1e-10, "tol_gap_rel": 1e-10, "tol_feas": 1e-10},
    {},
)
_CONES = ("zero", "nonneg", "exp")


@dataclass(frozen=True)
class CscArrays:
    """A matrix in compressed-column form: sorted row indices, no repeated entry."""

    data: np.ndarray
    indices: np.ndarray
    indptr: np.ndarray
    shape: tuple[int, int]
    has_canonical_format: bool = True
    has_sorted_indices: bool = True

    @property
    def nnz(self) -> int:
        return int(self.data.size)

    @classmethod
    def from_triplets(
        cls, rows: np.ndarray, cols: np.ndarray, vals: np.ndarray, shape: tuple[int, int]
    ) -> CscArrays:
        """Entries ``(rows, cols, vals)``, repeated ones summed (as ``scipy.sparse`` does).

        >>> m = CscArrays.from_triplets(
        ...     np.array([1, 0, 1]), np.array([0, 1, 0]), np.array([2.0, 3.0, 4.0]), (2, 2)
        ... )
        >>> m.data.tolist(), m.indices.tolist(), m.indptr.tolist()
        ([6.0, 3.0], [1, 0], [0, 1, 2])
        """
        n_rows, n_cols = shape
        keys, inverse = np.unique(cols * n_rows + rows, return_inverse=True)
        data = np.bincount(inverse.ravel(), weights=vals, minlength=keys.size)
        col_of = keys // n_rows
        indptr = np.concatenate([[0], np.cumsum(np.bincount(col_of, minlength=n_cols))])
        return cls(data.astype(float), (keys % n_rows).astype(np.int64), indptr, shape)

    def to_scipy(self) -> Any:
        """The same matrix as a ``scipy.sparse.csc_matrix``."""
        from scipy import sparse

        return sparse.csc_matrix((self.data, self.indices, self.indptr), shape=self.shape)


class ConicProgram:
    """A conic programme in Clarabel's standard form, ``A`` built block by block.

    Parameters
    ----------
    n_vars
        Length of ``x``.
    """

    def __init__(self, n_vars: int) -> None:
        self.n_vars = n_vars
        self.n_rows = 0
        self._triplets: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self._b: list[np.ndarray] = []
        self._cones: list[tuple[str, int]] = []

    def add(self, cone: str, rows: Any, cols: Any, vals: Any, b: Any) -> None:
        """Append ``len(b)`` rows: ``A[rows, cols] = vals`` (``rows`` counted within the block,
        repeated entries summed) with right-hand side ``b``, all in ``cone``: "zero" (equalities
        ``A x = b``), "nonneg" (``b - A x >= 0``) or "exp" (each three consecutive rows one
        exponential cone)."""
        if cone not in _CONES:
            raise ValueError(f"unknown cone {cone!r} (one of {', '.join(_CONES)})")
        b = np.asarray(b, dtype=float).ravel()
        if cone == "exp" and b.size % 3:
            raise ValueError(f"an exponential-cone block needs rows in threes, not {b.size}")
        rows = np.asarray(rows, dtype=np.int64).ravel()
        if rows.size and (rows.min() < 0 or rows.max() >= b.size):
            raise ValueError(f"row index outside the block's {b.size} rows")
        self._triplets.append(
            (rows + self.n_rows, np.asarray(cols, dtype=np.int64).ravel(), np.asarray(vals, float))
        )
        self._b.append(b)
        self._cones.append((cone, b.size))
        self.n_rows += b.size

    def _clarabel_cones(self) -> list[Any]:
        import clarabel

        cones: list[Any] = []
        for cone, size in self._cones:
            if cone == "zero":
                cones.append(clarabel.ZeroConeT(size))
            elif cone == "nonneg":
                cones.append(clarabel.NonnegativeConeT(size))
            else:
                cones.extend(clarabel.ExponentialConeT() for _ in range(size // 3))
        return cones

    def matrices(self) -> tuple[CscArrays, CscArrays]:
        """``(P, A)``: the zero quadratic term and the constraint matrix."""
        rows, cols, vals = (np.concatenate(part) for part in zip(*self._triplets, strict=True))
        a = CscArrays.from_triplets(rows, cols, vals, (self.n_rows, self.n_vars))
        empty = np.zeros(0, dtype=np.int64)
        p = CscArrays(
            np.zeros(0), empty, np.zeros(self.n_vars + 1, dtype=np.int64), (self.n_vars,) * 2
        )
        return p, a

    def _solver(self, cost: np.ndarray, settings: Any, scipy_matrices: bool) -> Any:
        import clarabel

        p, a = self.matrices()
        b = np.concatenate(self._b)
        if not scipy_matrices:
            try:
                return clarabel.DefaultSolver(p, cost, a, b, self._clarabel_cones(), settings)
            except (TypeError, AttributeError):  # a binding that wants scipy.sparse itself
                pass
        return clarabel.DefaultSolver(
            p.to_scipy(), cost, a.to_scipy(), b, self._clarabel_cones(), settings
        )

    def solve(self, cost: Any, what: str, *, scipy_matrices: bool = False) -> np.ndarray:
        """The minimising ``x`` of ``cost . x``; ``RuntimeError`` naming ``what`` if Clarabel
        solves it under neither setting. ``scipy_matrices`` hands Clarabel ``scipy.sparse``
        matrices (done anyway when the binding refuses the plain arrays)."""
        import clarabel

        status: Any = "not solved"
        for k, options in enumerate(_ATTEMPTS):
            settings = clarabel.DefaultSettings()
            settings.verbose = False
            for key, value in options.items():
                setattr(settings, key, value)
            cost = np.asarray(cost, dtype=float)
            solution = self._solver(cost, settings, scipy_matrices).solve()
            status = solution.status
            last = k == len(_ATTEMPTS) - 1
            if status == clarabel.SolverStatus.Solved or (
                last and status == clarabel.SolverStatus.AlmostSolved
            ):
                return np.asarray(solution.x, dtype=float)
        raise RuntimeError(f"{what}: the convex solver (Clarabel) failed: status {status}")


def max_weighted_log(
    weights: Any,
    a_eq: np.ndarray,
    b_eq: np.ndarray,
    design: np.ndarray | None = None,
    what: str = "maximum likelihood",
) -> np.ndarray:
    """The ``x >= 0`` with ``a_eq @ x = b_eq`` that maximises sum_i w_i log (D x)_i.

    ``D`` is ``design`` (cells x variables; the identity when ``None``, so ``x`` is the cell
    probabilities themselves). Cells with ``w_i = 0`` drop out of the objective, so ``(D x)_i``
    may be zero there. Each positive cell is one exponential cone ``(t_i, 1, (D x)_i)``, i.e.
    ``t_i <= log (D x)_i``, and the cost is ``-sum w_i t_i``: the exponential-cone form of the
    multinomial log-likelihood that cvxpy's ``log`` atom produced. ``RuntimeError`` naming
    ``what`` if Clarabel fails. The answer is optimal to the solver's tolerance (about 1e-5 in ``x``
    near a smooth optimum, as with cvxpy); :mod:`bellmodels._polytope_mle` polishes it by Newton.

    >>> w = np.array([3.0, 1.0])  # two cells of one setting: the frequencies maximise
    >>> [round(float(v), 4) for v in max_weighted_log(w, np.ones((1, 2)), np.ones(1))]
    [0.75, 0.25]
    """
    w = np.asarray(weights, dtype=float).ravel()
    n_cells = w.size
    d = np.eye(n_cells) if design is None else np.asarray(design, dtype=float)
    if d.shape[0] != n_cells:
        raise ValueError(f"{what}: design has {d.shape[0]} rows for {n_cells} weights")
    n_x = d.shape[1]
    pos = np.flatnonzero(w > 0)
    k = pos.size
    prog = ConicProgram(n_x + k)  # (x, t)
    a_eq = np.asarray(a_eq, dtype=float)
    er, ec = np.nonzero(a_eq)
    prog.add("zero", er, ec, a_eq[er, ec], b_eq)
    prog.add("nonneg", np.arange(n_x), np.arange(n_x), -np.ones(n_x), np.zeros(n_x))
    dr, dc = np.nonzero(d[pos])  # row j of d[pos] is the cone of the j-th positive cell
    rows = np.concatenate([3 * np.arange(k), 3 * dr + 2])
    cols = np.concatenate([n_x + np.arange(k), dc])
    vals = np.concatenate([-np.ones(k), -d[pos][dr, dc]])
    b = np.zeros(3 * k)
    b[1::3] = 1.0
    prog.add("exp", rows, cols, vals, b)
    cost = np.concatenate([np.zeros(n_x), -w[pos] / w.sum()])
    return prog.solve(cost, what)[:n_x]


__all__ = ["ConicProgram", "CscArrays", "max_weighted_log"]
