"""What a vectorised ``ontic_tables`` shares: parameter draws stacked and checked, and the test
of whether a subclass still computes its class's table.

:meth:`~bellmodels.models.HiddenVariableModel.ontic_tables` builds the ontic tables of many
parameter draws at once (the audit of a posterior); these helpers keep the base class
short and are imported by the models that override it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from bellmodels.models.priors import ATOL, Interval, Simplex


def n_draws(values: Mapping[str, Any]) -> int:
    """The common length of the leading (draw) axis of the parameter arrays ``values``.

    >>> n_draws({"visibility": np.ones(3), "offset_a": np.zeros((3, 2))})
    3
    """
    sizes = {np.shape(v)[0] if np.ndim(v) else None for v in values.values()}
    if len(sizes) != 1 or None in sizes:
        raise ValueError(
            "ontic_tables needs at least one parameter, each an array with the draws along its "
            f"leading axis, all of one length; got leading sizes {sorted(sizes, key=str)}"
        )
    return int(sizes.pop())


def stacked_values(
    specs: Mapping[str, Any],
    params: Mapping[str, np.ndarray],
    values: Mapping[str, Any],
    model: str,
) -> dict[str, np.ndarray]:
    """Every parameter as ``(N, *shape)``: ``values`` checked, the rest ``params`` repeated.

    ``specs`` are the model's :class:`~bellmodels.models.Parameter` by name and ``params`` its
    :meth:`~bellmodels.models.HiddenVariableModel.params`; see
    :meth:`~bellmodels.models.HiddenVariableModel.stacked_params`.
    """
    n = n_draws(values)
    unknown = sorted(set(values) - set(specs))
    if unknown:
        raise ValueError(f"model {model!r} has no parameter(s) {unknown}")
    out = {}
    for name, value in params.items():
        if name not in values:
            out[name] = np.broadcast_to(value, (n, *value.shape))
            continue
        arr = np.asarray(values[name], dtype=float)
        if arr.shape[1:] != specs[name].shape:
            raise ValueError(
                f"parameter {name!r} of model {model!r}: draws must have shape "
                f"(N, *{specs[name].shape}), got {arr.shape}"
            )
        check_draws(specs[name], arr, model)
        out[name] = arr
    return out


def check_draws(spec: Any, arr: np.ndarray, model: str) -> None:
    """``spec.check`` (a :class:`~bellmodels.models.Parameter`'s) of every draw of ``arr``.

    One vectorised test first: an interval's check reads every entry at once, a simplex's sums
    each draw's weights; only a failing (or an unknown) support is checked draw by draw, so the
    error names the first bad draw and says what :meth:`Parameter.check` says of it.

    >>> from bellmodels.models import Parameter
    >>> from bellmodels.models.priors import Beta
    >>> check_draws(Parameter("v", prior=Beta(2, 1)), np.array([0.3, 1.2]), "my-model")
    Traceback (most recent call last):
    ...
    ValueError: draw 1: parameter 'v' of model 'my-model': 1.2 is outside [0, 1]
    """
    sup = spec.support
    if sup is None or arr.shape[0] == 0:
        return
    if isinstance(sup, Interval) and sup.violation(arr) is None:
        return
    if isinstance(sup, Simplex):
        total = arr.sum(axis=tuple(range(1, arr.ndim)))
        if np.all(arr >= -ATOL) and np.all(np.abs(total - 1.0) <= max(ATOL, 1e-9)):
            return
    for i in range(arr.shape[0]):
        try:
            spec.check(arr[i], model)
        except ValueError as exc:
            raise ValueError(f"draw {i}: {exc}") from None


def uses_own(model: Any, owner: type, names: Sequence[str]) -> bool:
    """Whether ``model``'s class takes each of ``names`` from ``owner`` (none redefined).

    A vectorised :meth:`~bellmodels.models.HiddenVariableModel.ontic_tables` repeats, over the
    draws, what its class's ``ontic_table`` and the methods it calls compute; a subclass that
    redefines one of them has another table, so the override asks this first and falls back to
    the base class's loop when it is ``False``.

    >>> from bellmodels import models
    >>> from bellmodels.models.nonlocal_ import QuantumSinglet
    >>> class Mine(QuantumSinglet):
    ...     name = "doc-mine"
    ...     def ontic_table(self, params=None):
    ...         return super().ontic_table(params)
    >>> uses_own(models.get("quantum-singlet"), QuantumSinglet, ["ontic_table"])
    True
    >>> uses_own(Mine(), QuantumSinglet, ["ontic_table"])
    False
    """
    cls = type(model)
    return all(getattr(cls, n) is getattr(owner, n) for n in names)


__all__ = ["check_draws", "n_draws", "stacked_values", "uses_own"]
