"""Studies: a TOML file -> validated configuration -> tasks -> runner -> per-task NetCDF -> results.

Six rooms, re-exported here: :mod:`~bellmodels.study.schema` (the keys a study file may set),
:mod:`~bellmodels.study.validate` (the whole study checked before anything is written, and the
fingerprints of its input files),
:mod:`~bellmodels.study.config` (the validated configuration, its sweep axes and tasks),
:mod:`~bellmodels.study.worker` (one task in one worker process),
:mod:`~bellmodels.study.runner` (process pool or Dask, the ranking at every point) and
:mod:`~bellmodels.study.store` (the task files and ``results.nc``, and their readers). The report
(:mod:`bellmodels.report`) reads the store; nothing here imports it. ``bm.run_study`` runs a
study and then writes its report.

>>> from bellmodels.study import parse_study
>>> cfg = parse_study('''
... [data]
... source = "simulate"
... visibility = [0.7, 1.0]
... [models]
... include = ["quantum-singlet"]
... [inference]
... fit = false
... ''', source="inline.toml")
>>> [a.name for a in cfg.axes], len(cfg.tasks())
(['visibility'], 2)
"""

from __future__ import annotations

from bellmodels import run_study  # the one run_study (it writes the report unless report=False)
from bellmodels.study.config import Axis, StudyConfig, Task, load_study_file, parse_study
from bellmodels.study.runner import StudyInterrupted, run_study_tasks, run_tasks
from bellmodels.study.store import (
    aggregate,
    collect_summaries,
    load_study,
    load_task,
    rank_point,
    read_task_summary,
    task_done,
    task_file_problem,
    task_path,
    write_results,
)
from bellmodels.study.validate import check_study, file_sha256
from bellmodels.study.worker import build_counts, default_compile_base, run_task, setup_worker

__all__ = [
    "Axis",
    "StudyConfig",
    "StudyInterrupted",
    "Task",
    "aggregate",
    "build_counts",
    "check_study",
    "collect_summaries",
    "default_compile_base",
    "file_sha256",
    "load_study",
    "load_study_file",
    "load_task",
    "parse_study",
    "rank_point",
    "read_task_summary",
    "run_study",
    "run_study_tasks",
    "run_task",
    "run_tasks",
    "setup_worker",
    "task_done",
    "task_file_problem",
    "task_path",
    "write_results",
]
