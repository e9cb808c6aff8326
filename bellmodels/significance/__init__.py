"""p-values of local realism that stay valid when the devices have memory.

Three frequentist tests of the local-realist hypothesis on a count table, each beside the
Bayesian answer the package already gives:

- **CHSH game** (:func:`chsh_game`). A trial is *won* when the outcomes satisfy the relation the
  CHSH expression rewards at that setting pair (equal outcomes where the term has a plus sign,
  different ones where it has the minus sign, swapped if the chosen variant is negative). A
  local model wins each trial with probability at most ``omega`` given the past (3/4 for uniform
  independent settings), so the number of wins in ``n`` trials is stochastically dominated by
  Binomial(n, omega) even with memory, and p = P(Binomial(n, omega) >= k) (R. D. Gill, in
  *Mathematical Statistics and Applications: Festschrift for Constance van Eeden*, IMS Lecture
  Notes 42, 133 (2003), arXiv:quant-ph/0110137; D. Elkouss and S. Wehner, npj Quantum Inf. 2,
  16026 (2016)). For other setting probabilities ``omega`` is the largest win probability of a
  local model under them: a linear programme over the local polytope, whose optimum sits at a
  vertex, i.e. the best of the 2^(K_a + K_b) deterministic strategies (:func:`local_win_bound`).
- **Test factors** (:func:`test_factor_test`), the prediction-based ratio of Y. Zhang,
  S. Glancy and E. Knill, PRA 84, 062118 (2011), used by L. K. Shalm et al., PRL 115, 250402
  (2015): a table T(x_a, x_b, s_a, s_b) >= 0 with E[T] <= 1 for every local deterministic
  strategy under the setting distribution; the running product of T is then a test
  supermartingale and p <= 1 / prod T. T is chosen on a training split to maximise the expected
  log T under an estimate of the behaviour; its optimum is T = P_est / P_loc with P_loc the
  KL projection of P_est onto the local polytope (ZGK 2011), solved with Clarabel.
- **Likelihood ratio** (:func:`likelihood_ratio_test`) of the local polytope against the
  no-signalling polytope (R. D. Gill, arXiv:2209.00702 (2022)): G = 2 [max_NS loglik -
  max_local loglik], both maxima convex programmes (Clarabel), its p-value by parametric bootstrap
  from the best local fit (this one assumes i.i.d. trials: it is not valid with memory).

and, with ``bayesian=True``, the posterior P(S > 2) of a fitted no-signalling model and the log
Bayes factor of the local polytope against no-signalling (:func:`significance`).

Everything works on the counts: a table of 3.5e9 trials is 16 numbers here, and no per-trial
array is ever built (the training split draws hypergeometric counts per cell; log10 p is a sum
over cells of n_cell log10 T_cell).

Example
-------
>>> import bellmodels as bm
>>> r = bm.significance(bm.datasets.load("delft2015"), bootstrap=0)
>>> r.chsh_game.wins, r.chsh_game.n, round(r.chsh_game.p_value, 3)
(196, 245, 0.039)
"""

from __future__ import annotations

from bellmodels.significance.bayes import bayesian_answers
from bellmodels.significance.factors import (
    TestFactorResult,
    local_means,
    optimal_test_factors,
    random_split,
    test_factor_test,
)
from bellmodels.significance.games import CHSHGame, chsh_game, local_win_bound
from bellmodels.significance.likelihood_ratio import LikelihoodRatioResult, likelihood_ratio_test
from bellmodels.significance.summary import Significance, audit_section, report_table, significance


def __getattr__(name: str) -> object:
    if name == "log_evidence":  # removed in 0.x: one evidence function, one evidence result
        raise AttributeError(
            "bellmodels.significance.log_evidence was removed: use "
            "bellmodels.inference.estimate_log_evidence, which returns an EvidenceEstimate "
            "(.log_evidence, .se, .method, .repetitions)"
        )
    raise AttributeError(f"module 'bellmodels.significance' has no attribute {name!r}")


__all__ = [
    "CHSHGame",
    "LikelihoodRatioResult",
    "Significance",
    "TestFactorResult",
    "audit_section",
    "bayesian_answers",
    "chsh_game",
    "likelihood_ratio_test",
    "local_means",
    "local_win_bound",
    "optimal_test_factors",
    "random_split",
    "report_table",
    "significance",
    "test_factor_test",
]
