"""Bell-test data: per-trial arrays (:class:`Trials`), count tables (:class:`Counts`), and files.

Files
-----
Two CSV forms (``docs/architecture.md``, Conventions) and NetCDF:

* **count table** -- header ``setting_a,setting_b,outcome_a,outcome_b,count``; one row per
  cell; a cell that has no row has count 0; a cell listed twice is an error (never summed);
* **per-trial rows** -- the same header without ``count``; one row per trial; read in chunks of
  ``chunk_rows`` rows, so 10^8 rows need memory for one chunk only;
* **NetCDF** (``.nc``) -- the :attr:`Counts.array` DataArray as :func:`write_counts` writes it,
  with the scenario and provenance in its attrs.

A file may say what kind of table it holds (:attr:`Counts.kind`): ``complete`` (every trial,
no detections included) or ``post-selected`` (coincidences only). A CSV file states it in a
comment line before its header, ``# kind: post-selected`` (other lines that start with ``#``
there are free text; line numbers count them); a NetCDF file in its attribute ``kind``.

Settings are indices ``0..K-1`` or the scenario's labels (``a``, ``a'`` ...); outcomes are
``+1`` / ``-1`` (``1`` is read as ``+1``); a number in a setting column is an index (so labels
that look like numbers are read as indices). Counts must be whole and non-negative (``3.0`` is
read as 3; ``2.5``, ``-1`` and ``abc`` are errors). A CSV file cannot carry its scenario, so
:func:`read_counts` takes ``scenario=`` (default :meth:`Scenario.chsh`); a NetCDF file carries
its own. Every bad cell raises :class:`DataFormatError` naming the file, the line (1-based, the
header is line 1) and the column; nothing is silently dropped or repaired.

Every count and every total is at most :data:`MAX_COUNT` (2**53, so that it is exact in the
float64 the likelihoods use), on every path: files, :class:`Counts` (a bad argument raises
:class:`CountError`, a ``ValueError`` naming the cell), the datasets and the simulator.

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

from bellmodels._util import write_atomic
from bellmodels.data.bounds import MAX_COUNT, CountError
from bellmodels.data.files import read_counts, read_trials, write_counts
from bellmodels.data.format import DataFormatError
from bellmodels.data.tables import Counts, Trials

__all__ = [
    "MAX_COUNT",
    "CountError",
    "Counts",
    "DataFormatError",
    "Trials",
    "read_counts",
    "read_trials",
    "write_atomic",
    "write_counts",
]
