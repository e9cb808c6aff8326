"""The CHSH game: wins against the largest win probability of a local model, a p-value valid with memory."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np

from bellmodels.behaviour import CHSH_MINUS_PAIRS, Behaviour
from bellmodels.data import Counts
from bellmodels.scenario import Scenario
from bellmodels.significance._display import fmt_p, html_table
from bellmodels.significance._input import _SAME, _as_counts, _settings, _strategies


@dataclass(frozen=True)
class CHSHGame:
    """Result of :func:`chsh_game` (JSON keys ``wins``, ``n``, ``p_value`` plus details).

    ``win_probability_bound`` is omega, the largest win probability of a local model under
    ``setting_probs``; ``variant`` the CHSH variant k (minus sign on ``CHSH_MINUS_PAIRS[k]``)
    and ``sign`` +1 / -1 its sign; ``variant_from_data`` whether they were chosen from the data,
    in which case ``p_value_any_variant = min(1, 8 p)`` is the union bound over the 8 signed
    variants (the p-value if the variant was *not* fixed before the experiment).
    """

    wins: int
    n: int
    p_value: float
    win_probability_bound: float
    variant: int
    sign: int
    settings_a: tuple[int, int]
    settings_b: tuple[int, int]
    variant_from_data: bool
    p_value_any_variant: float

    def __repr__(self) -> str:
        return f"CHSHGame(wins={self.wins}, n={self.n}, p_value={fmt_p(self.p_value)})"

    def _repr_html_(self) -> str:
        return html_table(
            "CHSH game (p-value valid with memory)",
            [
                ("wins / trials", f"{self.wins} / {self.n}"),
                ("local win bound", f"{self.win_probability_bound:.4g}"),
                ("p-value", fmt_p(self.p_value)),
                ("p-value, any variant", fmt_p(self.p_value_any_variant)),
            ],
        )


def _win_table(variant: int, sign: int) -> np.ndarray:
    """``(2, 2, 2, 2)`` bool: which outcomes win at each pair of the 2 x 2 sub-choice."""
    win = np.zeros((2, 2, 2, 2), dtype=bool)
    for i, j in itertools.product(range(2), range(2)):
        term = -1 if (i, j) == CHSH_MINUS_PAIRS[variant] else 1
        win[i, j] = _SAME if term * sign > 0 else ~_SAME
    return win


def local_win_bound(setting_probs: Any = None, variant: int = 0, sign: int = 1) -> float:
    """Largest probability that a local model wins one round of the CHSH game.

    The win probability of a local measurement-independent model is linear in its mixture of
    deterministic strategies, so its maximum over the local polytope (a linear programme) is
    attained at a vertex: the best of the 16 deterministic strategies, each scored as
    sum_s p(s) [strategy wins at s]. For uniform settings this is 3/4, the CHSH bound S <= 2
    in game form (Gill 2003; Elkouss & Wehner, npj Quantum Inf. 2, 16026 (2016)).

    Parameters
    ----------
    setting_probs
        p(s_a, s_b) of the 2 x 2 game (``(2, 2)`` joint or a tuple of marginals); default uniform.
    variant, sign
        Which CHSH variant defines a win (minus sign on ``CHSH_MINUS_PAIRS[variant]``) and its
        sign (+1, or -1 for the negated expression).

    Examples
    --------
    >>> local_win_bound()
    0.75
    >>> round(local_win_bound(([0.6, 0.4], [0.5, 0.5])), 6)      # A biased towards a
    0.8
    """
    ps = _settings(Scenario.chsh(), setting_probs)
    if variant not in range(4):
        raise ValueError(f"variant must be 0, 1, 2 or 3, got {variant!r}")
    if sign not in (1, -1):
        raise ValueError(f"sign must be +1 or -1, got {sign!r}")
    win = _win_table(variant, sign)
    resp = _strategies(Scenario.chsh())  # (16, 2, 2, 2, 2)
    scores = np.einsum("ab,labxy,abxy->l", ps, resp, win.astype(float))
    return float(scores.max())


def _binomial_tail(wins: int, n: int, omega: float) -> float:
    """P(Binomial(n, omega) >= wins) = I_omega(wins, n - wins + 1), the regularised incomplete
    beta function: what ``scipy.stats.binom.sf(wins - 1, n, omega)`` evaluates, without the
    second scipy.stats costs to import.

    >>> round(_binomial_tail(196, 245, 0.75), 6), _binomial_tail(0, 10, 0.5)
    (0.039078, 1.0)
    """
    if wins <= 0:
        return 1.0
    from scipy.special import betainc

    return float(betainc(wins, n - wins + 1, omega))


def chsh_game(
    counts: Counts,
    setting_probs: Any = None,
    *,
    variant: int | None = None,
    sign: int | None = None,
) -> CHSHGame:
    """CHSH-game p-value of local realism, valid with memory: P(Binomial(n, omega) >= wins).

    Parameters
    ----------
    counts
        The data. With more than two settings per party the 2 x 2 sub-choice with the largest S
        is used and only its trials count (the settings distribution is then the design's,
        conditioned on that sub-choice).
    setting_probs
        The design's setting probabilities p(s_a, s_b) (on all the scenario's settings);
        default uniform. They must be the probabilities the random number generators were built
        to give, not frequencies estimated from the same data.
    variant, sign
        The CHSH variant and sign that define a win, as fixed before the experiment. Default:
        the variant and sign giving the data's S (``max_k |S_k|``); ``p_value_any_variant``
        then says what that choice costs.

    Returns
    -------
    CHSHGame

    Notes
    -----
    Validity with memory needs only that at each trial the settings are drawn with
    ``setting_probs`` independently of the past and of the hidden state; then, given the past,
    a local model wins with probability at most omega (:func:`local_win_bound`), and the sum of
    such Bernoulli indicators is stochastically smaller than Binomial(n, omega) (Gill 2003).
    The number of trials ``n`` must be fixed in advance (or by a stopping rule that does not
    look at the outcomes).

    Examples
    --------
    Hensen et al., Nature 526, 682 (2015) report 196 wins out of 245 and p = 0.039:

    >>> from bellmodels import datasets
    >>> g = chsh_game(datasets.load("delft2015"))
    >>> g.wins, g.n, round(g.p_value, 3), g.win_probability_bound
    (196, 245, 0.039, 0.75)
    """
    counts = _as_counts(counts)
    scn = counts.scenario
    ps_full = _settings(scn, setting_probs)
    b = Behaviour.from_counts(counts)
    choice = b.chsh_max()
    sa, sb = choice.settings_a, choice.settings_b
    from_data = variant is None or sign is None
    if variant is None:
        variant = int(np.argmax(np.abs(choice.values)))
    if sign is None:
        sign = 1 if choice.values[variant] >= 0 else -1
    sub = ps_full[np.ix_(list(sa), list(sb))]
    if sub.sum() <= 0:
        raise ValueError("setting_probs: the CHSH sub-choice has probability zero")
    ps = sub / sub.sum()
    omega = local_win_bound(ps, variant, sign)
    win = _win_table(variant, sign)
    n_sub = counts.values[np.ix_(list(sa), list(sb))]
    wins = int(n_sub[win].sum())
    n = int(n_sub.sum())
    p = _binomial_tail(wins, n, omega)
    return CHSHGame(
        wins=wins,
        n=n,
        p_value=p,
        win_probability_bound=omega,
        variant=int(variant),
        sign=int(sign),
        settings_a=(int(sa[0]), int(sa[1])),
        settings_b=(int(sb[0]), int(sb[1])),
        variant_from_data=from_data,
        p_value_any_variant=min(1.0, 8.0 * p) if from_data else p,
    )


__all__ = [
    "CHSHGame",
    "chsh_game",
    "local_win_bound",
]
