"""Bell scenarios: two parties, K settings each (label + angle), outcomes +1 / -1.

A :class:`Scenario` fixes the finite alphabet every other object is indexed by. Settings are
integer indices ``0 .. K-1`` per party; outcomes are the physicist's ``-1`` / ``+1`` and are stored
in arrays in that order (index 0 <-> -1, index 1 <-> +1), matching the xarray coordinate
``[-1, +1]`` used throughout (see ``docs/architecture.md``, Conventions).

Example
-------
>>> import numpy as np
>>> from bellmodels import Scenario
>>> scn = Scenario.chsh()
>>> scn.labels_a, scn.labels_b
(('a', "a'"), ('b', "b'"))
>>> np.round(np.degrees(scn.angle_differences()), 1).tolist()
[[-45.0, 45.0], [45.0, 135.0]]
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

OUTCOMES: tuple[int, int] = (-1, 1)
"""Outcome values in array order: index 0 is -1, index 1 is +1."""

DIMS_BEHAVIOUR: tuple[str, str, str, str] = ("setting_a", "setting_b", "outcome_a", "outcome_b")
"""Dimension names of a behaviour / count array, in array order."""


def _default_labels(party: str, k: int) -> tuple[str, ...]:
    if k == 2:
        return (party, party + "'")
    return tuple(f"{party}{i}" for i in range(k))


@dataclass(frozen=True)
class Scenario:
    """A bipartite Bell scenario with ``K_a`` and ``K_b`` settings and binary outcomes.

    Parameters
    ----------
    angles_a, angles_b
        Measurement angles in radians, one per setting (analyser directions in one plane).
    labels_a, labels_b
        Setting labels; default ``("a", "a'")`` for two settings, else ``a0, a1, ...``.

    Notes
    -----
    The CHSH angles are those of Clauser, Horne, Shimony & Holt, PRL 23, 880 (1969), in the
    convention of Weinstein, arXiv:1707.03114: a = 0, a' = pi/2, b = pi/4, b' = -pi/4.
    """

    angles_a: tuple[float, ...]
    angles_b: tuple[float, ...]
    labels_a: tuple[str, ...] = field(default=())
    labels_b: tuple[str, ...] = field(default=())

    outcomes: ClassVar[tuple[int, int]] = OUTCOMES

    def __post_init__(self) -> None:
        for party in ("a", "b"):
            angles = tuple(float(x) for x in getattr(self, f"angles_{party}"))
            if len(angles) < 2:
                raise ValueError(
                    f"party {party.upper()} needs at least 2 settings, got {len(angles)}"
                )
            if not all(np.isfinite(angles)):
                raise ValueError(f"party {party.upper()} has a non-finite angle: {angles}")
            labels = tuple(str(x) for x in getattr(self, f"labels_{party}")) or _default_labels(
                party, len(angles)
            )
            if len(labels) != len(angles):
                raise ValueError(
                    f"party {party.upper()}: {len(labels)} labels for {len(angles)} angles"
                )
            if len(set(labels)) != len(labels):
                raise ValueError(
                    f"party {party.upper()}: setting labels must be distinct: {labels}"
                )
            object.__setattr__(self, f"angles_{party}", angles)
            object.__setattr__(self, f"labels_{party}", labels)

    # -- constructors -------------------------------------------------------------------------
    @classmethod
    def chsh(cls) -> Scenario:
        """The CHSH scenario of Weinstein's paper: a = 0, a' = pi/2, b = pi/4, b' = -pi/4."""
        return cls((0.0, np.pi / 2), (np.pi / 4, -np.pi / 4))

    @classmethod
    def chained(cls, k: int) -> Scenario:
        """K settings per party at the optimal angles of the chained Bell inequality.

        Braunstein & Caves, Ann. Phys. 202, 22 (1990): a_j = j pi / K, b_j = (j + 1/2) pi / K, so
        neighbouring settings in the chain a_0 b_0 a_1 b_1 ... a_{K-1} b_{K-1} are pi/(2K) apart.
        For the singlet the chained sum then reaches 2K cos(pi / (2K)) against the local bound
        2K - 2.

        >>> Scenario.chained(3).n_a
        3
        """
        if k < 2:
            raise ValueError(f"the chained scenario needs k >= 2, got {k}")
        a = tuple(j * np.pi / k for j in range(k))
        b = tuple((j + 0.5) * np.pi / k for j in range(k))
        return cls(a, b)

    # -- shape --------------------------------------------------------------------------------
    @property
    def n_a(self) -> int:
        """Number of settings of party A."""
        return len(self.angles_a)

    @property
    def n_b(self) -> int:
        """Number of settings of party B."""
        return len(self.angles_b)

    @property
    def shape(self) -> tuple[int, int, int, int]:
        """Shape of a behaviour array: ``(K_a, K_b, 2, 2)``."""
        return (self.n_a, self.n_b, 2, 2)

    def angle_differences(self) -> np.ndarray:
        """``angle_a - angle_b`` for every setting pair, shape ``(K_a, K_b)``."""
        return np.subtract.outer(np.asarray(self.angles_a), np.asarray(self.angles_b))

    def coords(self) -> dict[str, Any]:
        """xarray coordinates for the behaviour dims (settings by index, labels alongside)."""
        return {
            "setting_a": np.arange(self.n_a),
            "setting_b": np.arange(self.n_b),
            "outcome_a": np.array(OUTCOMES),
            "outcome_b": np.array(OUTCOMES),
            "label_a": ("setting_a", list(self.labels_a)),
            "label_b": ("setting_b", list(self.labels_b)),
        }

    # -- settings -----------------------------------------------------------------------------
    def setting_index(self, party: str, value: Any) -> int:
        """Index of a setting given as an index (int or digit string) or as a label.

        Raises ``ValueError`` naming the party and the allowed values when unknown.
        """
        labels = self.labels_a if party == "a" else self.labels_b
        if isinstance(value, str):
            if value in labels:
                return labels.index(value)
            text = value.strip()
            if text.lstrip("-").isdigit():
                value = int(text)
        if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
            if 0 <= int(value) < len(labels):
                return int(value)
        raise ValueError(
            f"unknown setting {value!r} for party {party.upper()}: expected an index "
            f"0..{len(labels) - 1} or one of the labels {list(labels)}"
        )

    def settings_distribution(self, setting_probs: Any = None) -> np.ndarray:
        """Joint distribution p(s_a, s_b) as a ``(K_a, K_b)`` array.

        ``None`` means uniform; a *tuple* ``(p_a, p_b)`` of two 1-D arrays means independent
        marginals; anything else (array, nested list) is the ``(K_a, K_b)`` joint distribution.
        Only a tuple is read as marginals, so ``[[0.5, 0], [0, 0.5]]`` is unambiguously a joint
        distribution. Validated: non-negative, sums to 1.
        """
        if setting_probs is None:
            return np.full((self.n_a, self.n_b), 1.0 / (self.n_a * self.n_b))
        if isinstance(setting_probs, tuple) and len(setting_probs) == 2:
            pa, pb = (np.asarray(p, dtype=float) for p in setting_probs)
            if pa.shape == (self.n_a,) and pb.shape == (self.n_b,):
                setting_probs = np.outer(pa, pb)
        p = np.asarray(setting_probs, dtype=float)
        if p.shape != (self.n_a, self.n_b):
            raise ValueError(
                f"setting_probs must have shape ({self.n_a}, {self.n_b}) or be a tuple of "
                f"marginals of lengths {self.n_a} and {self.n_b}; got shape {p.shape}"
            )
        if not np.all(np.isfinite(p)) or np.any(p < 0):
            raise ValueError(f"setting_probs must be finite and non-negative, got {p.tolist()}")
        if not np.isclose(p.sum(), 1.0, atol=1e-9):
            raise ValueError(f"setting_probs must sum to 1, got {p.sum():.12g}")
        return p

    def draw_settings(
        self, n: int, rng: np.random.Generator, setting_probs: Any = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Draw ``n`` setting pairs i.i.d. from :meth:`settings_distribution` (int8 arrays)."""
        if n < 0:
            raise ValueError(f"n must be non-negative, got {n}")
        p = self.settings_distribution(setting_probs).ravel()
        flat = rng.choice(p.size, size=n, p=p / p.sum())
        sa, sb = np.divmod(flat, self.n_b)
        return sa.astype(np.int8), sb.astype(np.int8)

    # -- serialisation ------------------------------------------------------------------------
    def to_json(self) -> str:
        """JSON text (for NetCDF / InferenceData attrs, which only hold strings and numbers)."""
        return json.dumps(
            {
                "angles_a": list(self.angles_a),
                "angles_b": list(self.angles_b),
                "labels_a": list(self.labels_a),
                "labels_b": list(self.labels_b),
            }
        )

    @classmethod
    def from_json(cls, text: str | dict[str, Any]) -> Scenario:
        """Inverse of :meth:`to_json`."""
        d = json.loads(text) if isinstance(text, str) else dict(text)
        return cls(
            tuple(d["angles_a"]),
            tuple(d["angles_b"]),
            tuple(d.get("labels_a", ())),
            tuple(d.get("labels_b", ())),
        )

    @classmethod
    def from_angles(
        cls,
        angles_a: Sequence[float],
        angles_b: Sequence[float],
        labels_a: Sequence[str] = (),
        labels_b: Sequence[str] = (),
    ) -> Scenario:
        """Build a scenario from any sequences of angles (and optional labels)."""
        return cls(tuple(angles_a), tuple(angles_b), tuple(labels_a), tuple(labels_b))
