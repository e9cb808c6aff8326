"""The :class:`Behaviour` container: one table p(x_a, x_b | s_a, s_b) with its scenario (and counts, for data) and the statistics Bell tests read from it."""

from __future__ import annotations

import itertools
import sys
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from bellmodels._util import correlators
from bellmodels.behaviour.arrays import ALGEBRAIC, LOCAL_BOUND, TSIRELSON, CHSHChoice, chsh_values
from bellmodels.behaviour.no_signalling import (
    NoSignallingTest,
    _ns_mle,
    chi2_sf,
    no_signalling_violation,
)
from bellmodels.scenario import DIMS_BEHAVIOUR, Scenario


class Behaviour:
    """A bipartite behaviour p(x_a, x_b | s_a, s_b), from a model or estimated from counts.

    Parameters
    ----------
    p
        ``(K_a, K_b, 2, 2)`` array (or DataArray with dims ``setting_a, setting_b, outcome_a,
        outcome_b``), outcome index 0 <-> -1. Each setting pair must be a probability
        distribution (non-negative, sums to 1, within ``atol``); a pair whose counts are all zero
        (only via ``counts``) may hold NaN.
    scenario
        The scenario the array is indexed by.
    counts
        Optional ``(K_a, K_b, 2, 2)`` integer counts the behaviour was estimated from; enables
        standard errors and the no-signalling test. Use :meth:`from_counts` normally.
    atol
        Validation tolerance.

    Raises
    ------
    ValueError
        On a wrong shape, a negative / NaN entry, or a pair not normalised; the message names
        the setting pair by its labels.

    Examples
    --------
    >>> import numpy as np
    >>> from bellmodels import Scenario
    >>> b = Behaviour(np.full((2, 2, 2, 2), 0.25), Scenario.chsh())
    >>> b.S, b.correlators().tolist()
    (0.0, [[0.0, 0.0], [0.0, 0.0]])
    """

    LOCAL_BOUND = LOCAL_BOUND
    TSIRELSON = TSIRELSON
    ALGEBRAIC = ALGEBRAIC

    def __init__(
        self,
        p: Any,
        scenario: Scenario,
        counts: Any = None,
        atol: float = 1e-8,
    ) -> None:
        # xarray (a second of a cold start) is not imported here: without it in sys.modules
        # ``p`` cannot be a DataArray
        xarray = sys.modules.get("xarray")
        if xarray is not None and isinstance(p, xarray.DataArray):
            p = p.transpose(*DIMS_BEHAVIOUR).values
        arr = np.array(p, dtype=float)
        if arr.shape != scenario.shape:
            raise ValueError(f"behaviour must have shape {scenario.shape}, got {arr.shape}")
        self.scenario = scenario
        if counts is not None:
            n = np.asarray(counts)
            if n.shape != scenario.shape:
                raise ValueError(f"counts must have shape {scenario.shape}, got {n.shape}")
            if np.any(n < 0):
                raise ValueError("counts must be non-negative")
            self.counts: np.ndarray | None = n.astype(np.int64)
            empty = self.counts.sum(axis=(2, 3)) == 0
        else:
            self.counts = None
            empty = np.zeros((scenario.n_a, scenario.n_b), dtype=bool)
        self._empty = empty
        for i, j in itertools.product(range(scenario.n_a), range(scenario.n_b)):
            if empty[i, j]:
                arr[i, j] = np.nan
                continue
            block = arr[i, j]
            where = self._pair_name(i, j)
            if not np.all(np.isfinite(block)):
                raise ValueError(f"behaviour at {where} has a non-finite entry: {block.tolist()}")
            if np.any(block < -atol):
                raise ValueError(f"behaviour at {where} has a negative entry: {block.tolist()}")
            total = block.sum()
            if abs(total - 1.0) > atol:
                raise ValueError(f"behaviour at {where} is not normalised: sums to {total:.12g}")
            arr[i, j] = np.clip(block, 0.0, None) / np.clip(block, 0.0, None).sum()
        self.p = arr

    # -- constructors -------------------------------------------------------------------------
    @classmethod
    def from_counts(cls, counts: Any) -> Behaviour:
        """Relative frequencies of a :class:`~bellmodels.data.Counts` (keeps the counts).

        A setting pair with zero trials is kept as NaN; statistics that need it raise.

        >>> from bellmodels import Counts, Scenario
        >>> import numpy as np
        >>> c = Counts(np.array([[[[1, 3], [3, 1]]] * 2] * 2), Scenario.chsh())
        >>> Behaviour.from_counts(c).correlators()[0, 0]
        np.float64(-0.5)
        """
        if not hasattr(counts, "values") or not hasattr(counts, "scenario"):
            raise TypeError(f"from_counts needs a Counts object, got {type(counts).__name__}")
        n = np.asarray(counts.values, dtype=np.int64)
        tot = n.sum(axis=(2, 3), keepdims=True)
        p = np.divide(n, tot, out=np.full(n.shape, np.nan), where=tot > 0)
        return cls(p, counts.scenario, counts=n)

    @classmethod
    def from_model(cls, model: Any, params: Mapping[str, Any] | None = None) -> Behaviour:
        """``model.behaviour(params)`` on ``model.scenario`` (any object with those; duck-typed).

        >>> class Noise:
        ...     scenario = Scenario.chsh()
        ...     def behaviour(self, params=None):
        ...         return np.full((2, 2, 2, 2), 0.25)
        >>> Behaviour.from_model(Noise()).S
        0.0
        """
        p = model.behaviour(params) if params is not None else model.behaviour()
        return cls(p, model.scenario)

    # -- helpers ------------------------------------------------------------------------------
    def _pair_name(self, i: int, j: int) -> str:
        return (
            f"setting pair ({self.scenario.labels_a[i]}, {self.scenario.labels_b[j]}) "
            f"[indices ({i}, {j})]"
        )

    def _require(self, pairs: Sequence[tuple[int, int]], what: str) -> None:
        for i, j in pairs:
            if self._empty[i, j]:
                raise ValueError(f"{what} needs {self._pair_name(i, j)}, which has zero trials")

    def _all_pairs(self) -> list[tuple[int, int]]:
        return list(itertools.product(range(self.scenario.n_a), range(self.scenario.n_b)))

    def _require_counts(self, what: str) -> np.ndarray:
        if self.counts is None:
            raise ValueError(f"{what} needs counts (a behaviour estimated from data)")
        return self.counts

    @property
    def is_data(self) -> bool:
        """Whether the behaviour was estimated from counts."""
        return self.counts is not None

    def pair_totals(self) -> np.ndarray:
        """Trials per setting pair ``(K_a, K_b)`` (data only)."""
        return self._require_counts("pair_totals").sum(axis=(2, 3))

    def empty_pairs(self) -> list[tuple[str, str]]:
        """Setting pairs (labels) with zero trials (always empty for a model behaviour)."""
        return [
            (self.scenario.labels_a[i], self.scenario.labels_b[j])
            for i, j in np.argwhere(self._empty)
        ]

    def settings_distribution(self) -> np.ndarray:
        """The data's setting-pair frequencies ``(K_a, K_b)``; uniform for a model behaviour."""
        if self.counts is None:
            return self.scenario.settings_distribution(None)
        n = self.pair_totals().astype(float)
        if n.sum() == 0:
            raise ValueError("the counts hold no trials at all")
        return n / n.sum()

    # -- correlators and marginals ------------------------------------------------------------
    def correlators(self, allow_empty: bool = False) -> np.ndarray:
        """E(s_a, s_b) = P(same) - P(different), shape ``(K_a, K_b)``.

        Parameters
        ----------
        allow_empty
            If True, a pair with zero trials gives NaN instead of raising.

        >>> b = Behaviour(np.full((2, 2, 2, 2), 0.25), Scenario.chsh())
        >>> b.correlators().shape
        (2, 2)
        """
        if not allow_empty:
            self._require(self._all_pairs(), "the correlator matrix")
        return correlators(self.p)

    def marginals_a(self, allow_empty: bool = False) -> np.ndarray:
        """p(x_a = +1 | s_a, s_b), shape ``(K_a, K_b)``.

        >>> Behaviour(np.full((2, 2, 2, 2), 0.25), Scenario.chsh()).marginals_a()[0, 1]
        np.float64(0.5)
        """
        if not allow_empty:
            self._require(self._all_pairs(), "A's marginals")
        return self.p[:, :, 1, :].sum(axis=-1)

    def marginals_b(self, allow_empty: bool = False) -> np.ndarray:
        """p(x_b = +1 | s_a, s_b), shape ``(K_a, K_b)``.

        >>> Behaviour(np.full((2, 2, 2, 2), 0.25), Scenario.chsh()).marginals_b()[1, 0]
        np.float64(0.5)
        """
        if not allow_empty:
            self._require(self._all_pairs(), "B's marginals")
        return self.p[:, :, :, 1].sum(axis=-1)

    # -- CHSH ---------------------------------------------------------------------------------
    def _check_sub(self, settings_a: Sequence[int], settings_b: Sequence[int]) -> None:
        for party, sub, k in (
            ("A", settings_a, self.scenario.n_a),
            ("B", settings_b, self.scenario.n_b),
        ):
            if len(sub) != 2 or sub[0] == sub[1] or not all(0 <= s < k for s in sub):
                raise ValueError(
                    f"a CHSH sub-choice needs two distinct setting indices 0..{k - 1} of party "
                    f"{party}, got {tuple(sub)}"
                )

    def chsh_values(
        self, settings_a: Sequence[int] = (0, 1), settings_b: Sequence[int] = (0, 1)
    ) -> np.ndarray:
        """The four CHSH variants ``S_k`` of one 2 x 2 sub-choice (order: :mod:`bellmodels.behaviour`).

        Parameters
        ----------
        settings_a, settings_b
            ``(unprimed, primed)`` setting indices of each party; default the first two.

        Examples
        --------
        The PR box reaches the algebraic maximum in S_0:

        >>> p = np.zeros((2, 2, 2, 2))
        >>> for i in range(2):
        ...     for j in range(2):
        ...         for x in range(2):
        ...             p[i, j, x, x if i * j == 0 else 1 - x] = 0.5
        >>> Behaviour(p, Scenario.chsh()).chsh_values().tolist()
        [4.0, 0.0, 0.0, 0.0]
        """
        self._check_sub(settings_a, settings_b)
        pairs = [(i, j) for i in settings_a for j in settings_b]
        self._require(pairs, "CHSH")
        e = self.correlators(allow_empty=True)[np.ix_(list(settings_a), list(settings_b))]
        return chsh_values(e)

    def chsh_choices(self) -> list[CHSHChoice]:
        """CHSH over every 2 x 2 sub-choice of settings (one entry per unordered choice).

        >>> len(Behaviour(np.full((3, 3, 2, 2), 0.25), Scenario.chained(3)).chsh_choices())
        9
        """
        out = []
        la, lb = self.scenario.labels_a, self.scenario.labels_b
        for sa in itertools.combinations(range(self.scenario.n_a), 2):
            for sb in itertools.combinations(range(self.scenario.n_b), 2):
                v = self.chsh_values(sa, sb)
                out.append(
                    CHSHChoice(
                        settings_a=sa,
                        settings_b=sb,
                        labels_a=(la[sa[0]], la[sa[1]]),
                        labels_b=(lb[sb[0]], lb[sb[1]]),
                        values=tuple(float(x) for x in v),  # type: ignore[arg-type]
                        S=float(np.max(np.abs(v))),
                    )
                )
        return out

    def chsh_max(self) -> CHSHChoice:
        """The 2 x 2 sub-choice with the largest ``max_k |S_k|`` (the only one when K = 2).

        >>> Behaviour(np.full((2, 2, 2, 2), 0.25), Scenario.chsh()).chsh_max().labels_a
        ('a', "a'")
        """
        return max(self.chsh_choices(), key=lambda c: c.S)

    @property
    def S(self) -> float:
        """``max_k |S_k|``, maximised also over 2 x 2 sub-choices when K > 2."""
        return self.chsh_max().S

    @property
    def S_values(self) -> np.ndarray:
        """The four variants of the maximising sub-choice (:meth:`chsh_max`)."""
        return np.array(self.chsh_max().values)

    def chsh_se(
        self, settings_a: Sequence[int] = (0, 1), settings_b: Sequence[int] = (0, 1)
    ) -> float:
        """Standard error of any CHSH variant of a sub-choice, from the counts.

        Each pair's correlator is estimated from an independent multinomial sample of ``n_s``
        trials, Var(E_s) = (1 - E_s^2) / n_s, so SE(S) = sqrt(sum_s (1 - E_s^2) / n_s) (the same
        for every sign pattern).

        >>> from bellmodels import Counts
        >>> c = Counts(np.full((2, 2, 2, 2), 25), Scenario.chsh())
        >>> Behaviour.from_counts(c).chsh_se()
        0.2
        """
        n = self._require_counts("a standard error").sum(axis=(2, 3))
        self._check_sub(settings_a, settings_b)
        pairs = [(i, j) for i in settings_a for j in settings_b]
        self._require(pairs, "the CHSH standard error")
        e = self.correlators(allow_empty=True)
        return float(np.sqrt(sum((1.0 - e[i, j] ** 2) / n[i, j] for i, j in pairs)))

    @property
    def S_se(self) -> float:
        """Standard error of :attr:`S` (of its maximising sub-choice); data only."""
        c = self.chsh_max()
        return self.chsh_se(c.settings_a, c.settings_b)

    # -- CH / Eberhard ------------------------------------------------------------------------
    _CH_TERMS: tuple[tuple[float, int, int, int, int], ...] = (
        (1.0, 0, 0, 1, 1),  # + P(++ | a, b)
        (-1.0, 0, 1, 1, 0),  # - P(+- | a, b')
        (-1.0, 1, 0, 0, 1),  # - P(-+ | a', b)
        (-1.0, 1, 1, 1, 1),  # - P(++ | a', b')
    )

    def ch_J(self) -> float:
        """CH / Eberhard J = P(++|00) - P(+-|01) - P(-+|10) - P(++|11); local bound J <= 0.

        Uses settings 0 and 1 of each party. Under no-signalling J = (S_0 - 2) / 4, so J > 0
        exactly when S_0 > 2 (Clauser & Horne, PRD 10, 526 (1974); Eberhard, PRA 47, R747
        (1993)).

        >>> Behaviour(np.full((2, 2, 2, 2), 0.25), Scenario.chsh()).ch_J()
        -0.5
        """
        self._require([(t[1], t[2]) for t in self._CH_TERMS], "CH/Eberhard J")
        return float(sum(c * self.p[i, j, x, y] for c, i, j, x, y in self._CH_TERMS))

    def ch_J_se(self) -> float:
        """Standard error of :meth:`ch_J` from the counts: sqrt(sum p (1 - p) / n_s).

        >>> from bellmodels import Counts
        >>> c = Counts(np.full((2, 2, 2, 2), 25), Scenario.chsh())
        >>> round(Behaviour.from_counts(c).ch_J_se(), 6)
        0.086603
        """
        n = self._require_counts("a standard error").sum(axis=(2, 3))
        self._require([(t[1], t[2]) for t in self._CH_TERMS], "the CH/Eberhard standard error")
        var = 0.0
        for _, i, j, x, y in self._CH_TERMS:
            q = self.p[i, j, x, y]
            var += q * (1.0 - q) / n[i, j]
        return float(np.sqrt(var))

    # -- chained Bell inequality --------------------------------------------------------------
    def chain_pairs(self) -> list[tuple[int, int]]:
        """The 2K setting pairs of the chain a0 b0 a1 b1 ... a_{K-1} b_{K-1} (a0), in order.

        Order: (a0,b0), (a1,b0), (a1,b1), (a2,b1), ..., (a_{K-1},b_{K-1}), (a0,b_{K-1}).

        >>> Behaviour(np.full((3, 3, 2, 2), 0.25), Scenario.chained(3)).chain_pairs()
        [(0, 0), (1, 0), (1, 1), (2, 1), (2, 2), (0, 2)]
        """
        k = self.scenario.n_a
        if self.scenario.n_b != k:
            raise ValueError(
                f"the chained inequality needs as many settings for A as for B, got "
                f"{k} and {self.scenario.n_b}"
            )
        pairs: list[tuple[int, int]] = []
        for j in range(k):
            pairs.append((j, j))
            pairs.append(((j + 1) % k, j))
        return pairs

    def chained_values(self) -> np.ndarray:
        """The 2K chained sums, variant ``k`` with the minus sign on chain term ``k``.

        Braunstein & Caves, Ann. Phys. 202, 22 (1990): with one minus sign (or any odd number,
        all equivalent by relabelling outcomes) the chain of 2K correlators obeys
        ``|I| <= 2K - 2`` in every local model; the textbook form is the last variant (minus on
        E(a0, b_{K-1})). At :meth:`Scenario.chained` the singlet reaches 2K cos(pi / 2K). For
        K = 2 the four variants are the four CHSH variants (in another order).

        >>> scn = Scenario.chained(3)
        >>> E = -np.cos(scn.angle_differences())
        >>> p = (1 + np.multiply.outer(E, [[1, -1], [-1, 1]])) / 4
        >>> round(float(Behaviour(p, scn).chained_values()[-1]), 4)
        -5.1962
        """
        pairs = self.chain_pairs()
        self._require(pairs, "the chained inequality")
        e = self.correlators(allow_empty=True)
        terms = np.array([e[i, j] for i, j in pairs])
        return np.array([terms.sum() - 2.0 * terms[k] for k in range(terms.size)])

    def chained_value(self) -> float:
        """``max_k |I_k|`` over :meth:`chained_values`; compare with :meth:`chained_local_bound`.

        >>> Behaviour(np.full((3, 3, 2, 2), 0.25), Scenario.chained(3)).chained_value()
        0.0
        """
        return float(np.max(np.abs(self.chained_values())))

    def chained_local_bound(self) -> float:
        """Local bound 2K - 2 of the chained inequality (Braunstein & Caves 1990).

        >>> Behaviour(np.full((3, 3, 2, 2), 0.25), Scenario.chained(3)).chained_local_bound()
        4.0
        """
        return float(len(self.chain_pairs()) - 2)

    def chained_se(self) -> float:
        """Standard error of the chained sum, sqrt(sum over the 2K pairs (1 - E^2) / n_s).

        >>> from bellmodels import Counts
        >>> c = Counts(np.full((3, 3, 2, 2), 25), Scenario.chained(3))
        >>> round(Behaviour.from_counts(c).chained_se(), 4)
        0.2449
        """
        n = self._require_counts("a standard error").sum(axis=(2, 3))
        pairs = self.chain_pairs()
        self._require(pairs, "the chained standard error")
        e = self.correlators(allow_empty=True)
        return float(np.sqrt(sum((1.0 - e[i, j] ** 2) / n[i, j] for i, j in pairs)))

    # -- no-signalling ------------------------------------------------------------------------
    def no_signalling_violation(self) -> float:
        """Largest change of one party's marginal across the other party's settings.

        ``max( max_{s_a} [max_{s_b} pA - min_{s_b} pA], max_{s_b} [max_{s_a} pB - min_{s_a} pB] )``
        with pA = p(x_a = +1 | s_a, s_b); zero for every no-signalling behaviour.

        >>> Behaviour(np.full((2, 2, 2, 2), 0.25), Scenario.chsh()).no_signalling_violation()
        0.0
        """
        self._require(self._all_pairs(), "the no-signalling check")
        return float(no_signalling_violation(self.p))

    def no_signalling_test(self) -> NoSignallingTest:
        """Likelihood-ratio (G) test of no-signalling on the counts.

        H0: each party's marginal does not depend on the other's setting,
        ``K_a (K_b - 1) + K_b (K_a - 1)`` linear constraints on the product of the per-pair
        multinomials. The constrained maximum-likelihood estimate is a concave maximisation over
        a polytope, solved with Clarabel (exponential cones, :mod:`bellmodels._conic`); G = 2 sum
        n log(p_hat / p_NS) is referred to chi-square with df = the number of constraints (Wilks
        1938; the exact closed form :func:`~bellmodels.behaviour.no_signalling.chi2_sf`). This
        is the joint version of the per-setting marginal tests used on Bell data by e.g. Adenier
        & Khrennikov, Fortschr. Phys. 65, 1600096 (2017), arXiv:1606.00784. Hand-written on
        Clarabel because no statistics library ships a no-signalling test.

        Raises
        ------
        ValueError
            Without counts, or if a setting pair has zero trials (named).

        Examples
        --------
        >>> from bellmodels import Counts
        >>> c = Counts(np.full((2, 2, 2, 2), 25), Scenario.chsh())
        >>> t = Behaviour.from_counts(c).no_signalling_test()
        >>> t.df, round(t.G, 6), round(t.p_value, 6)
        (4, 0.0, 1.0)
        """
        n = self._require_counts("the no-signalling test").astype(float)
        self._require(self._all_pairs(), "the no-signalling test")
        ka, kb = self.scenario.n_a, self.scenario.n_b
        df = ka * (kb - 1) + kb * (ka - 1)
        p_ns = _ns_mle(n)
        pos = n > 0
        p_hat = self.p
        g = 2.0 * float(np.sum(n[pos] * (np.log(p_hat[pos]) - np.log(p_ns[pos]))))
        g = max(g, 0.0)
        return NoSignallingTest(
            G=g,
            df=df,
            p_value=chi2_sf(g, df),
            max_difference=self.no_signalling_violation(),
        )

    def __repr__(self) -> str:
        kind = "data" if self.is_data else "exact"
        return f"Behaviour({kind}, settings={self.scenario.n_a}x{self.scenario.n_b})"


__all__ = [
    "Behaviour",
]
