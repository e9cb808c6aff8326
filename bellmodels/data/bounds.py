"""The one bound on counts (:data:`MAX_COUNT`) and the one check every count table goes through.

Every path that makes a :class:`~bellmodels.data.Counts` -- the constructor, the CSV and NetCDF
readers, the shipped datasets, :func:`~bellmodels.simulate_singlet` -- ends in
:func:`checked_counts`, so a count that is negative, fractional, NaN, infinite, of a
non-numeric type, or too large is refused with a message naming the cell; a reader re-raises it
as :class:`~bellmodels.data.DataFormatError` naming the file and line (CSV) or variable
(NetCDF). Nothing wraps: the check is made on the values as given (Python integers, unsigned or
floating arrays) before anything is cast to int64.

Example
-------
>>> import numpy as np
>>> from bellmodels import Scenario
>>> checked_counts(np.ones((2, 2, 2, 2)), Scenario.chsh()).dtype
dtype('int64')
>>> checked_counts(np.full((2, 2, 2, 2), 2**62), Scenario.chsh())
Traceback (most recent call last):
...
bellmodels.data.bounds.CountError: values: counts[setting_a=a, setting_b=b, outcome_a=-1, outcome_b=-1]: count 4611686018427387904 exceeds MAX_COUNT = 2**53 = 9007199254740992
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from bellmodels.scenario import OUTCOMES, Scenario

MAX_COUNT: int = 2**53
"""The largest count of one cell, and of a whole table: 2**53 = 9,007,199,254,740,992.

Why this number: the likelihoods, posteriors and p-values of the package compute with the
counts in float64 (``n * log p``, ``n / N``, the Dirichlet and binomial tails), and 2**53 is
the largest bound below which *every* whole number is exact in float64 (2**53 + 1 is not
representable). Below it a count means the same number wherever it is used; above it two
different tables could give the same likelihood, and int64 sums of 16 cells of 2**62 wrap to
0. It is also far beyond any experiment: the largest loophole-free table shipped
(``vienna2015``) has 3.5e9 trials, 2.6 million times fewer.
"""


class CountError(ValueError):
    """A count table whose values are not counts; the message names the argument and the cell.

    A subclass of :class:`ValueError`. The file readers turn it into
    :class:`~bellmodels.data.DataFormatError` (also a ``ValueError``) naming the file.

    Attributes
    ----------
    argument
        What was checked (``"values"`` for the :class:`~bellmodels.data.Counts` argument).
    field
        The cell (``counts[setting_a=a, ...]``), ``"total"``, or ``None`` (the whole array).
    index
        The cell's ``(s_a, s_b, x_a, x_b)`` array index, or ``None``.
    reason
        What is wrong, without the place.

    Example
    -------
    >>> str(CountError("count -1 is not a non-negative whole number", field="counts[...]"))
    'values: counts[...]: count -1 is not a non-negative whole number'
    """

    def __init__(
        self,
        reason: str,
        *,
        argument: str = "values",
        field: str | None = None,
        index: tuple[int, ...] | None = None,
    ) -> None:
        self.argument = argument
        self.field = field
        self.index = index
        self.reason = reason
        place = f"{argument}: " + (f"{field}: " if field else "")
        super().__init__(place + reason)


def cell_name(scenario: Scenario, index: tuple[int, ...]) -> str:
    """The name of one cell, ``counts[setting_a=a, setting_b=b', outcome_a=+1, outcome_b=-1]``.

    >>> cell_name(Scenario.chsh(), (0, 1, 1, 0))
    "counts[setting_a=a, setting_b=b', outcome_a=+1, outcome_b=-1]"
    """
    sa, sb, xa, xb = (int(i) for i in index)
    return (
        f"counts[setting_a={scenario.labels_a[sa]}, setting_b={scenario.labels_b[sb]}, "
        f"outcome_a={OUTCOMES[xa]:+d}, outcome_b={OUTCOMES[xb]:+d}]"
    )


def _too_large(value: Any) -> str:
    return f"count {value} exceeds MAX_COUNT = 2**53 = {MAX_COUNT}"


def _cell_problem(value: Any) -> str | None:
    """What is wrong with one cell value (a Python or numpy scalar), or None."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        return f"count {value!r} is not a number (type {type(value).__name__})"
    if isinstance(value, numbers.Integral):
        exact = int(value)
    else:
        x = float(value)
        if not math.isfinite(x) or not x.is_integer():
            return f"count {x!r} is not a non-negative whole number"
        exact = int(x)
    if exact < 0:
        return f"count {exact} is not a non-negative whole number"
    if exact > MAX_COUNT:
        return _too_large(exact)
    return None


def _first_bad(arr: np.ndarray) -> tuple[tuple[int, ...], str] | None:
    """The first bad cell in C order and what is wrong with it (vectorised for numeric dtypes)."""
    kind = arr.dtype.kind
    if kind in "iu":
        bad = arr > MAX_COUNT if kind == "u" else (arr < 0) | (arr > MAX_COUNT)
    elif kind == "f":
        with np.errstate(invalid="ignore"):
            bad = ~np.isfinite(arr) | (arr < 0) | (arr > MAX_COUNT) | (arr != np.floor(arr))
    elif kind == "O":
        bad = np.array([_cell_problem(v) is not None for v in arr.ravel()], dtype=bool)
        bad = bad.reshape(arr.shape)
    else:
        return None
    if not bad.any():
        return None
    index = tuple(int(i) for i in np.argwhere(bad)[0])
    problem = _cell_problem(arr[index].item() if kind != "O" else arr[index])
    return index, problem or f"count {arr[index]!r} is not a count"


def checked_counts(values: Any, scenario: Scenario, *, argument: str = "values") -> np.ndarray:
    """``values`` as a ``(K_a, K_b, 2, 2)`` int64 array, after checking every cell and the total.

    Each cell must be a whole number in ``0..MAX_COUNT`` (``3.0`` is read as 3; ``2.5``,
    ``-1``, NaN, infinities, booleans, text and complex numbers are refused), and so must the
    total. The check is made before the cast to int64, so nothing wraps.

    Parameters
    ----------
    values
        Array-like of counts (integers, unsigned, floats, or Python integers of any size).
    scenario
        Gives the shape and the cell names in messages.
    argument
        Named in the message (``"values"``; the readers name their file instead).

    Raises
    ------
    CountError
        (a ``ValueError``) naming ``argument`` and the first bad cell in array order, or
        ``"total"`` when the cells are fine but their sum exceeds :data:`MAX_COUNT`.

    Example
    -------
    >>> checked_counts([[[[1, 2], [3, 4]]] * 2] * 2, Scenario.chsh()).sum()
    np.int64(40)
    """
    try:
        arr = np.asarray(values)
    except (ValueError, TypeError, OverflowError) as exc:
        raise CountError(f"not an array of counts ({exc})", argument=argument) from None
    if arr.shape != scenario.shape:
        raise CountError(
            f"counts must have shape {scenario.shape} (setting_a, setting_b, outcome_a, "
            f"outcome_b), got {arr.shape}",
            argument=argument,
        )
    if arr.dtype.kind not in "iufO":
        raise CountError(f"counts must be whole numbers, got dtype {arr.dtype}", argument=argument)
    found = _first_bad(arr)
    if found is not None:
        index, problem = found
        raise CountError(problem, argument=argument, field=cell_name(scenario, index), index=index)
    out = np.array([int(v) for v in arr.ravel().tolist()], dtype=np.int64).reshape(arr.shape)
    total = sum(out.ravel().tolist())  # Python integers: exact whatever the cells
    if total > MAX_COUNT:
        raise CountError(
            f"the counts add up to {total}, more than MAX_COUNT = 2**53 = {MAX_COUNT} trials",
            argument=argument,
            field="total",
        )
    return out


__all__ = ["MAX_COUNT", "CountError", "cell_name", "checked_counts"]
