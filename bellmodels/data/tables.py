"""The two data containers: per-trial arrays (:class:`Trials`) and count tables (:class:`Counts`)."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import xarray as xr

from bellmodels.scenario import DIMS_BEHAVIOUR, Scenario

TABLE_KINDS = ("complete", "post-selected")
"""Kinds of count table (:attr:`Counts.kind`): every trial, or coincidences only."""


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

    ``counts.array`` is the DataArray (dims ``setting_a, setting_b, outcome_a, outcome_b``,
    outcome coords ``[-1, +1]``, attrs ``scenario`` and ``provenance`` as JSON text), so it saves
    to NetCDF as it is.

    Parameters
    ----------
    values
        ``(K_a, K_b, 2, 2)`` non-negative integer counts (outcome index 0 <-> -1), or a DataArray
        with those dims.
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
        if isinstance(values, xr.DataArray):
            if scenario is None and "scenario" in values.attrs:
                scenario = Scenario.from_json(values.attrs["scenario"])
            if provenance is None and "provenance" in values.attrs:
                provenance = json.loads(values.attrs["provenance"])
            if kind is None and "kind" in values.attrs:
                kind = str(values.attrs["kind"])
            values = values.transpose(*DIMS_BEHAVIOUR).values
        if scenario is None:
            raise ValueError("Counts needs a scenario")
        arr = np.asarray(values)
        if arr.shape != scenario.shape:
            raise ValueError(f"counts must have shape {scenario.shape}, got {arr.shape}")
        if arr.size and not np.issubdtype(arr.dtype, np.integer):
            if not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)):
                raise ValueError("counts must be whole numbers")
        if np.any(arr < 0):
            raise ValueError("counts must be non-negative")
        if kind is not None and kind not in TABLE_KINDS:
            raise ValueError(f"kind must be one of {TABLE_KINDS} or None, got {kind!r}")
        self.kind = kind
        self.scenario = scenario
        self.provenance: dict[str, Any] = dict(provenance or {})
        self.array = xr.DataArray(
            arr.astype(np.int64),
            dims=DIMS_BEHAVIOUR,
            coords=scenario.coords(),
            attrs={"scenario": scenario.to_json(), "provenance": json.dumps(self.provenance)},
            name="counts",
        )
        if kind is not None:
            self.array.attrs["kind"] = kind

    @property
    def values(self) -> np.ndarray:
        """The ``(K_a, K_b, 2, 2)`` int64 array."""
        return self.array.values

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
        return f"Counts(total={self.total}, settings={self.scenario.n_a}x{self.scenario.n_b})"


__all__ = [
    "Counts",
    "Trials",
]
