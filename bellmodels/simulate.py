"""Quantum sampler: trials with the exact statistics of the spin singlet.

For the singlet ``(|+-> - |-+>) / sqrt(2)`` measured along directions at angles ``theta_a`` and
``theta_b`` in one plane, quantum mechanics gives unbiased marginals, ``p(x_a) = p(x_b) = 1/2``,
and the correlator ``E = -cos(theta_a - theta_b)`` (Bell, Physics 1, 195 (1964); the CHSH
geometry of Clauser, Horne, Shimony & Holt, PRL 23, 880 (1969)). With visibility ``V`` (a Werner
state ``V |psi-><psi-| + (1 - V) I / 4``) the correlator is ``-V cos(theta_a - theta_b)`` and the
marginals stay unbiased, so

    p(x_a, x_b | s_a, s_b) = (1 - V x_a x_b cos(theta_a - theta_b)) / 4.

The sampler draws this exactly: the settings from :meth:`Scenario.draw_settings`, A's outcome as a
fair coin, and B's outcome equal to A's with probability ``(1 - V cos(theta_a - theta_b)) / 2``.
All three steps are vectorised numpy draws (no per-trial Python), so the cost is that of three
array draws (against a per-trial loop: ``python benchmarks/simulate_and_io.py``, on the
benchmarks page).

Example
-------
>>> from bellmodels import Scenario, simulate_singlet
>>> trials = simulate_singlet(Scenario.chsh(), n_trials=1000, seed=0)
>>> len(trials), trials.counts().total
(1000, 1000)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bellmodels._util import renamed_keywords
from bellmodels.data import MAX_COUNT, Trials
from bellmodels.scenario import Scenario


def singlet_behaviour(scenario: Scenario, visibility: float = 1.0) -> np.ndarray:
    """The exact (Werner-state) singlet behaviour ``p(x_a, x_b | s_a, s_b)``, ``(K_a, K_b, 2, 2)``.

    ``p = (1 - V x_a x_b cos(theta_a - theta_b)) / 4`` with outcome index 0 <-> -1, 1 <-> +1.

    Parameters
    ----------
    scenario
        Settings and their angles (radians).
    visibility
        ``V`` in ``[0, 1]``.

    Example
    -------
    >>> import numpy as np
    >>> from bellmodels import Scenario
    >>> p = singlet_behaviour(Scenario.chsh())
    >>> float(np.round(p[0, 0, 1, 1], 4))   # P(++ | a, b) = (1 - cos(pi/4)) / 4
    0.0732
    """
    v = _check_visibility(visibility)
    cos = np.cos(scenario.angle_differences())
    x = np.array([-1.0, 1.0])
    prod = np.multiply.outer(x, x)  # x_a * x_b, (2, 2)
    return (1.0 - v * cos[:, :, None, None] * prod) / 4.0


def _check_visibility(visibility: float) -> float:
    try:
        v = float(visibility)
    except (TypeError, ValueError):
        raise ValueError(f"visibility must be a number in [0, 1], got {visibility!r}") from None
    if not (np.isfinite(v) and 0.0 <= v <= 1.0):
        raise ValueError(f"visibility must be in [0, 1], got {visibility!r}")
    return v


@renamed_keywords(n="n_trials")
def simulate_singlet(
    scenario: Scenario,
    n_trials: int,
    seed: int | np.random.Generator | None,
    visibility: float = 1.0,
    setting_probs: Any = None,
) -> Trials:
    """Draw ``n_trials`` trials of the singlet (or a Werner state of visibility ``V``).

    Parameters
    ----------
    scenario
        Settings and their angles (radians); any number of settings per party.
    n_trials
        Number of trials, a whole number in ``0..MAX_COUNT`` (:data:`bellmodels.data.MAX_COUNT`;
        all trials are held in memory, about 20 bytes each while drawing).
    seed
        Seed for :func:`numpy.random.default_rng` (or a Generator). The same seed gives the same
        trials.
    visibility
        ``V`` in ``[0, 1]``: ``E = -V cos(theta_a - theta_b)``; ``V = 0`` gives independent fair
        coins.
    setting_probs
        Distribution of the settings, as for :meth:`Scenario.settings_distribution` (``None``:
        uniform; a ``(K_a, K_b)`` joint array; or a pair of marginals).

    Returns
    -------
    Trials

    Notes
    -----
    Draw order (fixed, so seeds are reproducible across versions): settings, then A's outcomes,
    then the uniform numbers that decide whether B agrees with A.

    Example
    -------
    >>> import numpy as np
    >>> from bellmodels import Scenario, simulate_singlet
    >>> t = simulate_singlet(Scenario.chsh(), n_trials=200_000, seed=1)
    >>> same = t.outcome_a == t.outcome_b
    >>> pair = (t.setting_a == 0) & (t.setting_b == 0)
    >>> e = 2 * same[pair].mean() - 1   # E(a, b) = -cos(pi/4) = -0.707
    >>> bool(abs(e + np.cos(np.pi / 4)) < 0.02)
    True
    """
    n = n_trials
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)):
        raise ValueError(f"n_trials must be a non-negative integer, got {n!r}")
    if n < 0:
        raise ValueError(f"n_trials must be a non-negative integer, got {n}")
    if n > MAX_COUNT:
        raise ValueError(
            f"n_trials = {n} exceeds MAX_COUNT = 2**53 = {MAX_COUNT}, the bound on every count "
            "(bellmodels.data.MAX_COUNT)"
        )
    v = _check_visibility(visibility)
    rng = np.random.default_rng(seed)
    sa, sb = scenario.draw_settings(int(n), rng, setting_probs)
    # P(x_b = x_a | s_a, s_b) = (1 - V cos(theta_a - theta_b)) / 2, looked up per setting pair.
    p_same = (1.0 - v * np.cos(scenario.angle_differences())) / 2.0
    a_plus = rng.random(n) < 0.5
    same = rng.random(n) < p_same[sa, sb]
    one, two = np.int8(1), np.int8(2)
    outcome_a = a_plus.view(np.int8) * two - one  # bool -> 0/1 -> -1/+1, all in int8
    outcome_b = outcome_a * (same.view(np.int8) * two - one)
    return Trials(scenario, sa, sb, outcome_a, outcome_b)


__all__ = ["simulate_singlet", "singlet_behaviour"]
