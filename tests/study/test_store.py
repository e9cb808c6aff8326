"""The results store on a real (small) run: what the examples of study.store and study.worker show.

One study without Bayesian fits (audits only, so it runs in seconds): bell1964 and the local
polytope at two trial counts, each task run in this process by :func:`run_task`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bellmodels.study import (
    aggregate,
    collect_summaries,
    load_study,
    load_task,
    parse_study,
    read_task_summary,
    run_task,
    task_done,
    write_results,
)

STUDY = """
[data]
source = "simulate"
n_trials = [1000, 2000]
[models]
include = ["bell1964", "local-polytope"]
[inference]
fit = false
evidence = false
"""


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("store")
    cfg = parse_study(STUDY, default_name="store")
    summaries = {t.id: run_task(t, out) for t in cfg.tasks()}
    return cfg, out, summaries


def test_run_task_writes_one_netcdf_per_task_whose_summary_reads_back(run) -> None:
    _, out, summaries = run
    assert len(summaries) == 4 and {s["status"] for s in summaries.values()} == {"done"}
    for task_id, summary in summaries.items():
        assert task_done(out, task_id)
        stored = read_task_summary(Path(out) / "tasks" / f"{task_id}.nc")
        assert stored["status"] == "done" and stored["audit"]["S"] == pytest.approx(
            summary["audit"]["S"]
        )


def test_collect_summaries_finds_every_task_of_the_study(run) -> None:
    cfg, out, summaries = run
    collected = collect_summaries(cfg, out)
    assert set(collected) == set(summaries)
    assert {s["status"] for s in collected.values()} == {"done"}


def test_aggregate_indexes_the_audit_by_the_sweep_axes_and_model(run) -> None:
    cfg, out, _ = run
    ds = aggregate(cfg, out)
    assert ds["mi_bits"].dims == ("n_trials", "model")
    assert list(ds["model"].values) == ["bell1964", "local-polytope"]
    assert list(ds["n_trials"].values) == [1000, 2000]
    assert (ds["status"].values == "done").all()


def test_write_results_then_load_study_round_trips_the_dataset(run) -> None:
    cfg, out, _ = run
    ds = aggregate(cfg, out)
    path = write_results(ds, out)
    assert path == Path(out) / "results.nc"
    back = load_study(out)
    np.testing.assert_allclose(back["S"].values, ds["S"].values)
    assert list(back["task"].values.ravel()) == list(ds["task"].values.ravel())


def test_load_task_of_an_unfitted_task_gives_its_audit_and_no_inference_data(run) -> None:
    cfg, out, _ = run
    ds = aggregate(cfg, out)
    task_id = str(ds["task"].sel(model="bell1964", n_trials=1000).values)
    extra, idata = load_task(out, task_id)
    assert idata is None
    assert "summary" in extra.attrs


def _previous_fit_record(elpd: float, cells: list[float], ok: bool) -> dict:
    """A ``fit`` record with the keys the 0.1 worker wrote (no model, hdi_prob, classification)."""
    return {
        "S_mean": 2.0,
        "S_hdi": [1.9, 2.1],
        "mi_bits_mean": 0.0,
        "hall_M_mean": 0.0,
        "elpd_loo": elpd,
        "se": 1.0,
        "p_loo": 1.0,
        "pareto_k_max": 0.1,
        "loo_cells": cells,
        "cell_counts": [40, 10, 10, 40],
        "log_evidence": elpd - 3.0,
        "log_evidence_se": 0.05,
        "log_evidence_method": "smc",
        "diagnostics": {"ok": ok, "reasons": [] if ok else ["R-hat of S is 1.05 > 1.01"]},
        "diagnostics_ok": ok,
    }


def test_task_files_of_the_previous_version_load_rank_and_are_not_redone(run, tmp_path) -> None:
    """Task files whose ``fit`` record has the previous key set are converted on read: the task
    counts as done (a resumed study does not redo it), ranks and aggregates as a new one."""
    import json
    import shutil

    import xarray as xr

    from bellmodels.study import rank_point, task_path

    cfg, out, _ = run
    shutil.copytree(Path(out) / "tasks", tmp_path / "tasks")
    cells = {"bell1964": np.log([0.4, 0.1, 0.1, 0.4]), "local-polytope": np.log([0.25] * 4)}
    point = cfg.grid()[0][1]
    for t in point:
        path = task_path(tmp_path, t.id)
        with xr.open_dataset(path, group="bellmodels", engine="h5netcdf") as ds:
            ds = ds.load()
        summary = json.loads(ds.attrs["summary"])
        c = cells[t.model]
        summary["fit"] = _previous_fit_record(float(np.dot([40, 10, 10, 40], c)), list(c), True)
        ds.attrs["summary"] = json.dumps(summary)
        ds.to_netcdf(path, mode="w", group="bellmodels", engine="h5netcdf")
    for t in point:
        assert task_done(tmp_path, t.id)
        fit = read_task_summary(task_path(tmp_path, t.id))["fit"]
        assert (fit["model"], fit["hdi_prob"], fit["log_evidence_method"]) == (t.model, 0.94, "smc")
    ranked = rank_point({t.model: read_task_summary(task_path(tmp_path, t.id)) for t in point})
    assert ranked["bell1964"]["rank"] == 0 and ranked["local-polytope"]["elpd_diff"] > 0
    ds = aggregate(cfg, tmp_path, {0: ranked})
    at = {"n_trials": 1000, "model": "local-polytope"}
    assert float(ds["elpd_loo"].sel(at)) == pytest.approx(100 * np.log(0.25))
    assert float(ds["S_hdi_high"].sel(at)) == 2.1 and float(ds["rank"].sel(at)) == 1.0
    assert float(ds["log_evidence"].sel(at)) == pytest.approx(100 * np.log(0.25) - 3.0)
