"""The batched ontic tables (issue #28): ``model.ontic_tables(values)`` equals the loop.

A posterior audit builds one ontic table per draw. :meth:`HiddenVariableModel.ontic_tables`
does it in one call: by default a loop of ``ontic_table`` (so every model, a user's own
included, has it), vectorised over the draws for the shipped models where that pays. Each
vectorised override is checked here against the loop of the base class on parameter draws from
the model's own prior (fixed seed): the tables and every number of the audit of them, to
round-off (``rtol=1e-12``), and the classifications exactly. A model without an override, and a
subclass that redefines the table it would vectorise, go through the loop. ``toner-bacon``'s
override, whose draws list different numbers of strategies, is checked in
``tests/models/test_models_nonlocal.py`` (against the point-by-point quadrature too).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from bellmodels import Scenario, models
from bellmodels.auditing import audit_draws
from bellmodels.auditing.measures import DRAW_MEASURES as AUDIT_KEYS
from bellmodels.models import HiddenVariableModel, Parameter
from bellmodels.models.boltzmann import CRBM, RBM
from bellmodels.models.local import Bell1964, LocalPolytope
from bellmodels.models.nonlocal_ import NoSignalling, QuantumSinglet
from bellmodels.models.priors import Beta
from bellmodels.ontic import OnticTable, OnticTables

N_DRAWS = 64
# the models that override ontic_tables, each as it is fitted (and a few variants)
OVERRIDDEN = {
    "quantum-singlet": lambda: models.get("quantum-singlet"),
    "quantum-singlet-no-offsets": lambda: QuantumSinglet(offsets=False),
    "bell1964": lambda: models.get("bell1964"),
    "bell1964-no-offsets": lambda: Bell1964(offsets=False),
    "bell1964-3x3": lambda: Bell1964(Scenario((0.0, 0.7, 1.9), (0.3, 1.1, 2.6))),
    "local-polytope": lambda: models.get("local-polytope"),
    "no-signalling": lambda: models.get("no-signalling"),
    "rbm": lambda: models.get("rbm"),
    "rbm-binary-prior": lambda: RBM(n_hidden=3, prior="binary"),
    "crbm": lambda: models.get("crbm"),
    "crbm-nonlocal": lambda: CRBM(n_hidden=2, local=False),
}


def prior_draws(model: HiddenVariableModel, n: int, seed: int) -> dict[str, np.ndarray]:
    """``n`` draws of every parameter from the model's own prior, stacked ``(n, *shape)``."""
    import pymc as pm

    with pm.Model():
        rvs = model.prior_variables()
    out = pm.draw(list(rvs.values()), draws=n, random_seed=seed)
    return {name: np.asarray(v, dtype=float) for name, v in zip(rvs, out, strict=True)}


def loop(model: HiddenVariableModel, values: dict[str, np.ndarray]) -> list[OnticTable]:
    """The reference: ``ontic_table`` of each draw, one at a time (what the audit did before)."""
    n = len(next(iter(values.values())))
    return [model.ontic_table({k: v[i] for k, v in values.items()}) for i in range(n)]


def assert_same_audit(got: dict[str, np.ndarray], want: dict[str, np.ndarray]) -> None:
    for key in AUDIT_KEYS:
        # atol: PI and OI are 0 in exact arithmetic for most of these models; both paths give
        # 0 or round-off below 1e-16 there, where no relative tolerance can hold
        np.testing.assert_allclose(got[key], want[key], rtol=1e-12, atol=1e-15, err_msg=key)
    np.testing.assert_array_equal(got["classification"], want["classification"])


@pytest.mark.parametrize("key", sorted(OVERRIDDEN))
def test_override_equals_the_loop_at_prior_draws(key: str) -> None:
    model = OVERRIDDEN[key]()
    assert type(model).ontic_tables is not HiddenVariableModel.ontic_tables  # really overridden
    values = prior_draws(model, N_DRAWS, seed=20280)
    stack = model.ontic_tables(values)
    tables = loop(model, values)
    assert isinstance(stack, OnticTables) and len(stack) == N_DRAWS
    assert stack.scenario == model.scenario
    assert stack.n_lambda == max(t.n_lambda for t in tables)
    for i, table in enumerate(tables):
        assert table.n_lambda == stack.n_lambda  # prior draws cut no arc twice
        np.testing.assert_allclose(stack.p_lambda_values[i], table.p_lambda_values, rtol=1e-12)
        np.testing.assert_allclose(stack.response_values[i], table.response_values, rtol=1e-12)
        if stack.lam_labels is not None:
            assert stack.lam_labels == table.lam_labels
    assert_same_audit(audit_draws(stack), audit_draws(tables))
    # the draws differ: a test of equal copies would prove little
    assert np.ptp(stack.p_lambda_values[:, 0, 0], axis=0).max() > 1e-3


@pytest.mark.parametrize("key", ["quantum-singlet", "bell1964", "local-polytope", "rbm"])
def test_audited_numbers_are_the_expected_ones(key: str) -> None:
    """Beyond agreeing with the loop: the classes and numbers each model stands for."""
    model = OVERRIDDEN[key]()
    out = audit_draws(model.ontic_tables(prior_draws(model, N_DRAWS, seed=7)))
    classes = set(out["classification"].tolist())
    if key in ("bell1964", "local-polytope"):
        assert classes == {"local & measurement-independent"}
        np.testing.assert_allclose(out["mi_bits"], 0.0, atol=1e-12)
    elif key == "quantum-singlet":
        assert classes == {"outcome-dependent (nonlocal)"}
        np.testing.assert_allclose(out["parameter_independence_violation"], 0.0, atol=1e-15)
        assert out["outcome_independence_violation"].min() > 0.0
    else:  # Weinstein's machine pays for its correlations with measurement dependence
        assert classes == {"local & measurement-dependent"}
        assert out["mi_bits"].min() > 0.0


def test_parameters_not_given_take_their_values() -> None:
    """Only the visibility drawn: the offsets are the model's own (the constructor's here)."""
    offsets = {"offset_a": np.array([0.01, -0.02]), "offset_b": np.array([0.0, 0.03])}
    model = models.get("quantum-singlet", **offsets)
    vis = np.array([0.3, 0.8, 1.0])
    stack = model.ontic_tables({"visibility": vis})
    for i, v in enumerate(vis):
        want = model.ontic_table({"visibility": v})
        np.testing.assert_allclose(stack[i].response_values, want.response_values, rtol=1e-12)
        np.testing.assert_allclose(stack[i].p_lambda_values, want.p_lambda_values, rtol=1e-12)
    np.testing.assert_allclose(stack.p_lambda_values[:, 0, 1, 1], 1.0 - vis, rtol=1e-12)


def test_bell1964_draws_whose_cuts_coincide() -> None:
    """Settings whose cuts coincide (a' = b here) give draws with fewer arcs: the loop lists
    fewer lambda values, the stack pads them with empty arcs; the audits are the same."""
    scn = Scenario((0.0, np.pi / 2), (np.pi / 2, np.pi / 4))
    model = Bell1964(scn)
    rng = np.random.default_rng(3)
    values = {
        "visibility": rng.uniform(0.5, 1.0, 6),
        "offset_a": rng.normal(0, 0.05, (6, 2)),
        "offset_b": rng.normal(0, 0.05, (6, 2)),
    }
    values["offset_a"][::2] = 0.0  # even draws: a' = b exactly
    values["offset_b"][::2] = 0.0
    stack = model.ontic_tables(values)
    tables = loop(model, values)
    assert [t.n_lambda for t in tables] == [7, 9, 7, 9, 7, 9]
    assert stack.n_lambda == 9
    for i, table in enumerate(tables):
        arcs = table.n_lambda - 1  # then the noise lambda
        np.testing.assert_allclose(
            stack.p_lambda_values[i, :, :, :arcs], table.p_lambda_values[:, :, :arcs], rtol=1e-12
        )
        np.testing.assert_allclose(
            stack.response_values[i, :, :, :arcs], table.response_values[:, :, :arcs], rtol=1e-12
        )
        np.testing.assert_array_equal(stack.p_lambda_values[i, :, :, arcs:-1], 0.0)
        np.testing.assert_allclose(
            stack.p_lambda_values[i, :, :, -1], 1.0 - values["visibility"][i]
        )
        np.testing.assert_allclose(stack[i].behaviour(), table.behaviour(), rtol=1e-12, atol=1e-15)
    assert_same_audit(audit_draws(stack), audit_draws(tables))


# -- models without an override go through the loop -------------------------------------------
class Coin(HiddenVariableModel):
    """lambda = a shared coin of bias q; both parties report it (a local toy of one's own)."""

    name = "test-batch-coin"
    family = "local"
    assumption_dropped = "none"
    citation = "Bell, Physics 1, 195 (1964)"
    parameters = {"q": Parameter(prior=Beta(2, 2), default=0.5)}  # noqa: RUF012
    calls = 0

    def ontic(self, p: Any, xp: Any) -> tuple[Any, Any]:
        type(self).calls += 1
        resp = np.zeros((2, 2, 2, 2, 2))
        resp[:, :, 0, 0, 0] = resp[:, :, 1, 1, 1] = 1.0
        return xp.stack([1.0 - p["q"], p["q"]]), resp


class ShiftedSinglet(QuantumSinglet):
    """A subclass that redefines the table: its noise lambda always answers (+1, +1)."""

    name = "test-batch-shifted-singlet"

    def ontic_table(self, params: Any = None) -> OnticTable:
        table = super().ontic_table(params)
        resp = table.response_values.copy()
        resp[:, :, -1] = 0.0
        resp[:, :, -1, 1, 1] = 1.0
        return OnticTable(table.p_lambda_values, resp, self.scenario, table.lam_labels)


def test_a_model_of_ones_own_goes_through_the_loop() -> None:
    model = Coin()
    assert type(model).ontic_tables is HiddenVariableModel.ontic_tables
    q = np.array([0.1, 0.5, 0.75, 0.9])
    Coin.calls = 0
    stack = model.ontic_tables({"q": q})
    assert Coin.calls == q.size  # one ontic_table per draw
    np.testing.assert_array_equal(stack.p_lambda_values[:, 1, 0], np.stack([1 - q, q], axis=-1))
    np.testing.assert_array_equal(
        stack.response_values[2], model.ontic_table({"q": 0.75}).response_values
    )
    out = audit_draws(stack)
    assert set(out["classification"].tolist()) == {"local & measurement-independent"}
    assert_same_audit(out, audit_draws(loop(model, {"q": q})))


def test_a_subclass_that_redefines_the_table_goes_through_the_loop() -> None:
    model = ShiftedSinglet()
    values = prior_draws(model, 8, seed=1)
    stack = model.ontic_tables(values)
    tables = loop(model, values)
    for i, table in enumerate(tables):  # its own table, not the singlet's vectorised one
        np.testing.assert_array_equal(stack.response_values[i], table.response_values)
        assert stack.response_values[i, 0, 0, -1, 1, 1] == 1.0
    singlet = QuantumSinglet().ontic_tables(values)
    assert not np.allclose(singlet.response_values, stack.response_values)


@pytest.mark.parametrize("cls", [LocalPolytope, NoSignalling, RBM, CRBM, Bell1964])
def test_subclass_of_a_shipped_model_keeps_the_override(cls: type) -> None:
    """A subclass that only renames (or adds a method) keeps the vectorised path."""
    sub = type(f"Sub{cls.__name__}", (cls,), {"name": f"test-sub-{cls.__name__.lower()}"})
    model = sub()
    values = prior_draws(model, 4, seed=2)
    stack = model.ontic_tables(values)
    for i, table in enumerate(loop(model, values)):
        np.testing.assert_allclose(stack[i].p_lambda_values, table.p_lambda_values, rtol=1e-12)


# -- the stacked parameters are checked as params() checks one ---------------------------------
def test_stacked_params_checks_every_draw() -> None:
    model = models.get("quantum-singlet")
    with pytest.raises(ValueError, match=r"draw 2: parameter 'visibility'.*1\.5 is outside"):
        model.ontic_tables({"visibility": np.array([0.2, 0.9, 1.5])})
    with pytest.raises(ValueError, match="draws must have shape"):
        model.ontic_tables({"offset_a": np.zeros((3, 3))})
    with pytest.raises(ValueError, match="no parameter"):
        model.ontic_tables({"visibility": np.ones(2), "nope": np.ones(2)})
    with pytest.raises(ValueError, match="all of one length"):
        model.ontic_tables({"visibility": np.ones(2), "offset_a": np.zeros((3, 2))})
    weights = np.full((2, 16), 1 / 16)
    weights[1, 0] += 0.1
    with pytest.raises(ValueError, match=r"draw 1: .*sum to 1\.1"):
        models.get("local-polytope").ontic_tables({"weights": weights})
    # the loop refuses the same draws
    with pytest.raises(ValueError, match=r"1\.5 is outside"):
        HiddenVariableModel.ontic_tables(model, {"visibility": np.array([0.2, 1.5])})
