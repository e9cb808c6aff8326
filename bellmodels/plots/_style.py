"""What every figure shares: the models' colours, the data's correlators, font sizes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from bellmodels.behaviour import TSIRELSON


def model_colors(names: Sequence[str]) -> dict[str, Any]:
    """A fixed colour per model name (``tab10`` then ``Dark2``: 18 distinct colours, in the
    order given), shared by every figure.

    >>> model_colors(["a", "b"])["b"][:3]
    (1.0, 0.4980392156862745, 0.054901960784313725)
    """
    from matplotlib import colormaps

    palette = list(colormaps["tab10"].colors) + list(colormaps["Dark2"].colors)
    return {n: palette[i % len(palette)] for i, n in enumerate(names)}


def data_correlators(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Empirical correlators ``E = (N_same - N_diff) / N`` and their standard errors
    ``sqrt((1 - E^2) / N)`` (binomial), each ``(K_a, K_b)``; NaN where a pair has no trials.

    >>> E, se = data_correlators(np.array([[[[40, 10], [10, 40]]]]))
    >>> float(E[0, 0]), round(float(se[0, 0]), 4)
    (0.6, 0.08)
    """
    n = np.asarray(counts, dtype=float)
    total = n.sum(axis=(2, 3))
    same = n[..., 0, 0] + n[..., 1, 1]
    with np.errstate(invalid="ignore", divide="ignore"):
        e = (2.0 * same - total) / total
        se = np.sqrt(np.clip(1.0 - e**2, 0.0, None) / total)
    return e, se


def _shrink_fonts(ax: Any, size: float = 8.0) -> None:
    """ArviZ scales its fonts for single plots; bring them back to the report's size."""
    ax.xaxis.label.set_fontsize(size)
    ax.yaxis.label.set_fontsize(size)
    ax.tick_params(labelsize=size - 1)


__all__ = ["TSIRELSON", "data_correlators", "model_colors"]
