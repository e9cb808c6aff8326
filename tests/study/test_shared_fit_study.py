"""A study fits observationally equivalent models once (issue #28, item 2): one job per family,
each member's own task file, audit and journal line, and a resumed study refits only what is
missing."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from _study import write_study

from bellmodels import _arviz, run_study
from bellmodels.study import load_study, parse_study
from bellmodels.study.jobs import group_jobs
from bellmodels.study.store import read_task_summary, task_path

STUDY = """
[study]
name = "shared"
[data]
source = "simulate"
n_trials = 2000
seed = 4
[models]
include = ["quantum-singlet", "bell1964", "hall2010"]
[inference]
draws = 60
tune = 60
chains = 2
sampler = "pymc"
evidence = false
"""


def test_jobs_group_only_fitted_tasks_of_one_family_and_one_configuration():
    text = textwrap.dedent(STUDY).replace(
        'include = ["quantum-singlet", "bell1964", "hall2010"]',
        'include = ["quantum-singlet", "bell1964", "hall2010", "brans", "dlr-one-sided"]\n'
        "[models.brans]\nparams = { visibility = 0.9 }\n"
        "[models.dlr-one-sided]\nfit = false\n",
    )
    jobs = group_jobs(parse_study(text).tasks())
    assert [[t.model for t in j.tasks] for j in jobs] == [
        ["quantum-singlet", "hall2010"],
        ["bell1964"],
        ["brans"],  # another fixed parameter value: another model to fit
        ["dlr-one-sided"],  # not fitted: nothing to share
    ]
    job = jobs[0]
    assert job.id == job.tasks[0].id and [d["model"] for d in json.loads(job.to_json())] == [
        "quantum-singlet",
        "hall2010",
    ]
    assert json.loads(jobs[1].to_json())["model"] == "bell1964"  # a lone task's own JSON


def test_jobs_start_longest_first_a_shared_family_counted_with_its_members():
    """The runner's order (longest processing time first) for the main job's study: the
    machines' fits, then the family of five models that share one fit (one fit and four
    posterior audits in one worker call), before single fits of fewer iterations or fewer
    parameters, and the audit-only task last."""
    from bellmodels.study.config import load_study_file
    from bellmodels.study.runner import _cost_guess

    jobs = sorted(
        group_jobs(load_study_file("weinstein2017").tasks()), key=_cost_guess, reverse=True
    )
    order = [j.model for j in jobs]
    assert set(order[:2]) == {"rbm", "crbm"}
    assert order[2:] == [
        "quantum-singlet",  # with toner-bacon, brans, hall2010, dlr-one-sided
        "no-signalling",
        "local-polytope",
        "bell1964",
        "rbm-weinstein2017",
    ]
    assert len(jobs[2].tasks) == 5 and _cost_guess(jobs[-1]) == 0.0
    single = group_jobs(load_study_file("weinstein2017").tasks())[0]  # one task's job
    assert _cost_guess(single) == _cost_guess(single.tasks[0])


def _posterior(out: Path, task_id: str) -> xr.Dataset:
    return _arviz.group(_arviz.from_netcdf(str(task_path(out, task_id))), "posterior")


@pytest.mark.slow
def test_two_equivalent_models_write_two_task_files_from_one_fit(tmp_path):
    path = write_study(tmp_path, STUDY)
    out = tmp_path / "out"
    ds = run_study(path, out, workers=2, progressbar=False, report=False)
    assert (ds["status"] == "done").all()
    ids = {m: str(ds["task"].sel(model=m).values) for m in ("quantum-singlet", "hall2010")}
    q, h = (read_task_summary(task_path(out, ids[m])) for m in ("quantum-singlet", "hall2010"))
    assert h["shared_fit_with"] == {"task": ids["quantum-singlet"], "model": "quantum-singlet"}
    assert "shared_fit_with" not in q
    xr.testing.assert_identical(
        _posterior(out, ids["quantum-singlet"]).drop_attrs(),
        _posterior(out, ids["hall2010"]).drop_attrs(),
    )
    # the same fit, each audited on its own; the tie is exact
    assert (
        q["fit"]["elpd_loo"] == h["fit"]["elpd_loo"]
        and q["fit"]["loo_cells"] == h["fit"]["loo_cells"]
    )
    assert q["fit"]["mi_bits_mean"] == 0.0 < h["fit"]["mi_bits_mean"]
    assert float(ds["elpd_diff"].sel(model="quantum-singlet")) == float(
        ds["elpd_diff"].sel(model="hall2010")
    )
    events = [json.loads(line) for line in (out / "journal.jsonl").read_text().splitlines()]
    done = {e["task"]: e for e in events if e["event"] == "done"}
    assert done[ids["hall2010"]]["shared_fit_with"] == ids["quantum-singlet"]
    assert "shared_fit_with" not in done[ids["quantum-singlet"]]

    # resume after losing hall2010's file: only it reruns, fitted on its own (nothing pending
    # to share with), from the same seed
    task_path(out, ids["hall2010"]).unlink()
    again = run_study(path, out, workers=1, progressbar=False, report=False)
    assert (again["status"] == "done").all()
    redone = read_task_summary(task_path(out, ids["hall2010"]))
    assert "shared_fit_with" not in redone
    assert redone["fit"]["mi_bits_mean"] > 0
    assert np.isfinite(redone["fit"]["elpd_loo"])
    events = [json.loads(line) for line in (out / "journal.jsonl").read_text().splitlines()]
    skipped = {e["task"] for e in events if e["event"] == "skipped"}
    assert ids["quantum-singlet"] in skipped and ids["hall2010"] not in skipped
    assert load_study(out)["model"].size == 3


@pytest.mark.slow
def test_shared_fit_study_on_dask(tmp_path):
    pytest.importorskip("distributed")
    path = write_study(tmp_path, STUDY)
    ds = run_study(path, tmp_path / "out", workers=2, dask=True, progressbar=False, report=False)
    assert (ds["status"] == "done").all()
    h = read_task_summary(task_path(tmp_path / "out", str(ds["task"].sel(model="hall2010").values)))
    assert h["shared_fit_with"]["model"] == "quantum-singlet"
