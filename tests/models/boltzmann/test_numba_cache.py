"""The machines' Numba loops come from Numba's cache in every process after the first.

A kernel that calls another through a closure variable (a kernel defined inside a function)
misses the cache in every new process: it is compiled again and leaves one more file in the
cache each time."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

LOOPS = Path(__file__).resolve().parents[3] / "bellmodels/models/boltzmann/_numba_loops.py"
# the loops alone (no PyTensor, no package import), called on a small machine's arrays; prints
# each kernel's cache hits and misses in this process
CALL = """
import importlib.util, json, sys
import numpy as np
spec = importlib.util.spec_from_file_location("bellmodels.models.boltzmann._numba_loops", sys.argv[1])
L = importlib.util.module_from_spec(spec); spec.loader.exec_module(L)
rng = np.random.default_rng(0)
n_v, n_h, n_s, rows = 4, 3, 2, 16
V = rng.integers(0, 2, (rows, n_v)).astype(float)
S, X = np.ascontiguousarray(V[:, :n_s]), np.ascontiguousarray(V[:, n_s:])
W, c, d, A = rng.normal(size=(n_v, n_h)), rng.normal(size=n_v), rng.normal(size=n_h), rng.normal(size=(n_s, 2))
logp, g = L.forward(V, S, X, W, c, d, A), np.ones(rows)
L.vjp(V, S, X, W, c, d, A, logp, g)
L.forward_batch(V, S, X, W[None], c[None], d[None], A[None])
L.vjp_batch(V, S, X, W[None], c[None], d[None], A[None], logp[None], g[None])
n_theta = n_v * n_h + n_v + n_h + 2 * n_s
r = np.arange(n_theta, dtype=np.int64)
x = rng.normal(size=(1, n_theta))
L.free_forward(V, S, X, r, r, np.ones(n_theta), np.zeros(n_theta), x)
L.free_vjp(V, S, X, r, r, np.ones(n_theta), np.zeros(n_theta), x, logp[None], g[None])
names = ["forward", "vjp", "forward_batch", "vjp_batch", "free_forward", "free_vjp"]
print(json.dumps({n: [sum(getattr(L, n).stats.cache_hits.values()),
                      sum(getattr(L, n).stats.cache_misses.values())] for n in names}))
"""


def _hits_and_misses(cache: Path) -> dict[str, list[int]]:
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache))
    done = subprocess.run(
        [sys.executable, "-c", CALL, str(LOOPS)], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def test_a_second_process_finds_every_loop_in_numbas_cache(tmp_path):
    first = _hits_and_misses(tmp_path)
    assert all(misses == 1 for _hits, misses in first.values()), first  # an empty cache
    second = _hits_and_misses(tmp_path)
    assert all(hits == 1 and misses == 0 for hits, misses in second.values()), second
    # nothing compiled twice, so nothing saved twice: one data file per kernel and signature
    assert len(list(tmp_path.rglob("*.nbc"))) == len(list(tmp_path.rglob("*.nbi")))
