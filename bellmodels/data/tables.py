"""The two data containers: per-trial arrays (:class:`Trials`) and count tables (:class:`Counts`)."""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import numpy as np

from bellmodels.data.bounds import CountError, checked_counts
from bellmodels.data.format import TABLE_KINDS, DataFormatError
from bellmodels.scenario import DIMS_BEHAVIOUR, OUTCOMES, Scenario


class Trials:
    """Per-trial records: settings as indices, outcomes as +1 / -1.

    Parameters
    ----------
    scenario
        The scenario the setting indices refer to.
    setting_a, setting_b
        Integer setting indices, one per trial.
    outcome_a, outcome_b
        Outcomes, +1 or -1, one per trial.
    """

    def __init__(
        self,
        scenario: Scenario,
        setting_a: Any,
        setting_b: Any,
        outcome_a: Any,
        outcome_b: Any,
    ) -> None:
        arrays = {
            "setting_a": np.asarray(setting_a),
            "setting_b": np.asarray(setting_b),
            "outcome_a": np.asarray(outcome_a),
            "outcome_b": np.asarray(outcome_b),
        }
        n = arrays["setting_a"].shape
        for name, arr in arrays.items():
            if arr.ndim != 1 or arr.shape != n:
                raise ValueError(
                    f"{name} must be 1-D of length {n[0] if n else '?'}, got {arr.shape}"
                )
            if arr.size and not np.issubdtype(arr.dtype, np.integer):
                raise ValueError(f"{name} must hold integers, got dtype {arr.dtype}")
        for name, k in (("setting_a", scenario.n_a), ("setting_b", scenario.n_b)):
            arr = arrays[name]
            bad = np.flatnonzero((arr < 0) | (arr >= k))
            if bad.size:
                raise ValueError(
                    f"{name} of trial {bad[0]} is {arr[bad[0]]}: expected an index 0..{k - 1}"
                )
        for name in ("outcome_a", "outcome_b"):
            arr = arrays[name]
            bad = np.flatnonzero((arr != 1) & (arr != -1))
            if bad.size:
                raise ValueError(f"{name} of trial {bad[0]} is {arr[bad[0]]}: expected +1 or -1")
        self.scenario = scenario
        self.setting_a = arrays["setting_a"].astype(np.int8)
        self.setting_b = arrays["setting_b"].astype(np.int8)
        self.outcome_a = arrays["outcome_a"].astype(np.int8)
        self.outcome_b = arrays["outcome_b"].astype(np.int8)

    def __len__(self) -> int:
        return int(self.setting_a.size)

    def counts(self, provenance: dict[str, Any] | None = None) -> Counts:
        """Tally the trials into a :class:`Counts` table (vectorised, one bincount)."""
        ka, kb = self.scenario.n_a, self.scenario.n_b
        xa = (self.outcome_a > 0).astype(np.int64)
        xb = (self.outcome_b > 0).astype(np.int64)
        flat = ((self.setting_a.astype(np.int64) * kb + self.setting_b) * 2 + xa) * 2 + xb
        values = np.bincount(flat, minlength=ka * kb * 4).reshape(ka, kb, 2, 2)
        return Counts(values, self.scenario, provenance=provenance)

    def __repr__(self) -> str:
        return f"Trials(n={len(self)}, settings={self.scenario.n_a}x{self.scenario.n_b})"


class Counts:
    """Counts n(s_a, s_b, x_a, x_b) as an int64 :class:`xarray.DataArray` with the scenario.

    >>> from bellmodels import Scenario
    >>> Counts(np.ones((2, 2, 2, 2), dtype=int), Scenario.chsh(), provenance={"source": "x.csv"})
    Counts(total=16, settings=2x2, source='x.csv')

    ``counts.array`` is the DataArray (dims ``setting_a, setting_b, outcome_a, outcome_b``,
    outcome coords ``[-1, +1]``, attrs ``scenario`` and ``provenance`` as JSON text), so it saves
    to NetCDF as it is.

    Parameters
    ----------
    values
        ``(K_a, K_b, 2, 2)`` non-negative whole counts (outcome index 0 <-> -1), or a DataArray
        with those dims. Every cell and the total must be at most
        :data:`~bellmodels.data.bounds.MAX_COUNT` (2**53, the largest bound below which every
        whole number is exact in float64, which the likelihoods use); a bad cell raises
        :class:`~bellmodels.data.bounds.CountError` (a ``ValueError``) naming the cell. Nothing
        is wrapped, rounded or clipped.
    scenario
        The scenario; taken from ``values.attrs["scenario"]`` when omitted and present.
    provenance
        Free-form description of where the data came from (kept in attrs).
    kind
        ``"complete"`` (every trial, no-detection outcomes included), ``"post-selected"``
        (coincidences only) or ``None`` (not stated); kept in attrs as ``kind``. A model that
        cannot describe a kind of table refuses it (``models.photonic.refuse_table``).
    """

    def __init__(
        self,
        values: Any,
        scenario: Scenario | None = None,
        provenance: dict[str, Any] | None = None,
        kind: str | None = None,
    ) -> None:
        # xarray (half a second, a second with dask installed) is imported by :attr:`array` on
        # first use: a DataArray passed in means it is imported already
        xr = sys.modules.get("xarray")
        if xr is not None and isinstance(values, xr.DataArray):
            if scenario is None and "scenario" in values.attrs:
                scenario = Scenario.from_json(values.attrs["scenario"])
            if provenance is None and "provenance" in values.attrs:
                provenance = json.loads(values.attrs["provenance"])
            if kind is None and "kind" in values.attrs:
                kind = str(values.attrs["kind"])
            if sorted(values.dims) != sorted(DIMS_BEHAVIOUR):
                raise ValueError(
                    f"values: dims must be {list(DIMS_BEHAVIOUR)}, got {list(values.dims)}"
                )
            values = values.transpose(*DIMS_BEHAVIOUR).values
        if scenario is None:
            raise ValueError("Counts needs a scenario")
        arr = checked_counts(values, scenario, argument="values")
        if kind is not None and kind not in TABLE_KINDS:
            raise ValueError(f"kind must be one of {TABLE_KINDS} or None, got {kind!r}")
        self.kind = kind
        self.scenario = scenario
        self.provenance: dict[str, Any] = dict(provenance or {})
        self._values = arr
        # the DataArray's attrs as of construction (as when it was built here eagerly)
        self._attrs = {"scenario": scenario.to_json(), "provenance": json.dumps(self.provenance)}
        if kind is not None:
            self._attrs["kind"] = kind
        self._array: Any = None

    @property
    def array(self) -> Any:
        """The counts as an ``xarray.DataArray`` (built on first use, then the same object; it
        shares its memory with :attr:`values`).

        >>> from bellmodels import Scenario
        >>> a = Counts(np.ones((2, 2, 2, 2), dtype=int), Scenario.chsh(), kind="complete").array
        >>> a.dims, a.name, a.attrs["kind"], a.coords["outcome_a"].values.tolist()
        (('setting_a', 'setting_b', 'outcome_a', 'outcome_b'), 'counts', 'complete', [-1, 1])
        """
        if self._array is None:
            import xarray as xr

            self._array = xr.DataArray(
                self._values,
                dims=DIMS_BEHAVIOUR,
                coords=self.scenario.coords(),
                attrs=dict(self._attrs),
                name="counts",
            )
        return self._array

    @property
    def values(self) -> np.ndarray:
        """The ``(K_a, K_b, 2, 2)`` int64 array."""
        return self._values if self._array is None else self._array.values

    @property
    def total(self) -> int:
        """Total number of trials."""
        return int(self.values.sum())

    def pair_totals(self) -> np.ndarray:
        """Trials per setting pair, ``(K_a, K_b)``."""
        return self.values.sum(axis=(2, 3))

    def empty_pairs(self) -> list[tuple[str, str]]:
        """Setting pairs (labels) with zero trials."""
        n = self.pair_totals()
        return [
            (self.scenario.labels_a[i], self.scenario.labels_b[j]) for i, j in np.argwhere(n == 0)
        ]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Counts):
            return NotImplemented
        return self.scenario == other.scenario and np.array_equal(self.values, other.values)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        """``Counts(total=245, settings=2x2, source='dataset:delft2015')`` (source when known)."""
        source = self.provenance.get("source")
        tail = f", source={str(source)!r}" if source else ""
        return f"Counts(total={self.total}, settings={self.scenario.n_a}x{self.scenario.n_b}{tail})"

    def _repr_html_(self) -> str:
        """A notebook table: one row per setting pair, one column per outcome pair, and totals.

        >>> from bellmodels import Scenario
        >>> html = Counts(np.arange(16).reshape(2, 2, 2, 2), Scenario.chsh())._repr_html_()
        >>> html.count("<tr>"), "<th>(+1, +1)</th>" in html, "<td>3</td>" in html
        (5, True, True)
        """
        from html import escape

        order = [(1, 1), (1, 0), (0, 1), (0, 0)]  # ++, +-, -+, --
        head = "".join(f"<th>({OUTCOMES[xa]:+d}, {OUTCOMES[xb]:+d})</th>" for xa, xb in order)
        rows = [f"<tr><th>setting pair</th>{head}<th>trials</th></tr>"]
        values, totals = self.values, self.pair_totals()
        for i, la in enumerate(self.scenario.labels_a):
            for j, lb in enumerate(self.scenario.labels_b):
                cells = "".join(f"<td>{int(values[i, j, xa, xb])}</td>" for xa, xb in order)
                pair = escape(f"({la}, {lb})")
                rows.append(f"<tr><th>{pair}</th>{cells}<td>{int(totals[i, j])}</td></tr>")
        caption = escape(repr(self))
        return f"<table><caption>{caption}</caption>" + "".join(rows) + "</table>"


def counts_from_file(
    values: np.ndarray,
    scn: Scenario,
    provenance: dict[str, Any],
    path: str | os.PathLike[str],
    kind: str | None = None,
) -> Counts:
    """:class:`Counts` read from ``path``: :func:`checked_counts` errors become :class:`DataFormatError`.

    >>> from bellmodels import Scenario
    >>> counts_from_file(np.full((2, 2, 2, 2), -1), Scenario.chsh(), {}, "t.nc")
    Traceback (most recent call last):
    ...
    bellmodels.data.format.DataFormatError: t.nc: field counts[setting_a=a, setting_b=b, outcome_a=-1, outcome_b=-1]: count -1 is not a non-negative whole number
    """
    try:
        checked = checked_counts(values, scn, argument=str(path))
    except CountError as exc:
        raise DataFormatError(exc.reason, path=path, field=exc.field or "counts") from None
    return Counts(checked, scn, provenance=provenance, kind=kind)


__all__ = [
    "TABLE_KINDS",
    "Counts",
    "Trials",
    "counts_from_file",
]
