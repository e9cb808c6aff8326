"""Bell-test data: per-trial arrays (:class:`Trials`), count tables (:class:`Counts`), and files.

Files
-----
Two CSV forms (``DESIGN.md``) and NetCDF:

* **count table** -- header ``setting_a,setting_b,outcome_a,outcome_b,count``; one row per
  cell; a cell that has no row has count 0; a cell listed twice is an error (never summed);
* **per-trial rows** -- the same header without ``count``; one row per trial; read in chunks of
  ``chunk_rows`` rows, so 10^8 rows need memory for one chunk only;
* **NetCDF** (``.nc``) -- the :attr:`Counts.array` DataArray as :func:`write_counts` writes it,
  with the scenario and provenance in its attrs.

Settings are indices ``0..K-1`` or the scenario's labels (``a``, ``a'`` ...); outcomes are
``+1`` / ``-1`` (``1`` is read as ``+1``); a number in a setting column is an index (so labels
that look like numbers are read as indices). Counts must be whole and non-negative (``3.0`` is
read as 3; ``2.5``, ``-1`` and ``abc`` are errors). A CSV file cannot carry its scenario, so
:func:`read_counts` takes ``scenario=`` (default :meth:`Scenario.chsh`); a NetCDF file carries
its own. Every bad cell raises :class:`DataFormatError` naming the file, the line (1-based, the
header is line 1) and the column; nothing is silently dropped or repaired.

Example
-------
>>> import numpy as np
>>> from bellmodels import Scenario, Trials
>>> t = Trials(Scenario.chsh(), [0, 0, 1], [1, 1, 0], [1, -1, 1], [-1, -1, 1])
>>> c = t.counts()
>>> int(c.total), c.pair_totals().tolist()
(3, [[0, 2], [1, 0]])
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import xarray as xr

from bellmodels._util import atomic_write, write_atomic
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
    """

    def __init__(
        self,
        values: Any,
        scenario: Scenario | None = None,
        provenance: dict[str, Any] | None = None,
    ) -> None:
        if isinstance(values, xr.DataArray):
            if scenario is None and "scenario" in values.attrs:
                scenario = Scenario.from_json(values.attrs["scenario"])
            if provenance is None and "provenance" in values.attrs:
                provenance = json.loads(values.attrs["provenance"])
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
        self.scenario = scenario
        self.provenance: dict[str, Any] = dict(provenance or {})
        self.array = xr.DataArray(
            arr.astype(np.int64),
            dims=DIMS_BEHAVIOUR,
            coords=scenario.coords(),
            attrs={"scenario": scenario.to_json(), "provenance": json.dumps(self.provenance)},
            name="counts",
        )

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


# ---------------------------------------------------------------------------------------------
# Files: reading and writing (CSV count tables, per-trial CSV, NetCDF)
# ---------------------------------------------------------------------------------------------

SETTING_COLUMNS: tuple[str, str] = ("setting_a", "setting_b")
OUTCOME_COLUMNS: tuple[str, str] = ("outcome_a", "outcome_b")
TRIAL_COLUMNS: tuple[str, str, str, str] = (*SETTING_COLUMNS, *OUTCOME_COLUMNS)
COUNT_COLUMNS: tuple[str, str, str, str, str] = (*TRIAL_COLUMNS, "count")
NETCDF_SUFFIXES: tuple[str, ...] = (".nc", ".nc4", ".netcdf")

FileForm = Literal["counts", "trials"]


class DataFormatError(ValueError):
    """A data file that cannot be read as Bell-test data; the message names the place.

    Attributes
    ----------
    path
        The file.
    line
        1-based line number in the file (the CSV header is line 1), or ``None`` when the problem
        is not on one line (e.g. a NetCDF attribute).
    field
        The column (CSV) or variable / cell (NetCDF) at fault, or ``None``.

    Example
    -------
    >>> err = DataFormatError("outcome 0 is not +1 or -1", path="t.csv", line=3, field="outcome_a")
    >>> str(err)
    "t.csv: line 3, column 'outcome_a': outcome 0 is not +1 or -1"
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | os.PathLike[str],
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        self.path = str(path)
        self.line = line
        self.field = field
        self.reason = message
        place = []
        if line is not None:
            place.append(f"line {line}")
        if field is not None:
            place.append(f"column {field!r}" if line is not None else f"field {field}")
        prefix = f"{self.path}: " + "".join(p + ", " for p in place[:-1])
        prefix += f"{place[-1]}: " if place else ""
        super().__init__(prefix + message)


def _is_netcdf(path: Path) -> bool:
    return path.suffix.lower() in NETCDF_SUFFIXES


def _outcome_value(value: Any) -> int | None:
    """+1 / -1 from a parsed CSV cell (int, integral float or text such as '+1'), else None."""
    if isinstance(value, (bool, np.bool_)):
        return None
    if isinstance(value, str):
        text = value.strip()
        return {"+1": 1, "1": 1, "-1": -1}.get(text)
    if isinstance(value, (int, np.integer, float, np.floating)) and value in (1, -1):
        return int(value)
    return None


def _setting_value(scenario: Scenario, party: str, value: Any) -> int | None:
    """Setting index from a parsed CSV cell (index or label), else None."""
    if isinstance(value, (bool, np.bool_)):
        return None
    if isinstance(value, (float, np.floating)):
        if not float(value).is_integer():
            return None
        value = int(value)
    try:
        return scenario.setting_index(party, value)
    except ValueError:
        return None


@dataclass
class _Chunk:
    """One validated block of CSV rows: index arrays (outcomes as 0/1) and optional counts."""

    first_line: int
    setting_a: np.ndarray
    setting_b: np.ndarray
    outcome_a: np.ndarray  # 0 <-> -1, 1 <-> +1
    outcome_b: np.ndarray
    count: np.ndarray | None


class _CsvReader:
    """Streams a Bell-test CSV file in validated chunks (pandas' C parser does the parsing).

    Setting and outcome columns are parsed as pandas categoricals, so each chunk's distinct
    values (a handful) are checked and mapped once and the rows are mapped by their category
    codes: the per-row work stays in numpy. The error reported is the one on the earliest line.
    """

    def __init__(self, path: Path, scenario: Scenario, chunk_rows: int) -> None:
        import pandas as pd

        if chunk_rows < 1:
            raise ValueError(f"chunk_rows must be a positive integer, got {chunk_rows}")
        self.path = path
        self.scenario = scenario
        self.chunk_rows = int(chunk_rows)
        if not path.exists():
            raise FileNotFoundError(f"no such data file: {path}")
        try:
            header = pd.read_csv(path, nrows=0, encoding="utf-8-sig")
        except pd.errors.EmptyDataError:
            raise DataFormatError(
                "empty file: expected the header "
                f"{','.join(TRIAL_COLUMNS)}[,count] on the first line",
                path=path,
                line=1,
            ) from None
        except (pd.errors.ParserError, UnicodeDecodeError) as exc:
            raise DataFormatError(f"not a readable CSV file ({exc})", path=path) from None
        names = [str(c).strip() for c in header.columns]
        self.form: FileForm = "counts" if "count" in names else "trials"
        wanted = COUNT_COLUMNS if self.form == "counts" else TRIAL_COLUMNS
        missing = [c for c in wanted if c not in names]
        if missing:
            raise DataFormatError(
                f"missing column(s) {missing}; the first line must be the header "
                f"{','.join(TRIAL_COLUMNS)} (per-trial rows) or {','.join(COUNT_COLUMNS)} "
                f"(count table), got {','.join(names)}",
                path=path,
                line=1,
                field=missing[0],
            )
        extra = [c for c in names if c not in wanted]
        if extra:
            raise DataFormatError(
                f"unknown column(s) {extra}; expected exactly {','.join(wanted)}",
                path=path,
                line=1,
                field=extra[0],
            )
        self.columns = list(header.columns)  # as written (possibly with spaces)
        self.rename = dict(zip(self.columns, names, strict=True))

    def __iter__(self) -> Iterator[_Chunk]:
        import pandas as pd

        dtype: dict[str, Any] = {raw: "category" for raw in self.columns}
        if self.form == "counts":
            raw_count = next(r for r, n in self.rename.items() if n == "count")
            dtype[raw_count] = str
        reader = pd.read_csv(
            self.path,
            chunksize=self.chunk_rows,
            dtype=dtype,
            skip_blank_lines=False,
            encoding="utf-8-sig",
        )
        row0 = 0
        try:
            for frame in reader:
                frame = frame.rename(columns=self.rename)
                yield self._validate(frame, first_line=row0 + 2)
                row0 += len(frame)
        except pd.errors.ParserError as exc:
            found = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
            if found:
                expected, line, saw = (int(g) for g in found.groups())
                raise DataFormatError(
                    f"row has {saw} fields, the header has {expected}",
                    path=self.path,
                    line=line,
                ) from None
            raise DataFormatError(f"malformed CSV ({str(exc).strip()})", path=self.path) from None
        finally:
            reader.close()

    def _validate(self, frame: Any, first_line: int) -> _Chunk:
        problems: list[tuple[int, str, str]] = []  # (row in chunk, column, message)
        mapped: dict[str, np.ndarray] = {}
        for col in TRIAL_COLUMNS:
            series = frame[col]
            codes = np.asarray(series.cat.codes, dtype=np.int64)
            cats = list(series.cat.categories)
            if col in SETTING_COLUMNS:
                party = col[-1]
                table = [_setting_value(self.scenario, party, v) for v in cats]
                labels = self.scenario.labels_a if party == "a" else self.scenario.labels_b
                allowed = f"an index 0..{len(labels) - 1} or one of the labels {list(labels)}"
            else:
                table = [_outcome_value(v) for v in cats]
                table = [None if v is None else (v + 1) // 2 for v in table]
                allowed = "+1 or -1"
            lookup = np.array([-1 if v is None else v for v in table] + [-2], dtype=np.int64)
            values = lookup[codes]  # code -1 (missing) -> -2 (last entry)
            bad = np.flatnonzero(values < 0)
            if bad.size:
                i = int(bad[0])
                if frame.iloc[i].isna().all():
                    problems.append((i, col, "blank line: every row needs a value in each column"))
                elif codes[i] < 0:
                    problems.append((i, col, "empty cell (NaN): every row needs a value"))
                else:
                    problems.append((i, col, f"{cats[codes[i]]!r} is not {allowed}"))
            mapped[col] = values.astype(np.int8)
        count = None
        if self.form == "counts":
            count, problem = self._parse_counts(frame["count"])
            if problem is not None:
                problems.append(problem)
        if problems:
            i, col, message = min(problems, key=lambda p: (p[0], COUNT_COLUMNS.index(p[1])))
            raise DataFormatError(message, path=self.path, line=first_line + i, field=col)
        return _Chunk(
            first_line,
            mapped["setting_a"],
            mapped["setting_b"],
            mapped["outcome_a"],
            mapped["outcome_b"],
            count,
        )

    @staticmethod
    def _parse_counts(series: Any) -> tuple[np.ndarray, tuple[int, str, str] | None]:
        import pandas as pd

        text = series.astype(object)
        missing = np.asarray(series.isna())
        numbers = np.asarray(pd.to_numeric(text, errors="coerce"), dtype=float)
        with np.errstate(invalid="ignore"):
            whole = np.isfinite(numbers) & (numbers == np.floor(numbers))
        bad = np.flatnonzero(missing | ~whole | (numbers < 0))
        if bad.size:
            i = int(bad[0])
            if missing[i]:
                return np.empty(0, np.int64), (
                    i,
                    "count",
                    "empty cell (NaN): every row needs a value",
                )
            value = text.iloc[i]
            if whole[i]:
                return np.empty(0, np.int64), (i, "count", f"negative count {value!r}")
            return np.empty(0, np.int64), (
                i,
                "count",
                f"count {value!r} is not a non-negative whole number",
            )
        if numbers.size and numbers.max() > 2**53:
            i = int(np.argmax(numbers))
            return np.empty(0, np.int64), (i, "count", f"count {text.iloc[i]!r} is too large")
        return numbers.astype(np.int64), None


def _default_scenario(scenario: Scenario | None) -> Scenario:
    return Scenario.chsh() if scenario is None else scenario


def read_counts(
    path: str | os.PathLike[str],
    scenario: Scenario | None = None,
    *,
    chunk_rows: int = 1_000_000,
) -> Counts:
    """Read a count table, per-trial rows, or a NetCDF file into :class:`Counts`.

    The form is recognised from the file: ``.nc`` is NetCDF; a CSV with a ``count`` column is a
    count table, one without is per-trial rows (streamed in chunks of ``chunk_rows`` rows, so
    memory stays bounded for any number of rows; counts are accumulated per chunk with one
    ``numpy.bincount``).

    Parameters
    ----------
    path
        The file.
    scenario
        The scenario the settings refer to. CSV: default :meth:`Scenario.chsh`. NetCDF: the file's
        own scenario is used; passing a different one is an error.
    chunk_rows
        Rows per chunk for CSV files.

    Returns
    -------
    Counts
        With provenance ``{"source": path, "format": ..., "rows": ...}`` (CSV) or the file's own
        provenance (NetCDF).

    Raises
    ------
    DataFormatError
        (a ``ValueError``) naming the file, line and column: a missing or unknown column, an
        unknown setting, an outcome not +1/-1, an empty cell, a negative or fractional count, a
        cell listed twice in a count table.
    FileNotFoundError
        When the file does not exist.

    Example
    -------
    >>> import tempfile, pathlib
    >>> from bellmodels import read_counts
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "trials.csv"
    >>> _ = f.write_text("setting_a,setting_b,outcome_a,outcome_b\\na,b',+1,-1\\n1,0,-1,-1\\n")
    >>> c = read_counts(f)
    >>> c.total, c.pair_totals().tolist()
    (2, [[0, 1], [1, 0]])
    """
    path = Path(path)
    if _is_netcdf(path):
        return _read_netcdf(path, scenario)
    scn = _default_scenario(scenario)
    reader = _CsvReader(path, scn, chunk_rows)
    ka, kb = scn.n_a, scn.n_b
    ncells = ka * kb * 4
    totals = np.zeros(ncells, dtype=np.int64)
    first_seen = np.zeros(ncells, dtype=np.int64)  # count tables: line of each cell's row
    rows = 0
    for chunk in reader:
        flat = (
            (chunk.setting_a.astype(np.int64) * kb + chunk.setting_b) * 2 + chunk.outcome_a
        ) * 2 + chunk.outcome_b
        rows += flat.size
        if chunk.count is None:
            totals += np.bincount(flat, minlength=ncells)
            continue
        lines = chunk.first_line + np.arange(flat.size)
        order = np.argsort(flat, kind="stable")
        repeat = np.flatnonzero(flat[order][1:] == flat[order][:-1]) + 1
        clashes = [(int(lines[order[r]]), int(lines[order[r - 1]])) for r in repeat]
        clashes += [
            (int(lines[i]), int(first_seen[flat[i]])) for i in np.flatnonzero(first_seen[flat])
        ]
        if clashes:
            line, earlier = min(clashes)
            raise DataFormatError(
                f"duplicate row for the cell already given on line {earlier}; a count table "
                "lists each (setting_a, setting_b, outcome_a, outcome_b) at most once",
                path=path,
                line=line,
                field="count",
            )
        first_seen[flat] = lines
        totals[flat] += chunk.count  # cells are distinct (checked above)
    provenance = {"source": str(path), "format": f"csv-{reader.form}", "rows": rows}
    return Counts(totals.reshape(scn.shape), scn, provenance=provenance)


def read_trials(
    path: str | os.PathLike[str],
    scenario: Scenario | None = None,
    *,
    chunk_rows: int = 1_000_000,
) -> Trials:
    """Read a per-trial CSV file into :class:`Trials`, keeping the trial order.

    Holds every trial in memory (4 bytes per trial); for large files use :func:`read_counts`,
    which streams. Validation and errors are those of :func:`read_counts`.

    Parameters
    ----------
    path
        A per-trial CSV file (header ``setting_a,setting_b,outcome_a,outcome_b``).
    scenario
        The scenario the settings refer to (default :meth:`Scenario.chsh`).
    chunk_rows
        Rows parsed per chunk.

    Example
    -------
    >>> import tempfile, pathlib
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "trials.csv"
    >>> _ = f.write_text("setting_a,setting_b,outcome_a,outcome_b\\n0,1,1,-1\\n1,1,-1,-1\\n")
    >>> t = read_trials(f)
    >>> len(t), t.outcome_a.tolist()
    (2, [1, -1])
    """
    path = Path(path)
    if _is_netcdf(path):
        raise DataFormatError(
            "NetCDF files hold count tables, not per-trial rows; use read_counts", path=path
        )
    scn = _default_scenario(scenario)
    reader = _CsvReader(path, scn, chunk_rows)
    if reader.form != "trials":
        raise DataFormatError(
            "this is a count table (it has a 'count' column), which has no per-trial order; "
            "use read_counts",
            path=path,
            line=1,
            field="count",
        )
    parts: dict[str, list[np.ndarray]] = {c: [] for c in TRIAL_COLUMNS}
    for chunk in reader:
        for col in TRIAL_COLUMNS:
            parts[col].append(getattr(chunk, col))
    arrays = {
        c: (np.concatenate(v) if v else np.empty(0, np.int8)).astype(np.int8)
        for c, v in parts.items()
    }
    for col in OUTCOME_COLUMNS:
        arrays[col] = arrays[col] * 2 - 1
    return Trials(scn, **arrays)


def _cell_name(scenario: Scenario, index: tuple[int, ...]) -> str:
    sa, sb, xa, xb = (int(i) for i in index)
    return (
        f"counts[setting_a={scenario.labels_a[sa]}, setting_b={scenario.labels_b[sb]}, "
        f"outcome_a={OUTCOMES[xa]:+d}, outcome_b={OUTCOMES[xb]:+d}]"
    )


def _read_netcdf(path: Path, scenario: Scenario | None) -> Counts:
    if not path.exists():
        raise FileNotFoundError(f"no such data file: {path}")
    try:
        with xr.open_dataarray(path, engine="h5netcdf") as opened:
            da = opened.load()
    except (OSError, ValueError, KeyError) as exc:
        raise DataFormatError(
            f"not a NetCDF count array as written by write_counts ({exc})", path=path
        ) from None
    missing = [d for d in DIMS_BEHAVIOUR if d not in da.dims]
    extra = [d for d in da.dims if d not in DIMS_BEHAVIOUR]
    if missing or extra:
        raise DataFormatError(
            f"dims must be {list(DIMS_BEHAVIOUR)}, got {list(da.dims)}",
            path=path,
            field=str((missing or extra)[0]),
        )
    if "scenario" in da.attrs:
        try:
            file_scenario = Scenario.from_json(da.attrs["scenario"])
        except (ValueError, KeyError, TypeError) as exc:
            raise DataFormatError(
                f"attribute 'scenario' is not a scenario ({exc})", path=path, field="scenario"
            ) from None
        if scenario is not None and scenario != file_scenario:
            raise DataFormatError(
                f"the file's scenario {file_scenario.to_json()} differs from the one given "
                f"({scenario.to_json()})",
                path=path,
                field="scenario",
            )
        scn = file_scenario
    else:
        scn = _default_scenario(scenario)
    for dim in ("outcome_a", "outcome_b"):
        coord = da[dim].values.tolist() if dim in da.coords else None
        if coord is None or sorted(coord) != [-1, 1]:
            raise DataFormatError(
                f"coordinate {dim} must be [-1, +1], got {coord}", path=path, field=dim
            )
        da = da.sel({dim: list(OUTCOMES)})
    da = da.transpose(*DIMS_BEHAVIOUR)
    if da.shape != scn.shape:
        raise DataFormatError(
            f"shape {da.shape} does not match the scenario's {scn.shape}", path=path, field="counts"
        )
    values = np.asarray(da.values)
    if not np.issubdtype(values.dtype, np.number):
        raise DataFormatError(f"counts have dtype {values.dtype}", path=path, field="counts")
    with np.errstate(invalid="ignore"):
        bad = ~np.isfinite(values) | (values < 0) | (values != np.round(values))
    if bad.any():
        index = tuple(np.argwhere(bad)[0])
        raise DataFormatError(
            f"count {values[index].item()!r} is not a non-negative whole number",
            path=path,
            field=_cell_name(scn, index),
        )
    provenance: dict[str, Any] = {}
    if "provenance" in da.attrs:
        try:
            provenance = dict(json.loads(da.attrs["provenance"]))
        except (ValueError, TypeError) as exc:
            raise DataFormatError(
                f"attribute 'provenance' is not JSON ({exc})", path=path, field="provenance"
            ) from None
    provenance.setdefault("source", str(path))
    return Counts(values.astype(np.int64), scn, provenance=provenance)


_WRITE_BLOCK_ROWS = 1_000_000


def _row_texts(scenario: Scenario) -> np.ndarray:
    """CSV text of each of the K_a*K_b*4 cells in flat (C) order, settings as indices."""
    return np.array(
        [
            f"{sa},{sb},{OUTCOMES[xa]:+d},{OUTCOMES[xb]:+d}"
            for sa in range(scenario.n_a)
            for sb in range(scenario.n_b)
            for xa in range(2)
            for xb in range(2)
        ],
        dtype=object,
    )


def _write_csv(data: Counts | Trials, tmp: Path, form: FileForm) -> None:
    scn = data.scenario
    rows = _row_texts(scn)
    with open(tmp, "w", encoding="utf-8", newline="") as fh:
        if form == "counts":
            counts = data if isinstance(data, Counts) else data.counts()
            fh.write(",".join(COUNT_COLUMNS) + "\n")
            for text, n in zip(rows, counts.values.ravel(), strict=True):
                fh.write(f"{text},{int(n)}\n")
            return
        fh.write(",".join(TRIAL_COLUMNS) + "\n")
        lines = rows + "\n"
        if isinstance(data, Trials):
            kb = scn.n_b
            for start in range(0, len(data), _WRITE_BLOCK_ROWS):
                block = slice(start, start + _WRITE_BLOCK_ROWS)
                xa = (data.outcome_a[block] > 0).astype(np.int64)
                xb = (data.outcome_b[block] > 0).astype(np.int64)
                flat = (
                    (data.setting_a[block].astype(np.int64) * kb + data.setting_b[block]) * 2 + xa
                ) * 2 + xb
                fh.write("".join(lines[flat].tolist()))
            return
        for text, n in zip(lines, data.values.ravel(), strict=True):
            for start in range(0, int(n), _WRITE_BLOCK_ROWS):
                fh.write(text * min(_WRITE_BLOCK_ROWS, int(n) - start))


def write_counts(
    data: Counts | Trials,
    path: str | os.PathLike[str],
    *,
    form: FileForm = "counts",
) -> Path:
    """Write counts (or trials) as a CSV count table, per-trial CSV, or NetCDF, atomically.

    The format follows the suffix: ``.nc`` writes :attr:`Counts.array` to NetCDF (h5netcdf) with
    the scenario and provenance in attrs; anything else writes CSV with settings as indices and
    outcomes as ``+1`` / ``-1``. The file is first written to a temporary file in the same
    directory and then moved into place with :func:`os.replace`, so a reader never sees half a
    file.

    Parameters
    ----------
    data
        :class:`Counts`, or :class:`Trials` (tallied for ``form="counts"``; written in trial order
        for ``form="trials"``).
    path
        Destination file.
    form
        ``"counts"``: one row per cell, zero cells included. ``"trials"`` (CSV only): one row per
        trial; from :class:`Counts` the rows come grouped by cell (the order is not recorded in
        a count table).

    Returns
    -------
    pathlib.Path
        The written path.

    Notes
    -----
    A CSV file does not store the scenario; read it back with the same ``scenario=``.

    Example
    -------
    >>> import tempfile, pathlib
    >>> from bellmodels import Scenario, Trials, read_counts, write_counts
    >>> t = Trials(Scenario.chsh(), [0, 1], [1, 1], [1, -1], [-1, -1])
    >>> f = write_counts(t, pathlib.Path(tempfile.mkdtemp()) / "c.nc")
    >>> read_counts(f) == t.counts()
    True
    """
    path = Path(path)
    if form not in ("counts", "trials"):
        raise ValueError(f"form must be 'counts' or 'trials', got {form!r}")
    if not isinstance(data, (Counts, Trials)):
        raise TypeError(f"write_counts needs Counts or Trials, got {type(data).__name__}")
    if _is_netcdf(path):
        if form != "counts":
            raise ValueError(
                f"{path}: NetCDF files hold count tables; use a .csv path for form='trials'"
            )
        counts = data if isinstance(data, Counts) else data.counts()
        atomic_write(
            path, lambda tmp: counts.array.to_netcdf(tmp, engine="h5netcdf"), parents=False
        )
    else:
        atomic_write(path, lambda tmp: _write_csv(data, tmp, form), parents=False)
    return path


__all__ = [
    "Counts",
    "DataFormatError",
    "Trials",
    "read_counts",
    "read_trials",
    "write_atomic",
    "write_counts",
]
