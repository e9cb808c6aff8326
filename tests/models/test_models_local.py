"""Local, measurement-independent models: local-polytope and bell1964 (Bell 1964; Fine 1982)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bellmodels import Scenario, models

SQRT2 = np.sqrt(2.0)


def chsh_values(p: np.ndarray) -> np.ndarray:
    """The four CHSH variants S_k (minus sign on term k) of a 2x2 behaviour."""
    e = p[..., 0, 0] + p[..., 1, 1] - p[..., 0, 1] - p[..., 1, 0]
    terms = np.array([e[0, 0], e[0, 1], e[1, 0], e[1, 1]])
    return np.array([terms.sum() - 2 * terms[k] for k in range(4)])


def audit(model, **kw):
    from bellmodels.auditing import audit as _audit

    return _audit(model, compute_min_mi=False, compute_min_hall_M=False, **kw)


# -- local-polytope ---------------------------------------------------------------------------
@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.floats(0.01, 5.0))
def test_local_polytope_never_exceeds_two(seed: int, concentration: float) -> None:
    w = np.random.default_rng(seed).dirichlet(np.full(16, concentration))
    p = models.get("local-polytope", weights=w).behaviour()
    assert np.abs(chsh_values(p)).max() <= 2.0 + 1e-12


def test_local_polytope_vertices_reach_two() -> None:
    """Each deterministic strategy gives |S| = 2 for some variant: the bound is attained."""
    m = models.get("local-polytope")
    for k in range(16):
        w = np.zeros(16)
        w[k] = 1.0
        assert np.abs(chsh_values(m.behaviour({"weights": w}))).max() == pytest.approx(2.0)


def test_local_polytope_rejects_off_simplex_weights() -> None:
    with pytest.raises(ValueError, match=r"sum to 1\.6, not 1: weights must lie on the simplex"):
        models.get("local-polytope", weights=np.full(16, 0.1))


def test_a_negative_weight_is_named_with_its_sign() -> None:
    """The constructor names the weight and says it is negative (issue #27), and so does an
    evaluation at off-simplex parameters."""
    w = np.full(16, 1 / 16)
    w[5], w[6] = -0.01, w[6] + 0.01 + 1 / 16
    w[0] -= 1 / 16
    with pytest.raises(ValueError, match=r"'weights' of model 'local-polytope': weight 5 is neg"):
        models.get("local-polytope", weights=w)
    with pytest.raises(ValueError, match=r"weight 5 is negative \(-0.01\)"):
        models.get("local-polytope").behaviour({"weights": w})


def test_local_polytope_any_k() -> None:
    scn = Scenario.chained(3)
    m = models.get("local-polytope", scenario=scn)
    assert m.parameters["weights"].shape == (64,)
    w = np.random.default_rng(0).dirichlet(np.ones(64))
    np.testing.assert_allclose(
        m.ontic_table({"weights": w}).behaviour(), m.behaviour({"weights": w})
    )


def test_local_polytope_sampler_reads_the_strategy() -> None:
    """One strategy '+-;-+' with weight 1: A says +1 for a, -1 for a'; B says -1, +1."""
    m = models.get("local-polytope")
    labels = [str(x) for x in m.ontic_table().p_lambda["lam"].values]
    w = np.zeros(16)
    w[labels.index("+-;-+")] = 1.0
    t = models.get("local-polytope", weights=w).sample_trials(1000, seed=0)
    assert np.all(t.outcome_a == np.where(t.setting_a == 0, 1, -1))
    assert np.all(t.outcome_b == np.where(t.setting_b == 0, -1, 1))


def test_local_polytope_classification() -> None:
    w = np.random.default_rng(1).dirichlet(np.ones(16))
    r = audit(models.get("local-polytope", weights=w))
    assert r.classification == "local & measurement-independent"
    assert r.mi_bits == pytest.approx(0.0, abs=1e-12)


# -- bell1964 ---------------------------------------------------------------------------------
def test_bell1964_saturates_two_at_chsh() -> None:
    p = models.get("bell1964").behaviour()
    assert np.abs(chsh_values(p)).max() == pytest.approx(2.0, abs=1e-12)
    e = p[..., 0, 0] + p[..., 1, 1] - p[..., 0, 1] - p[..., 1, 0]
    np.testing.assert_allclose(e, [[-0.5, -0.5], [-0.5, 0.5]], atol=1e-12)  # sawtooth


@settings(max_examples=60, deadline=None)
@given(
    st.floats(0.0, 1.0),
    st.lists(st.floats(-np.pi, np.pi), min_size=4, max_size=4),
)
def test_bell1964_never_exceeds_two(v: float, angles: list[float]) -> None:
    scn = Scenario(tuple(angles[:2]), tuple(angles[2:]))
    m = models.get("bell1964", scenario=scn, visibility=v)
    p = m.behaviour()
    assert np.abs(chsh_values(p)).max() <= 2.0 + 1e-9
    np.testing.assert_allclose(m.ontic_table().behaviour(), p, atol=1e-12)


def test_bell1964_ontic_table_is_deterministic_and_exact() -> None:
    m = models.get("bell1964")
    t = m.ontic_table()
    resp = t.response.values[:, :, :-1]  # arcs (the last lambda is noise)
    assert set(np.unique(resp)) <= {0.0, 1.0}
    # arcs of the CHSH circle: cuts every 45 degrees, each arc 1/8
    np.testing.assert_allclose(t.p_lambda.values[0, 0, :-1], np.full(8, 1 / 8))
    assert t.p_lambda.values[0, 0, -1] == 0.0  # V = 1: no noise


def test_bell1964_offsets_and_switch() -> None:
    assert set(models.get("bell1964").parameters) == {"visibility", "offset_a", "offset_b"}
    assert set(models.get("bell1964", offsets=False).parameters) == {"visibility"}
    p = models.get("bell1964", offset_b=np.array([0.0, -np.pi / 4])).behaviour()
    # b' rotated from -pi/4 to -pi/2: orthogonal to a = 0, so E(a, b') = 0
    e = p[..., 0, 0] + p[..., 1, 1] - p[..., 0, 1] - p[..., 1, 0]
    assert e[0, 1] == pytest.approx(0.0, abs=1e-12)


def test_bell1964_three_settings_and_visibility() -> None:
    scn = Scenario.chained(3)
    m = models.get("bell1964", scenario=scn, visibility=0.7)
    np.testing.assert_allclose(m.ontic_table().behaviour(), m.behaviour(), atol=1e-12)
    r = audit(m)
    assert r.classification == "local & measurement-independent"


def test_bell1964_classification() -> None:
    r = audit(models.get("bell1964"))
    assert r.classification == "local & measurement-independent"
    assert r.hall_M == pytest.approx(0.0, abs=1e-12)
    assert r.S == pytest.approx(2.0)
