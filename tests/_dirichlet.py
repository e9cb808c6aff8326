"""A saturated test model for the inference tests: one Dirichlet(alpha) per setting pair.

Every behaviour (signalling included) is reachable, and its evidence is known in closed form,
which makes it the reference for the SMC evidence and LOO tests. Not registered: it is a test
fixture, not a hidden-variable model anyone should compare.

The evidence of the ordered trial sequence given the settings is the Dirichlet-multinomial
(Pólya) likelihood: prod over pairs of B(alpha + n) / B(alpha), with B the multivariate Beta
function (e.g. Gelman et al., Bayesian Data Analysis, 3rd ed., §23.2).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from scipy.special import gammaln

from bellmodels.data import Counts, Trials
from bellmodels.models.base import HiddenVariableModel, Parameter
from bellmodels.ontic import OnticTable


class SaturatedDirichlet(HiddenVariableModel):
    """p(x_a, x_b | s_a, s_b) ~ Dirichlet(alpha) independently for each setting pair."""

    name = "test-saturated-dirichlet"
    family = "nonlocal"
    assumption_dropped = "none claimed: the saturated model allows any behaviour"
    citation = "Gelman et al., Bayesian Data Analysis (3rd ed., 2013), Dirichlet-multinomial"

    def __init__(self, scenario: Any = None, alpha: float = 1.0, **values: Any) -> None:
        self.alpha = float(alpha)
        super().__init__(scenario, **values)

    @property
    def parameters(self) -> dict[str, Parameter]:
        ka, kb = self.scenario.n_a, self.scenario.n_b
        alpha = self.alpha

        def prior(name: str) -> Any:
            import pymc as pm

            return pm.Dirichlet(name, a=np.full((ka, kb, 4), alpha))

        return {
            "p": Parameter(
                "p",
                (ka, kb, 4),
                np.full((ka, kb, 4), 0.25),
                prior,
                f"Dirichlet({alpha}) per setting pair",
                "outcome-cell probabilities per setting pair",
            )
        }

    def behaviour(self, params: Mapping[str, Any] | None = None) -> np.ndarray:
        p = self.params(params)["p"]
        return p.reshape(self.scenario.shape)

    def behaviour_tensor(self, params: Mapping[str, Any]) -> Any:
        return params["p"].reshape(self.scenario.shape)

    def ontic_table(self, params: Mapping[str, Any] | None = None) -> OnticTable:
        beh = self.behaviour(params)
        ka, kb = self.scenario.n_a, self.scenario.n_b
        return OnticTable(np.ones(1), beh.reshape(ka, kb, 1, 2, 2), self.scenario)

    def sample_trials(self, n: int, seed: int | None, setting_probs: Any = None) -> Trials:
        rng = np.random.default_rng(seed)
        sa, sb = self.scenario.draw_settings(n, rng, setting_probs)
        beh = self.behaviour().reshape(self.scenario.n_a, self.scenario.n_b, 4)
        u = rng.random(n)
        cell = (u[:, None] > np.cumsum(beh[sa, sb], axis=-1)).sum(axis=-1).clip(0, 3)
        xa, xb = np.divmod(cell, 2)
        return Trials(self.scenario, sa, sb, 2 * xa - 1, 2 * xb - 1)

    def analytic_log_evidence(self, counts: Counts) -> float:
        """log p(trial sequence | settings) = sum_pairs log B(alpha + n) - log B(alpha)."""
        n = counts.values.reshape(self.scenario.n_a, self.scenario.n_b, 4).astype(float)
        a = np.full_like(n, self.alpha)

        def log_beta(x: np.ndarray) -> np.ndarray:
            return gammaln(x).sum(axis=-1) - gammaln(x.sum(axis=-1))

        return float((log_beta(a + n) - log_beta(a)).sum())


def random_counts(scenario: Any, n_per_pair: int, seed: int, concentration: float = 5.0) -> Counts:
    """Counts from a random behaviour (a Dirichlet draw per pair), n_per_pair trials per pair."""
    rng = np.random.default_rng(seed)
    ka, kb = scenario.n_a, scenario.n_b
    p = rng.dirichlet(np.full(4, concentration), size=(ka, kb))
    vals = np.stack(
        [np.stack([rng.multinomial(n_per_pair, p[i, j]) for j in range(kb)]) for i in range(ka)]
    )
    return Counts(vals.reshape(scenario.shape), scenario)


_FITS: dict[tuple, Any] = {}


def cached_fit(n_per_pair: int = 500, seed: int = 0, draws: int = 250, chains: int = 2) -> Any:
    """One small fit of the saturated model, shared by the test modules of one pytest process
    (PyTensor compilation is the cost of a fit)."""
    from bellmodels.inference import fit
    from bellmodels.scenario import Scenario

    key = (n_per_pair, seed, draws, chains)
    if key not in _FITS:
        scn = Scenario.chsh()
        counts = random_counts(scn, n_per_pair, seed)
        model = SaturatedDirichlet(scn)
        idata = fit(model, counts, draws=draws, tune=draws, chains=chains, seed=seed + 1)
        _FITS[key] = (model, counts, idata)
    return _FITS[key]
