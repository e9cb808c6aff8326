"""Run a benchmark child twice on one fresh compile cache: what a first run pays, then a later one.

Shared by ``compile_backend.py`` and ``machine_op.py``, with the rest the two have in common:
their command line (``--models``, ``--doc``), the difference between two forms' outputs and the
writing of the page. The child is Python source run with ``python -c``; its last stdout line is a
JSON object of measurements.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def cold_then_warm(
    code: str, args: list[str], cache: Path, label: str, *, numba_cache: bool = False
) -> tuple[dict, dict]:
    """``(cold, warm)`` measurements of ``code`` with PyTensor compiling under ``cache``
    (PyTensor's Numba cache is inside it); ``numba_cache`` also moves Numba's own cache (that of
    ``njit(cache=True)`` functions) there. ``label`` names the child in an error."""
    env = dict(os.environ)
    env["PYTENSOR_FLAGS"] = f"base_compiledir={cache},compiledir={cache}/c"
    if numba_cache:
        env["NUMBA_CACHE_DIR"] = str(cache / "numba-own")
    env.setdefault("OMP_NUM_THREADS", "1")
    runs = []
    for _ in ("cold", "warm"):
        proc = subprocess.run(
            [sys.executable, "-c", code, *args],
            env=env,
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        if proc.returncode != 0:
            raise SystemExit(f"{label} failed:\n{proc.stderr[-3000:]}")
        runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    return runs[0], runs[1]


def options(
    argv: list[str] | None, description: str, models: tuple[str, ...], noun: str, doc: Path
) -> argparse.Namespace:
    """``--models``: comma-separated ``noun`` names (default ``models``), a list once parsed;
    ``--doc``: the Markdown page (default ``doc``, ``-`` for none)."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument(
        "--models",
        type=lambda text: [m for m in text.split(",") if m],
        default=",".join(models),
        help=f"comma-separated {noun} names",
    )
    ap.add_argument("--doc", default=str(doc), help="Markdown output ('-' for none)")
    return ap.parse_args(argv)


def max_rel_diff(a: Path, b: Path) -> float:
    """The largest ``|a - b| / (1 + |a|)`` between two forms' outputs saved as ``.npy``."""
    import numpy as np

    x, y = np.load(a), np.load(b)
    return float(np.max(np.abs(x - y) / (1.0 + np.abs(x))))


def write_doc(doc: str, lines: list[str]) -> None:
    """Write the page's ``lines`` to ``doc`` atomically and say so; ``-`` writes nothing."""
    if doc == "-":
        return
    from bellmodels.data import write_atomic

    write_atomic(Path(doc), "\n".join(lines))
    print(f"wrote {doc}")
