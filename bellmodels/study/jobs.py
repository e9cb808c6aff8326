"""Jobs: what one worker call runs, one task or the tasks that share one fit.

Tasks of one run that read the same data with the same inference settings and options, and
whose models declare the same observational family
(:meth:`~bellmodels.models.HiddenVariableModel.observational_family`: ``quantum-singlet``,
``toner-bacon``, ``brans``, ``hall2010``, ``dlr-one-sided``), are one :class:`Job`: the worker
fits the first once and gives every other its own fit from it
(:func:`bellmodels.inference.sharing.shared_fit`, after checking numerically that the models
are one model to the data), then writes each task's own file and journal line, so resume, the
results store and the report see tasks as before. A member's summary says whose fit it shares
(``shared_fit_with``).

Only pending tasks are grouped: when some members of a family are done and others are not (a
model added to a finished study), the missing ones are fitted once among themselves, under the
same seed, rather than read back from a finished member's file. A finished file is never
reopened by a worker (the runner alone decides what is done), so a damaged one cannot spread.

>>> from bellmodels.study import parse_study
>>> cfg = parse_study('[data]\\nsource = "simulate"\\n[models]\\n'
...                   'include = ["quantum-singlet", "bell1964", "hall2010"]\\n')
>>> [[t.model for t in job.tasks] for job in group_jobs(cfg.tasks())]
[['quantum-singlet', 'hall2010'], ['bell1964']]
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Hashable, Sequence
from pathlib import Path
from typing import Any

from bellmodels._util import write_json_atomic
from bellmodels.study.config import Task
from bellmodels.study.store import journal


@dataclasses.dataclass(frozen=True)
class Job:
    """One worker call: a task, or tasks that share one fit (the first is fitted).

    ``id``, ``model`` and ``config`` are the first task's, so a runner treats a job as it
    treats a task; :meth:`to_json` is one task's JSON, or a JSON list of the tasks.
    """

    tasks: tuple[Task, ...]

    @property
    def id(self) -> str:
        """The first task's id (the job's ``.<id>.running`` marker and Dask key)."""
        return self.tasks[0].id

    @property
    def model(self) -> str:
        """The model that is fitted."""
        return self.tasks[0].model

    @property
    def config(self) -> dict[str, Any]:
        """The first task's configuration (the same data and inference for all)."""
        return self.tasks[0].config

    def to_json(self) -> str:
        """What the worker's :func:`~bellmodels.study.worker.task_entry` receives."""
        if len(self.tasks) == 1:
            return self.tasks[0].to_json()
        return json.dumps([json.loads(t.to_json()) for t in self.tasks])


def share_key(task: Task) -> Hashable | None:
    """The key of the tasks ``task`` may share one fit with: its model's declared family and
    everything else the task reads (data, inference, options); ``None`` for a task that is not
    fitted, is trained first, or whose model declares no family (or cannot be built here: the
    worker then says why)."""
    cfg = task.config
    opts = cfg.get("options") or {}
    if not opts.get("fit") or opts.get("train"):
        return None
    try:
        from bellmodels import models

        models.import_modules(cfg.get("modules", ()), source="the study's [study] modules")
        family = models.get(task.model, **(opts.get("params") or {})).observational_family()
    except Exception:
        return None
    if family is None:
        return None
    rest = {k: v for k, v in cfg.items() if k != "model"}
    return (family, json.dumps(rest, sort_keys=True, default=str))


def group_jobs(tasks: Sequence[Task]) -> list[Job]:
    """The tasks as jobs, in order of first appearance (see the module docstring)."""
    groups: dict[Any, list[Task]] = {}
    for i, t in enumerate(tasks):
        key = share_key(t)
        groups.setdefault(("own", i) if key is None else key, []).append(t)
    return [Job(tuple(g)) for g in groups.values()]


def crash_summaries(out: Path, job: Task | Job, why: str) -> list[dict[str, Any]]:
    """The failure records of a job (each of its tasks) whose worker could not report (died,
    or lost on Dask), written to ``tasks/<id>.failed.json`` and journalled."""
    out_list = []
    for task in job.tasks if isinstance(job, Job) else (job,):
        summary = {
            "task": task.id,
            "model": task.model,
            "status": "failed",
            "error": f"worker process died: {why}",
            "traceback": "",
            "seconds": None,
        }
        try:
            write_json_atomic(out / "tasks" / f"{task.id}.failed.json", summary)
        except OSError as exc:  # a full disk: the run goes on, the summary says it was not kept
            summary["error"] += f" (its failure record could not be written: {exc})"
        journal(out, "failed", task=task.id, error=summary["error"])
        out_list.append(summary)
    return out_list


__all__ = ["Job", "crash_summaries", "group_jobs", "share_key"]
