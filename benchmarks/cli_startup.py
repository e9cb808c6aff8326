"""Cold-process start-up of the CLI against ``python -c "import numpy"`` (issue #28, item 1).

Each command runs ``--repeat`` times (default 7), interleaved, each time in a fresh interpreter
(``python -c 'from bellmodels.cli import main; ...'``, the console script's own entry point),
and the medians are printed side by side with their difference to the numpy baseline and the
ratio; the acceptance is a difference of at most 0.5 s on an idle machine. Writes
``docs/generated/cli_startup.md`` atomically.

    python benchmarks/cli_startup.py                # all commands, 7 runs each
    python benchmarks/cli_startup.py --importtime audit rbm-weinstein2017
                                                    # -X importtime of one command, slowest first
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "generated" / "cli_startup.md"
ALLOWANCE = 0.5  # seconds over the numpy baseline (issue #28)
BASELINE = ("import numpy",)
COMMANDS: tuple[tuple[str, ...], ...] = (
    ("--help",),
    ("datasets", "list"),
    ("audit", "rbm-weinstein2017"),
    ("audit", "rbm-weinstein2017", "--skip-min-mi"),
    ("audit", "--data", "delft2015"),
)
CLI = "import sys; from bellmodels.cli import main; sys.exit(main())"


def argv(command: tuple[str, ...]) -> list[str]:
    """The child's argv: the numpy baseline, or the CLI with ``command``."""
    if command == BASELINE:
        return [sys.executable, "-c", BASELINE[0]]
    return [sys.executable, "-c", CLI, *command]


def time_once(command: tuple[str, ...]) -> float:
    """Wall seconds of one fresh process running ``command`` (it must exit 0)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    t0 = time.perf_counter()
    proc = subprocess.run(argv(command), env=env, cwd=ROOT, capture_output=True, text=True)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{proc.stderr[-2000:]}")
    return elapsed


def medians(repeat: int) -> dict[tuple[str, ...], float]:
    """Median wall time of each command, the runs interleaved so that load hits all alike."""
    times: dict[tuple[str, ...], list[float]] = {c: [] for c in (BASELINE, *COMMANDS)}
    for _ in range(repeat):
        for command in times:
            times[command].append(time_once(command))
    return {c: statistics.median(t) for c, t in times.items()}


def table(result: dict[tuple[str, ...], float], repeat: int) -> str:
    """Markdown: each command's median, its difference to and ratio over the baseline."""
    base = result[BASELINE]
    rows = [
        f"Medians of {repeat} fresh processes each, interleaved; Python {platform.python_version()}"
        f", {platform.machine()}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} "
        "at the end (the machine is shared: load slows every row, the baseline too). "
        f"Acceptance: at most {ALLOWANCE} s over "
        '`python -c "import numpy"` on an idle machine (issue #28).',
        "",
        "| command | median (s) | minus numpy (s) | ratio to numpy | within allowance |",
        "| --- | ---: | ---: | ---: | --- |",
        f'| `python -c "import numpy"` | {base:.3f} | 0 | 1.00 | baseline |',
    ]
    for command in COMMANDS:
        t = result[command]
        ok = "yes" if t - base <= ALLOWANCE else "no"
        rows.append(
            f"| `bellmodels {' '.join(command)}` | {t:.3f} | {t - base:+.3f} | {t / base:.2f} | {ok} |"
        )
    return "\n".join(rows) + "\n"


def importtime(command: tuple[str, ...], top: int = 25) -> str:
    """The ``top`` slowest imports (cumulative microseconds) of one run of ``command``."""
    cmd = argv(command)
    cmd.insert(1, "-X")
    cmd.insert(2, "importtime")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True)
    lines = [x for x in proc.stderr.splitlines() if x.startswith("import time:") and "|" in x]
    rows = []
    for line in lines[1:]:
        _self, cumulative, name = line.removeprefix("import time:").split("|")
        rows.append((int(cumulative), name.rstrip()))
    rows.sort(reverse=True)
    return "\n".join(f"{us / 1e6:8.3f} s  {name}" for us, name in rows[:top])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=7, help="fresh processes per command (7)")
    ap.add_argument("--importtime", nargs=argparse.REMAINDER, help="explain one command")
    ap.add_argument("--no-write", action="store_true", help="print only")
    args = ap.parse_args()
    if args.importtime:
        print(importtime(tuple(args.importtime)))
        return 0
    text = "# CLI start-up\n\n" + table(medians(args.repeat), args.repeat)
    print(text)
    if not args.no_write:
        from bellmodels._util import atomic_write

        atomic_write(OUT, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
