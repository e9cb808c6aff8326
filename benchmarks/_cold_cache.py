"""Run a benchmark child twice on one fresh compile cache: what a first run pays, then a later one.

Shared by ``compile_backend.py`` and ``machine_op.py``. The child is Python source run with
``python -c``; its last stdout line is a JSON object of measurements.
"""

from __future__ import annotations

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
