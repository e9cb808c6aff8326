"""The statistics of the hidden-units page (docs/demos/hidden_units.py, issue #26): the paired ELPD
difference between two sizes, the Bayes factors between neighbours, and which rows may enter a
statement (the gate and the 0.5 nat bar)."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def page():
    spec = importlib.util.spec_from_file_location(
        "demo_hidden_units", ROOT / "docs" / "demos" / "hidden_units.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


COUNTS = [23, 4, 3, 23, 30, 5, 11, 33, 24, 6, 10, 22, 6, 21, 20, 4]


def _row(n, log_z, se=0.1, elpd_shift=0.0, gate=True, seed=None):
    """A done row of size n: per-cell LOO values shared by all rows, shifted by ``elpd_shift``
    nats in total and, with a ``seed``, jittered cell by cell."""
    cells = -1.5 + 0.3 * np.random.default_rng(0).standard_normal(16) + elpd_shift / 245
    if seed is not None:
        cells = cells + 0.05 * np.random.default_rng(seed).standard_normal(16)
    return {
        "task": f"rbm-{n}",
        "status": "done",
        "n_hidden": n,
        "log_evidence": log_z,
        "log_evidence_se": se,
        "loo_cells": cells.tolist(),
        "cell_counts": COUNTS,
        "elpd_loo": float(np.dot(COUNTS, cells)),
        "gate_ok": gate,
    }


def test_elpd_difference_is_the_paired_per_trial_sum_and_its_standard_error(page):
    a, b = _row(1, -300.0, seed=1), _row(2, -301.0, seed=2)
    d, se = page.elpd_difference(a, b)
    # expand the 16 cells into 245 trials and compute as az.compare does: sqrt(N var(d_i))
    per_trial = np.repeat(np.subtract(a["loo_cells"], b["loo_cells"]), COUNTS)
    assert per_trial.size == 245
    assert d == pytest.approx(per_trial.sum()) == pytest.approx(a["elpd_loo"] - b["elpd_loo"])
    assert se == pytest.approx(math.sqrt(per_trial.size * per_trial.var()))
    assert page.elpd_difference(b, a) == pytest.approx((-d, se))
    other = dict(b, cell_counts=COUNTS[::-1])
    with pytest.raises(ValueError, match="rbm-1 and rbm-2 were fitted to different counts"):
        page.elpd_difference(a, other)


def test_neighbour_bayes_factors_and_the_rows_that_may_enter_a_statement(page):
    by_n = {
        1: _row(1, -320.0, seed=1),
        2: _row(2, -317.0, se=0.2, seed=2),
        3: _row(3, -318.0, se=0.9, seed=3),  # evidence error above the 0.5 nat bar
        4: {"task": "rbm-4", "status": "missing", "n_hidden": 4},
    }
    steps = {s["n"]: s for s in page.neighbours(by_n)}
    assert set(steps) == {2, 3}  # n = 4 not run: no step to it
    assert steps[2]["log_bf"] == pytest.approx(3.0)
    assert steps[2]["log_bf_se"] == pytest.approx(math.hypot(0.1, 0.2))
    assert steps[2]["usable"] and not steps[3]["usable"]
    assert [page.usable(by_n[n]) for n in (1, 2, 3, 4)] == [True, True, False, False]
    assert not page.usable(_row(1, -1.0, gate=False))


def test_verdict_names_the_preferred_size_and_tests_weinstein_beyond_four_units(page):
    # evidence peaks at 4 (larger machines pay an Occam factor); LOO gains up to 4, then nothing
    z = [-330.0, -322.0, -319.0, -318.0, -319.5, -321.0]
    shift = [-40.0, -10.0, -2.0, 0.0, 0.0, 0.0]
    by_n = {
        n: _row(n, z[n - 1], elpd_shift=shift[n - 1], seed=n if n < 4 else None)
        for n in range(1, 7)
    }
    by_n[3]["gate_ok"] = False  # a fit that fails the gate enters no statement
    v = page.verdict(by_n)
    assert v["sizes_usable"] == [1, 2, 4, 5, 6]
    assert v["evidence_best"] == 4 and v["evidence_runner_up"] == 5
    assert v["evidence_margin"] == pytest.approx(1.5)
    assert v["evidence_smallest_tied"] == 4 and not v["evidence_best_is_largest_run"]
    assert v["loo_best"] in (4, 5, 6) and v["loo_smallest_within_1se"] == 4
    assert v["refine_evidence"]["n"] == 5 and v["refine_evidence"]["log_bf"] == pytest.approx(-1.5)
    assert v["refine_loo"]["d_elpd"] == pytest.approx(0.0, abs=1e-9)
    assert v["refine_evidence"]["holds"] and v["refine_loo"]["holds"]
    # a machine that keeps improving beyond 4 refutes the sentence, by evidence and by LOO
    better = _row(6, -310.0, elpd_shift=5.0, seed=6)
    v2 = page.verdict({**by_n, 6: better})
    assert v2["evidence_best"] == 6 and v2["loo_best"] == 6
    assert v2["refine_loo"]["d_elpd"] > 2 * v2["refine_loo"]["se"]
    assert not v2["refine_evidence"]["holds"] and not v2["refine_loo"]["holds"]
    assert not v2["evidence_tie"]
    # a gain the larger-run checks cannot resolve (they moved the evidence by more) is a tie
    v3 = page.verdict({**by_n, 6: better}, resolution=9.0)
    assert v3["evidence_tie"] and v3["refine_evidence"]["holds"]
    assert v3["evidence_best_is_largest_run"] and v3["evidence_smallest_tied"] == 4  # 8 < 9 nat
    assert not v3["refine_loo"]["holds"]  # LOO's errors are not the evidence estimator's
    assert v["loo_worse_than_4"] == [] and v3["loo_worse_than_4"] == []
    worse = _row(5, -319.0, elpd_shift=-30.0, seed=5)  # predicts measurably worse than 4
    assert page.verdict({**by_n, 5: worse})["loo_worse_than_4"] == [5]
    assert page.resolution([{"difference": -0.3, "log_evidence": 1.0}, {"model": "x"}]) == 0.3


def test_carry_fills_only_missing_rows_of_the_same_task_and_marks_them(page):
    """--carry: a sweep run in parts adds up, but never overrides what the study directory holds,
    and never takes a row of a --size small run."""
    here = [
        dict(_row(1, -320.0, seed=1), carried=False, base_dir="."),
        {"task": "rbm-2", "status": "missing", "n_hidden": 2, "base_dir": ".", "carried": False},
        {"task": "rbm-3", "status": "missing", "n_hidden": 3, "base_dir": ".", "carried": False},
    ]
    earlier = {
        "size": "full",
        "rows": [
            _row(1, -999.0),  # the study directory's own row wins
            _row(2, -317.0, seed=2),
            {"task": "rbm-3", "status": "failed", "n_hidden": 3},  # only done rows are carried
        ],
        "evidence_check": [{"task": "rbm-2", "log_evidence": -317.1}, {"task": "rbm-1"}],
    }
    rows, checks = page.carry(here, earlier)
    assert [r["status"] for r in rows] == ["done", "done", "missing"]
    assert rows[0]["log_evidence"] == -320.0 and not rows[0]["carried"]
    assert rows[1]["log_evidence"] == -317.0 and rows[1]["carried"]
    assert checks == [{"task": "rbm-2", "log_evidence": -317.1}]
    assert "2 †" in page.table({r["n_hidden"]: _table_row(r) for r in rows})
    with pytest.raises(ValueError, match="--size small"):
        page.carry(here, {**earlier, "size": "small"})


def _table_row(r):
    """A row as load_rows makes it, with the columns the table prints."""
    if r["status"] != "done":
        return r
    return {
        **r,
        "ml_kl": 0.1,
        "p_loo": 8.0,
        "mi_bits_mean": 0.5,
        "hall_M_mean": 1.0,
        "S_mean": 2.0,
        "elpd_se": 5.0,
        "gate": {"reasons": []},
    }


def test_generated_hidden_units_page_meets_issue_26(page):
    """The numbers docs/demos/hidden_units.py wrote (full size, from a run of the study) for the
    page: the rows behind its statements pass the gate with evidence errors <= 0.5 nat, and each
    larger-run check of the largest machine agrees within 0.5 nat."""
    import json

    data = json.loads((ROOT / "docs" / "generated" / "demo_hidden_units.json").read_text())
    assert data["size"] == "full" and data["overrides"] == []
    assert data["study"] == "bellmodels/studies/hidden_units.toml"
    rows = data["rows"]
    assert len(rows) == 112 and any(r["status"] == "done" for r in rows)
    for key, v in data["verdicts"].items():
        by_n = {r["n_hidden"]: r for r in rows if f"{r['data']} | {r['model']}" == key}
        for n in v["sizes_usable"]:
            r = by_n[n]
            assert r["gate_ok"] and r["log_evidence_se"] <= page.SE_MAX, (key, n)
    checked = [c for c in data["evidence_check"] if "log_evidence" in c]
    assert checked
    for c in checked:
        assert c["particles"] == 2 * 1000 and c["hmc_steps"] == 2 * 8
        assert abs(c["difference"]) <= page.SE_MAX and c["agrees"], c
    md = (ROOT / "docs" / "generated" / "demo_hidden_units.md").read_text()
    assert "log BF(n : n−1)" in md
    tested = any("refine_evidence" in v for v in data["verdicts"].values())
    assert ('"no point refining"' in md) == tested


def test_chain_means_show_chains_settled_in_different_modes(page, tmp_path):
    """The per-chain means the page prints for a fit failing the gate: the total log likelihood
    (cell log likelihood x counts, summed) and MI, one value per chain."""
    import xarray as xr

    from bellmodels import _arviz

    rng = np.random.default_rng(0)
    cell = rng.normal(-2.0, 0.01, (2, 50, 16))
    cell[1] = cell[0] - 0.05  # the second chain sits in a worse mode
    mi = np.stack([np.full(50, 0.40), np.full(50, 0.74)])
    cells = ("setting_a", "setting_b", "outcome_a", "outcome_b")  # the fits' cell layout
    counts = xr.DataArray(np.array(COUNTS).reshape(2, 2, 2, 2), dims=cells)
    idata = _arviz.inference_data(
        {
            "cell_log_likelihood": xr.Dataset(
                {"trial": (("chain", "draw", *cells), cell.reshape(2, 50, 2, 2, 2, 2))}
            ),
            "audit_posterior": xr.Dataset({"mi_bits": (("chain", "draw"), mi)}),
            "observed_data": xr.Dataset({"counts": counts}),
            "posterior": xr.Dataset({"S": (("chain", "draw"), np.full((2, 50), 2.0))}),
        }
    )
    path = tmp_path / "fit.nc"
    idata.to_netcdf(path)
    got = page.chain_means(path)
    expected = (cell * np.array(COUNTS)).sum(-1).mean(-1)
    assert got["log_lik_total"] == pytest.approx(expected)
    assert got["log_lik_total"][0] - got["log_lik_total"][1] == pytest.approx(0.05 * 245)
    assert got["mi_bits"] == pytest.approx([0.40, 0.74])


def test_page_names_the_rows_fitted_at_other_settings_and_why_rows_are_unusable(page):
    inf = {"sampler": "auto", "chains": 2, "draws": 3000, "evidence_chains": 3,
           "evidence_draws": 1000, "evidence_hmc_steps": 8}  # fmt: skip
    base = {"model": "crbm", "data": "delft2015", "inference": inf}
    rows = [
        dict(base, n_hidden=2),
        dict(base, n_hidden=1, inference=dict(inf, chains=4, draws=12000)),
    ]
    assert page._other_settings(rows, inf) == (
        "; except chains = 4, draws = 12000 for crbm n = 1 on delft2015"
    )
    assert page._other_settings(rows[:1], inf) == ""
    smc = dict(base, n_hidden=2, inference=dict(inf, sampler="smc", chains=4, draws=2000))
    assert page._other_settings([smc], inf) == (
        "; except sampler = smc, chains = 4, draws = 2000 for crbm n = 2 on delft2015"
    )
    failing = dict(
        _row(2, -300.0, gate=False), **base,
        gate={"reasons": ["R-hat of mi_bits is 1.83 > 1.01"]},
        chain_means={"log_lik_total": [-116941.8, -116947.2], "mi_bits": [0.40, 0.74]},
    )  # fmt: skip
    wide = dict(_row(1, -129083.6, se=3.3), **base, evidence_runs=[-129080.8, -129090.3])
    text = "\n".join(page._unusable([failing, wide, _row(3, -299.0)]))
    assert "-116941.8, -116947.2" in text and "0.400, 0.740" in text
    assert "R-hat of mi_bits is 1.83" in text
    assert "-129080.8, -129090.3" in text and "-129083.60 ± 3.30" in text
    assert text.count("| crbm |") == 2  # the usable row is not listed
