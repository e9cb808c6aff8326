"""Reading and writing count tables and per-trial rows: CSV (in chunks) and NetCDF."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np

from bellmodels._util import atomic_write
from bellmodels.data._small_table import small_count_table
from bellmodels.data.bounds import MAX_COUNT
from bellmodels.data.format import (
    COUNT_COLUMNS,
    KIND_KEY,
    OUTCOME_COLUMNS,
    SETTING_COLUMNS,
    TRIAL_COLUMNS,
    DataFormatError,
    FileForm,
    _is_netcdf,
    _outcome_value,
    _preamble,
    _setting_value,
    kind_comment,
)
from bellmodels.data.netcdf import read_netcdf
from bellmodels.data.tables import Counts, Trials, counts_from_file
from bellmodels.scenario import OUTCOMES, Scenario


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
    Leading ``#`` lines (:func:`_preamble`) are skipped; line numbers count them.
    """

    def __init__(self, path: Path, scenario: Scenario, chunk_rows: int) -> None:
        import pandas as pd

        path = _data_path(path)
        if chunk_rows < 1:
            raise ValueError(f"chunk_rows must be a positive integer, got {chunk_rows}")
        self.path = path
        self.scenario = scenario
        self.chunk_rows = int(chunk_rows)
        self.preamble = _preamble(path)
        self.skip = self.preamble.lines
        where = "the first line" if not self.skip else "the first line after the comments"
        try:
            header = pd.read_csv(path, nrows=0, encoding="utf-8-sig", skiprows=self.skip)
        except pd.errors.EmptyDataError:
            raise DataFormatError(
                f"empty file: expected the header {','.join(TRIAL_COLUMNS)}[,count] on {where}",
                path=path,
                line=self.skip + 1,
            ) from None
        except (pd.errors.ParserError, UnicodeDecodeError) as exc:
            raise DataFormatError(f"not a readable CSV file ({exc})", path=path) from None
        names = [str(c).strip() for c in header.columns]
        self.form: FileForm = "counts" if "count" in names else "trials"
        wanted = COUNT_COLUMNS if self.form == "counts" else TRIAL_COLUMNS
        expected = (
            f"the header {','.join(TRIAL_COLUMNS)} (per-trial rows) or "
            f"{','.join(COUNT_COLUMNS)} (count table)"
        )
        if not set(names) & set(COUNT_COLUMNS):  # not a Bell-test table: never echo its text
            raise DataFormatError(
                f"not a Bell-test table: {where} is not {expected} (it has "
                f"{len(names)} comma-separated field(s), none of them a Bell-test column)",
                path=path,
                line=self.skip + 1,
            )
        missing = [c for c in wanted if c not in names]
        if missing:
            raise DataFormatError(
                f"missing column(s) {missing}; {where} must be {expected}",
                path=path,
                line=self.skip + 1,
                field=missing[0],
            )
        extra = [c for c in names if c not in wanted]
        if extra:
            shown = [c if len(c) <= 40 else c[:40] + "..." for c in extra[:5]]
            raise DataFormatError(
                f"unknown column(s) {shown}{' ...' if len(extra) > 5 else ''}; expected "
                f"exactly {','.join(wanted)}",
                path=path,
                line=self.skip + 1,
                field=shown[0],
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
            skiprows=self.skip,
        )
        row0 = 0
        try:
            for frame in reader:
                frame = frame.rename(columns=self.rename)
                yield self._validate(frame, first_line=self.skip + row0 + 2)
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
                    problems.append((i, col, f"{_cut(repr(cats[codes[i]]))} is not {allowed}"))
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
        """Counts of one chunk as int64, or the earliest row's problem (row, column, message)."""
        import pandas as pd

        text = series.astype(object)
        missing = np.asarray(series.isna())
        numbers = np.asarray(pd.to_numeric(text, errors="coerce"), dtype=float)
        with np.errstate(invalid="ignore"):
            whole = np.isfinite(numbers) & (numbers == np.floor(numbers))
            near = ~missing & (numbers >= 2**52)  # float64 may round these: parse exactly
        exact = np.where(whole & ~near, numbers, 0).astype(np.int64)
        for i in np.flatnonzero(near):
            value = _exact_whole(text.iloc[i])
            whole[i] = value is not None
            if value is not None and value <= MAX_COUNT:
                exact[i] = value
        over = near & whole & (exact == 0)  # whole but beyond MAX_COUNT ('0' is never near)
        bad = np.flatnonzero(missing | ~whole | (numbers < 0) | over)
        if not bad.size:
            return exact, None
        i = int(bad[0])
        shown = _shown(text.iloc[i])
        if missing[i]:
            message = "empty cell (NaN): every row needs a value"
        elif over[i]:
            message = f"count {shown} exceeds MAX_COUNT = 2**53 = {MAX_COUNT}"
        elif whole[i] or numbers[i] == -np.inf:
            message = f"negative count {shown}"
        else:
            message = f"count {shown} is not a non-negative whole number"
        return np.empty(0, np.int64), (i, "count", message)


def _exact_whole(cell: Any) -> int | None:
    """The whole number a count cell's text spells exactly (``'9007199254740993'``, ``'1e15'``)."""
    try:
        value = Decimal(str(cell).strip())
    except ArithmeticError:
        return None
    if not value.is_finite() or value < 0:
        return None
    if value.adjusted() > 30:  # e.g. '1e999999999': far beyond MAX_COUNT; never expand it
        return MAX_COUNT + 1
    if value != value.to_integral_value():
        return None
    return int(value)


def _shown(cell: Any, limit: int = 40) -> str:
    """A cell's text for a message, quoted and cut to ``limit`` characters."""
    text = str(cell)
    return repr(text if len(text) <= limit else text[:limit] + "...")


def _cut(text: str, limit: int = 42) -> str:
    """``text`` cut to ``limit`` characters (a cell quoted in a message stays one short line)."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _default_scenario(scenario: Scenario | None) -> Scenario:
    return Scenario.chsh() if scenario is None else scenario


def read_counts(
    path: str | os.PathLike[str],
    scenario: Scenario | None = None,
    *,
    chunk_rows: int = 1_000_000,
    kind: str | None = None,
) -> Counts:
    """Read a count table, per-trial rows, or a NetCDF file into :class:`Counts`.

    The form is recognised from the file: ``.nc`` is NetCDF; a CSV with a ``count`` column is a
    count table (a small one read without pandas, :mod:`bellmodels.data._small_table`), one
    without is per-trial rows (streamed in chunks of ``chunk_rows`` rows, so
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
    kind
        :attr:`Counts.kind` (``"complete"``: every trial, no detections included;
        ``"post-selected"``: coincidences only). A file may state its own: a NetCDF file in its
        attribute ``kind``, a CSV file in a comment line before its header, ``# kind:
        post-selected`` (other ``#`` lines there are free text). Passing a kind different from
        the file's is an error; ``None`` takes the file's (``None`` when it states none).

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
        cell listed twice in a count table, a ``# kind:`` line that is not a table kind.
    FileNotFoundError
        When the file does not exist.

    Example
    -------
    >>> import tempfile, pathlib
    >>> from bellmodels import read_counts
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "trials.csv"
    >>> _ = f.write_text("setting_a,setting_b,outcome_a,outcome_b\\na,b',+1,-1\\n1,0,-1,-1\\n")
    >>> c = read_counts(f)
    >>> c.total, c.pair_totals().tolist(), c.kind
    (2, [[0, 1], [1, 0]], None)
    >>> _ = f.write_text("# kind: post-selected\\nsetting_a,setting_b,outcome_a,outcome_b\\n")
    >>> read_counts(f).kind
    'post-selected'
    """
    path = _data_path(path)
    if _is_netcdf(path):
        found = read_netcdf(path, scenario)
        kind = _agreed_kind(found.kind, kind, path, None)
        return Counts(found.values, found.scenario, provenance=found.provenance, kind=kind)
    scn = _default_scenario(scenario)
    preamble = _preamble(path) if chunk_rows >= 1 else None  # else _CsvReader refuses it
    small = small_count_table(path, scn, preamble.lines) if preamble is not None else None
    if preamble is not None and small is not None:  # small and plainly valid: without pandas
        kind = _agreed_kind(preamble.kind, kind, path, preamble.kind_line)
        (totals, rows), form = small, "counts"
    else:
        reader = _CsvReader(path, scn, chunk_rows)
        kind = _agreed_kind(reader.preamble.kind, kind, path, reader.preamble.kind_line)
        totals, rows = _tally(reader, scn)
        form = reader.form
    provenance = {"source": str(path), "format": f"csv-{form}", "rows": rows}
    return counts_from_file(totals.reshape(scn.shape), scn, provenance, path, kind=kind)


def _agreed_kind(found: str | None, given: str | None, path: Path, line: int | None) -> str | None:
    """The table's kind: the file's (``found``) unless the caller's (``given``) differs from it,
    which is a :class:`DataFormatError` naming the file (and the line that declares it)."""
    if given is not None and found not in (None, given):
        raise DataFormatError(
            f"the file's table kind {found!r} differs from the one given ({given!r})",
            path=path,
            line=line,
            field=KIND_KEY,
        )
    return given if given is not None else found


def _tally(reader: _CsvReader, scn: Scenario) -> tuple[np.ndarray, int]:
    """``(counts per flat cell (K_a K_b 4,), rows read)`` over every chunk of ``reader``."""
    kb = scn.n_b
    ncells = scn.n_a * kb * 4
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
        else:
            _add_count_rows(chunk, flat, totals, first_seen, reader.path)
    return totals, rows


def _add_count_rows(
    chunk: _Chunk, flat: np.ndarray, totals: np.ndarray, first_seen: np.ndarray, path: Path
) -> None:
    """Add one chunk of a count table to ``totals`` (in place), refusing a cell listed twice
    (``first_seen`` holds the line of each cell's row so far) and a total above MAX_COUNT."""
    assert chunk.count is not None
    lines = chunk.first_line + np.arange(flat.size)
    order = np.argsort(flat, kind="stable")
    repeat = np.flatnonzero(flat[order][1:] == flat[order][:-1]) + 1
    clashes = [(int(lines[order[r]]), int(lines[order[r - 1]])) for r in repeat]
    clashes += [(int(lines[i]), int(first_seen[flat[i]])) for i in np.flatnonzero(first_seen[flat])]
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
    running = np.cumsum(chunk.count.astype(object)) + int(totals.sum())  # exact integers
    over = np.flatnonzero(running > MAX_COUNT)
    if over.size:
        raise DataFormatError(
            f"the counts up to this row add up to {running[over[0]]}, more than "
            f"MAX_COUNT = 2**53 = {MAX_COUNT} trials",
            path=path,
            line=int(lines[over[0]]),
            field="count",
        )
    totals[flat] += chunk.count  # cells are distinct (checked above); no overflow (above)


def _data_path(path: str | os.PathLike[str]) -> Path:
    """``path`` as a Path, refusing a missing file or a directory with a message naming it."""
    path = Path(path)
    if path.is_dir():
        raise DataFormatError("is a directory, not a data file (.csv or .nc)", path=path)
    if not path.exists():
        raise FileNotFoundError(f"no such data file: {path}")
    return path


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
    path = _data_path(path)
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
        fh.write(kind_comment(getattr(data, "kind", None)))
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
    outcomes as ``+1`` / ``-1``, and the table's :attr:`~Counts.kind`, when known, in a first
    line ``# kind: complete`` (or ``post-selected``; NetCDF: the attribute ``kind``). The file is
    first written to a temporary file in the same
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
    "read_counts",
    "read_trials",
    "write_counts",
]
