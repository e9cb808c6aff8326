"""Numbers as text, one copy each: a table cell (:func:`fmt_cell`) and a quantity with four
significant digits (:func:`fmt_significant`).

Every table the package writes (a comparison's Markdown and notebook table, the study report)
formats its cells with :func:`fmt_cell`; the audit's text and notebook rows with
:func:`fmt_significant`. Low level: imports nothing of the package.

>>> fmt_cell(2.8284271, 2), fmt_cell(None), fmt_significant(2.8284271)
('2.83', '–', '2.828')
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

MISSING = "–"
"""What a table cell shows for a value that is absent (``None``) or not finite."""


def fmt_cell(v: Any, digits: int = 3) -> str:
    """A value as a Markdown or HTML table cell.

    Numbers (Python, numpy, or a one-element array such as an xarray selection) with ``digits``
    decimals, :data:`MISSING` for ``None``, NaN and infinities; ``True`` / ``False`` as ``yes`` /
    ``**no**`` (a failed check stands out); a list or tuple as ``[a, b]`` of formatted items;
    text, and anything else that is not a number, as ``str(v)``.

    >>> import numpy as np
    >>> fmt_cell(-1.5, 2), fmt_cell(np.float32(0.25)), fmt_cell(float("nan")), fmt_cell(False)
    ('-1.50', '0.250', '–', '**no**')
    >>> fmt_cell([2.01, 2.83], 2), fmt_cell("local & measurement-dependent")
    ('[2.01, 2.83]', 'local & measurement-dependent')
    """
    if v is None:
        return MISSING
    if isinstance(v, (bool, np.bool_)):
        return "yes" if v else "**no**"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(fmt_cell(x, digits) for x in v) + "]"
    if isinstance(v, str):
        return v
    try:
        f = float(v)
    except (TypeError, ValueError):
        return str(v)
    return f"{f:.{digits}f}" if math.isfinite(f) else MISSING


def fmt_significant(x: Any) -> str:
    """A quantity with four significant digits (scientific below 1e-3), ``n/a`` for None or
    non-finite: the audit's rows, where S = 2.828 and MI = 1.5e-05 bits both read well.

    >>> fmt_significant(2.8284271), fmt_significant(None), fmt_significant(1.5e-5)
    ('2.828', 'n/a', '1.500e-05')
    """
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "n/a"
    return f"{float(x):.4g}" if abs(float(x)) >= 1e-3 or x == 0 else f"{float(x):.3e}"


__all__ = ["MISSING", "fmt_cell", "fmt_significant"]
