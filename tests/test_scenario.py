"""Scenario: CHSH angles, K settings, setting lookup, settings distributions."""

from __future__ import annotations

import numpy as np
import pytest

from bellmodels import Scenario


def test_chsh_angles_and_singlet_correlators(chsh):
    assert chsh.angles_a == (0.0, np.pi / 2)
    assert chsh.angles_b == (np.pi / 4, -np.pi / 4)
    e = -np.cos(chsh.angle_differences())
    # the singlet at the CHSH angles: three correlators -1/sqrt2 and E(a', b') = +1/sqrt2
    np.testing.assert_allclose(e, [[-1, -1], [-1, 1]] / np.sqrt(2), atol=1e-15)


def test_chained_scenario_neighbours_are_pi_over_2k_apart():
    k = 4
    scn = Scenario.chained(k)
    chain = [x for pair in zip(scn.angles_a, scn.angles_b, strict=True) for x in pair]
    np.testing.assert_allclose(np.diff(chain), np.pi / (2 * k))
    assert scn.labels_a == ("a0", "a1", "a2", "a3")


def test_setting_index_by_label_index_and_digit_string(chsh):
    assert chsh.setting_index("a", "a'") == 1
    assert chsh.setting_index("b", 0) == 0
    assert chsh.setting_index("b", "1") == 1
    with pytest.raises(ValueError, match=r"unknown setting 'c' for party A.*\['a', \"a'\"\]"):
        chsh.setting_index("a", "c")
    with pytest.raises(ValueError, match="unknown setting 2 for party B"):
        chsh.setting_index("b", 2)


def test_settings_distribution_forms(chsh):
    np.testing.assert_allclose(chsh.settings_distribution(), 0.25)
    joint = chsh.settings_distribution(([0.9, 0.1], [0.5, 0.5]))
    np.testing.assert_allclose(joint, [[0.45, 0.45], [0.05, 0.05]])
    with pytest.raises(ValueError, match="sum to 1"):
        chsh.settings_distribution(np.full((2, 2), 0.3))
    # a nested list is a joint distribution, never a pair of marginals
    np.testing.assert_allclose(chsh.settings_distribution([[0.5, 0], [0, 0.5]]), np.eye(2) / 2)
    with pytest.raises(ValueError, match="shape"):
        chsh.settings_distribution(np.ones(3) / 3)


def test_draw_settings_is_seeded_and_follows_the_distribution(chsh):
    p = np.array([[0.1, 0.2], [0.3, 0.4]])
    sa, sb = chsh.draw_settings(200_000, np.random.default_rng(3), p)
    sa2, sb2 = chsh.draw_settings(200_000, np.random.default_rng(3), p)
    assert np.array_equal(sa, sa2) and np.array_equal(sb, sb2)
    freq = np.bincount(sa * 2 + sb, minlength=4).reshape(2, 2) / sa.size
    se = np.sqrt(p * (1 - p) / sa.size)
    assert np.all(np.abs(freq - p) < 5 * se)


def test_json_round_trip_and_validation():
    scn = Scenario.from_angles([0, 1, 2], [0.5, 1.5], labels_b=["x", "y"])
    assert Scenario.from_json(scn.to_json()) == scn
    with pytest.raises(ValueError, match="at least 2 settings"):
        Scenario((0.0,), (0.0, 1.0))
    with pytest.raises(ValueError, match="distinct"):
        Scenario((0.0, 1.0), (0.0, 1.0), labels_a=("a", "a"))
