"""Wall time of the main job, ``bellmodels run weinstein2017``, against its budget.

Runs the command as a user would (a subprocess, default workers = CPUs), twice:

- **cold**: from an empty home, as a new user on a fresh machine meets it: ``HOME`` is a new
  empty directory and every cache a user starts without points into it (:func:`child_env`:
  ``XDG_CACHE_HOME``, PyTensor's ``compiledir``, ``BELLMODELS_COMPILEDIR``, ``NUMBA_CACHE_DIR``,
  ``MPLCONFIGDIR``);
- **warm**: the same home again, its caches now filled (what every later run sees), in a fresh
  output dir.

Prints the times and their ratios to the targets side by side (150 s cold, 60 s warm; the
study's own budget is 5 minutes), each model's CPU seconds in both runs, and writes
``docs/generated/study_walltime.md`` (atomically), with the versions the runs used.

    python benchmarks/study_walltime.py            # both runs
    python benchmarks/study_walltime.py --warm-only   # the user's (warm) compile cache
    python benchmarks/study_walltime.py --from-run cold=out/w17   # a run made with a fresh
                                                  # BELLMODELS_COMPILEDIR, 2 workers
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bellmodels.data import write_atomic

ROOT = Path(__file__).resolve().parents[1]
STUDY = ROOT / "bellmodels" / "studies" / "weinstein2017.toml"
TARGETS = {"cold": 150.0, "warm": 60.0}
"""Wall-time targets on 2 idle cores: from an empty home, and with its caches filled."""
OUT = ROOT / "docs" / "generated" / "study_walltime.md"


def cpu_profile(out: Path) -> tuple[float, float, float, dict[str, float], dict[str, str]]:
    """(sum of the tasks' CPU seconds, the largest task's, seconds spent after the tasks, each
    model's CPU seconds, the versions the study recorded)."""
    from bellmodels import load_study

    ds = load_study(out)
    cpu = ds["cpu_seconds"].values
    per_model = {str(m): float(c) for m, c in zip(ds["model"].values, cpu, strict=True)}
    cpu = cpu[np.isfinite(cpu)]
    versions = json.loads(ds.attrs.get("versions", "{}"))
    tasks = float(ds.attrs.get("tasks_seconds", np.nan))
    return float(cpu.sum()), float(cpu.max()), tasks, per_model, versions


def target(kind: str) -> float:
    """The wall-time target of a run of ``kind`` (``cold ...`` or ``warm ...``)."""
    return TARGETS[kind.split()[0]]


def child_env(base: dict[str, str], home: Path | None) -> dict[str, str]:
    """The study's environment: ``base`` with every cache a user has under ``home``.

    ``home=None`` keeps the user's own home and caches (``--warm-only``). Otherwise ``home`` is
    the child's ``HOME`` and holds every cache a new user starts without: the XDG cache
    (``~/.cache``, bellmodels' default compile base among them), PyTensor's compile directory
    (any other ``PYTENSOR_FLAGS`` are kept), ``BELLMODELS_COMPILEDIR``, Numba's cache of the
    package's ``njit(cache=True)`` kernels (else cached beside their module, so a "cold" run in a
    checkout that ran before would find them compiled) and matplotlib's config and font cache.
    The same ``home`` twice gives the cold run, then the warm one.

    >>> env = child_env({"PATH": "/bin", "PYTENSOR_FLAGS": "floatX=float64"}, Path("/tmp/h"))
    >>> env["HOME"], env["MPLCONFIGDIR"], env["PYTENSOR_FLAGS"]
    ('/tmp/h', '/tmp/h/.config/matplotlib', 'floatX=float64,base_compiledir=/tmp/h/.pytensor,compiledir=/tmp/h/.pytensor/compiledir')
    """
    env = dict(base)
    if home is None:
        return env
    cache = home / ".cache"
    pytensor = home / ".pytensor"
    flags = [f for f in env.get("PYTENSOR_FLAGS", "").split(",") if f.strip()]
    flags = [f for f in flags if f.split("=")[0].strip() not in ("base_compiledir", "compiledir")]
    flags += [f"base_compiledir={pytensor}", f"compiledir={pytensor / 'compiledir'}"]
    env.update(
        HOME=str(home),
        XDG_CACHE_HOME=str(cache),
        XDG_CONFIG_HOME=str(home / ".config"),
        PYTENSOR_FLAGS=",".join(flags),
        BELLMODELS_COMPILEDIR=str(cache / "bellmodels" / "pytensor"),
        NUMBA_CACHE_DIR=str(cache / "numba"),
        MPLCONFIGDIR=str(home / ".config" / "matplotlib"),
    )
    return env


def run_once(out: Path, home: Path | None) -> tuple[float, int, str]:
    """Wall seconds, exit code and stderr tail of the main job with ``child_env(home)``."""
    env = child_env(dict(os.environ), home)
    cmd = [
        sys.executable,
        "-c",
        "import sys; from bellmodels.cli import main; sys.exit(main())",
        "run",
        str(STUDY),
        "--out",
        str(out),
        "--quiet",
    ]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True)
    return time.perf_counter() - t0, proc.returncode, proc.stderr[-2000:]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--warm-only",
        action="store_true",
        help="one run with the user's compile cache (warm after any earlier run), no cold run",
    )
    ap.add_argument(
        "--from-run",
        action="append",
        default=[],
        metavar="KIND=DIR",
        help="read a finished `bellmodels run weinstein2017 --out DIR` (2 workers; "
        "KIND = cold or warm: the compile cache it started with) instead of running one; its "
        "wall time is the tasks' span in DIR/journal.jsonl (the report after them excluded)",
    )
    args = ap.parse_args()
    rows = []
    per_model: dict[str, dict[str, float]] = {}
    versions: dict[str, str] = {}
    load0 = os.getloadavg()[0]
    if args.from_run:
        for item in args.from_run:
            kind, _, d = item.partition("=")
            out = Path(d)
            events = [json.loads(x) for x in (out / "journal.jsonl").read_text().splitlines()]
            start = min(e["time"] for e in events if e["event"] == "start")
            end = max(e["time"] for e in events if e["event"] == "finished")
            failed = any(e["event"] == "failed" for e in events)
            total_cpu, max_cpu, tasks_wall, per_model[kind], versions = cpu_profile(out)
            seconds = end - start
            idle = max(total_cpu / 2, max_cpu)
            rows.append(
                (f"{kind} (read from a run)", seconds, int(failed), total_cpu, max_cpu, idle)
            )
            print(
                f"{kind:5s} {seconds:8.1f} s   {seconds / target(kind):5.2f} x target   "
                f"task CPU {total_cpu:.0f} s (largest {max_cpu:.0f} s)   "
                f"idle-machine estimate {idle:.0f} s = {idle / target(kind):.2f} x target"
            )
    with tempfile.TemporaryDirectory(prefix="bm-walltime-") as tmp:
        # an empty home for the cold run, the same (now filled) for the warm; --warm-only: the
        # user's own home and caches
        home = None if args.warm_only else Path(tmp) / "home"
        if home is not None:
            home.mkdir()
        kinds = [] if args.from_run else ["warm"] if args.warm_only else ["cold", "warm"]
        for kind in kinds:
            seconds, rc, err = run_once(Path(tmp) / kind, home)
            profile = cpu_profile(Path(tmp) / kind)
            total_cpu, max_cpu, tasks_wall, per_model[kind], versions = profile
            # on an idle machine the 2 workers need at least max(sum / 2, largest task) of CPU
            idle = max(total_cpu / 2, max_cpu) + (seconds - tasks_wall)
            rows.append((kind, seconds, rc, total_cpu, max_cpu, idle))
            print(
                f"{kind:5s} {seconds:8.1f} s   {seconds / target(kind):5.2f} x target   "
                f"exit {rc}   task CPU {total_cpu:.0f} s (largest {max_cpu:.0f} s)   "
                f"idle-machine estimate {idle:.0f} s = {idle / target(kind):.2f} x target"
            )
            if rc not in (0, 1):
                print(err, file=sys.stderr)
    lines = [
        "# Wall time of the main job",
        "",
        "`bellmodels run weinstein2017` (11 models audited, fitted and compared on "
        "100,000 simulated trials; report with figures), measured by "
        + (
            "`python benchmarks/study_walltime.py --from-run ...` (reading runs made with a "
            "fresh `BELLMODELS_COMPILEDIR` and 2 workers; wall time = the tasks' span in the "
            "run's journal, the report excluded) on "
            if args.from_run
            else "`python benchmarks/study_walltime.py` on "
        )
        + f"{os.cpu_count()} CPUs ({platform.machine()}, Python {platform.python_version()}), "
        + (
            f"load average {load0:.1f} at the start"
            if not args.from_run
            else "the load average when each run started is not recorded"
        )
        + ". Targets: "
        + ", ".join(f"{t:.0f} s {k}" for k, t in TARGETS.items())
        + " on 2 idle cores. Versions: "
        + ", ".join(f"{k} {v}" for k, v in versions.items() if k not in ("platform",))
        + ".",
        "",
        "| caches (cold: an empty home) | wall time (s) | target (s) | ratio to target | exit "
        "code | task CPU (s) | largest task CPU (s) | idle-machine estimate (s) | its ratio |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {k} | {s:.1f} | {target(k):.0f} | {s / target(k):.2f} | {rc} | {c:.0f} | {m:.0f} | "
        f"{i:.0f} | {i / target(k):.2f} |"
        for k, s, rc, c, m, i in rows
    ]
    kinds = list(per_model)
    lines += [
        "",
        "CPU seconds of each model's task (training, audit, fit, LOO, evidence; a model that "
        "shares another's fit pays only its own audit):",
        "",
        "| model | " + " | ".join(f"{k} (s)" for k in kinds) + " |",
        "|---|" + "---|" * len(kinds),
    ]
    lines += [
        f"| {m} | " + " | ".join(f"{per_model[k].get(m, np.nan):.1f}" for k in kinds) + " |"
        for m in per_model[kinds[0]]
    ]
    lines += [
        "",
        "The idle-machine estimate is max(task CPU / 2, largest task CPU), plus, for a run made "
        "by this script, the time after the tasks (comparison, report): what the 2 workers need "
        "when they have the cores to "
        "themselves. The wall time is what this run got on the shared machine. Task CPU is "
        "the worker processes' own time, compilation by Numba included (a C compiler run "
        "would be a child process, outside it).",
    ]
    lines += [
        "",
        "Exit code 0: every task finished (fits flagged by the diagnostics gate are listed in "
        "the report); 1: a task failed. The machine is shared: the load average says how much "
        "of the 2 cores the study had.",
        "",
    ]
    write_atomic(OUT, "\n".join(lines))
    print(f"wrote {OUT.relative_to(ROOT)}")
    return 0 if all(r[2] == 0 for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
