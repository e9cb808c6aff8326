"""Shipped datasets: the published S and SE are reproduced, provenance is complete."""

from __future__ import annotations

import numpy as np
import pytest

from bellmodels import Scenario, datasets
from bellmodels.behaviour import Behaviour

PUBLISHED = {
    # name: (total, S, SE, the counts per pair for (++, +-, -+, --))
    "delft2015": (
        245,
        2.42,
        0.20,
        [[23, 3, 4, 23], [33, 11, 5, 30], [22, 10, 6, 24], [4, 20, 21, 6]],
    ),
    "weihs1998": (
        14_573,
        2.73,
        0.02,
        [
            [1683, 418, 361, 1578],
            [1100, 269, 156, 1386],
            [1728, 313, 351, 1978],
            [179, 1636, 1143, 294],
        ],
    ),
}


def test_names():
    # the CHSH tables above, and the CH/Eberhard table vienna2015 (tests/significance/test_significance.py)
    assert datasets.names() == sorted([*PUBLISHED, "vienna2015"])


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_counts_match_the_published_table(name):
    total, _, _, table = PUBLISHED[name]
    counts = datasets.load(name)
    assert counts.total == total
    v = counts.values  # outcome index 1 <-> +1
    for k, (i, j) in enumerate([(0, 0), (0, 1), (1, 0), (1, 1)]):
        assert [v[i, j, 1, 1], v[i, j, 1, 0], v[i, j, 0, 1], v[i, j, 0, 0]] == table[k]


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_published_S_and_SE_reproduced(name):
    _, s_pub, se_pub, _ = PUBLISHED[name]
    counts = datasets.load(name)
    # independent plain-numpy computation of the published expression
    v = counts.values
    n = v.sum(axis=(2, 3))
    e = (v[:, :, 1, 1] + v[:, :, 0, 0] - v[:, :, 1, 0] - v[:, :, 0, 1]) / n
    s = e[0, 0] + e[0, 1] + e[1, 0] - e[1, 1]
    se = np.sqrt(np.sum((1 - e**2) / n))
    assert round(s, 2) == s_pub and round(se, 2) == se_pub
    b = Behaviour.from_counts(counts)  # the package's S = max_k |S_k| picks the same variant
    assert round(b.S, 2) == s_pub and round(b.S_se, 2) == se_pub
    assert b.S == pytest.approx(s, abs=1e-12)


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_provenance_is_complete(name):
    record = datasets.info(name)
    for key in (
        "experiment",
        "paper",
        "counts_source",
        "outcome_convention",
        "angles",
        "notes",
    ):
        assert isinstance(record[key], str) and len(record[key]) > 20, key
    assert record["doi"].startswith("10.")
    assert record["published"]["n"] == PUBLISHED[name][0]
    assert "nominal" in record["angles"]
    counts = datasets.load(name)
    assert counts.provenance["doi"] == record["doi"]
    assert counts.provenance["source"] == f"dataset:{name}"
    assert counts.scenario == Scenario.from_json(record["scenario"]) == datasets.scenario(name)


def test_unknown_dataset_names_the_known_ones():
    with pytest.raises(ValueError, match=r"unknown dataset 'delft2016'; known datasets: delft2015"):
        datasets.load("delft2016")
    with pytest.raises(ValueError, match="unknown dataset"):
        datasets.info("../data")


@pytest.mark.parametrize("name", ["delft2015", "weihs1998"])
def test_singlet_at_the_dataset_angles_has_the_data_sign_pattern(name):
    # the effective angles must let the singlet's E = -cos(a - b) describe the data: same sign
    # in every setting pair and within 0.3 of the observed correlators (Delft is small, Weihs
    # has visibility < 1)

    counts = datasets.load(name)
    observed = Behaviour.from_counts(counts).correlators()
    singlet = -np.cos(counts.scenario.angle_differences())
    assert np.array_equal(np.sign(observed), np.sign(singlet))
    assert np.max(np.abs(observed - singlet)) < 0.3
