"""The detection audit: efficiencies a model spends, fair sampling, the efficiency thresholds."""

from __future__ import annotations

import numpy as np
import pytest

from bellmodels import datasets, models
from bellmodels.auditing import audit
from bellmodels.auditing.detection import (
    EBERHARD_THRESHOLD,
    GARG_MERMIN_THRESHOLD,
    detection_measures,
    efficiency_threshold_chsh,
    max_local_chsh,
)
from bellmodels.models.detection import detection_strategies


def test_thresholds_are_the_published_numbers() -> None:
    assert GARG_MERMIN_THRESHOLD == pytest.approx(0.8284271247, abs=1e-10)
    assert efficiency_threshold_chsh(2 * np.sqrt(2)) == pytest.approx(GARG_MERMIN_THRESHOLD)
    assert EBERHARD_THRESHOLD == pytest.approx(2 / 3)
    for s in (2.0, 2.4, 2.73, 2 * np.sqrt(2), 3.5):
        assert max_local_chsh(efficiency_threshold_chsh(s)) == pytest.approx(s)
    assert efficiency_threshold_chsh(1.5) == 1.0


def test_local_detection_models_fake_within_the_garg_mermin_bound() -> None:
    """Post-selected S of local-detection-loophole never exceeds 4 / eta - 2 at its efficiency
    (equal-efficiency bound; checked at random weights with equal efficiencies)."""
    rng = np.random.default_rng(1)
    m = models.get("local-detection-loophole")
    checked = 0
    for _ in range(400):
        w = rng.dirichlet(np.full(81, 0.1))
        eta_a, eta_b = m.efficiencies({"weights": w})
        eta = min(eta_a, eta_b)
        p = m.behaviour({"weights": w})
        e = p[..., 0, 0] + p[..., 1, 1] - p[..., 0, 1] - p[..., 1, 0]
        s = max(
            abs(e[0, 0] + e[0, 1] + e[1, 0] - e[1, 1]),
            abs(e[0, 0] + e[0, 1] - e[1, 0] + e[1, 1]),
            abs(e[0, 0] - e[0, 1] + e[1, 0] + e[1, 1]),
            abs(-e[0, 0] + e[0, 1] + e[1, 0] + e[1, 1]),
        )
        assert s <= max_local_chsh(eta) + 1e-9
        checked += 1
    assert checked == 400


def test_fair_sampling_audit() -> None:
    gg = audit(models.get("gisin-gisin")).detection
    assert gg is not None and gg["fair_sampling"] is False
    assert (gg["efficiency_a"], gg["efficiency_b"]) == (0.5, 1.0)
    assert gg["fair_sampling_violation"] > 0.1  # P(detect | lambda) ranges over lambda
    assert gg["coincidence_setting_dependence"] < 1e-12  # ... but not over the settings
    q = audit(models.get("quantum-two-qubit", table="post-selected")).detection
    assert q["fair_sampling"] is True and q["fair_sampling_violation"] == 0.0
    c = audit(models.get("quantum-two-qubit", eta_a=0.78, eta_b=0.76, pair=0.01)).detection
    assert c["fair_sampling"] is None  # a complete table post-selects nothing
    assert (c["efficiency_a"], c["efficiency_b"]) == pytest.approx((0.78, 0.76))


def test_setting_dependent_detection_is_measured() -> None:
    """A strategy mixture whose coincidences favour one setting pair shows setting dependence."""
    m = models.get("local-detection-loophole")
    w = np.full(81, 1e-6)
    _, labels = detection_strategies(m.scenario)
    w[labels.index("+0;+0")] = 1.0  # both detect only at the first settings
    w /= w.sum()
    d = detection_measures(m, {"weights": w})
    assert d["coincidence_setting_dependence"] > 0.99
    assert d["fair_sampling"] is False


def test_datasets_say_which_loopholes_they_close() -> None:
    weihs = audit(datasets.load("weihs1998")).detection
    vienna = audit(datasets.load("vienna2015")).detection
    delft = audit(datasets.load("delft2015")).detection
    assert weihs["kind"] == "post-selected"
    assert weihs["loopholes"]["detection"].startswith("open")
    assert weihs["efficiency_threshold"] == pytest.approx(4 / (2.7281 + 2), abs=2e-3)
    assert vienna["kind"] == "complete"
    assert vienna["loopholes"]["detection"].startswith("closed")
    assert vienna["efficiency_threshold"] == pytest.approx(EBERHARD_THRESHOLD)
    assert delft["loopholes"]["detection"].startswith("closed")
    assert delft["efficiency_threshold"] is None  # spin read-outs, not detections
    assert "detection" in audit(datasets.load("weihs1998")).to_dict()
