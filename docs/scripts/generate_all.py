"""Regenerate every documentation output the docs' own scripts write (not the benchmarks).

Runs, in order: ``concepts_numbers.py``, ``model_cards.py``, each demonstration at
``--size full`` (or ``--size small`` with ``--small``), ``thumbnails.py``, then the tables owned by the model and
inference scripts in this directory when they exist (``model_audit_table.py``,
``rbm_labelling.py``, ``real_data_comparison.py`` after ``bellmodels run real_data``,
``significance_table.py``). Each runs in its own process with ``OMP_NUM_THREADS=1``; the first
failure stops the run with that script's exit code.

Run: ``python docs/scripts/generate_all.py [--small] [--skip-slow]``; ``--skip-slow`` leaves out
the fits (``equivalence.py``, ``rbm_labelling.py``, ``real_data_comparison.py``, ``significance_table.py``).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

DOCS = Path(__file__).resolve().parent.parent
STUDY_RUN = ["-c", "import sys; from bellmodels.cli import main; sys.exit(main())"]
SLOW = {
    "equivalence.py",
    "rbm_labelling.py",
    "real_data_comparison.py",
    "significance_table.py",
    STUDY_RUN[0],
}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--small", action="store_true", help="demos at --size small")
    p.add_argument("--skip-slow", action="store_true", help="skip the scripts that fit models")
    args = p.parse_args(argv)
    size = ["--size", "small" if args.small else "full"]
    steps: list[list[str]] = [
        [str(DOCS / "scripts" / "concepts_numbers.py")],
        [str(DOCS / "scripts" / "model_cards.py"), *size],
        *[
            [str(DOCS / "demos" / f"{d}.py"), *size]
            for d in ("rbm_violation", "mi_frontier", "real_experiments", "equivalence")
        ],
        # the gallery's thumbnails of the demos that draw no figure (from their JSON)
        [str(DOCS / "scripts" / "thumbnails.py")],
        # the real-data table reads a run of its study (resumable: finished tasks are kept)
        [*STUDY_RUN, "run", "real_data", "--out", "results/real_data", "--quiet"],
        *[
            [str(DOCS / "scripts" / s)]
            for s in (
                "model_audit_table.py",
                "rbm_labelling.py",
                "real_data_comparison.py",
                "significance_table.py",
            )
            if (DOCS / "scripts" / s).exists()
        ],
    ]
    env = dict(os.environ, OMP_NUM_THREADS="1", MPLBACKEND="Agg")
    for step in steps:
        if args.skip_slow and Path(step[0]).name in SLOW:
            continue
        start = time.perf_counter()
        print(
            "+ python",
            " ".join(
                str(Path(s).relative_to(DOCS.parent)) if s.startswith("/") else s for s in step
            ),
            flush=True,
        )
        rc = subprocess.call([sys.executable, *step], env=env, cwd=DOCS.parent)
        if rc != 0:
            return rc
        print(f"  done in {time.perf_counter() - start:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
