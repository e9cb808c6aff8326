"""The worker side of a study: one process per task, with its own PyTensor compile directory.

A worker process holds one piece of state, :data:`WORKER` (the compile directory it claimed and
the lock that keeps it), set once by :func:`setup_worker`; :func:`run_task` runs one task and
writes ``tasks/<id>.nc``; :func:`task_entry` is what the runner's pools call.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import gc
import itertools
import json
import logging
import os
import signal
import sys
import time
import traceback
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from bellmodels._util import atomic_write, to_jsonable, versions, write_json_atomic
from bellmodels.study.config import Task
from bellmodels.study.schema import _scenario
from bellmodels.study.store import journal, netcdf_bytes


@dataclasses.dataclass
class WorkerState:
    """What one worker process remembers between tasks (one instance per process: :data:`WORKER`).

    Attributes
    ----------
    compile_base
        Root of the compile directories the runner asked for (``None``: the default).
    compiledir
        The compile directory this process claimed (``None`` until :func:`setup_worker`).
    lock_fd
        File descriptor of the ``flock`` that keeps ``compiledir`` this process's own.
    """

    compile_base: str | None = None
    compiledir: str | None = None
    lock_fd: int | None = None


WORKER = WorkerState()
"""This process's worker state (module-level on purpose: a pool initializer sets it once)."""


def default_compile_base() -> Path:
    """Root of the per-process PyTensor compile directories (``$BELLMODELS_COMPILEDIR`` or
    ``~/.cache/bellmodels/pytensor``).

    >>> default_compile_base().name
    'pytensor'
    """
    env = os.environ.get("BELLMODELS_COMPILEDIR")
    if env:
        return Path(env)
    return (
        Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "bellmodels" / "pytensor"
    )


def setup_worker(compile_base: str | os.PathLike[str] | None = None) -> str:
    """Give this process its own PyTensor compile directory (call before importing PyTensor).

    PyTensor compilation is not thread-safe, so each worker process claims a numbered slot
    ``<base>/slot<i>`` by holding an exclusive ``flock`` on ``slot<i>.lock`` for its lifetime: no two
    live processes share a directory, and a later run reuses the compiled code of an earlier
    one. Also asks for one BLAS/OpenMP thread per process (the pool provides the parallelism);
    that takes effect only where no BLAS is loaded yet, so the runner's pool sets it in the
    environment its workers inherit, and Dask's nanny does the same.

    Returns
    -------
    str
        The compile directory in use.

    Examples
    --------
    In a fresh worker process, before PyTensor is imported (the runner's pool does this, so
    ``tests/study/test_study.py`` runs it)::

        setup_worker("/tmp/bm-compile")
        # -> '/tmp/bm-compile/slot0'
    """
    if WORKER.compiledir is not None:
        return WORKER.compiledir
    import fcntl

    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    base = Path(compile_base) if compile_base is not None else default_compile_base()
    base.mkdir(parents=True, exist_ok=True)
    for i in itertools.count():
        fd = os.open(base / f"slot{i}.lock", os.O_CREAT | os.O_RDWR, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            continue
        WORKER.lock_fd = fd
        compiledir = base / f"slot{i}"
        break
    compiledir.mkdir(exist_ok=True)
    if "pytensor" in sys.modules:  # too late to move it: say so in the task record
        import pytensor

        WORKER.compiledir = str(pytensor.config.compiledir) + " (preset)"
        return WORKER.compiledir
    flags = [f for f in os.environ.get("PYTENSOR_FLAGS", "").split(",") if f]
    flags = [f for f in flags if not f.startswith(("compiledir=", "base_compiledir="))]
    # the C modules per slot; the Numba cache (``<base>/numba``, keyed per operation, safe to
    # share between processes) is one for all workers, so a model reuses what another compiled
    os.environ["PYTENSOR_FLAGS"] = ",".join(
        [*flags, f"base_compiledir={base}", f"compiledir={compiledir}"]
    )
    WORKER.compiledir = str(compiledir)
    return str(compiledir)


def build_counts(data: Mapping[str, Any], base_dir: str | os.PathLike[str] = ".") -> Any:
    """The :class:`~bellmodels.data.Counts` a study's ``[data]`` section describes: simulated
    singlet trials, a shipped dataset, or a file (relative paths against ``base_dir``).

    Examples
    --------
    >>> c = build_counts({"source": "simulate", "n_trials": 1000, "visibility": 1.0, "seed": 0,
    ...                   "scenario": "chsh", "setting_probs": None})
    >>> int(c.total)
    1000
    """
    source = data["source"]
    if source == "simulate":
        from bellmodels.simulate import simulate_singlet

        scn = _scenario(data.get("scenario", "chsh"))
        trials = simulate_singlet(
            scn,
            n_trials=int(data["n_trials"]),
            seed=int(data["seed"]),
            visibility=float(data["visibility"]),
            setting_probs=data.get("setting_probs"),
        )
        return trials.counts(
            provenance={
                "source": "simulate_singlet",
                "n_trials": int(data["n_trials"]),
                "visibility": float(data["visibility"]),
                "seed": int(data["seed"]),
            }
        )
    if source == "dataset":
        from bellmodels import datasets

        return datasets.load(data["dataset"])
    from bellmodels.data import read_counts
    from bellmodels.study.validate import file_sha256

    p = Path(data["path"])
    p = p if p.is_absolute() else Path(base_dir) / p
    if data.get("sha256") and file_sha256(p) != data["sha256"]:
        raise ValueError(
            f"data file {str(p)!r} changed since the study was read (SHA-256 differs): re-run "
            "the study so that its tasks use one version of the file"
        )
    return read_counts(p)


@contextlib.contextmanager
def _sigterm_deferred() -> Iterator[None]:
    """Block SIGTERM in this thread while the body runs; a pending one is delivered after."""
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _table_refusal(model: Any, counts: Any) -> str | None:
    """Why ``model`` is neither trained nor fitted on ``counts``: a kind of table it cannot
    describe (:meth:`~bellmodels.models.HiddenVariableModel.check_counts`), else ``None``.

    A study sweeps every model over every dataset; a photonic model on a table of the other kind
    is audited (its ontic table does not depend on the data) and left unfitted, with the reason in
    its summary, rather than failing the task.
    """
    try:
        model.check_counts(counts)
    except ValueError as exc:
        return str(exc)
    return None


def run_task(task: Task | Mapping[str, Any], out_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """Execute one task in this process and write ``<out_dir>/tasks/<id>.nc``; return a summary.

    The task simulates or loads its data, builds its model (training it by exact maximum
    likelihood if asked), audits it, fits it with PyMC if asked (LOO, evidence, diagnostics), and
    writes one NetCDF atomically. Exceptions propagate (see :func:`task_entry` for the
    recording wrapper the runner uses).

    Examples
    --------
    >>> import tempfile
    >>> from bellmodels.study import parse_study
    >>> cfg = parse_study('[data]\\nsource = "simulate"\\nn_trials = 1000\\n'
    ...                   '[models]\\ninclude = ["bell1964"]\\n[inference]\\nfit = false\\n')
    >>> with tempfile.TemporaryDirectory() as out:
    ...     summary = run_task(cfg.tasks()[0], out)
    >>> summary["status"], summary["audit"]["classification"]
    ('done', 'local & measurement-independent')
    """
    return _run_task(task, out_dir)[0]


def _run_task(
    task: Task | Mapping[str, Any], out_dir: str | os.PathLike[str], shared: Any = None
) -> tuple[dict[str, Any], Any]:
    """:func:`run_task`, and what a member of its job needs to share its fit: ``(task, model,
    fit, FitSummary, LOO)``, or ``None`` when it was not fitted. With ``shared`` (the first
    member's), the fit is not run but shared (:func:`_shared`)."""
    if isinstance(task, Mapping):
        task = Task(task["id"], task["model"], dict(task["config"]))
    t0 = time.perf_counter()
    c0 = time.process_time()
    compiledir = setup_worker(WORKER.compile_base)
    cfg = task.config
    counts = build_counts(cfg["data"], cfg.get("base_dir", "."))
    model, refusal, train_info = _task_model(task, counts)
    summary = _audited(task, model, counts, train_info)
    if refusal is not None:
        summary["not_fitted"] = refusal
    idata = fitted = None
    if cfg["options"].get("fit") and refusal is None and shared is not None:
        idata, fit_summary = _shared(model, counts, shared)
        summary["fit"] = fit_summary.to_dict()
        summary["shared_fit_with"] = {"task": shared[0].id, "model": shared[0].model}
    elif cfg["options"].get("fit") and refusal is None:
        idata, fit_summary, elpd = _fit(model, counts, cfg["inference"])
        summary["fit"] = fit_summary.to_dict()
        fitted = (task, model, idata, fit_summary, elpd)
    summary["seconds"] = time.perf_counter() - t0
    summary["cpu_seconds"] = time.process_time() - c0  # this process only (cores = 1)
    summary["compiledir"] = compiledir
    summary["versions"] = versions()
    _write_task(task, Path(out_dir), counts, model, summary, idata)
    return to_jsonable(summary), fitted


def _shared(model: Any, counts: Any, shared: Any) -> tuple[Any, Any]:
    """A member's own fit and summary from the first member's (``(task, model, fit, summary,
    LOO)``), once the two models are checked to be one model to the data."""
    from bellmodels.inference import sharing

    _task, source, idata, source_summary, elpd = shared
    sharing.check_equivalent(source, model)
    own = sharing.shared_fit(idata, model)
    hdi = source_summary.hdi_prob
    return own, sharing.shared_summary(model, counts, own, source_summary, elpd, hdi)


def _task_model(task: Task, counts: Any) -> tuple[Any, str | None, dict[str, Any]]:
    """The task's model (trained by exact maximum likelihood if asked), why it is not fitted on
    these counts (``None`` when it is) and what its training reported."""
    from bellmodels import models
    from bellmodels.scenario import Scenario

    cfg = task.config
    opts = cfg["options"]
    kwargs = dict(opts.get("params") or {})
    if counts.scenario != Scenario.chsh():
        kwargs["scenario"] = counts.scenario
    models.import_modules(cfg.get("modules", ()), source="the study's [study] modules")
    model = models.get(task.model, **kwargs)
    refusal = _table_refusal(model, counts)
    train_info: dict[str, Any] = {}
    if opts.get("train") and refusal is None:
        t_train = time.perf_counter()
        model = model.train(counts, **(opts.get("train_options") or {}))
        train_info = {"train_seconds": time.perf_counter() - t_train}
        for attr in ("kl_", "loss_", "mi_bits_", "n_iter_", "fit_time_", "restarts_"):
            if hasattr(model, attr):
                train_info[attr.rstrip("_")] = to_jsonable(getattr(model, attr))
    return model, refusal, train_info


def _audited(task: Task, model: Any, counts: Any, train_info: dict[str, Any]) -> dict[str, Any]:
    """The task summary before any fit: the audits of the model and of the data."""
    from bellmodels.auditing import audit

    return {
        "task": task.id,
        "model": task.model,
        "family": model.family,
        "status": "done",
        "audit": to_jsonable(audit(model).to_dict()),
        "data_audit": to_jsonable(audit(counts).to_dict()),
        "train": train_info,
        "n_trials": counts.total,
    }


def _fit(model: Any, counts: Any, inf: Mapping[str, Any]) -> tuple[Any, Any, Any]:
    """The task's PyMC fit, its :class:`~bellmodels.inference.FitSummary` (the same one
    ``bm.compare`` computes: :func:`~bellmodels.inference.summarize_fit`) and its LOO."""
    import pymc  # noqa: F401  (its import sets its logger to INFO; quieten it after)

    from bellmodels import inference

    # PyMC logs every sampler start at INFO; in a pool those lines tear through the
    # runner's progress bar and ignore --quiet. The task's summary records what they say.
    logging.getLogger("pymc").setLevel(logging.WARNING)
    idata = inference.fit(
        model,
        counts,
        draws=int(inf["draws"]),
        tune=int(inf["tune"]),
        chains=int(inf["chains"]),
        seed=int(inf["seed"]),
        sampler=str(inf["sampler"]),
        init=str(inf["init"]),
        target_accept=float(inf["target_accept"]),
        progressbar=False,
        cores=int(inf["cores"]),
    )
    elpd = inference.loo(idata)
    summary = inference.summarize_fit(
        model,
        counts,
        idata,
        elpd=elpd,
        evidence=bool(inf.get("evidence", True)),
        evidence_method=str(inf["evidence_method"]),
        seed=int(inf["seed"]),
        evidence_draws=int(inf["evidence_draws"]),
        evidence_chains=int(inf["evidence_chains"]),
        evidence_hmc_steps=int(inf["evidence_hmc_steps"]),
        cores=int(inf["cores"]),
    )
    return idata, summary, elpd


def _write_task(
    task: Task, out_dir: Path, counts: Any, model: Any, summary: dict[str, Any], idata: Any
) -> None:
    """Write ``out_dir/tasks/<id>.nc`` atomically (the fit, if any, and the ``bellmodels`` group
    holding the counts, the behaviour, p(lambda) and the summary) and journal it."""
    import xarray as xr

    table = model.ontic_table()
    behaviour = np.asarray(model.behaviour(), dtype=float)
    ds = xr.Dataset(
        {
            "counts": counts.array,
            "behaviour": (("setting_a", "setting_b", "outcome_a", "outcome_b"), behaviour),
            "p_lambda": table.p_lambda.assign_coords(lam=np.arange(table.n_lambda)),
        }
    ).drop_vars([c for c in ("label_a", "label_b")], errors="ignore")
    ds.attrs = {
        "summary": json.dumps(to_jsonable(summary), default=str),
        "task": task.to_json(),
        "lam_labels": json.dumps([str(v) for v in table.p_lambda["lam"].values]),
        "model": json.dumps(to_jsonable(model.describe()), default=str),
        "versions": json.dumps(summary["versions"]),
    }
    final = out_dir / "tasks" / f"{task.id}.nc"

    def write(tmp: Path) -> None:
        if idata is not None:
            idata.attrs.update({"task": task.to_json(), "study": task.config.get("study", "")})
            from bellmodels import _arviz

            _arviz.to_netcdf(idata, str(tmp))
            ds.to_netcdf(tmp, mode="a", group="bellmodels", engine="h5netcdf")
        else:  # built in memory: a full disk is then a plain OSError (see netcdf_bytes)
            tmp.write_bytes(netcdf_bytes(ds, group="bellmodels"))

    # the file and its journal line land together: the runner stops a pool with SIGTERM, and a
    # worker killed between the rename and the journal write would leave a task done but not
    # journalled, so SIGTERM waits (blocked in this thread) until both are written
    with _sigterm_deferred():
        atomic_write(final, write)
        shares = summary.get("shared_fit_with")
        extra = {"shared_fit_with": shares["task"]} if shares else {}
        journal(out_dir, "done", task=task.id, seconds=summary["seconds"], **extra)


def task_entry(task_json: str, out_dir: str, compile_base: str | None = None) -> Any:
    """Runner entry point: run the task (or the job: a JSON list of tasks sharing one fit,
    :mod:`bellmodels.study.jobs`) and return its summary (a list of them); a task that raises
    records ``<id>.failed.json`` instead."""
    if compile_base is not None and WORKER.compile_base is None:
        WORKER.compile_base = compile_base
    _quiet_unraisable()
    d = json.loads(task_json)
    if not isinstance(d, list):
        return _recorded(d, out_dir, lambda: run_task(d, out_dir))
    marker = Path(out_dir) / "tasks" / f".{d[0]['id']}.running"
    with contextlib.suppress(OSError):  # the job's marker: the runner names a job by its first
        marker.touch()
    try:
        shared: list[Any] = []

        def first() -> dict[str, Any]:
            summary, fitted = _run_task(d[0], out_dir)
            shared.append(fitted)
            return summary

        out = [_recorded(d[0], out_dir, first, marker=False)]
        for task in d[1:]:  # shared when the first was fitted; fitted alone otherwise
            source = shared[0] if shared else None
            run = functools.partial(_summary_of, task, out_dir, source)
            out.append(_recorded(task, out_dir, run, marker=False))
        return out
    finally:
        marker.unlink(missing_ok=True)


def _summary_of(task: Mapping[str, Any], out_dir: str, shared: Any) -> dict[str, Any]:
    """:func:`_run_task`'s summary (a member of a job, sharing ``shared`` when not ``None``)."""
    return _run_task(task, out_dir, shared)[0]


def _recorded(
    d: Mapping[str, Any], out_dir: str, run: Callable[[], dict[str, Any]], marker: bool = True
) -> dict[str, Any]:
    """Run one task (``run()``); on an exception record ``<id>.failed.json`` and return the
    failure summary. ``marker``: touch ``.<id>.running`` meanwhile (tells the runner this task
    had started, if its worker dies)."""
    t0 = time.perf_counter()
    running = Path(out_dir) / "tasks" / f".{d['id']}.running"
    if marker:
        with contextlib.suppress(OSError):
            running.touch()
    try:
        summary = run()
        (Path(out_dir) / "tasks" / f"{d['id']}.failed.json").unlink(missing_ok=True)
        return summary
    except Exception as exc:
        summary = {
            "task": d["id"],
            "model": d["model"],
            "status": "failed",
            "error": f"{type(exc).__name__}: {exc}",
            "traceback": traceback.format_exc(),
            "seconds": time.perf_counter() - t0,
        }
        try:
            write_json_atomic(Path(out_dir) / "tasks" / f"{d['id']}.failed.json", summary)
        except OSError as err:  # a full disk: the runner still gets the summary
            summary["error"] += f" (its failure record could not be written: {err})"
        journal(Path(out_dir), "failed", task=d["id"], error=summary["error"])
        return summary
    finally:
        gc.collect()  # close what a failed write left open now, while the hook is quiet
        if marker:
            running.unlink(missing_ok=True)


def _quiet_unraisable() -> None:
    """Keep h5py / h5netcdf objects that fail to close after a failed write (a full disk) from
    printing "Exception ignored in ..." tracebacks: the task's own error already says what went
    wrong. Other unraisable exceptions still reach the default hook."""
    if getattr(sys.unraisablehook, "_bellmodels", False):
        return
    default = sys.__unraisablehook__

    def hook(unraisable: Any) -> None:
        module = type(unraisable.object).__module__ or ""
        text = f"{module} {unraisable.err_msg or ''} {unraisable.object!r}"
        if "h5py" in text or "h5netcdf" in text or isinstance(unraisable.exc_value, OSError):
            return
        default(unraisable)

    hook._bellmodels = True  # type: ignore[attr-defined]
    sys.unraisablehook = hook


def _init_pool_worker(compile_base: str | None) -> None:
    """Initializer of the process pool: claim a compile directory before anything imports it."""
    WORKER.compile_base = compile_base
    _quiet_unraisable()
    setup_worker(compile_base)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the runner handles Ctrl-C for everyone


# --------------------------------------------------------------------------------------------
# Runner
# --------------------------------------------------------------------------------------------


__all__ = [
    "WORKER",
    "WorkerState",
    "build_counts",
    "default_compile_base",
    "run_task",
    "setup_worker",
    "task_entry",
]
