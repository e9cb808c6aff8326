"""``bellmodels run STUDY`` and ``bellmodels report DIR``.

``STUDY`` is a study file or the name of a study shipped with the package
(:mod:`bellmodels.studies`), so ``bellmodels run weinstein2017`` works from an installed wheel.

>>> from bellmodels.cli import build_parser
>>> args = build_parser().parse_args(["run", "weinstein2017", "--quiet"])
>>> args.quiet, args.workers
(True, None)
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

from bellmodels.cli import UsageError

log = logging.getLogger(__name__)


def add_commands(subparsers: Any) -> None:
    """Add the ``run`` and ``report`` sub-commands."""
    p = subparsers.add_parser(
        "run",
        help="run a study (TOML): tasks, results store, comparison, report",
        description=(
            "Run a study file: expand its sweep axes into tasks, run them on a local process "
            "pool (default) or on Dask, aggregate the results into DIR/results.nc and write "
            "DIR/report.md and DIR/report.html. Re-running skips the tasks already done."
        ),
        epilog=_run_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("study", help="a study file (.toml) or the name of a shipped study (see below)")
    p.add_argument("--out", metavar="DIR", help="output directory (default out/<study name>)")
    where = p.add_mutually_exclusive_group()
    where.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run on a running Dask scheduler (e.g. tcp://host:8786); DIR must be shared",
    )
    where.add_argument("--dask", action="store_true", help="run on a Dask LocalCluster")
    p.add_argument("--workers", type=int, metavar="N", help="worker processes (default: CPUs)")
    p.add_argument(
        "--quiet", action="store_true", help="errors only: no progress bar, notes or summary"
    )
    p.add_argument("--no-report", action="store_true", help="skip report.md / report.html")
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        dest="overrides",
        help="override a setting of the file, e.g. --set inference.seed=2 (repeatable; the "
        "value is read as TOML)",
    )
    p.set_defaults(func=_run)

    r = subparsers.add_parser(
        "report",
        help="(re)write DIR/report.md, report.html and figures from a study's results",
        description="Write the report of a study directory made by `bellmodels run`.",
        epilog="examples:\n  bellmodels report out/weinstein2017\n",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    r.add_argument("dir", help="study output directory (holds results.nc)")
    r.set_defaults(func=_report)


def _run_epilog() -> str:
    from bellmodels import studies

    return (
        f"shipped studies: {', '.join(studies.names())}\n\n"
        "examples:\n"
        "  bellmodels run weinstein2017\n"
        "  bellmodels run weinstein2017 --set inference.seed=2 --out out/seed2\n"
        "  bellmodels run noise_sweep --out out/noise --workers 2 --quiet\n"
        "  bellmodels run real_data --dask --workers 2\n"
        "  bellmodels run md_frontier --scheduler tcp://10.0.0.5:8786\n"
    )


def _run(args: argparse.Namespace) -> int:
    """Exit 0 when every task finished (fits flagged by the diagnostics gate are reported, not
    fatal), 1 when a task failed, 143 when interrupted by SIGTERM (re-run to resume)."""
    from bellmodels import run_study
    from bellmodels.study import StudyInterrupted

    if args.workers is not None and args.workers < 1:
        raise UsageError(f"--workers must be >= 1, got {args.workers}")
    try:
        ds = run_study(
            args.study,
            args.out,
            workers=args.workers,
            dask=args.dask,
            scheduler=args.scheduler,
            progressbar=not args.quiet,
            report=not args.no_report,
            overrides=args.overrides,
        )
    except StudyInterrupted as exc:
        log.error("bellmodels run: interrupted (%s); re-run to resume", exc)
        return 143
    status = ds["status"].values.ravel()
    status = status[status != ""]
    failed = int((status == "failed").sum())
    out = Path(args.out) if args.out else Path("out") / ds.attrs["study"]
    gate = ds["diagnostics_ok"].values
    flagged = int((gate == 0).sum())
    if flagged:
        log.warning(
            "note: %d fit(s) did not pass the diagnostics gate (reasons in the report)", flagged
        )
    if failed:  # errors are logged also under --quiet: the exit code alone says too little
        _print_failures(ds)
    if not args.quiet:
        print(
            f"{len(set(ds['task'].values.ravel()) - {''})} tasks, {failed} failed; "
            f"results {out / 'results.nc'}"
            + ("" if args.no_report else f"; report {out / 'report.md'}")
        )
    return 1 if failed else 0


def _print_failures(ds: Any, limit: int = 10) -> None:
    """One error record per failed task (task id, error), at most ``limit``."""
    seen: dict[str, str] = {}
    for task, status, error in zip(
        ds["task"].values.ravel(),
        ds["status"].values.ravel(),
        ds["error"].values.ravel(),
        strict=True,
    ):
        if str(status) == "failed" and str(task) not in seen:
            seen[str(task)] = str(error).splitlines()[0] if str(error) else ""
    for task, error in list(seen.items())[:limit]:
        log.error("bellmodels run: task %s failed: %s", task, error)
    if len(seen) > limit:
        log.error("bellmodels run: ... and %d more failed tasks", len(seen) - limit)


def _report(args: argparse.Namespace) -> int:
    from bellmodels.report import write_report

    path = write_report(args.dir)
    print(path)
    return 0
