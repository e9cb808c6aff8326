"""CHSH inputs typed in independently of the package, for tests of its numbers: the published
count tables (from the papers, not read through the shipped datasets) and the singlet's behaviour
from its formula.

Array order of outcomes: index 0 is -1, index 1 is +1.
"""

from __future__ import annotations

import numpy as np

from bellmodels import Counts, Scenario

SIGN = np.array([[1.0, -1.0], [-1.0, 1.0]])
"""x_a x_b in array order."""

DELFT = [(23, 3, 4, 23), (33, 11, 5, 30), (22, 10, 6, 24), (4, 20, 21, 6)]
"""Hensen et al., Nature 526, 682 (2015): the 245 event-ready trials. Rows are the setting
pairs (a,b), (a,b'), (a',b), (a',b'); columns the outcomes (++, +-, -+, --)."""

WEIHS = [
    (1683, 418, 361, 1578),
    (1100, 269, 156, 1386),
    (1728, 313, 351, 1978),
    (179, 1636, 1143, 294),
]
"""Weihs et al., PRL 81, 5039 (1998): coincidence counts, rows and columns as :data:`DELFT`."""


def counts_from_rows(rows) -> Counts:
    """CHSH counts from (++, +-, -+, --) rows in the order (a,b), (a,b'), (a',b), (a',b')."""
    v = np.zeros((2, 2, 2, 2), dtype=np.int64)
    for k, (pp, pm, mp, mm) in enumerate(rows):
        i, j = divmod(k, 2)
        v[i, j, 1, 1], v[i, j, 1, 0], v[i, j, 0, 1], v[i, j, 0, 0] = pp, pm, mp, mm
    return Counts(v, Scenario.chsh())


def singlet(scn: Scenario, visibility: float = 1.0) -> np.ndarray:
    """p(x_a, x_b | s) = (1 + x_a x_b E) / 4 with E = -V cos(angle_a - angle_b) (Bell, Physics
    1, 195 (1964)): the spin singlet at visibility V."""
    e = -visibility * np.cos(scn.angle_differences())
    return (1.0 + np.multiply.outer(e, SIGN)) / 4.0
