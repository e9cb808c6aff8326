"""CHSH on arrays: the bounds, the variant order, and the four variants and their maximum from correlators, vectorised over a stack of draws."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np

LOCAL_BOUND: float = 2.0
"""CHSH bound of every local, measurement-independent model (Bell 1964; CHSH 1969)."""


TSIRELSON: float = float(2.0 * np.sqrt(2.0))
"""Largest quantum CHSH value (Tsirelson, Lett. Math. Phys. 4, 93 (1980))."""


ALGEBRAIC: float = 4.0
"""Largest no-signalling CHSH value, reached by the PR box (Popescu & Rohrlich 1994)."""


CHSH_MINUS_PAIRS: tuple[tuple[int, int], ...] = ((1, 1), (1, 0), (0, 1), (0, 0))
"""Setting pair (index into the 2 x 2 sub-choice) that carries the minus sign in ``S_k``."""


def chsh_values(corr: Any) -> np.ndarray:
    """The four CHSH variants ``S_k`` from ``(..., 2, 2)`` correlators (order: :mod:`bellmodels.behaviour`).

    Vectorised over leading axes: one behaviour's correlators or a stack of them (one per
    posterior draw). :meth:`Behaviour.chsh_values` is this for one sub-choice of one behaviour.

    >>> e = -np.cos(np.subtract.outer([0, np.pi / 2], [np.pi / 4, -np.pi / 4]))
    >>> round(float(chsh_values(e)[0]), 6)
    -2.828427
    """
    e = np.asarray(corr, dtype=float)
    if e.shape[-2:] != (2, 2):
        raise ValueError(f"CHSH needs 2x2 settings, got correlators of shape {e.shape}")
    out = []
    for mi, mj in CHSH_MINUS_PAIRS:
        sign = np.ones((2, 2))
        sign[mi, mj] = -1.0
        out.append((sign * e).sum(axis=(-2, -1)))
    return np.stack(out, axis=-1)


def chsh_max_values(corr: Any) -> tuple[np.ndarray, np.ndarray]:
    """``(S, S_values)`` from ``(..., K_a, K_b)`` correlators, vectorised over leading axes.

    S = max_k |S_k|, maximised over every 2 x 2 sub-choice of settings when K > 2 (as
    :attr:`Behaviour.S`); ``S_values`` are the four variants of the maximising sub-choice (the
    first one on ties, as :meth:`Behaviour.chsh_max`).

    >>> s, v = chsh_max_values(np.ones((3, 2, 2)))
    >>> s.tolist()
    [2.0, 2.0, 2.0]
    """
    e = np.asarray(corr, dtype=float)
    ka, kb = e.shape[-2:]
    best_s = best_v = None
    for sa in itertools.combinations(range(ka), 2):
        for sb in itertools.combinations(range(kb), 2):
            v = chsh_values(e[..., list(sa), :][..., list(sb)])
            s = np.abs(v).max(axis=-1)
            if best_s is None or best_v is None:
                best_s, best_v = s, v
            else:
                better = s > best_s
                best_s = np.where(better, s, best_s)
                best_v = np.where(better[..., None], v, best_v)
    if best_s is None or best_v is None:
        raise ValueError(f"CHSH needs at least 2 settings per party, got {ka} x {kb}")
    return best_s, best_v


@dataclass(frozen=True)
class CHSHChoice:
    """One 2 x 2 sub-choice of settings and its four CHSH variants.

    Attributes
    ----------
    settings_a, settings_b
        Setting indices ``(unprimed, primed)`` of each party.
    labels_a, labels_b
        Their labels.
    values
        The four variants ``S_k`` (order: :mod:`bellmodels.behaviour`).
    S
        ``max_k |S_k|``.
    """

    settings_a: tuple[int, int]
    settings_b: tuple[int, int]
    labels_a: tuple[str, str]
    labels_b: tuple[str, str]
    values: tuple[float, float, float, float]
    S: float


__all__ = [
    "ALGEBRAIC",
    "CHSH_MINUS_PAIRS",
    "LOCAL_BOUND",
    "TSIRELSON",
    "CHSHChoice",
    "chsh_max_values",
    "chsh_values",
]
