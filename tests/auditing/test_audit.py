"""The shared audit: hand-built tables with known answers, Hall's bound, min-MI, data audits."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
from _chsh_reference import DELFT, WEIHS, counts_from_rows, singlet
from hypothesis import given, settings
from hypothesis import strategies as st

from bellmodels import Counts, OnticTable, Scenario
from bellmodels.auditing import (
    CLASSIFICATIONS,
    DATA_CLASSIFICATIONS,
    BehaviourAudit,
    DataAudit,
    ModelAudit,
    audit,
    audit_draws,
    min_hall_M,
    min_hall_M_model,
    min_mi_bits,
    min_mi_model,
)
from bellmodels.auditing.measures import DRAW_MEASURES
from bellmodels.behaviour import TSIRELSON, Behaviour
from bellmodels.ontic import local_deterministic_strategies

COMMON_KEYS = {"kind", "source", "correlators", "S", "S_values", "no_signalling", "min_mi_bits",
               "ch_J", "classification", "notes"}  # fmt: skip
MODEL_KEYS = {
    "parameter_independence_violation",
    "outcome_independence_violation",
    "mi_bits",
    "hall_M",
    "hall_M_a",
    "hall_M_b",
    "hall_bound",
    "respects_hall_bound",
    "n_lambda",
}
DATA_KEYS = {"verdict", "S_se", "ch_J_se", "chained_se", "no_signalling_p_value", "n_trials"}


def local_response(pa: np.ndarray, pb: np.ndarray) -> np.ndarray:
    """(Ka, Kb, L, 2, 2) product response from p(x_a=+1 | s_a, lam) and p(x_b=+1 | s_b, lam)."""
    qa = np.stack([1 - pa, pa], axis=-1)  # (Ka, L, 2)
    qb = np.stack([1 - pb, pb], axis=-1)  # (Kb, L, 2)
    return np.einsum("alx,bly->ablxy", qa, qb)


def pr_box_one_lambda() -> np.ndarray:
    resp = np.zeros((2, 2, 1, 2, 2))
    for i, j, x in itertools.product(range(2), range(2), range(2)):
        resp[i, j, 0, x, x if i * j == 0 else 1 - x] = 0.5
    return resp


# -- hand-built tables ------------------------------------------------------------------------
def test_local_measurement_independent_table(chsh):
    # three lambda values with stochastic local responses, same p(lambda) for every setting pair
    pa = np.array([[0.9, 0.2, 0.5], [0.1, 0.7, 1.0]])
    pb = np.array([[0.3, 0.8, 0.0], [0.6, 0.4, 0.5]])
    table = OnticTable(np.array([0.5, 0.3, 0.2]), local_response(pa, pb), chsh)
    r = audit(table)
    assert r.classification == "local & measurement-independent"
    assert r.mi_bits == 0.0 and r.hall_M == 0.0 and r.hall_M_a == 0.0 and r.hall_M_b == 0.0
    assert r.parameter_independence_violation < 1e-15  # zero up to rounding
    assert r.outcome_independence_violation < 1e-15
    assert r.no_signalling < 1e-15 and r.no_signalling_ok
    assert r.S <= 2.0 and r.hall_bound == 2.0 and r.respects_hall_bound
    assert r.min_mi_bits < 1e-7  # a local MI behaviour needs no measurement dependence


def test_pr_box_as_a_one_lambda_table(chsh):
    r = audit(OnticTable(np.ones(1), pr_box_one_lambda(), chsh))
    assert r.S == 4.0 and list(r.S_values) == [4.0, 0.0, 0.0, 0.0]
    assert r.no_signalling == 0.0 and r.no_signalling_ok
    assert r.parameter_independence_violation == 0.0
    # p(++|s, lam) = 1/2 (or 0) against p(+|s, lam) p(+|s, lam) = 1/4
    assert r.outcome_independence_violation == 0.25
    assert r.classification == "outcome-dependent (nonlocal)"
    assert r.mi_bits == 0.0 and r.hall_M == 0.0
    assert not r.respects_hall_bound  # Hall's bound is for local models
    assert r.ch_J == pytest.approx(0.5)  # (S_0 - 2) / 4


def test_pr_box_as_a_parameter_dependent_table(chsh):
    # lambda = a uniform bit r; A outputs r, B outputs r XOR (s_a AND s_b): B's response depends
    # on A's setting (PI fails), each response is deterministic (OI holds), B's marginal stays
    # 1/2 (no signalling). The behaviour is the PR box.
    resp = np.zeros((2, 2, 2, 2, 2))
    for i, j, lam in itertools.product(range(2), range(2), range(2)):
        resp[i, j, lam, lam, lam ^ (i & j)] = 1.0
    r = audit(OnticTable(np.full(2, 0.5), resp, chsh))
    assert r.classification == "parameter-dependent (nonlocal)"
    assert r.parameter_independence_violation == 1.0
    assert r.outcome_independence_violation == 0.0
    assert r.no_signalling == 0.0 and r.S == 4.0


def test_signalling_table(chsh):
    # one lambda: B's outcome copies A's setting, so B's marginal depends on A's setting. PI
    # fails (non-local), and as the behaviour signals that is the class reported.
    resp = np.zeros((2, 2, 1, 2, 2))
    for i, j, x in itertools.product(range(2), range(2), range(2)):
        resp[i, j, 0, x, i] = 0.5
    r = audit(OnticTable(np.ones(1), resp, chsh))
    assert r.classification == "signalling"
    assert r.no_signalling == 1.0 and not r.no_signalling_ok
    assert r.parameter_independence_violation == 1.0
    # a local model needs lambda to carry A's setting: exactly H(S_a) = 1 bit
    assert r.min_mi_bits == pytest.approx(1.0, abs=1e-6)


def test_measurement_dependent_table_by_hand(chsh):
    # four deterministic local strategies in two flip-pairs: lambda_0 = "++;++" and its global
    # flip "--;--", lambda_1 = "+-;++" (A flips at a') and its flip "-+;--". Each pair is drawn
    # with p_0(s) = [[3/4, 1/2], [1/2, 1/4]] (resp. 1 - p_0(s)), split evenly inside the pair, so
    # every marginal is 1/2 (no signalling) while p(lambda | s) depends on s.
    # MI: the split inside a pair is independent of s, so MI = MI(pair; s). Uniform p(s) =>
    # p(pair 0) = (3/4 + 1/2 + 1/2 + 1/4) / 4 = 1/2, H(pair) = 1 bit,
    # H(pair | s) = (h(3/4) + 1 + 1 + h(1/4)) / 4 = (1 + h(1/4)) / 2 with h(1/4) = 2 - (3/4) log2 3,
    # MI = 1 - (1 + h(1/4)) / 2 = (3/8) log2 3 - 1/2 = 0.0943609...
    # Hall M: (a,b) vs (a',b'): 4 |3/8 - 1/8| = 1; pairs differing in one setting only:
    # 4 |3/8 - 1/4| = 1/2, so M_A = M_B = 1/2; bound min(4, 2 + 3) = 4.
    # Correlators: pair 0 gives E = +1 everywhere, pair 1 gives E = -1 at a', so
    # E(a, .) = 1, E(a', s_b) = 2 p_0 - 1: E(a',b) = 0, E(a',b') = -1/2; S_0 = 2.5 > 2.
    resp, labels = local_deterministic_strategies(chsh)
    chosen = [labels.index(x) for x in ("++;++", "--;--", "+-;++", "-+;--")]
    p0 = np.array([[0.75, 0.5], [0.5, 0.25]])
    p_lam = np.stack([p0 / 2, p0 / 2, (1 - p0) / 2, (1 - p0) / 2], axis=-1)
    table = OnticTable(p_lam, np.moveaxis(resp[chosen], 0, 2), chsh)
    r = audit(table)
    assert r.mi_bits == pytest.approx(3 / 8 * np.log2(3) - 0.5, abs=1e-14)
    assert r.hall_M == pytest.approx(1.0, abs=1e-15)
    assert r.hall_M_a == pytest.approx(0.5, abs=1e-15)
    assert r.hall_M_b == pytest.approx(0.5, abs=1e-15)
    assert r.hall_bound == 4.0 and r.respects_hall_bound
    assert r.no_signalling == pytest.approx(0.0, abs=1e-15)
    assert r.classification == "local & measurement-dependent"
    assert r.parameter_independence_violation == 0.0
    assert r.outcome_independence_violation == 0.0
    np.testing.assert_allclose(r.correlators, [[1.0, 1.0], [0.0, -0.5]], atol=1e-15)
    assert r.S == pytest.approx(2.5, abs=1e-14) and r.S_values[0] == pytest.approx(2.5)
    # a local model needs some MI to reach S = 2.5, but no more than this table spends
    assert 0.0 < r.min_mi_bits <= r.mi_bits + 1e-7
    # settings only (a,b) and (a',b') (1/2 each): p(pair 0) = 1/2, H(pair | s) = h(1/4),
    # MI = 1 - h(1/4) = (3/4) log2 3 - 1
    r2 = audit(table, setting_probs=np.array([[0.5, 0.0], [0.0, 0.5]]), compute_min_hall_M=False)
    assert r2.mi_bits == pytest.approx(0.75 * np.log2(3) - 1, abs=1e-14)
    assert r2.settings_distribution == "given"


def test_measurement_dependent_table_with_disjoint_supports_checks_pi_only_where_both_live(chsh):
    # lambda_0 only at (a, b), lambda_1 elsewhere: B's responses for lambda_0 at (a', b) are
    # arbitrary (never used), so they must not count as parameter dependence
    resp = np.zeros((2, 2, 2, 2, 2))
    resp[..., 1, 1] = 1.0  # both output +1 ...
    resp[1, 0, 0] = [[1.0, 0.0], [0.0, 0.0]]  # ... except lambda_0 at (a', b), never drawn
    p = np.zeros((2, 2, 2))
    p[..., 1] = 1.0
    p[0, 0] = [1.0, 0.0]
    r = audit(OnticTable(p, resp, chsh))
    assert r.parameter_independence_violation == 0.0
    assert r.classification == "local & measurement-dependent"
    assert r.hall_M == 2.0


# -- Hall's bound, property test ------------------------------------------------------------
@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_lam=st.integers(1, 20),
    concentration=st.sampled_from([0.05, 0.3, 1.0, 5.0]),
    deterministic=st.booleans(),
)
def test_hall_bound_holds_for_random_local_tables(seed, n_lam, concentration, deterministic):
    scn = Scenario.chsh()
    rng = np.random.default_rng(seed)
    if deterministic:
        resp_all, _ = local_deterministic_strategies(scn)
        resp = np.moveaxis(resp_all[rng.integers(0, 16, n_lam)], 0, 2)
    else:
        pa, pb = rng.random((2, n_lam)), rng.random((2, n_lam))
        pa[rng.random(pa.shape) < 0.5] = rng.integers(0, 2)  # push some responses to 0/1
        resp = local_response(pa, pb)
    p_md = rng.dirichlet(np.full(n_lam, concentration), size=(2, 2))
    r = audit(OnticTable(p_md, resp, scn), compute_min_mi=False, compute_min_hall_M=False)
    # local responses: always classified local, even when measurement dependence makes the
    # behaviour signal (p(lambda | s) depending on the far setting moves marginals)
    assert r.classification in {CLASSIFICATIONS[0], CLASSIFICATIONS[1]}
    if not r.no_signalling_ok:
        assert r.classification == "local & measurement-dependent"
        assert any("signals" in note for note in r.notes)
    assert r.parameter_independence_violation < 1e-12
    assert r.S <= min(4.0, 2.0 + 3.0 * r.hall_M) + 1e-9
    assert r.respects_hall_bound
    assert 0.0 <= r.hall_M <= 2.0 + 1e-12 and r.hall_M_a <= r.hall_M and r.hall_M_b <= r.hall_M
    # one-sided: only pairs differing in one setting, never more than M
    p_mi = rng.dirichlet(np.full(n_lam, concentration))
    r_mi = audit(OnticTable(p_mi, resp, scn), compute_min_mi=False, compute_min_hall_M=False)
    assert r_mi.classification == "local & measurement-independent"
    assert r_mi.S <= 2.0 + 1e-9
    assert r_mi.mi_bits == pytest.approx(0.0, abs=1e-12)


# -- the batched audit of many tables (posterior draws) --------------------------------------
@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n_lam=st.integers(1, 12), k=st.sampled_from([2, 3]))
def test_audit_draws_equals_one_audit_per_table(seed, n_lam, k):
    """Every number and class of the vectorised audit equals audit() of each table, on random
    tables of every kind: local or not, measurement-(in)dependent, signalling, with lambda
    values missing at some setting pairs (where PI and OI must not be judged)."""
    scn = Scenario(tuple(np.linspace(0, 1, k)), tuple(np.linspace(0.2, 1.4, k)))
    rng = np.random.default_rng(seed)
    tables = []
    for kind in range(6):
        p_l = rng.dirichlet(np.full(n_lam, 0.3), size=(k, k))
        p_l[rng.random(p_l.shape) < 0.2] = 0.0  # sparse supports
        p_l[..., 0] += 1e-3
        p_l /= p_l.sum(axis=-1, keepdims=True)
        if kind == 0:
            p_l = np.broadcast_to(p_l[0, 0], p_l.shape).copy()  # measurement-independent
        resp = rng.dirichlet(np.ones(4), size=(k, k, n_lam)).reshape(k, k, n_lam, 2, 2)
        if kind in (0, 1):  # local responses
            pa, pb = rng.random((k, n_lam)), rng.random((k, n_lam))
            resp = np.stack(
                [
                    np.stack(
                        [
                            np.einsum(
                                "lx,ly->lxy",
                                np.stack([1 - pa[i], pa[i]], -1),
                                np.stack([1 - pb[j], pb[j]], -1),
                            )
                            for j in range(k)
                        ]
                    )
                    for i in range(k)
                ]
            )
        tables.append(OnticTable(p_l, resp, scn))
    # outcome-dependent: correlated outcomes that ignore the settings, lambda independent of them
    joint = rng.dirichlet(np.ones(4), size=n_lam).reshape(n_lam, 2, 2)
    p_mi = rng.dirichlet(np.ones(n_lam))
    tables.append(OnticTable(p_mi, np.broadcast_to(joint, (k, k, n_lam, 2, 2)), scn))
    # parameter-dependent but no-signalling: A's bias follows B's setting, opposite for the two
    # halves of an evenly weighted lambda alphabet, so it averages out
    m = 2 * max(1, n_lam // 2)
    shift = (
        0.3
        * np.where(np.arange(k) == 0, 1.0, -1.0)[None, :, None]
        * np.where(np.arange(m) % 2 == 0, 1.0, -1.0)
    )
    pa = np.broadcast_to(0.5 + shift, (k, k, m))
    resp_pd = np.stack([1 - pa, pa], -1)[..., :, None] * np.full(2, 0.5)
    tables.append(OnticTable(np.full(m, 1 / m), resp_pd, scn))
    batch = audit_draws(tables[:6])
    tables_pd = tables[6:]
    for i, table in enumerate(tables[:6]):
        one = audit(table, compute_min_mi=False, compute_min_hall_M=False)
        for key in DRAW_MEASURES:
            assert batch[key][i] == pytest.approx(getattr(one, key), abs=1e-12), key
        assert batch["classification"][i] == one.classification
    assert batch["classification"][0] == "local & measurement-independent"
    assert batch["mi_bits"][0] == pytest.approx(0.0, abs=1e-12)
    assert batch["parameter_independence_violation"][1] < 1e-12
    assert set(batch["classification"][2:]) == {"signalling"}  # random responses signal
    od, pd = audit_draws(tables_pd[:1]), audit_draws(tables_pd[1:])
    for out, table in ((od, tables_pd[0]), (pd, tables_pd[1])):
        one = audit(table, compute_min_mi=False, compute_min_hall_M=False)
        assert out["classification"][0] == one.classification
        assert out["parameter_independence_violation"][0] == pytest.approx(
            one.parameter_independence_violation, abs=1e-12
        )
        assert out["outcome_independence_violation"][0] == pytest.approx(
            one.outcome_independence_violation, abs=1e-12
        )
    assert pd["classification"][0] == "parameter-dependent (nonlocal)"
    assert pd["parameter_independence_violation"][0] == pytest.approx(0.6)
    assert od["classification"][0] == "outcome-dependent (nonlocal)"


def test_audit_draws_pads_smaller_alphabets(chsh):
    """Draws of one model may list different numbers of lambda values (toner-bacon does)."""
    rng = np.random.default_rng(2)
    tables = []
    for n_lam in (1, 3, 5):
        p_l = rng.dirichlet(np.ones(n_lam), size=(2, 2))
        resp = rng.dirichlet(np.ones(4), size=(2, 2, n_lam)).reshape(2, 2, n_lam, 2, 2)
        tables.append(OnticTable(p_l, resp, chsh))
    batch = audit_draws(tables)
    for i, table in enumerate(tables):
        one = audit(table, compute_min_mi=False, compute_min_hall_M=False)
        assert batch["mi_bits"][i] == pytest.approx(one.mi_bits, abs=1e-12)
        assert batch["hall_M"][i] == pytest.approx(one.hall_M, abs=1e-12)
        assert batch["outcome_independence_violation"][i] == pytest.approx(
            one.outcome_independence_violation, abs=1e-12
        )
        assert batch["classification"][i] == one.classification
    with pytest.raises(ValueError, match="at least one"):
        audit_draws([])
    with pytest.raises(ValueError, match="one scenario"):
        audit_draws(
            [
                tables[0],
                OnticTable(
                    np.ones(1),
                    np.full((3, 2, 1, 2, 2), 0.25),
                    Scenario((0.0, 1.0, 2.0), (0.0, 1.0)),
                ),
            ]
        )


# -- least measurement dependence -----------------------------------------------------------
def _min_mi_alternating(p_cond: np.ndarray, ps: np.ndarray, iterations: int = 3000) -> float:
    """Independent computation of min MI by alternating minimisation (Blahut-Arimoto style).

    MI(lambda; s) = min_r sum_s p(s) KL(q(.|s) || r) (Csiszar & Tusnady 1984), so alternate:
    for fixed r the best q(.|s) is the I-projection of r onto {q : the strategies' outcomes at s
    have law P(.|s)}, i.e. r rescaled within each group of strategies giving the same outcome
    pair at s; for fixed q the best r is sum_s p(s) q(.|s). Strategies enumerated here by hand.
    """
    settings_list = list(itertools.product(range(2), range(2)))
    strategies = list(itertools.product(range(2), repeat=4))  # (x_a(a), x_a(a'), x_b(b), x_b(b'))
    out = np.array([[(st_[i], st_[2 + j]) for i, j in settings_list] for st_ in strategies])
    r = np.full(len(strategies), 1 / len(strategies))
    q = np.zeros((4, len(strategies)))
    for _ in range(iterations):
        for s, (i, j) in enumerate(settings_list):
            for xa, xb in itertools.product(range(2), range(2)):
                sel = (out[:, s, 0] == xa) & (out[:, s, 1] == xb)
                q[s, sel] = r[sel] * p_cond[i, j, xa, xb] / r[sel].sum()
        r = ps.ravel() @ q
    w = ps.ravel()[:, None] * q
    mask = w > 0
    return float(np.sum(w[mask] * np.log2(q[mask] / np.broadcast_to(r, q.shape)[mask])))


def test_min_mi_of_the_singlet_matches_an_independent_computation(chsh):
    p = singlet(chsh)
    ps = np.full((2, 2), 0.25)
    value = min_mi_bits(p, chsh)
    reference = _min_mi_alternating(p, ps, iterations=300)
    assert value == pytest.approx(reference, abs=1e-4)
    assert 0.04 < value < 0.05  # Hall (2011): about 0.046 bits for the singlet at CHSH angles
    # a noisy PR box (S = 3.2) with non-uniform settings, same check
    noisy_pr = np.zeros((2, 2, 2, 2))
    for i, j, x in itertools.product(range(2), range(2), range(2)):
        noisy_pr[i, j, x, x if i * j == 0 else 1 - x] += 0.8 * 0.5
    noisy_pr += 0.2 * 0.25
    ps2 = np.array([[0.1, 0.2], [0.3, 0.4]])
    value2 = min_mi_bits(noisy_pr, chsh, setting_probs=ps2)
    assert value2 == pytest.approx(_min_mi_alternating(noisy_pr, ps2, iterations=3000), abs=1e-4)


def test_min_mi_model_attains_the_minimum_and_reproduces_the_behaviour(chsh):
    p = singlet(chsh)
    table = min_mi_model(p, chsh)
    np.testing.assert_allclose(table.behaviour(), p, atol=1e-7)
    r = audit(table)
    assert r.classification == "local & measurement-dependent"
    assert r.mi_bits == pytest.approx(r.min_mi_bits, abs=1e-6)
    assert r.S == pytest.approx(TSIRELSON, abs=1e-6)
    assert r.respects_hall_bound or r.S <= r.hall_bound + 1e-6


def test_min_hall_M_respects_and_attains_hall_bound(chsh):
    # Hall's bound |S| <= 2 + 3M gives M >= (S - 2) / 3; for the singlet the LP attains it,
    # consistent with the bound being tight (Hall, PRL 105, 250404 (2010))
    m = min_hall_M(singlet(chsh), chsh)
    assert m >= (TSIRELSON - 2) / 3 - 1e-7
    assert m == pytest.approx((TSIRELSON - 2) / 3, abs=1e-6)
    assert min_hall_M(np.full((2, 2, 2, 2), 0.25), chsh) < 1e-7
    # the optimal table saturates the bound, so the audit's M is checked where it is tight
    r = audit(min_hall_M_model(singlet(chsh), chsh), compute_min_mi=False)
    assert r.classification == "local & measurement-dependent"
    assert r.S == pytest.approx(TSIRELSON, abs=1e-6)
    assert r.hall_M == pytest.approx(m, abs=1e-6)
    assert r.S == pytest.approx(r.hall_bound, abs=1e-5)


def test_min_mi_of_chained_singlets_is_positive_and_feasible():
    for k in (3,):
        scn = Scenario.chained(k)
        value = min_mi_bits(singlet(scn), scn)
        assert 0.0 < value < 1.0


# -- models (duck-typed) and behaviours -------------------------------------------------------
def test_audit_reads_anything_with_an_ontic_table(chsh):
    class PRModel:
        name = "toy-pr"
        scenario = chsh

        def ontic_table(self, params=None):
            return OnticTable(np.ones(1), pr_box_one_lambda(), chsh)

        def behaviour(self, params=None):
            return np.full((2, 2, 2, 2), 0.25)  # deliberately inconsistent with its table

    r = audit(PRModel(), compute_min_mi=False)
    assert r.classification == "outcome-dependent (nonlocal)"
    assert r.source == "model toy-pr"
    assert any("differs from its ontic table" in n for n in r.notes)
    with pytest.raises(TypeError, match="audit"):
        audit(42)


def test_exact_behaviour_audit(chsh):
    r = audit(Behaviour(singlet(chsh), chsh))
    assert isinstance(r, BehaviourAudit) and not isinstance(r, DataAudit)
    assert r.kind == "behaviour" and r.S == pytest.approx(TSIRELSON)
    assert r.classification == "nonlocal or measurement-dependent"
    assert r.verdict.startswith("outside the local polytope (S = 2.828)")
    assert not hasattr(r, "mi_bits") and not hasattr(r, "S_se")  # no lambda, no sampling
    flat = audit(Behaviour(np.full((2, 2, 2, 2), 0.25), chsh))
    assert flat.classification == flat.verdict == "compatible with local & measurement-independent"
    keys = set(flat.to_dict())
    assert COMMON_KEYS | {"verdict"} <= keys and not keys & (MODEL_KEYS | DATA_KEYS - {"verdict"})


def test_each_kind_of_audit_has_only_its_fields(chsh):
    """A table's audit has the hidden-variable fields and no standard errors; a data audit the
    reverse; ``classification`` is always one of its kind's fixed strings."""
    table = audit(OnticTable(np.ones(1), pr_box_one_lambda(), chsh), compute_min_mi=False)
    data = audit(counts_from_rows(DELFT), compute_min_mi=False)
    assert isinstance(table, ModelAudit) and isinstance(data, DataAudit)
    t, d = set(table.to_dict()), set(data.to_dict())
    assert COMMON_KEYS | MODEL_KEYS <= t and not t & DATA_KEYS
    assert COMMON_KEYS | DATA_KEYS <= d and not d & MODEL_KEYS
    assert table.classification in CLASSIFICATIONS
    assert data.classification in DATA_CLASSIFICATIONS
    assert (table.to_dict()["kind"], data.to_dict()["kind"]) == ("ontic", "data")
    assert str(data).splitlines()[2].split(None, 1) == ["verdict", data.verdict]


# -- data -------------------------------------------------------------------------------------
def test_data_audit_of_published_counts():
    delft = audit(counts_from_rows(DELFT))
    weihs = audit(counts_from_rows(WEIHS))
    assert (round(delft.S, 2), round(delft.S_se, 2)) == (2.42, 0.20)
    assert (round(weihs.S, 2), round(weihs.S_se, 2)) == (2.73, 0.02)
    for r in (delft, weihs):
        d = r.to_dict()
        assert COMMON_KEYS | DATA_KEYS <= set(d) and not set(d) & MODEL_KEYS
        assert d["classification"] in DATA_CLASSIFICATIONS and d["verdict"] == r.verdict
        assert json.loads(r.to_json())["S"] == pytest.approx(r.S)
        assert len(d["correlators"]) == 2 and len(d["correlators"][0]) == 2
        assert r.min_mi_bits > 0  # both lie outside the local polytope
        assert r.kind == "data" and r.n_trials in (245, 14573)
    # 2.1 SE is not significant at alpha = 1e-3: the data allow a local model
    assert delft.classification == "compatible with local & measurement-independent"
    assert delft.verdict.startswith("violates the local bound by 2.1 SE")
    assert delft.no_signalling_ok and delft.no_signalling_p_value > 0.1
    # the Weihs coincidences are known to show marginal anomalies (Adenier & Khrennikov,
    # J. Phys. B 40, 131 (2007)); the likelihood-ratio test finds them
    assert weihs.no_signalling_p_value < 1e-10
    assert weihs.classification == "signalling"
    assert weihs.verdict.startswith("signalling: no-signalling rejected")
    assert "violates the local bound by 29.8 SE" in weihs.verdict
    text = str(delft)
    assert "violates the local bound" in text and "2.422" in text


def test_data_audit_with_an_empty_pair_reports_what_it_can(chsh):
    v = counts_from_rows(DELFT).values.copy()
    v[0, 1] = 0
    r = audit(Counts(v, chsh))
    assert r.S is None and r.S_se is None and r.ch_J is None and r.no_signalling is None
    assert any("(a, b')" in n and "zero trials" in n for n in r.notes)
    d = r.to_dict()
    assert d["correlators"][0][1] is None and d["correlators"][1][1] == pytest.approx(-31 / 51)
    assert r.min_mi_bits is not None  # the data's p(s) puts no weight on the empty pair
    assert r.classification == "undetermined" and r.verdict.startswith("undetermined: ")
    json.dumps(d, allow_nan=False)
    # a settings distribution that weighs the empty pair cannot be used
    with pytest.raises(ValueError, match=r"\(a, b'\) has zero trials"):
        min_mi_bits(Behaviour.from_counts(Counts(v, chsh)), setting_probs=np.full((2, 2), 0.25))


def test_data_audit_of_a_chained_scenario():
    scn = Scenario.chained(3)
    rng = np.random.default_rng(0)
    p = singlet(scn)
    v = np.stack([rng.multinomial(2000, p[i, j].ravel()) for i, j in np.ndindex(3, 3)])
    r = audit(Counts(v.reshape(3, 3, 2, 2), scn))
    assert r.chained_local_bound == 4.0
    assert r.chained_value == pytest.approx(6 * np.cos(np.pi / 6), abs=4 * r.chained_se)
    exact_best = Behaviour(p, scn).S  # 2.598 = 3 sqrt(3) / 2 at these angles
    assert exact_best == pytest.approx(1.5 * np.sqrt(3), abs=1e-12)
    assert r.S == pytest.approx(exact_best, abs=4 * r.S_se)
    assert r.min_mi_bits > 0 and r.no_signalling_p_value > 1e-3


def test_report_text_and_json_round_trip(chsh):
    r = audit(OnticTable(np.ones(1), pr_box_one_lambda(), chsh))
    text = str(r)
    assert "outcome-dependent (nonlocal)" in text and "E(a',b') = -1" in text
    d = json.loads(r.to_json())
    assert d["classification"] == r.classification and d["S_values"] == [4.0, 0.0, 0.0, 0.0]
    assert d["correlators"] == [[1.0, 1.0], [1.0, -1.0]]


def test_notebook_reprs_are_short_and_the_html_table_has_every_row(chsh):
    """``bm.audit(x)`` as a notebook cell's last line: a few lines of text, not the dataclass
    dump (1,173 characters for Delft), and an HTML table of what ``str`` shows."""
    from bellmodels import models

    delft = audit(counts_from_rows(DELFT))
    rbm = audit(models.RBM.weinstein2017())
    for r in (delft, rbm, audit(OnticTable(np.ones(1), pr_box_one_lambda(), chsh))):
        text = repr(r)
        assert text.startswith(f"<{type(r).__name__} of ") and len(text.splitlines()) == 3
        assert r.classification in text and "correlators" not in text
        html = r._repr_html_()
        assert html.startswith("<table>") and html.endswith("</table>")
        # one HTML row per line of str(report) under its heading
        assert html.count("<tr>") == len(str(r).splitlines()) - 1
    assert len(repr(rbm)) < 200 and "MI = 0.9812 bits" in repr(rbm) and "Hall M = 1.86" in repr(rbm)
    assert (
        len(repr(delft)) < 300
        and "S = 2.422 ± 0.2038" in repr(delft)
        and "245 trials" in repr(delft)
    )
    assert "MI" not in repr(delft)  # data have no hidden variable
    assert "&amp;" in rbm._repr_html_()  # "local & measurement-dependent", escaped
