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
trials = [1000, 2000]
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
    assert ds["mi_bits"].dims == ("trials", "model")
    assert list(ds["model"].values) == ["bell1964", "local-polytope"]
    assert list(ds["trials"].values) == [1000, 2000]
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
    task_id = str(ds["task"].sel(model="bell1964", trials=1000).values)
    extra, idata = load_task(out, task_id)
    assert idata is None
    assert "summary" in extra.attrs
