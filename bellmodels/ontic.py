"""The ontic table: the one object every model reduces to and the audit reads.

On a finite scenario every hidden-variable model, however it is described, is a table

    p(lambda, outcome_a, outcome_b | setting_a, setting_b)
        = p(lambda | setting_a, setting_b) * p(outcome_a, outcome_b | setting_a, setting_b, lambda)

with lambda over a finite alphabet. The observable behaviour is the sum over lambda; locality
(parameter and outcome independence) and measurement independence are properties of the two
factors. This module only stores and validates; the audit (:mod:`bellmodels.auditing`) measures.

Example
-------
A PR box (Popescu & Rohrlich, Found. Phys. 24, 379 (1994)) as a one-lambda table:

>>> import numpy as np
>>> from bellmodels import Scenario, OnticTable
>>> scn = Scenario.chsh()
>>> resp = np.zeros((2, 2, 1, 2, 2))
>>> for sa in range(2):
...     for sb in range(2):
...         for xa in range(2):
...             xb = xa if sa * sb == 0 else 1 - xa   # equal outcomes unless (a', b')
...             resp[sa, sb, 0, xa, xb] = 0.5
>>> table = OnticTable(np.ones((2, 2, 1)), resp, scn)
>>> float(table.behaviour()[1, 1, 0, 1])
0.5
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, overload

import numpy as np

from bellmodels.scenario import OUTCOMES, Scenario

if TYPE_CHECKING:
    import xarray as xr

DIMS_P_LAMBDA = ("setting_a", "setting_b", "lam")
DIMS_RESPONSE = ("setting_a", "setting_b", "lam", "outcome_a", "outcome_b")


class OnticTable:
    """p(lambda | settings) and p(outcomes | settings, lambda) over a finite lambda alphabet.

    Parameters
    ----------
    p_lambda
        ``(K_a, K_b, L)`` array: p(lambda | s_a, s_b). A 1-D ``(L,)`` array means the same
        distribution for every setting pair (measurement independence by construction).
    response
        ``(K_a, K_b, L, 2, 2)`` array: p(x_a, x_b | s_a, s_b, lambda), outcome index 0 <-> -1.
    scenario
        The scenario the table is indexed by.
    lam_labels
        Optional names for the lambda values (default ``0 .. L-1``).
    atol
        Tolerance of the validation (non-negativity and normalisation).

    Raises
    ------
    ValueError
        If shapes disagree with the scenario, an entry is negative or NaN, or a distribution does
        not sum to 1 (the message says which setting pair / lambda).
    """

    def __init__(
        self,
        p_lambda: Any,
        response: Any,
        scenario: Scenario,
        lam_labels: Sequence[Any] | None = None,
        atol: float = 1e-8,
    ) -> None:
        p = np.asarray(p_lambda, dtype=float)
        r = np.asarray(response, dtype=float)
        ka, kb = scenario.n_a, scenario.n_b
        if p.ndim == 1:
            p = np.broadcast_to(p, (ka, kb, p.size)).copy()
        if p.ndim != 3 or p.shape[:2] != (ka, kb):
            raise ValueError(f"p_lambda must have shape ({ka}, {kb}, L) or (L,), got {p.shape}")
        n_lam = p.shape[2]
        if r.shape != (ka, kb, n_lam, 2, 2):
            raise ValueError(f"response must have shape {(ka, kb, n_lam, 2, 2)}, got {r.shape}")
        _check_distribution(p, (2,), atol, "p_lambda", ("setting_a", "setting_b"))
        _check_distribution(r, (3, 4), atol, "response", ("setting_a", "setting_b", "lam"))
        labels = list(range(n_lam)) if lam_labels is None else list(lam_labels)
        if len(labels) != n_lam:
            raise ValueError(f"{len(labels)} lam_labels for {n_lam} lambda values")
        self.scenario = scenario
        self.lam_labels = labels
        self.p_lambda_values = np.clip(p, 0.0, None)
        """``(K_a, K_b, L)`` numpy array of p(lambda | s): what the audit reads."""
        self.response_values = np.clip(r, 0.0, None)
        """``(K_a, K_b, L, 2, 2)`` numpy array of p(x_a, x_b | s, lambda)."""

    # The labelled views are built on first use: a posterior audit builds one table per draw and
    # never looks at them, and xarray construction would cost more than the audit itself.
    @functools.cached_property
    def p_lambda(self) -> xr.DataArray:
        """p(lambda | s_a, s_b) as a labelled array (dims ``setting_a, setting_b, lam``)."""
        import xarray as xr  # on first use, like the view itself

        coords = self._coords()
        return xr.DataArray(
            self.p_lambda_values, dims=DIMS_P_LAMBDA, coords={k: coords[k] for k in DIMS_P_LAMBDA}
        )

    @functools.cached_property
    def response(self) -> xr.DataArray:
        """p(x_a, x_b | s, lambda) as a labelled array (dims as :data:`DIMS_RESPONSE`)."""
        import xarray as xr  # on first use, like the view itself

        return xr.DataArray(self.response_values, dims=DIMS_RESPONSE, coords=self._coords())

    def _coords(self) -> dict[str, Any]:
        coords = self.scenario.coords()
        coords["lam"] = self.lam_labels
        return coords

    @property
    def n_lambda(self) -> int:
        """Size of the lambda alphabet."""
        return int(self.p_lambda_values.shape[2])

    def behaviour(self) -> np.ndarray:
        """p(x_a, x_b | s_a, s_b) = sum_lambda p(lambda | s) p(x_a, x_b | s, lambda)."""
        return np.einsum("abl,ablxy->abxy", self.p_lambda_values, self.response_values)

    def joint(self, setting_probs: np.ndarray | None = None) -> np.ndarray:
        """p(s_a, s_b, lambda) for the given (default uniform) settings distribution."""
        ps = self.scenario.settings_distribution(setting_probs)
        return ps[:, :, None] * self.p_lambda_values

    def drop_unused(self, tol: float = 0.0) -> OnticTable:
        """A copy without lambda values that have probability <= ``tol`` for every setting pair."""
        keep = (self.p_lambda_values > tol).any(axis=(0, 1))
        return OnticTable(
            self.p_lambda_values[:, :, keep],
            self.response_values[:, :, keep],
            self.scenario,
            lam_labels=list(np.asarray(self.lam_labels, dtype=object)[keep]),
        )

    def __repr__(self) -> str:
        return f"OnticTable(n_lambda={self.n_lambda}, settings={self.scenario.n_a}x{self.scenario.n_b})"


class OnticTables(Sequence[OnticTable]):
    """Many ontic tables of one scenario stacked along a leading axis: one per posterior draw.

    What :meth:`~bellmodels.models.HiddenVariableModel.ontic_tables` returns and
    :func:`bellmodels.auditing.audit_draws` reads: the same numbers as a list of
    :class:`OnticTable`, held as two arrays, so that a posterior of thousands of draws is
    validated, stacked and audited with a few numpy operations instead of one Python object per
    draw. It is a sequence of :class:`OnticTable` (``stack[i]`` is draw ``i``'s table; a slice
    or an index array is a smaller stack).

    Parameters
    ----------
    p_lambda
        ``(N, K_a, K_b, L)``: p(lambda | s) of each draw; ``(N, L)`` means the same distribution
        for every setting pair.
    response
        ``(N, K_a, K_b, L, 2, 2)``: p(x_a, x_b | s, lambda) of each draw; ``(K_a, K_b, L, 2, 2)``
        means the same response for every draw.
    scenario, lam_labels, atol
        As :class:`OnticTable`; ``lam_labels`` are shared by every draw (``None``: ``0 .. L-1``,
        as for a model whose labels change from draw to draw).

    Raises
    ------
    ValueError
        As :class:`OnticTable`, naming the draw too.

    Example
    -------
    Two draws of a one-lambda table with white noise of weight 1 - V (V = 0.5 and 0.9):

    >>> import numpy as np
    >>> from bellmodels import Scenario
    >>> v = np.array([0.5, 0.9])
    >>> resp = np.full((2, 2, 2, 2, 2), 0.25)
    >>> stack = OnticTables(np.stack([v, 1 - v], axis=-1), resp, Scenario.chsh())
    >>> len(stack), stack.n_lambda, float(stack[1].p_lambda_values[0, 0, 1].round(12))
    (2, 2, 0.1)
    """

    def __init__(
        self,
        p_lambda: Any,
        response: Any,
        scenario: Scenario,
        lam_labels: Sequence[Any] | None = None,
        atol: float = 1e-8,
    ) -> None:
        p = np.asarray(p_lambda, dtype=float)
        r = np.asarray(response, dtype=float)
        ka, kb = scenario.n_a, scenario.n_b
        if p.ndim not in (2, 4) or (p.ndim == 4 and p.shape[1:3] != (ka, kb)):
            raise ValueError(
                f"p_lambda must have shape (N, {ka}, {kb}, L) or (N, L), got {p.shape}"
            )
        shape = (p.shape[0], ka, kb, p.shape[-1], 2, 2)
        if r.shape not in (shape, shape[1:]):
            raise ValueError(f"response must have shape {shape} or {shape[1:]}, got {r.shape}")
        # a part shared by every draw is checked once, then broadcast (a read-only view)
        names = ("draw", "setting_a", "setting_b", "lam")
        _check_distribution(p, (p.ndim - 1,), atol, "p_lambda", names[: p.ndim - 1])
        _check_distribution(r, (r.ndim - 2, r.ndim - 1), atol, "response", names[2 - r.ndim :])
        labels = None if lam_labels is None else list(lam_labels)
        if labels is not None and len(labels) != shape[3]:
            raise ValueError(f"{len(labels)} lam_labels for {shape[3]} lambda values")
        p, r = np.clip(p, 0.0, None), np.clip(r, 0.0, None)
        self.scenario = scenario
        self.lam_labels = labels
        self.p_lambda_values = p if p.ndim == 4 else np.broadcast_to(p[:, None, None], shape[:4])
        """``(N, K_a, K_b, L)`` numpy array of p(lambda | s) of each draw."""
        self.response_values = r if r.ndim == 6 else np.broadcast_to(r, shape)
        """``(N, K_a, K_b, L, 2, 2)`` numpy array of p(x_a, x_b | s, lambda) of each draw."""

    @classmethod
    def from_tables(cls, tables: Sequence[OnticTable]) -> OnticTables:
        """The stack of ``tables`` (one scenario); smaller lambda alphabets are padded.

        A model may list only the lambda values a draw uses, so alphabets may differ in size:
        the padding is lambda values of probability 0 (response uniform), which change no
        measure of the audit. Labels are kept when every table has the same ones.

        >>> from bellmodels import Scenario
        >>> one = OnticTable(np.ones(1), np.full((2, 2, 1, 2, 2), 0.25), Scenario.chsh())
        >>> two = OnticTable(np.full(2, 0.5), np.full((2, 2, 2, 2, 2), 0.25), Scenario.chsh())
        >>> OnticTables.from_tables([one, two]).p_lambda_values[:, 0, 0].tolist()
        [[1.0, 0.0], [0.5, 0.5]]
        """
        tables = list(tables)
        if not tables:
            raise ValueError("OnticTables.from_tables needs at least one ontic table")
        scn = tables[0].scenario
        if any(t.scenario != scn for t in tables):
            raise ValueError("OnticTables.from_tables needs tables of one scenario")
        n_lam = max(t.n_lambda for t in tables)
        p = np.zeros((len(tables), scn.n_a, scn.n_b, n_lam))
        r = np.full((len(tables), scn.n_a, scn.n_b, n_lam, 2, 2), 0.25)
        for i, t in enumerate(tables):
            p[i, :, :, : t.n_lambda] = t.p_lambda_values
            r[i, :, :, : t.n_lambda] = t.response_values
        labels = tables[0].lam_labels
        same = all(t.lam_labels == labels for t in tables)
        return cls(p, r, scn, labels if same else None)

    def __len__(self) -> int:
        return int(self.p_lambda_values.shape[0])

    @overload
    def __getitem__(self, index: int) -> OnticTable: ...

    @overload
    def __getitem__(self, index: Any) -> OnticTables: ...

    def __getitem__(self, index: Any) -> OnticTable | OnticTables:
        if isinstance(index, (int, np.integer)):
            if not -len(self) <= index < len(self):
                raise IndexError(f"draw {index} of a stack of {len(self)}")
            return OnticTable(
                self.p_lambda_values[index],
                self.response_values[index],
                self.scenario,
                lam_labels=self.lam_labels,
            )
        return OnticTables(
            self.p_lambda_values[index], self.response_values[index], self.scenario, self.lam_labels
        )

    @property
    def n_lambda(self) -> int:
        """Size of the (common, padded) lambda alphabet."""
        return int(self.p_lambda_values.shape[3])

    def behaviour(self) -> np.ndarray:
        """p(x_a, x_b | s_a, s_b) of each draw, ``(N, K_a, K_b, 2, 2)``."""
        return np.einsum("nabl,nablxy->nabxy", self.p_lambda_values, self.response_values)

    def __repr__(self) -> str:
        scn = self.scenario
        return f"OnticTables({len(self)} draws, n_lambda={self.n_lambda}, settings={scn.n_a}x{scn.n_b})"


def _check_distribution(
    arr: np.ndarray, axes: tuple[int, ...], atol: float, what: str, index_names: tuple[str, ...]
) -> None:
    if not np.all(np.isfinite(arr)):
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(arr))[0])
        raise ValueError(f"{what} has a non-finite entry at index {bad}")
    if np.any(arr < -atol):
        bad = tuple(int(i) for i in np.argwhere(arr < -atol)[0])
        raise ValueError(f"{what} has a negative entry {arr[bad]:.3g} at index {bad}")
    sums = arr.sum(axis=axes)
    off = np.abs(sums - 1.0) > max(atol, 1e-12) * max(1, arr.shape[axes[0]])
    if np.any(off):
        idx = tuple(int(i) for i in np.argwhere(off)[0])
        where = ", ".join(f"{n}={i}" for n, i in zip(index_names, idx, strict=True))
        raise ValueError(f"{what} is not normalised at {where}: sums to {sums[idx]:.12g}")


def local_deterministic_strategies(scenario: Scenario) -> tuple[np.ndarray, list[str]]:
    """All local deterministic response strategies of the scenario.

    A strategy assigns an outcome to each setting of A and each setting of B:
    ``lambda = (x_a(0), ..., x_a(K_a-1); x_b(0), ..., x_b(K_b-1))``, ``2^(K_a + K_b)`` in all
    (16 for CHSH). Fine (1982) showed that every local measurement-independent behaviour is a
    mixture of these (A. Fine, PRL 48, 291 (1982)).

    Returns
    -------
    response : ``(L, K_a, K_b, 2, 2)`` array of 0/1, p(x_a, x_b | s_a, s_b, lambda)
    labels : ``["+-;-+", ...]``: A's outcomes per setting, then B's.

    >>> resp, labels = local_deterministic_strategies(Scenario.chsh())
    >>> resp.shape, labels[0]
    ((16, 2, 2, 2, 2), '--;--')
    """
    ka, kb = scenario.n_a, scenario.n_b
    strategies = list(itertools.product((0, 1), repeat=ka + kb))
    resp = np.zeros((len(strategies), ka, kb, 2, 2))
    labels = []
    sign = {0: "-", 1: "+"}
    for i, s in enumerate(strategies):
        xa, xb = s[:ka], s[ka:]
        for sa in range(ka):
            for sb in range(kb):
                resp[i, sa, sb, xa[sa], xb[sb]] = 1.0
        labels.append("".join(sign[x] for x in xa) + ";" + "".join(sign[x] for x in xb))
    return resp, labels


__all__ = ["OUTCOMES", "OnticTable", "OnticTables", "local_deterministic_strategies"]
