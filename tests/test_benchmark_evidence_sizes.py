"""The judgement of benchmarks/evidence_sizes.py (issue #28 item 6): which SMC size's error is
honest against the largest run, and when no size may be called honest (the ladder has not
settled, as for the one-unit machines on 10^5 trials)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "evidence_sizes.py"


@pytest.fixture(scope="module")
def sizes():
    spec = importlib.util.spec_from_file_location("evidence_sizes", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _rows(values, se=0.05):
    ladder = ("500x4", "1000x8", "2000x16", "4000x16")
    return [
        {"method": "smc", "size": s, "log_evidence": v, "se": se}
        for s, v in zip(ladder, values, strict=True)
    ]


def test_a_biased_size_is_not_covered_by_its_own_error(sizes):
    # the rbm at 100,000 trials (docs/generated/evidence_sizes.md): 1000x8 is 0.27 nat low
    judged = sizes.judge(_rows([-0.56, -0.27, -0.06, 0.0], se=0.05))
    by = {r["size"]: r for r in judged}
    assert by["4000x16"]["reference"] == "4000x16" and by["4000x16"]["difference"] == 0.0
    assert by["1000x8"]["within"] and not by["1000x8"]["covered"]  # 0.27 > 2 x 0.07
    assert not by["500x4"]["within"]
    assert sizes.smallest_honest(judged) == "2000x16"


def test_no_size_is_honest_when_the_ladder_has_not_settled(sizes):
    # the one-unit crbm at 100,000 trials: each size nats above the one before
    judged = sizes.judge(_rows([-14.5, -6.4, -2.4, 0.0], se=0.6))
    assert sizes.smallest_honest(judged).startswith("none: the largest size is not converged")
    # settled, but the largest run's own spread is above the 0.5 nat bar
    judged = sizes.judge(_rows([-3.0, -1.0, -0.2, 0.0], se=0.6))
    assert sizes.smallest_honest(judged).startswith("none: the largest size's own error")
