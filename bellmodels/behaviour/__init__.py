"""Behaviours p(x_a, x_b | s_a, s_b) and the statistics Bell tests read from them.

A :class:`Behaviour` holds a ``(K_a, K_b, 2, 2)`` array of conditional outcome probabilities
(outcome index 0 <-> -1, index 1 <-> +1) with its :class:`~bellmodels.scenario.Scenario`, and,
when it comes from data, the counts it was estimated from (so that statistics carry standard
errors and tests carry p-values).

Statistics
----------
- correlators E(s_a, s_b) = P(same) - P(different), marginals, no-signalling;
- the four CHSH variants (Clauser, Horne, Shimony & Holt, PRL 23, 880 (1969)) and
  S = max_k |S_k|, with local bound 2, Tsirelson's bound 2 sqrt(2) (Tsirelson, Lett. Math.
  Phys. 4, 93 (1980)) and the algebraic bound 4 (Popescu & Rohrlich, Found. Phys. 24, 379
  (1994));
- the CH / Eberhard value J = P(++|00) - P(+-|01) - P(-+|10) - P(++|11) <= 0 (Clauser & Horne,
  PRD 10, 526 (1974); Eberhard, PRA 47, R747 (1993));
- for K > 2 settings, CHSH over every 2 x 2 sub-choice and the chained Bell inequality of
  Braunstein & Caves, Ann. Phys. 202, 22 (1990).

CHSH variant order
------------------
The four terms are E(a, b), E(a, b'), E(a', b), E(a', b') (setting index 0 is unprimed).
Variant ``S_k`` puts the single minus sign on the term ``CHSH_MINUS_PAIRS[k]``::

    S_0 = E(a,b) + E(a,b') + E(a',b) - E(a',b')      (the textbook CHSH expression)
    S_1 = E(a,b) + E(a,b') - E(a',b) + E(a',b')
    S_2 = E(a,b) - E(a,b') + E(a',b) + E(a',b')
    S_3 = -E(a,b) + E(a,b') + E(a',b) + E(a',b')

i.e. ``S_k`` has the minus on the pair ``(1 - k // 2, 1 - k % 2)``. For the singlet,
E = -cos(angle_a - angle_b), at :meth:`Scenario.chsh` this gives ``S_0 = -2 sqrt(2)``.

Example
-------
>>> import numpy as np
>>> from bellmodels import Scenario
>>> from bellmodels.behaviour import Behaviour
>>> scn = Scenario.chsh()
>>> E = -np.cos(scn.angle_differences())
>>> p = (1 + np.multiply.outer(E, [[1, -1], [-1, 1]])) / 4    # unbiased singlet statistics
>>> b = Behaviour(p, scn)
>>> round(float(b.chsh_values()[0]), 4), round(b.S, 4)
(-2.8284, 2.8284)
"""

from __future__ import annotations

from bellmodels._util import correlators
from bellmodels.behaviour.arrays import (
    ALGEBRAIC,
    CHSH_MINUS_PAIRS,
    LOCAL_BOUND,
    TSIRELSON,
    CHSHChoice,
    chsh_max_values,
    chsh_values,
)
from bellmodels.behaviour.container import Behaviour
from bellmodels.behaviour.no_signalling import NoSignallingTest, no_signalling_violation

__all__ = [
    "ALGEBRAIC",
    "CHSH_MINUS_PAIRS",
    "LOCAL_BOUND",
    "TSIRELSON",
    "Behaviour",
    "CHSHChoice",
    "NoSignallingTest",
    "chsh_max_values",
    "chsh_values",
    "correlators",
    "no_signalling_violation",
]
