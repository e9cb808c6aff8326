"""Trials and Counts core containers (I/O is tested in test_data.py)."""

from __future__ import annotations

import numpy as np
import pytest

from bellmodels import Counts, Trials


def test_counts_tally_matches_a_loop(chsh):
    rng = np.random.default_rng(0)
    n = 5000
    sa, sb = rng.integers(0, 2, n), rng.integers(0, 2, n)
    xa, xb = rng.choice([-1, 1], n), rng.choice([-1, 1], n)
    c = Trials(chsh, sa, sb, xa, xb).counts()
    expected = np.zeros((2, 2, 2, 2), dtype=int)
    for i in range(n):
        expected[sa[i], sb[i], (xa[i] + 1) // 2, (xb[i] + 1) // 2] += 1
    assert np.array_equal(c.values, expected)
    assert c.total == n and c.array.dtype == np.int64
    assert c.array.dims == ("setting_a", "setting_b", "outcome_a", "outcome_b")


def test_trials_reject_bad_values_naming_the_trial(chsh):
    with pytest.raises(ValueError, match="outcome_b of trial 1 is 0"):
        Trials(chsh, [0, 1], [0, 1], [1, 1], [1, 0])
    with pytest.raises(ValueError, match=r"setting_a of trial 0 is 2: expected an index 0..1"):
        Trials(chsh, [2], [0], [1], [1])


def test_counts_validation_and_round_trip_through_dataarray(chsh):
    with pytest.raises(ValueError, match="non-negative"):
        Counts(-np.ones((2, 2, 2, 2), dtype=int), chsh)
    with pytest.raises(ValueError, match=r"count 1\.5 is not a non-negative whole number"):
        Counts(np.full((2, 2, 2, 2), 1.5), chsh)
    values = np.arange(16).reshape(2, 2, 2, 2)
    c = Counts(values, chsh, provenance={"source": "test"})
    again = Counts(c.array)
    assert again == c and again.provenance == {"source": "test"}
    assert c.empty_pairs() == []
    values[1, 1] = 0
    assert Counts(values, chsh).empty_pairs() == [("a'", "b'")]
