"""The results store of a study: ``tasks/<id>.nc`` (one per task), ``journal.jsonl`` and
``results.nc`` (every task's numbers and the ranking at every sweep point, dims = sweep axes +
``model``). Readers (:func:`load_study`, :func:`load_task`, :func:`read_task_summary`) are what
the report uses.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bellmodels._util import RENAMED_RESULT_KEYS, to_jsonable, write_atomic
from bellmodels.study.config import StudyConfig

_TASK_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]*")


def task_path(out_dir: str | os.PathLike[str], task_id: str) -> Path:
    """``out_dir/tasks/<task_id>.nc``; a task id that is not one plain file name (as one read
    from a foreign results file may be) is refused, so no path leaves ``out_dir/tasks``.

    >>> task_path("out/x", "bell1964-0123456789").as_posix()
    'out/x/tasks/bell1964-0123456789.nc'
    >>> task_path("out/x", "../../etc/passwd")
    Traceback (most recent call last):
    ...
    ValueError: task id '../../etc/passwd' is not a task file name (letters, digits, ._+-)
    """
    if not isinstance(task_id, str) or not _TASK_ID.fullmatch(task_id) or ".." in task_id:
        raise ValueError(f"task id {task_id!r} is not a task file name (letters, digits, ._+-)")
    return Path(out_dir) / "tasks" / f"{task_id}.nc"


def task_file_problem(path: str | os.PathLike[str], task_id: str | None = None) -> str | None:
    """``None`` if ``path`` is a complete task file (it opens, holds a summary of a finished
    task, of ``task_id`` if given), else what is wrong with it.

    >>> import pathlib, tempfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.nc"
    >>> _ = p.write_bytes(b"")
    >>> task_file_problem(p).startswith("cannot be read")
    True
    """
    try:
        summary = read_task_summary(path)
    except ValueError as exc:
        return str(exc)
    if summary.get("status") != "done":
        return f"its summary has status {summary.get('status')!r}"
    if task_id is not None and summary.get("task") != task_id:
        return f"it holds task {summary.get('task')!r}, not {task_id!r}"
    return None


def task_done(out_dir: str | os.PathLike[str], task_id: str) -> bool:
    """Whether ``task_id`` has a complete NetCDF in ``out_dir/tasks``: the file exists, opens
    and holds the summary of that finished task (:func:`task_file_problem`). Files are written
    atomically, but a disk fault or a copy may still truncate one; such a file is not done.

    >>> task_done("/nonexistent", "bell1964-0123456789")
    False
    """
    path = task_path(out_dir, task_id)
    return path.is_file() and task_file_problem(path, task_id) is None


def journal(out_dir: Path, event: str, **fields: Any) -> bool:
    """Append one event to ``out_dir/journal.jsonl`` (best effort: ``False`` when the disk
    refuses the line, e.g. when it is full; the run goes on and says so elsewhere)."""
    line = json.dumps({"time": time.time(), "event": event, **to_jsonable(fields)}) + "\n"
    try:
        fd = os.open(out_dir / "journal.jsonl", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    except OSError:
        return False
    try:
        os.write(fd, line.encode())  # one short O_APPEND write: never interleaved
    except OSError:
        return False
    finally:
        os.close(fd)
    return True


def _damaged(path: Path, exc: BaseException) -> ValueError:
    return ValueError(
        f"cannot be read: {str(path)!r} is damaged or incomplete ({type(exc).__name__}: {exc}); "
        "re-run the study to redo it"
    )


_AUDIT_VARS = (
    "S",
    "mi_bits",
    "hall_M",
    "hall_M_a",
    "hall_M_b",
    "hall_bound",
    "min_mi_bits",
    "ch_J",
    "parameter_independence_violation",
    "outcome_independence_violation",
)
_FIT_VARS = (
    "S_mean",
    "mi_bits_mean",
    "hall_M_mean",
    "elpd_loo",
    "se",
    "p_loo",
    "pareto_k_max",
    "log_evidence",
    "log_evidence_se",
)
_RANK_VARS = ("elpd_diff", "dse", "weight", "rank")
_TEXT_VARS = ("classification", "family", "status", "error", "task")
_DATA_VARS = ("data_S", "data_S_se", "data_min_mi_bits", "n_trials")
_OTHER_VARS = ("S_hdi_low", "S_hdi_high", "seconds", "cpu_seconds", "train_kl", "train_mi_bits")

#: The variables of ``results.nc`` (:func:`aggregate`), named as in ``docs/api/glossary.md``.
RESULT_VARIABLES: tuple[str, ...] = (
    *_AUDIT_VARS,
    *_FIT_VARS,
    *_RANK_VARS,
    *_OTHER_VARS,
    "diagnostics_ok",
    *_TEXT_VARS,
    *_DATA_VARS,
)

#: Names older 0.x versions wrote (``results.nc`` variables, task summary keys): old -> new.
RENAMED_VARIABLES = RENAMED_RESULT_KEYS


def read_task_summary(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The summary a task stored in its NetCDF (``bellmodels`` group attrs); its ``fit`` entry
    is a :meth:`~bellmodels.inference.FitSummary.to_dict` record (a task file written by an older
    0.x version is converted on read, so a resumed study does not redo it).

    On a finished run (``tests/study/test_store.py`` checks this on a small one)::

        read_task_summary("out/weinstein2017/tasks/rbm-c8a134e1b5.nc")["status"]
        # -> 'done'
    """
    import xarray as xr

    from bellmodels.inference.summary import FitSummary

    try:
        with xr.open_dataset(path, group="bellmodels", engine="h5netcdf") as ds:
            summary = dict(json.loads(ds.attrs["summary"]))
        if summary.get("fit"):  # written by an older 0.x version: its keys converted on read
            summary["fit"] = FitSummary.from_dict(summary["fit"], model=summary["model"]).to_dict()
    except Exception as exc:  # h5py's OSError, a missing group or attribute, bad JSON
        raise _damaged(Path(path), exc) from exc
    return summary


def collect_summaries(cfg: StudyConfig, out_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """``{task id: summary}`` from the task files (done) and failure records (failed); tasks
    with neither have status ``"missing"``.

    On a finished run (``tests/study/test_store.py`` checks this on a small one)::

        from bellmodels.study import load_study_file
        cfg = load_study_file("md_frontier")
        {s["status"] for s in collect_summaries(cfg, "out/md_frontier").values()}
        # -> {'done'}
    """
    tasks_dir = Path(out_dir) / "tasks"
    out: dict[str, Any] = {}
    for t in cfg.tasks():
        nc = task_path(out_dir, t.id)
        failed = tasks_dir / f"{t.id}.failed.json"
        if nc.is_file():
            out[t.id] = read_task_summary(nc)
        elif failed.is_file():
            out[t.id] = json.loads(failed.read_text(encoding="utf-8"))
        else:
            out[t.id] = {"task": t.id, "model": t.model, "status": "missing"}
    return out


def aggregate(
    cfg: StudyConfig,
    out_dir: str | os.PathLike[str],
    comparisons: Mapping[int, Mapping[str, Mapping[str, Any]]] | None = None,
) -> Any:
    """Build the results :class:`xarray.Dataset`: dims = sweep axes + ``model``.

    Per (point, model): the audit numbers (``S``, ``mi_bits``, ``hall_M``, ...,
    ``classification``), the fit summaries (``S_mean``, ``S_hdi_low/high``, ``elpd_loo``,
    ``log_evidence``, ``diagnostics_ok``), the comparison (``elpd_diff``, ``weight``, ``rank``),
    ``status``, ``error``, ``task``, ``seconds``; per point: the data's ``data_S`` and
    ``data_S_se`` and ``n_trials``. Attributes: the resolved configuration and package versions
    (JSON).

    On a finished run (``tests/study/test_store.py`` checks this on a small one)::

        cfg = load_study_file("md_frontier")
        aggregate(cfg, "out/md_frontier")["mi_bits"].dims
        # -> ('mi_penalty', 'model')
    """
    import xarray as xr

    summaries = collect_summaries(cfg, out_dir)
    models = cfg.models()
    shape = (*cfg.shape, len(models))
    dims = (*(a.name for a in cfg.axes), "model")
    fkeys = (*_AUDIT_VARS, *_FIT_VARS, *_RANK_VARS, *_OTHER_VARS, "diagnostics_ok")
    fvars = {k: np.full(shape, np.nan) for k in fkeys}
    svars = {k: np.full(shape, "", dtype=object) for k in _TEXT_VARS}
    data_vars = {k: np.full(cfg.shape, np.nan) for k in _DATA_VARS}
    flat_points = list(np.ndindex(*cfg.shape)) if cfg.shape else [()]
    versions: dict[str, str] = {}
    for point, (idx, (_coords, tasks)) in enumerate(zip(flat_points, cfg.grid(), strict=True)):
        comp = (comparisons or {}).get(point, {})
        for t in tasks:
            at = (*idx, models.index(t.model))
            s = summaries[t.id]
            svars["task"][at] = t.id
            svars["status"][at] = s.get("status", "missing")
            svars["error"][at] = s.get("error", "") or ""
            for key in ("seconds", "cpu_seconds"):
                if s.get(key) is not None:
                    fvars[key][at] = s[key]
            if s.get("status") != "done":
                continue
            versions = s.get("versions", versions)
            _fill_done(fvars, svars, at, s, comp.get(t.model))
            _fill_data(data_vars, idx, s)
    coords: dict[str, Any] = {a.name: _coord(a.values) for a in cfg.axes}
    coords["model"] = np.array(models, dtype=object)
    ds = xr.Dataset(coords=coords)
    for k, v in fvars.items():
        ds[k] = (dims, v)
    for k, v in svars.items():
        ds[k] = (dims, v.astype(str))
    for k, v in data_vars.items():
        if k not in coords:  # a swept [data] n_trials is already the point's coordinate
            ds[k] = (dims[:-1], v)
    ds.attrs = {
        "study": cfg.name,
        "config": cfg.to_json(),
        "versions": json.dumps(versions),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    return ds


def _fill_done(
    fvars: dict[str, np.ndarray],
    svars: dict[str, np.ndarray],
    at: tuple[int, ...],
    s: Mapping[str, Any],
    row: Mapping[str, Any] | None,
) -> None:
    """The numbers of one finished task at ``at``: its audit, training, fit summary, rank."""
    from bellmodels.inference.summary import FitSummary

    a = s["audit"]
    for k in _AUDIT_VARS:
        v = a.get(k)
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            fvars[k][at] = v
    svars["classification"][at] = a.get("classification", "")
    svars["family"][at] = s.get("family", "")
    train = s.get("train") or {}
    for k in ("kl", "mi_bits"):
        if isinstance(train.get(k), (int, float)):
            fvars[f"train_{k}"][at] = train[k]
    if s.get("fit"):
        f = FitSummary.from_dict(s["fit"], model=s.get("model")).to_dict()
        for k in _FIT_VARS:
            if f.get(k) is not None:
                fvars[k][at] = f[k]
        if f.get("S_hdi"):
            fvars["S_hdi_low"][at], fvars["S_hdi_high"][at] = f["S_hdi"]
        fvars["diagnostics_ok"][at] = float(bool(f["diagnostics_ok"]))
    for k in _RANK_VARS if row else ():
        if row.get(k) is not None:
            fvars[k][at] = row[k]


def _fill_data(
    data_vars: dict[str, np.ndarray], idx: tuple[int, ...], s: Mapping[str, Any]
) -> None:
    """The data's numbers at sweep point ``idx`` (from one finished task's data audit)."""
    d = s["data_audit"]
    data_vars["data_S"][idx] = d.get("S", np.nan)
    mm = d.get("min_mi_bits")
    data_vars["data_min_mi_bits"][idx] = np.nan if mm is None else mm
    se = d.get("S_se")
    data_vars["data_S_se"][idx] = np.nan if se is None else se
    data_vars["n_trials"][idx] = s.get("n_trials", np.nan)


def _coord(values: Sequence[Any]) -> np.ndarray:
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return np.asarray(values)
    if all(isinstance(v, str) for v in values):
        return np.asarray(values, dtype=str)
    return np.asarray([json.dumps(v) for v in values], dtype=str)


def rank_point(summaries: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """The ranking of the fitted models of one sweep point, from their task summaries.

    :func:`bellmodels.ranking.rank` (gate-passing fits first, stacking weights only over
    them) on the per-cell LOO values each task stored with its fit summary: no fit is read again and no
    LOO is computed again.

    Parameters
    ----------
    summaries
        ``{model: task summary}`` of the point; models without a fit are left out.

    Returns
    -------
    dict
        ``{model: {"rank", "elpd_loo", "se", "elpd_diff", "dse", "weight", "diagnostics_ok"}}``,
        empty when no model was fitted.

    >>> rank_point({"bell1964": {"status": "done"}})
    {}
    """
    from bellmodels.inference.summary import FitSummary
    from bellmodels.ranking import rank

    fits = {
        m: FitSummary.from_dict(s["fit"], model=m) for m, s in summaries.items() if s.get("fit")
    }
    if not fits:
        return {}
    table = rank(
        {m: f.loo_cells for m, f in fits.items()},
        next(iter(fits.values())).cell_counts,
        {m: f.diagnostics_ok for m, f in fits.items()},
    )
    return {
        str(m): {k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()}
        for m, row in table.to_dict(orient="index").items()
    }


def write_results(ds: Any, out_dir: str | os.PathLike[str]) -> Path:
    """Write the results Dataset to ``out_dir/results.nc`` atomically.

    On a finished run (``tests/study/test_store.py`` checks this on a small one)::

        write_results(aggregate(cfg, "out/x"), "out/x")
        # -> PosixPath('out/x/results.nc')
    """
    final = Path(out_dir) / "results.nc"
    write_atomic(final, netcdf_bytes(ds))
    return final


def netcdf_bytes(ds: Any, group: str | None = None) -> bytes:
    """``ds`` as the bytes of a NetCDF-4 file, built in memory.

    HDF5 never writes to the disk itself, then: the bytes go to a file with plain Python I/O
    (:func:`~bellmodels._util.write_atomic`), where a full disk is one clean ``OSError``. HDF5
    writing to a full disk instead fails in its destructors (h5py's "Exception ignored"
    tracebacks) and has crashed the interpreter at exit.

    >>> import xarray as xr
    >>> netcdf_bytes(xr.Dataset({"a": ("x", [1.0, 2.0])}))[:4]
    b'\\x89HDF'
    """
    try:  # in a Dask worker xarray would take a distributed lock named by the in-memory file,
        import dask  # which Dask cannot name: write with the synchronous scheduler's lock

        local = dask.config.set(scheduler="synchronous")
    except ImportError:  # pragma: no cover - dask is optional
        local = contextlib.nullcontext()
    with local:
        return bytes(ds.to_netcdf(None, mode="w", group=group, engine="h5netcdf"))


def load_study(out_dir: str | os.PathLike[str]) -> Any:
    """The results of a study run: an :class:`xarray.Dataset` indexed by sweep axes and model.

    Parameters
    ----------
    out_dir
        The directory :func:`run_study` wrote (it holds ``results.nc``).

    Returns
    -------
    xarray.Dataset
        Loaded into memory; ``attrs["config"]`` is the resolved study configuration (JSON),
        ``attrs["versions"]`` the package versions.

    Examples
    --------
    On a finished run (``tests/study/test_store.py`` checks this on a small one)::

        ds = load_study("out/weinstein2017")
        ds["elpd_loo"].to_series().sort_values()
    """
    import xarray as xr

    path = Path(out_dir) / "results.nc"
    if not path.is_file():
        raise FileNotFoundError(f"{str(path)!r} does not exist: run the study first")
    try:
        with xr.open_dataset(path, engine="h5netcdf") as ds:
            ds = ds.load()
    except Exception as exc:
        raise _damaged(path, exc) from exc
    # results written before the renames of docs/api/glossary.md read the same
    return ds.rename({old: new for old, new in RENAMED_VARIABLES.items() if old in ds})


def load_task(
    out_dir: str | os.PathLike[str],
    task_id: str,
    groups: Mapping[str, Sequence[str] | None] | None = None,
) -> tuple[Any, Any]:
    """``(bellmodels group Dataset, InferenceData or None)`` of one task of a study run.

    ``groups`` reads only those groups of the fit, each whole (``None``) or only the named
    variables (those it has): what a reader that draws a few quantities needs, without reading
    the raw parameters and per-cell arrays of every draw. By default the whole fit is read
    (:func:`bellmodels._arviz.from_netcdf`).

    On a finished run (``tests/study/test_store.py`` checks this on a small one)::

        ds = load_study("out/weinstein2017")
        extra, idata = load_task("out/weinstein2017", str(ds["task"].sel(model="rbm").values))
        idata.posterior["S"].mean().item()
        # -> 2.82...
        _, small = load_task("out/weinstein2017", "...", groups={"posterior": ["S"]})
    """
    import xarray as xr

    path = task_path(out_dir, task_id)
    try:
        with xr.open_dataset(path, group="bellmodels", engine="h5netcdf") as ds:
            extra = ds.load()
        summary = json.loads(extra.attrs["summary"])
        idata = None
        if summary.get("fit"):
            from bellmodels import _arviz

            idata = _arviz.from_netcdf(str(path)) if groups is None else _read_groups(path, groups)
    except Exception as exc:
        raise _damaged(path, exc) from exc
    return extra, idata


def _read_groups(path: Path, groups: Mapping[str, Sequence[str] | None]) -> Any:
    """The fit of the task file ``path`` with only ``groups`` (see :func:`load_task`)."""
    import h5netcdf
    import xarray as xr

    from bellmodels import _arviz

    with h5netcdf.File(path, "r") as f:
        present = set(f.groups)
    read = {}
    for name, variables in groups.items():
        if name not in present:
            continue
        with xr.open_dataset(path, group=name, engine="h5netcdf") as ds:
            keep = ds if variables is None else ds[[v for v in variables if v in ds]]
            read[name] = keep.load()
    return _arviz.inference_data(read)


__all__ = [
    "aggregate",
    "collect_summaries",
    "journal",
    "load_study",
    "load_task",
    "rank_point",
    "read_task_summary",
    "task_done",
    "task_file_problem",
    "task_path",
    "write_results",
]
