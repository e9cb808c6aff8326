"""The file format's vocabulary: column names, file suffixes, and the parsing of one setting or outcome cell."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from bellmodels.scenario import OUTCOMES, Scenario

SETTING_COLUMNS: tuple[str, str] = ("setting_a", "setting_b")


OUTCOME_COLUMNS: tuple[str, str] = ("outcome_a", "outcome_b")


TRIAL_COLUMNS: tuple[str, str, str, str] = (*SETTING_COLUMNS, *OUTCOME_COLUMNS)


COUNT_COLUMNS: tuple[str, str, str, str, str] = (*TRIAL_COLUMNS, "count")


NETCDF_SUFFIXES: tuple[str, ...] = (".nc", ".nc4", ".netcdf")


FileForm = Literal["counts", "trials"]


TABLE_KINDS = ("complete", "post-selected")
"""Kinds of count table (:attr:`Counts.kind`): every trial, or coincidences only."""

KIND_KEY = "kind"
"""The key of the CSV header comment that declares :attr:`Counts.kind` (``# kind: complete``)."""


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


def _cell_name(scenario: Scenario, index: tuple[int, ...]) -> str:
    sa, sb, xa, xb = (int(i) for i in index)
    return (
        f"counts[setting_a={scenario.labels_a[sa]}, setting_b={scenario.labels_b[sb]}, "
        f"outcome_a={OUTCOMES[xa]:+d}, outcome_b={OUTCOMES[xb]:+d}]"
    )


@dataclass
class _Preamble:
    """The comment lines (``#`` first) that may open a CSV file, before its header."""

    lines: int
    kind: str | None
    kind_line: int | None


def _preamble(path: Path) -> _Preamble:
    """Read the leading ``#`` lines of ``path``; ``# kind: complete`` (or ``post-selected``)
    declares the table's kind, any other comment line is free text.

    A kind that is not one of :data:`TABLE_KINDS`, or two ``kind`` lines, is a
    :class:`DataFormatError` naming the line.
    """
    count, kind, kind_line = 0, None, None
    with open(path, encoding="utf-8-sig", errors="replace", newline="") as fh:
        for number, raw in enumerate(fh, start=1):
            if not raw.startswith("#"):
                break
            count = number
            key, sep, value = raw[1:].partition(":")
            if not sep or key.strip() != KIND_KEY:
                continue
            value = value.strip()
            if kind_line is not None:
                raise DataFormatError(
                    f"a second '# {KIND_KEY}:' line (the first is line {kind_line})",
                    path=path,
                    line=number,
                    field=KIND_KEY,
                )
            if value not in TABLE_KINDS:
                raise DataFormatError(
                    f"{KIND_KEY} {value[:40]!r} is not one of {list(TABLE_KINDS)}",
                    path=path,
                    line=number,
                    field=KIND_KEY,
                )
            kind, kind_line = value, number
    return _Preamble(count, kind, kind_line)


def kind_comment(kind: str | None) -> str:
    """The CSV line that declares a table's kind (empty when the kind is not known).

    >>> kind_comment("complete")
    '# kind: complete\\n'
    """
    return "" if kind is None else f"# {KIND_KEY}: {kind}\n"


__all__ = [
    "KIND_KEY",
    "TABLE_KINDS",
    "DataFormatError",
    "kind_comment",
]
