"""OnticTable: validation, behaviour as the sum over lambda, deterministic strategies."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pytest

from bellmodels import OnticTable
from bellmodels.ontic import local_deterministic_strategies


def test_sixteen_strategies_give_every_deterministic_product_box(chsh):
    resp, labels = local_deterministic_strategies(chsh)
    assert resp.shape == (16, 2, 2, 2, 2) and len(set(labels)) == 16
    # each strategy is deterministic and local: one outcome pair per setting pair, A's outcome
    # never depends on B's setting
    assert np.all(resp.sum(axis=(3, 4)) == 1)
    xa = resp.sum(axis=4).argmax(axis=3)  # (L, sa, sb)
    assert np.all(xa[:, :, 0] == xa[:, :, 1])


def test_uniform_mixture_of_strategies_is_the_white_noise_box(chsh):
    resp, _ = local_deterministic_strategies(chsh)
    table = OnticTable(np.full(16, 1 / 16), np.moveaxis(resp, 0, 2), chsh)
    np.testing.assert_allclose(table.behaviour(), 0.25)
    assert table.p_lambda.dims == ("setting_a", "setting_b", "lam")
    assert list(table.response.coords["outcome_a"].values) == [-1, 1]


def test_validation_names_the_place(chsh):
    resp = np.full((2, 2, 1, 2, 2), 0.25)
    with pytest.raises(ValueError, match="p_lambda is not normalised at setting_a=0, setting_b=0"):
        OnticTable(np.full((2, 2, 1), 0.5), resp, chsh)
    bad = resp.copy()
    bad[1, 0, 0] = [[0.5, 0.5], [0.5, -0.5]]
    with pytest.raises(
        ValueError, match=r"response has a negative entry -0.5 at index \(1, 0, 0, 1, 1\)"
    ):
        OnticTable(np.ones(1), bad, chsh)
    with pytest.raises(ValueError, match="response must have shape"):
        OnticTable(np.ones(2) / 2, resp, chsh)


def test_drop_unused_keeps_behaviour(chsh):
    resp, _ = local_deterministic_strategies(chsh)
    w = np.zeros(16)
    w[[0, 5]] = 0.5
    table = OnticTable(w, np.moveaxis(resp, 0, 2), chsh)
    small = table.drop_unused()
    assert small.n_lambda == 2
    np.testing.assert_allclose(small.behaviour(), table.behaviour())


def test_model_claims_are_required_only_of_concrete_models():
    from abc import abstractmethod

    from bellmodels.models.base import HiddenVariableModel

    class Intermediate(HiddenVariableModel):
        @abstractmethod
        def extra(self) -> None: ...

    with pytest.raises(TypeError, match="must declare the class attribute 'name'"):

        class Concrete(Intermediate):
            parameters: ClassVar[dict] = {}  # type: ignore[misc]

            def extra(self) -> None: ...
            def behaviour(self, params=None): ...
            def behaviour_tensor(self, params): ...
            def ontic_table(self, params=None): ...
            def sample_trials(self, n, seed, setting_probs=None): ...
