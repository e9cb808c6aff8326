"""A well-formed small count table read with the standard library, without pandas.

:func:`bellmodels.read_counts` reads CSV files with pandas' C parser (:class:`_CsvReader` in
:mod:`bellmodels.data.files`), which streams per-trial files of any length in chunks and names
the file, line and column of every problem. Importing pandas costs about half a second, more
than a count table of a few dozen rows takes to read (a shipped dataset, ``bellmodels audit
--data delft2015``). So a count table of at most :data:`SMALL_BYTES` is first read here, with
the same cell parsers (``_setting_value``, ``_outcome_value``); anything this reader does not
accept as plainly valid (a row of the wrong length, an empty or NA-like cell, a count that is
not plain decimal digits, an unknown setting, a cell listed twice, a header that is not exactly
the count-table columns) returns ``None`` and the pandas reader reads the file instead, so every
error message and every unusual but valid spelling (``1e3``, `` 12``) stays the pandas reader's.
``tests/data_package/test_small_table.py`` checks that both readers agree.
"""

from __future__ import annotations

import csv
import itertools
import re
from pathlib import Path

import numpy as np

from bellmodels.data.bounds import MAX_COUNT
from bellmodels.data.format import COUNT_COLUMNS, _outcome_value, _setting_value
from bellmodels.scenario import Scenario

SMALL_BYTES = 64 * 1024  # a 16-row table is ~0.3 KB; larger files go to the streaming reader
# the texts pandas reads as missing (its default na_values): such a cell goes to pandas
_NA_TEXTS = frozenset(
    "#N/A,#N/A N/A,#NA,-1.#IND,-1.#QNAN,-NaN,-nan,1.#IND,1.#QNAN,<NA>,N/A,NA,NULL,NaN,None,"
    "n/a,nan,null".split(",")
) | {""}
_DIGITS = re.compile(r"[0-9]+")


def small_count_table(path: Path, scenario: Scenario, skip: int) -> tuple[np.ndarray, int] | None:
    """``(counts per flat cell (K_a K_b 4,), rows)`` of a small, plainly valid count table whose
    header follows ``skip`` comment lines, or ``None`` (the caller reads it with pandas).

    >>> import tempfile, pathlib
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "t.csv"
    >>> _ = f.write_text("setting_a,setting_b,outcome_a,outcome_b,count\\na,b,+1,-1,7\\n")
    >>> totals, rows = small_count_table(f, Scenario.chsh(), 0)
    >>> int(totals.sum()), rows, int(totals[2])
    (7, 1, 7)
    >>> _ = f.write_text("setting_a,setting_b,outcome_a,outcome_b,count\\na,b,+1,-1,7.0\\n")
    >>> small_count_table(f, Scenario.chsh(), 0) is None  # not plain digits: pandas decides
    True
    """
    try:
        if path.stat().st_size > SMALL_BYTES:
            return None
        with open(path, encoding="utf-8-sig", newline="") as fh:
            lines = list(itertools.islice(fh, skip, None))
    except (OSError, UnicodeDecodeError):
        return None
    try:
        table = list(csv.reader(lines))
    except csv.Error:
        return None
    if not table:
        return None
    header = [c.strip() for c in table[0]]
    if len(header) != len(COUNT_COLUMNS) or set(header) != set(COUNT_COLUMNS):
        return None
    order = [header.index(c) for c in COUNT_COLUMNS]
    return _tally_rows(table[1:], order, scenario)


def _tally_rows(
    rows: list[list[str]], order: list[int], scenario: Scenario
) -> tuple[np.ndarray, int] | None:
    """The counts per flat cell of ``rows`` (columns in ``order``), or ``None`` at the first
    cell this reader leaves to pandas."""
    kb = scenario.n_b
    totals = np.zeros(scenario.n_a * kb * 4, dtype=np.int64)
    seen = np.zeros(totals.size, dtype=bool)
    total = 0
    for row in rows:
        if len(row) != len(order):
            return None
        sa_t, sb_t, xa_t, xb_t, n_t = (row[i] for i in order)
        if any(t in _NA_TEXTS for t in (sa_t, sb_t, xa_t, xb_t, n_t)) or not _DIGITS.fullmatch(n_t):
            return None
        sa, sb = _setting_value(scenario, "a", sa_t), _setting_value(scenario, "b", sb_t)
        xa, xb = _outcome_value(xa_t), _outcome_value(xb_t)
        if sa is None or sb is None or xa is None or xb is None:
            return None
        cell = ((sa * kb + sb) * 2 + (xa + 1) // 2) * 2 + (xb + 1) // 2
        n = int(n_t)
        total += n
        if seen[cell] or total > MAX_COUNT:
            return None
        seen[cell] = True
        totals[cell] = n
    return totals, len(rows)


__all__ = ["SMALL_BYTES", "small_count_table"]
