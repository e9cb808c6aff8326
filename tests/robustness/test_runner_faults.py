"""Faults of the study runner: a worker that dies, a full disk, kill -9 of the runner, the Dask
dashboard's port (issue #27, study half). ``inference.fit = false`` studies: the runner is the
point, not the sampler.

Each test's first docstring line is its probe ("probe: <what the user does> -> <what must
happen>"), read by ``docs/scripts/reliability_table.py`` into the Reliability page.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from _study import write_study

from bellmodels.study import load_study, load_study_file, run_study
from bellmodels.study import runner as runner_mod
from bellmodels.study.worker import task_entry

STUDY = """
[study]
name = "faults"
[data]
source = "simulate"
n_trials = 3000
visibility = [0.7, 1.0]
seed = 4
[models]
include = ["bell1964", "quantum-singlet", "hall2010"]
[inference]
fit = false
[report]
figures = false
"""

NUMBERS = ("S", "mi_bits", "hall_M", "ch_J", "data_S", "data_S_se", "n_trials")


def _same_results(a: Any, b: Any, numbers: tuple[str, ...] = NUMBERS, tol: float = 0.0) -> None:
    assert list(a["task"].values.ravel()) == list(b["task"].values.ravel())
    assert list(a["status"].values.ravel()) == list(b["status"].values.ravel())
    for var in numbers:
        np.testing.assert_allclose(a[var].values, b[var].values, rtol=tol, atol=tol, err_msg=var)


def _leftovers(out: Path) -> list[str]:
    found = [*out.rglob("*.tmp"), *out.rglob(".*.running")]
    return sorted(str(p.relative_to(out)) for p in found)


# -- entries the pool's workers call instead of task_entry (importable: this module) ------------


def dying_entry(task_json: str, out_dir: str, base: str | None = None) -> dict[str, Any]:
    """Kill this worker process (SIGKILL: no cleanup) when it gets the quantum-singlet task at
    visibility 1.0; run the task normally otherwise."""
    task = json.loads(task_json)
    if task["model"] == "quantum-singlet" and task["config"]["data"]["visibility"] == 1.0:
        Path(out_dir, "tasks", f".{task['id']}.running").touch()  # as task_entry would
        os.kill(os.getpid(), signal.SIGKILL)
    return task_entry(task_json, out_dir, base)


def disk_full_entry(task_json: str, out_dir: str, base: str | None = None) -> dict[str, Any]:
    """Run the task with a disk that fills up halfway through writing the task file (ENOSPC
    raised by the NetCDF write after part of the file is on disk)."""
    from bellmodels.study import worker

    real = worker.atomic_write

    def full(path: Any, write: Any, **kw: Any) -> Any:
        def partial(tmp: Path) -> None:
            write(tmp)
            with open(tmp, "r+b") as fh:
                fh.truncate(max(1, tmp.stat().st_size // 2))
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(tmp))

        return real(path, partial, **kw)

    worker.atomic_write = full
    try:
        return task_entry(task_json, out_dir, base)
    finally:
        worker.atomic_write = real


# -- fast cases ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Any:
    tmp = tmp_path_factory.mktemp("reference")
    return run_study(
        write_study(tmp, STUDY), tmp / "out", workers=2, progressbar=False, report=False
    )


def test_dying_worker_fails_its_own_task_only(tmp_path, capfd, reference):
    """probe: one worker process dies (SIGKILL) mid-run -> only its task is failed, the others finish in a fresh pool; no traceback, no stale temporaries"""
    cfg = load_study_file(write_study(tmp_path, STUDY))
    out = tmp_path / "out"
    (out / "tasks").mkdir(parents=True)
    summaries: dict[str, dict[str, Any]] = {}
    tasks = cfg.tasks()
    runner_mod._run_pool(
        tasks, out, 2, None, lambda s: summaries.__setitem__(s["task"], s), entry=dying_entry
    )
    failed = {t for t, s in summaries.items() if s["status"] != "done"}
    ds = reference
    victim = str(ds["task"].sel(model="quantum-singlet", visibility=1.0).values)
    assert failed == {victim} and len(summaries) == len(tasks) == 6
    assert "worker process died" in summaries[victim]["error"]
    assert json.loads((out / "tasks" / f"{victim}.failed.json").read_text())["status"] == "failed"
    # the other five wrote the same numbers as an undisturbed run
    for t in tasks:
        if t.id != victim:
            assert summaries[t.id]["audit"]["S"] == pytest.approx(
                float(ds["S"].where(ds["task"] == t.id, drop=True).values.ravel()[0]), abs=1e-12
            )
    assert _leftovers(out) == []
    err = capfd.readouterr().err
    assert "Traceback" not in err and "Exception ignored" not in err


def test_disk_full_then_rerun_gives_the_same_results(tmp_path, capfd, reference):
    """probe: the disk fills up while every task writes its file (simulated ENOSPC), then the user frees space and reruns -> each task failed with "No space left", no partial file; the rerun equals an undisturbed run"""
    study = write_study(tmp_path, STUDY)
    cfg = load_study_file(study)
    out = tmp_path / "out"
    (out / "tasks").mkdir(parents=True)
    summaries: dict[str, dict[str, Any]] = {}
    runner_mod._run_pool(
        cfg.tasks(),
        out,
        2,
        None,
        lambda s: summaries.__setitem__(s["task"], s),
        entry=disk_full_entry,
    )
    assert {s["status"] for s in summaries.values()} == {"failed"}
    assert all("No space left on device" in s["error"] for s in summaries.values())
    assert sorted(p.suffix for p in (out / "tasks").iterdir()) == [".json"] * 6
    assert _leftovers(out) == []
    err = capfd.readouterr().err
    assert "Traceback" not in err and "Exception ignored" not in err
    again = run_study(study, out, workers=2, progressbar=False, report=False)
    _same_results(again, reference)
    assert not list((out / "tasks").glob("*.failed.json"))


# a truncated file in the fast suite; an empty one and one of random bytes with the slow tests
@pytest.mark.parametrize(
    "damage",
    ["truncate", *(pytest.param(d, marks=pytest.mark.slow) for d in ("empty", "garbage"))],
)
def test_damaged_task_file_is_named_and_redone(tmp_path, caplog, reference, damage):
    """probe: a finished task's file is truncated, emptied or overwritten, then the study is rerun -> the file is named on stderr and in the journal, moved aside and redone; results equal an undisturbed run"""
    study = write_study(tmp_path, STUDY)
    out = tmp_path / "out"
    run_study(study, out, workers=2, progressbar=False, report=False)
    victim = out / "tasks" / f"{reference['task'].values.ravel()[1]}.nc"
    size = victim.stat().st_size
    if damage == "truncate":
        with open(victim, "r+b") as fh:
            fh.truncate(size // 2)
    elif damage == "empty":
        victim.write_bytes(b"")
    else:
        victim.write_bytes(os.urandom(size))
    with caplog.at_level(logging.WARNING, logger="bellmodels"):
        again = run_study(study, out, workers=2, progressbar=False, report=False)
    err = caplog.text  # a warning of the bellmodels logger, with or without the progress bar
    assert f"task file {victim} is damaged" in err
    events = [json.loads(line) for line in (out / "journal.jsonl").read_text().splitlines()]
    damaged = [e for e in events if e["event"] == "damaged"]
    assert [e["file"] for e in damaged] == [str(victim)]
    assert victim.with_name(victim.name + ".damaged").is_file()
    _same_results(again, reference)


def test_dask_cluster_opens_no_dashboard_port():
    """probe: bellmodels run --dask -> no dashboard and no HTTP port (8787 stays closed); only Dask's own comms listen, on 127.0.0.1"""
    psutil = pytest.importorskip("psutil")
    pytest.importorskip("distributed")

    def listening() -> set[tuple[str, int]]:
        conns = psutil.Process().net_connections(kind="inet")
        return {(c.laddr.ip, c.laddr.port) for c in conns if c.status == psutil.CONN_LISTEN}

    before = listening()
    cluster = runner_mod.local_cluster(1)
    try:
        opened = listening() - before
        comms = {cluster.scheduler.address, *(w.address for w in cluster.workers.values())}
        comm_ports = {int(a.rsplit(":", 1)[1]) for a in comms}
        assert all(port != 8787 for _ip, port in opened)
        assert {port for _ip, port in opened} <= comm_ports
        assert {ip for ip, _port in opened} <= {"127.0.0.1"}
        # the scheduler's HTTP server (dashboard, metrics) listens on nothing
        sockets = getattr(cluster.scheduler.http_server, "_sockets", {}).values()
        assert all(sock.fileno() == -1 for sock in sockets)  # closed
    finally:
        cluster.close()


# -- kill -9 of the runner ---------------------------------------------------------------------

KILL_STUDY = """
[study]
name = "kill9"
[data]
source = "simulate"
n_trials = 20000
seed = 2
[models]
include = ["quantum-singlet", "rbm"]
[models.rbm]
train = true
params = { n_hidden = 2 }
train_options = { seed = [0, 1, 2, 3] }
[inference]
fit = false
[report]
figures = false
"""

KILL_NUMBERS = ("S", "mi_bits", "hall_M", "train_kl", "data_S", "data_S_se")


def _kill_and_resume(tmp: Path, seed: int, reference: Any) -> None:
    study = write_study(tmp, KILL_STUDY)
    out = tmp / f"out{seed}"
    cli = "import sys; from bellmodels.cli import main; sys.exit(main())"
    cmd = [sys.executable, "-c", cli, "run", str(study), "--out", str(out)]
    cmd += ["--quiet", "--no-report", "--workers", "2"]
    env = dict(os.environ, PYTHONPATH=os.getcwd() + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen(cmd, env=env, start_new_session=True, stderr=subprocess.PIPE)
    time.sleep(random.Random(seed).uniform(2.0, 14.0))
    os.killpg(proc.pid, signal.SIGKILL)  # the runner and its workers, without warning
    proc.wait()
    again = run_study(study, out, workers=2, progressbar=False, report=False)
    _same_results(again, reference, KILL_NUMBERS, tol=1e-9)
    assert _leftovers(out) == []
    assert (out / "results.nc").is_file() and load_study(out)["status"].values.all()


@pytest.fixture(scope="module")
def kill_reference(tmp_path_factory: pytest.TempPathFactory) -> Any:
    tmp = tmp_path_factory.mktemp("kill_reference")
    return run_study(
        write_study(tmp, KILL_STUDY), tmp / "out", workers=2, progressbar=False, report=False
    )


def test_kill9_then_resume_once(tmp_path, kill_reference):
    """probe: kill -9 of the runner and its workers mid-run, then rerun -> the same results as an undisturbed run, no stale temporaries"""
    _kill_and_resume(tmp_path, 0, kill_reference)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(1, 11))
def test_kill9_at_random_moments_then_resume(tmp_path, kill_reference, seed):
    """probe: kill -9 of the runner at a random moment (10 seeds), then rerun -> identical results every time"""
    _kill_and_resume(tmp_path, seed, kill_reference)
