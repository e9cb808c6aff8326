"""The runner of a study: run the pending tasks on a process pool or Dask, then rank the fitted
models at every sweep point and write the results store (:func:`run_study_tasks`).

The runner, the task hashing and the results store are written here by hand: no library maps a
TOML sweep onto per-task NetCDF files; the pools themselves are :mod:`concurrent.futures` and
``dask.distributed``. The report is not the runner's business: :func:`bellmodels.run_study`
runs the study and then writes the report (:mod:`bellmodels.report`), which reads the store.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bellmodels._util import renamed_keywords, write_json_atomic
from bellmodels.study.config import Task, load_study_file
from bellmodels.study.jobs import Job, crash_summaries, group_jobs
from bellmodels.study.store import (
    aggregate,
    collect_summaries,
    journal,
    rank_point,
    task_file_problem,
    task_path,
    write_results,
)
from bellmodels.study.worker import _init_pool_worker, default_compile_base, task_entry

log = logging.getLogger(__name__)


class StudyInterrupted(KeyboardInterrupt):
    """Raised in the runner when it receives SIGTERM (or SIGINT)."""


@contextlib.contextmanager
def _exclusive(out_dir: Path) -> Iterator[None]:
    """Hold ``out_dir/.lock``: one runner per study directory at a time."""
    import fcntl

    fd = os.open(out_dir / ".lock", os.O_CREAT | os.O_RDWR, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise ValueError(
                f"another runner is using {str(out_dir)!r} (lock {out_dir / '.lock'})"
            ) from None
        yield
    finally:
        os.close(fd)


@contextlib.contextmanager
def _terminate_on_sigterm() -> Iterator[None]:
    """Turn SIGTERM into :class:`StudyInterrupted` in the main thread while running."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        raise StudyInterrupted(f"received signal {signum}")

    old = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


def _clean_temp(tasks_dir: Path) -> int:
    """Remove what an interrupted or failed write left: temporaries (``*.tmp``) in the study
    directory and its ``tasks/``, and the workers' ``.<id>.running`` markers."""
    n = 0
    for pattern in ("*.tmp", ".*.running"):
        for tmp in tasks_dir.glob(pattern):
            tmp.unlink(missing_ok=True)
            n += 1
    for tmp in tasks_dir.parent.glob(".*.tmp"):
        tmp.unlink(missing_ok=True)
        n += 1
    return n


def _pending(tasks: Sequence[Task], out: Path) -> list[Task]:
    """The tasks without a complete file; a damaged one (truncated, empty, foreign) is moved
    aside to ``<id>.nc.damaged``, named in the journal and in a logged warning, and redone."""
    pending = []
    for t in tasks:
        path = task_path(out, t.id)
        if not path.is_file():
            pending.append(t)
            continue
        problem = task_file_problem(path, t.id)
        if problem is None:
            journal(out, "skipped", task=t.id)
            continue
        os.replace(path, path.with_name(path.name + ".damaged"))
        journal(out, "damaged", task=t.id, file=str(path), error=problem)
        log.warning("task file %s is damaged (%s): redoing it", path, problem)
        pending.append(t)
    return pending


def _cost_guess(job: Task | Job) -> float:
    """A rough relative cost, to start the longest jobs first (longest-processing-time order:
    fewer idle workers at the end). Only the order depends on it, never a result.

    A fit costs its sampler's iterations (chains x (draws + tune)) times the model's size
    (1 + its parameters: the work per gradient and the steps per iteration grow with it); a job's
    other members each audit every draw of the shared posterior, counted as one more fit of the
    first model's size (one member's posterior audit can take as long as the fit of a model this
    small), so a family of five shared fits starts before a single fit of the same size.
    """
    first = job.tasks[0] if isinstance(job, Job) else job
    opts, inf = first.config["options"], first.config.get("inference") or {}
    if not opts.get("fit"):
        return 0.0
    try:
        from bellmodels import models

        model = models.get(first.model, **(opts.get("params") or {}))
        size = sum(int(np.prod(p.shape)) for p in model.parameters.values())
    except Exception:
        size = 1
    iterations = int(inf.get("chains", 1)) * (int(inf.get("draws", 1)) + int(inf.get("tune", 0)))
    members = len(job.tasks) if isinstance(job, Job) else 1
    return float((1 + size) * iterations * members)


@renamed_keywords(progress="progressbar")
def run_tasks(
    tasks: Sequence[Task],
    out_dir: str | os.PathLike[str],
    *,
    workers: int | None = None,
    dask: bool = False,
    scheduler: str | None = None,
    progressbar: bool = True,
    compile_base: str | os.PathLike[str] | None = None,
) -> dict[str, dict[str, Any]]:
    """Run the tasks that have no NetCDF yet; return ``{task id: summary}`` of those run.

    Parameters
    ----------
    tasks
        Tasks (from :meth:`StudyConfig.tasks`).
    out_dir
        Study directory; task files go to ``out_dir/tasks``.
    workers
        Processes (default: the number of CPUs, at most the number of pending tasks).
    dask
        Run on a ``dask.distributed.LocalCluster`` of ``workers`` single-threaded processes.
    scheduler
        Address of a running Dask scheduler (``tcp://host:8786``); ``out_dir`` must be on a file
        system the workers share. Run its workers single-threaded (``--nthreads 1``).
    progressbar
        Show a rich progress bar over tasks. Notices (a damaged task file redone, an input file
        changed since the last run) are warnings of the ``bellmodels`` logger either way.
    compile_base
        Root of the per-process PyTensor compile directories (default
        :func:`default_compile_base`; on a remote cluster each worker's own default).

    Examples
    --------
    A study takes minutes (``tests/study/test_study.py`` runs small ones)::

        cfg = load_study_file("weinstein2017")
        summaries = run_tasks(cfg.tasks(), "out/weinstein2017", workers=2)
    """
    out = Path(out_dir)
    tasks_dir = out / "tasks"
    tasks_dir.mkdir(parents=True, exist_ok=True)
    _clean_temp(tasks_dir)
    # tasks that share one fit (observationally equivalent models) are one job: jobs.py
    pending = sorted(group_jobs(_pending(tasks, out)), key=_cost_guess, reverse=True)
    if not pending:
        return {}
    n_workers = max(1, min(workers or os.cpu_count() or 1, len(pending)))
    base = None if compile_base is None else str(compile_base)
    if base is None and not scheduler:
        base = str(default_compile_base())
    results: dict[str, dict[str, Any]] = {}
    n_done = len(tasks) - sum(len(j.tasks) for j in pending)
    with _progress(progressbar, len(tasks), n_done) as bar:

        def record(result: dict[str, Any] | list[dict[str, Any]]) -> None:
            for summary in result if isinstance(result, list) else [result]:
                results[summary["task"]] = summary
                bar(summary)

        try:
            if dask or scheduler:
                _run_dask(pending, out, n_workers, scheduler, base, record)
            else:
                _run_pool(pending, out, n_workers, base, record)
        finally:
            _clean_temp(tasks_dir)
    return results


def _run_pool(
    pending: Sequence[Task | Job],
    out: Path,
    n_workers: int,
    base: str | None,
    record: Callable[[dict[str, Any]], None],
    entry: Callable[..., dict[str, Any]] = task_entry,
) -> None:
    """Run ``pending`` on process pools until each task is done or failed.

    A worker that dies (killed, out of memory, a crash in a C library) breaks its pool; every
    unfinished task then raises ``BrokenProcessPool``. Those that had started (their worker's
    ``.<id>.running`` marker exists) are suspects and rerun alone, each in a one-worker pool, so
    only the task that kills its worker again is failed; the others go on in a fresh pool.
    ``entry`` is what a worker calls (:func:`task_entry`; the fault tests wrap it).
    """
    queue: list[Task | Job] = list(pending)
    suspects: list[Task | Job] = []
    breaks: dict[str, int] = {}
    while queue or suspects:
        if queue:
            unfinished = _pool_round(queue, out, n_workers, base, record, entry)
            queue = []
            for t in unfinished:
                breaks[t.id] = breaks.get(t.id, 0) + 1
                started = (out / "tasks" / f".{t.id}.running").exists()
                (suspects if started or breaks[t.id] > 1 else queue).append(t)
            _clean_temp(out / "tasks")
            continue
        task = suspects.pop(0)
        if _pool_round([task], out, 1, base, record, entry):
            for summary in crash_summaries(
                out, task, "its worker process died (killed or crashed)"
            ):
                record(summary)
            _clean_temp(out / "tasks")


def _pool_round(
    tasks: Sequence[Task | Job],
    out: Path,
    n_workers: int,
    base: str | None,
    record: Callable[[dict[str, Any]], None],
    entry: Callable[..., dict[str, Any]],
) -> list[Task | Job]:
    """One process pool over ``tasks`` (tasks or jobs); returns those a broken pool left
    unfinished."""
    import multiprocessing as mp
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    ctx = mp.get_context("spawn")  # a fresh interpreter: nothing (PyTensor) imported before
    pool = ProcessPoolExecutor(
        max_workers=n_workers, mp_context=ctx, initializer=_init_pool_worker, initargs=(base,)
    )
    futures: dict[Any, Task | Job] = {}
    unfinished: list[Task | Job] = []
    try:
        with _terminate_on_sigterm(), _one_blas_thread_per_child():
            futures = {pool.submit(entry, t.to_json(), str(out), base): t for t in tasks}
            remaining = set(futures)
            while remaining:
                done, remaining = wait(remaining, return_when=FIRST_COMPLETED)
                for fut in done:
                    task = futures[fut]
                    try:
                        record(fut.result())
                    except BrokenProcessPool:
                        unfinished.append(task)
                    except Exception as exc:  # e.g. the failure record itself hit a full disk
                        for summary in crash_summaries(out, task, f"{type(exc).__name__}: {exc}"):
                            record(summary)
        if unfinished:
            _stop_pool(pool)
        else:
            pool.shutdown(wait=True)
    except BaseException:
        _stop_pool(pool)
        _clean_temp(out / "tasks")
        journal(out, "interrupted", pending=[t.id for f, t in futures.items() if not f.done()])
        raise
    return unfinished


@contextlib.contextmanager
def _one_blas_thread_per_child() -> Iterator[None]:
    """One BLAS / OpenMP thread in every process spawned meanwhile (the pool's workers).

    A spawned worker imports NumPy, and with it OpenBLAS, while it unpickles its initializer,
    before any code of ours runs; the thread count must therefore be in the environment it
    inherits. Besides oversubscribing the cores, a second BLAS thread changes the last bits of
    reductions; fitting, training and the evidence limit themselves to one thread as well
    (:func:`bellmodels._util.one_blas_thread`), and Dask's nanny sets the same variables.
    """
    names = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
    old = {n: os.environ.get(n) for n in names}
    for n in names:
        os.environ.setdefault(n, "1")
    try:
        yield
    finally:
        for n, v in old.items():
            if v is None:
                os.environ.pop(n, None)
            else:
                os.environ[n] = v


def _stop_pool(pool: Any) -> None:
    """Cancel queued tasks and terminate the pool's worker processes (no partial output: every
    file a worker writes is a temp file until its final rename)."""
    import multiprocessing as mp

    pool.shutdown(wait=False, cancel_futures=True)
    for child in mp.active_children():
        child.terminate()
    for child in mp.active_children():
        child.join(timeout=10)


def _run_dask(
    pending: Sequence[Task | Job],
    out: Path,
    n_workers: int,
    scheduler: str | None,
    base: str | None,
    record: Callable[[dict[str, Any]], None],
) -> None:
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError as exc:  # pragma: no cover - optional dependency
        raise ValueError(
            "the Dask runner needs dask.distributed: pip install 'bellmodels[distributed]'"
        ) from exc

    cluster = None
    with _terminate_on_sigterm():
        try:
            if scheduler:
                client = Client(scheduler)
            else:
                cluster = local_cluster(n_workers, LocalCluster)
                client = Client(cluster)
            try:
                futures = [
                    client.submit(
                        task_entry,
                        t.to_json(),
                        str(out),
                        base,
                        key=f"bellmodels-{t.id}",
                        pure=False,
                    )
                    for t in pending
                ]
                by_key = {f.key: t for f, t in zip(futures, pending, strict=True)}
                for fut in as_completed(futures):
                    try:
                        record(fut.result())
                    except Exception as exc:  # worker died, lost, or cancelled
                        why = f"{type(exc).__name__}: {exc}"
                        for summary in crash_summaries(out, by_key[fut.key], why):
                            record(summary)
            except BaseException:
                journal(out, "interrupted")
                raise
            finally:
                client.close()
        finally:
            if cluster is not None:
                cluster.close()
            _clean_temp(out / "tasks")


def local_cluster(n_workers: int, cls: Any = None) -> Any:
    """A Dask ``LocalCluster`` of single-threaded worker processes on the loopback interface,
    **without a dashboard and without an HTTP server**: the scheduler of a LocalCluster starts
    one, on port 8787, even with ``dashboard_address=None`` (it serves health and metrics
    routes); here it starts on a free loopback port and is stopped at once, so the run leaves
    open no port but Dask's own comms on 127.0.0.1.

    Examples
    --------
    Starting worker processes takes seconds (``tests/robustness/test_runner_faults.py``
    checks the ports)::

        cluster = local_cluster(2)
        cluster.close()
    """
    if cls is None:
        from distributed import LocalCluster as cls
    cluster = cls(
        n_workers=n_workers,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        # never port 8787: the scheduler's HTTP server starts on a free loopback port, and is
        # stopped below
        scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"},
        silence_logs=40,
    )

    async def stop_http(scheduler: Any) -> None:
        if getattr(scheduler, "http_server", None) is not None:
            scheduler.http_server.stop()

    cluster.sync(stop_http, cluster.scheduler)
    return cluster


@contextlib.contextmanager
def _progress(show: bool, total: int, completed: int) -> Iterator[Callable[[dict[str, Any]], None]]:
    """A rich progress bar over tasks (or nothing when ``show`` is false)."""
    if not show:
        yield lambda summary: None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    console = Console(stderr=True)
    with Progress(
        TextColumn("[bold]tasks"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.description}"),
        console=console,
        transient=False,
    ) as prog:
        bar = prog.add_task("", total=total, completed=completed)

        def update(summary: dict[str, Any]) -> None:
            status = summary["status"]
            if status != "done":
                console.print(f"[red]task {summary['task']} failed:[/] {summary.get('error')}")
            prog.update(bar, advance=1, description=f"{summary['model']} {status}")

        yield update


def run_study_tasks(
    path: str | os.PathLike[str],
    out_dir: str | os.PathLike[str] | None = None,
    *,
    workers: int | None = None,
    dask: bool = False,
    scheduler: str | None = None,
    progressbar: bool = True,
    compile_base: str | os.PathLike[str] | None = None,
    overrides: Sequence[str] = (),
) -> Any:
    """Run a study file's tasks, rank every sweep point and write the results store: the study
    half of :func:`bellmodels.run_study` (which then writes the report; the study never imports
    the report).

    Parameters
    ----------
    path
        The study's TOML file.
    out_dir
        Output directory (default ``out/<study name>``). Re-running with the same directory skips
        the tasks already done.
    workers, dask, scheduler, progressbar, compile_base
        See :func:`run_tasks`.
    overrides
        ``"section.key=value"`` settings over the file's (``["inference.seed=2"]``; see
        :func:`~bellmodels.study.config.apply_overrides`); ``study.json`` records the result.

    Returns
    -------
    xarray.Dataset
        The aggregated results (also in ``out/results.nc``).

    Examples
    --------
    A study takes minutes (``tests/study/test_study.py`` runs small ones)::

        ds = run_study_tasks("weinstein2017")
        float(ds["data_S"])
        # -> 2.83...
    """
    cfg = load_study_file(path, overrides)  # the whole study is checked before anything is written
    out_dir = Path(out_dir) if out_dir is not None else default_out(cfg.name)
    out_dir.mkdir(parents=True, exist_ok=True)
    with _exclusive(out_dir):
        tasks = cfg.tasks()
        changes = input_changes(out_dir, cfg, tasks)
        write_json_atomic(out_dir / "study.json", json.loads(cfg.to_json()))
        journal(out_dir, "start", tasks=len(tasks), study=cfg.name)
        for change in changes:
            journal(out_dir, "input_changed", **change)
            log.warning("%s", change["message"])
        t0 = time.perf_counter()
        run_tasks(
            tasks,
            out_dir,
            workers=workers,
            dask=dask,
            scheduler=scheduler,
            progressbar=progressbar,
            compile_base=compile_base,
        )
        summaries = collect_summaries(cfg, out_dir)
        comparisons = {}
        for i, (_coords, point_tasks) in enumerate(cfg.grid()):
            done = {
                t.model: summaries[t.id]
                for t in point_tasks
                if summaries[t.id].get("status") == "done"
            }
            comparisons[i] = rank_point(done)
        ds = aggregate(cfg, out_dir, comparisons)
        ds.attrs["tasks_seconds"] = time.perf_counter() - t0
        ds.attrs["input_changes"] = json.dumps([c["message"] for c in changes])
        write_results(ds, out_dir)
        journal(out_dir, "finished", seconds=time.perf_counter() - t0)
    return ds


def default_out(name: str) -> Path:
    """``out/<name>``, refused if it would lie outside ``out/`` (the parser already refuses
    such names; this holds for a configuration built by hand too).

    >>> default_out("noise").as_posix()
    'out/noise'
    """
    base = Path("out")
    path = base / name
    if path.resolve().parent != base.resolve():
        raise ValueError(f"study name {name!r} would write outside {str(base)!r}")
    return path


def input_changes(out_dir: Path, cfg: Any, tasks: Sequence[Task]) -> list[dict[str, Any]]:
    """The data files whose content changed since the last run into ``out_dir`` (from the
    fingerprints ``study.json`` recorded), each with the number of tasks that read it and will
    rerun. A changed file changes the identity of its tasks, so none of the old results is
    reused; this says so.

    >>> import tempfile
    >>> from bellmodels.study import parse_study
    >>> cfg = parse_study('[data]\\nsource = "simulate"\\n[models]\\ninclude = ["bell1964"]\\n')
    >>> input_changes(Path(tempfile.mkdtemp()), cfg, cfg.tasks())
    []
    """
    try:
        old = json.loads((out_dir / "study.json").read_text(encoding="utf-8")).get("inputs") or {}
    except (OSError, ValueError, AttributeError):
        return []
    changes = []
    for path, sha in cfg.inputs.items():
        if path not in old or old[path] == sha:
            continue
        n = sum(
            1
            for t in tasks
            if t.config["data"].get("sha256") == sha and not task_path(out_dir, t.id).is_file()
        )
        changes.append(
            {
                "path": path,
                "old_sha256": old[path],
                "sha256": sha,
                "tasks": n,
                "message": f"data file {path} changed since the last run: {n} tasks rerun",
            }
        )
    return changes


__all__ = ["StudyInterrupted", "default_out", "input_changes", "run_study_tasks", "run_tasks"]
