"""The audit of stacked ontic tables (issue #28): ``OnticTables``, ``audit_draws`` on a stack,
and the posterior audit that builds its tables with ``model.ontic_tables``.

The posterior audit used to build one ``OnticTable`` per draw and hand ``audit_draws`` the
list; here its result is compared with that procedure, written out in the test, on a posterior
of prior draws (fixed seed), with and without thinning. Nothing is timed: the thinning is
forced through ``audit_max_draws`` or a zero time budget.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
import xarray as xr

from bellmodels import Scenario, models
from bellmodels.auditing import audit_draws
from bellmodels.auditing.measures import DRAW_MEASURES as KEYS
from bellmodels.inference import posterior_audit
from bellmodels.inference.posterior_audit import _audit_posterior
from bellmodels.models import HiddenVariableModel, Parameter
from bellmodels.models.priors import Beta
from bellmodels.ontic import OnticTable, OnticTables


def random_tables(n: int, n_lams: list[int], seed: int) -> list[OnticTable]:
    rng = np.random.default_rng(seed)
    scn = Scenario.chsh()
    out = []
    for i in range(n):
        n_lam = n_lams[i % len(n_lams)]
        p = rng.dirichlet(np.ones(n_lam), size=(2, 2))
        r = rng.dirichlet(np.ones(4), size=(2, 2, n_lam)).reshape(2, 2, n_lam, 2, 2)
        out.append(OnticTable(p, r, scn, lam_labels=[f"l{k}" for k in range(n_lam)]))
    return out


def test_a_stack_is_audited_as_the_list_of_its_tables():
    tables = random_tables(9, [3, 5, 4], seed=4)
    stack = OnticTables.from_tables(tables)
    assert len(stack) == 9 and stack.n_lambda == 5 and stack.lam_labels is None
    from_list, from_stack = audit_draws(tables), audit_draws(stack)
    for key in KEYS:
        np.testing.assert_array_equal(from_stack[key], from_list[key], err_msg=key)
    np.testing.assert_array_equal(from_stack["classification"], from_list["classification"])
    # each entry is still the audit of that table alone
    for i in (0, 4, 8):
        one = audit_draws([tables[i]])
        np.testing.assert_allclose(from_stack["mi_bits"][i], one["mi_bits"][0], rtol=1e-12)


def test_stack_indexing_and_padding():
    tables = random_tables(4, [2, 3], seed=5)
    stack = OnticTables.from_tables(tables)
    # draw 0 has 2 lambda values: padded with one of probability 0 and a uniform response
    np.testing.assert_array_equal(stack.p_lambda_values[0, :, :, 2], 0.0)
    np.testing.assert_array_equal(stack.response_values[0, :, :, 2], 0.25)
    one = stack[1]
    assert isinstance(one, OnticTable)
    np.testing.assert_array_equal(one.p_lambda_values, tables[1].p_lambda_values)
    np.testing.assert_allclose(stack.behaviour()[2], tables[2].behaviour(), rtol=1e-12)
    np.testing.assert_array_equal(stack[-1].response_values, tables[3].response_values)
    with pytest.raises(IndexError):
        stack[4]
    sub = stack[np.array([3, 1])]
    assert isinstance(sub, OnticTables) and len(sub) == 2
    np.testing.assert_array_equal(sub.p_lambda_values[0], stack.p_lambda_values[3])
    narrow = OnticTables.from_tables(tables[:1])  # n_lambda 2, labels kept
    assert narrow.lam_labels == ["l0", "l1"] and narrow.n_lambda == 2
    np.testing.assert_array_equal(narrow.p_lambda_values[0], tables[0].p_lambda_values)
    assert [t.n_lambda for t in stack] == [3, 3, 3, 3]  # a sequence of tables


def test_stack_shared_parts_and_validation():
    scn = Scenario.chsh()
    w = np.array([[0.25, 0.75], [1.0, 0.0]])
    resp = np.full((2, 2, 2, 2, 2), 0.25)
    stack = OnticTables(w, resp, scn, lam_labels=["x", "y"])  # one response for every draw
    assert stack.p_lambda_values.shape == (2, 2, 2, 2)
    assert stack.response_values.shape == (2, 2, 2, 2, 2, 2)
    np.testing.assert_array_equal(stack.p_lambda_values[1, 1, 0], [1.0, 0.0])
    assert stack[0].lam_labels == ["x", "y"]
    bad = w.copy()
    bad[1] = [0.6, 0.6]
    with pytest.raises(ValueError, match="p_lambda is not normalised at draw=1"):
        OnticTables(bad, resp, scn)
    neg = np.full((3, 2, 2, 2, 2, 2), 0.25)
    neg[2, 1, 0, 1] = [[0.5, 0.25], [0.25, 0.0]]
    neg[2, 1, 0, 1, 1, 1] = -0.1
    with pytest.raises(ValueError, match=r"response has a negative entry .* at index \(2, 1, 0, 1"):
        OnticTables(np.full((3, 2), 0.5), neg, scn)
    with pytest.raises(ValueError, match="response must have shape"):
        OnticTables(w, np.full((2, 2, 3, 2, 2), 0.25), scn)
    with pytest.raises(ValueError, match="at least one"):
        audit_draws(OnticTables(np.zeros((0, 2)), resp, scn))
    with pytest.raises(ValueError, match="one scenario"):
        OnticTables.from_tables(
            [
                OnticTable(np.ones(1), np.full((2, 2, 1, 2, 2), 0.25), scn),
                OnticTable(np.ones(1), np.full((3, 2, 1, 2, 2), 0.25), Scenario((0, 1, 2), (0, 1))),
            ]
        )


# -- the posterior audit --------------------------------------------------------------------
class Leaning(HiddenVariableModel):
    """A model of one's own (no ontic_tables): lambda leans towards A's setting by ``m``."""

    name = "test-batch-leaning"
    family = "measurement-dependent"
    assumption_dropped = "measurement independence"
    citation = "Hall, PRL 105, 250404 (2010)"
    parameters = {"m": Parameter(prior=Beta(2, 2), default=0.5)}  # noqa: RUF012

    def ontic(self, p: Any, xp: Any) -> tuple[Any, Any]:
        lean = xp.stack([1.0 - p["m"], p["m"]])  # p(lambda | s_a = 0); reversed for s_a = 1
        p_lam = xp.stack([xp.stack([lean, lean]), xp.stack([lean[::-1], lean[::-1]])])
        resp = np.zeros((2, 2, 2, 2, 2))
        resp[:, :, 0, 0, 0] = resp[:, :, 1, 1, 1] = 1.0
        return p_lam, resp


def prior_posterior(model, chains: int, draws: int, seed: int) -> xr.Dataset:
    """A stand-in posterior: prior draws of every parameter, laid out as PyMC's."""
    import pymc as pm

    with pm.Model():
        rvs = model.prior_variables()
    out = pm.draw(list(rvs.values()), draws=chains * draws, random_seed=seed)
    data = {}
    for name, v in zip(rvs, out, strict=True):
        arr = np.asarray(v, dtype=float).reshape(chains, draws, *model.parameters[name].shape)
        dims = ("chain", "draw", *(f"{name}_dim_{k}" for k in range(arr.ndim - 2)))
        data[name] = (dims, arr)
    return xr.Dataset(data, coords={"chain": np.arange(chains), "draw": np.arange(draws)})


def one_table_per_draw(model, posterior: xr.Dataset, idx: np.ndarray) -> dict:
    """The posterior audit as it was: ontic_table of each audited draw, audit_draws of the list."""
    values = {n: posterior[n].values for n in model.parameters}
    tables = [
        model.ontic_table({n: v[c, d] for n, v in values.items()})
        for c in range(posterior.sizes["chain"])
        for d in idx
    ]
    return audit_draws(tables)


@pytest.mark.parametrize(
    ("name", "max_draws"),
    [
        ("quantum-singlet", None),
        ("bell1964", None),
        ("local-polytope", 7),
        ("rbm", None),
        ("rbm", 6),
        ("own-model", 9),  # no override: the loop of the base class
    ],
)
def test_posterior_audit_equals_one_table_per_draw(name, max_draws):
    model = Leaning() if name == "own-model" else models.get(name)
    post = prior_posterior(model, chains=2, draws=20, seed=11)
    vals, attrs = _audit_posterior(model, post, max_draws)
    step = 1 if max_draws is None else int(np.ceil(20 / max_draws))
    idx = np.arange(0, 20, step)
    assert attrs["audit_thinning"] == str(step)
    np.testing.assert_array_equal(vals["_audit_draws"], idx)
    want = one_table_per_draw(model, post, idx)
    for key, wkey in (("mi_bits", "mi_bits"), ("hall_M", "hall_M")):
        assert vals[key].shape == (2, idx.size)
        np.testing.assert_allclose(vals[key].ravel(), want[wkey], rtol=1e-12, atol=1e-15)
    counts = dict(zip(*np.unique(want["classification"], return_counts=True), strict=True))
    assert json.loads(attrs["classification_counts"]) == {str(k): int(v) for k, v in counts.items()}
    assert float(attrs["audit_seconds_per_draw"]) > 0.0


def test_posterior_audit_thins_by_the_time_per_draw(monkeypatch):
    """Over the time budget, the stride is the estimated time over the budget: with a budget
    of a hair every draw but chain 0's first is cut, whatever the path (no timing asserted)."""
    monkeypatch.setattr(posterior_audit, "AUDIT_TIME_BUDGET", 1e-12)
    model = models.get("rbm")
    post = prior_posterior(model, chains=2, draws=30, seed=12)
    vals, attrs = _audit_posterior(model, post, None)
    step = int(attrs["audit_thinning"])
    assert step >= 30
    np.testing.assert_array_equal(vals["_audit_draws"], [0])
    want = one_table_per_draw(model, post, np.array([0]))
    np.testing.assert_allclose(vals["mi_bits"].ravel(), want["mi_bits"], rtol=1e-12)
