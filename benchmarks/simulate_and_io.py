"""Benchmark: the singlet sampler and streamed reading of per-trial CSV files.

Prints, side by side:

1. ``simulate_singlet`` for N trials (default 10^7) against a per-trial Python loop (timed on a
   subsample and scaled), and against drawing only the counts with ``numpy`` multinomials (the
   floor for any sampler that must also return the trials);
2. writing N per-trial rows with ``write_counts(form="trials")`` (rows/s);
3. ``read_counts`` on that file, streamed in chunks of 10^6 rows vs in one chunk, and plain
   ``pandas.read_csv`` of the whole file (no validation) for reference: wall time, rows/s and
   peak extra memory (largest resident set size during the read, sampled by a thread, minus the
   size before it), with the ratio of peak memory to file size. Each read runs in a fresh child
   process so that its memory is its own.

Run: ``OMP_NUM_THREADS=1 python benchmarks/simulate_and_io.py [--rows 10000000]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bellmodels import Scenario
from bellmodels.data import write_counts
from bellmodels.simulate import simulate_singlet

CHILD = r"""
import json, os, sys, threading, time
import numpy as np, pandas as pd
from bellmodels.data import read_counts
mode, path, chunk = sys.argv[1], sys.argv[2], int(sys.argv[3])
page = os.sysconf("SC_PAGE_SIZE")
def rss():
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * page
peak, done = [0], threading.Event()
def poll():
    while not done.is_set():
        peak[0] = max(peak[0], rss())
        time.sleep(0.002)
base = rss()
watcher = threading.Thread(target=poll, daemon=True)
watcher.start()
t0 = time.perf_counter()
if mode == "bellmodels":
    total = read_counts(path, chunk_rows=chunk).total
elif mode == "pandas":
    frame = pd.read_csv(path)
    total = len(frame)
else:
    total = 0
dt = time.perf_counter() - t0
done.set(); watcher.join()
peak[0] = max(peak[0], rss())
print(json.dumps({"seconds": dt, "rows": int(total), "extra_bytes": peak[0] - base}))
"""


def naive_singlet(scenario: Scenario, n: int, seed: int) -> list[tuple[int, int, int, int]]:
    """Per-trial loop with the same statistics (the slow reference)."""
    rng = np.random.default_rng(seed)
    diff = scenario.angle_differences()
    out = []
    for _ in range(n):
        sa, sb = int(rng.integers(scenario.n_a)), int(rng.integers(scenario.n_b))
        xa = 1 if rng.random() < 0.5 else -1
        xb = xa if rng.random() < (1 - np.cos(diff[sa, sb])) / 2 else -xa
        out.append((sa, sb, xa, xb))
    return out


def multinomial_counts(scenario: Scenario, n: int, seed: int) -> np.ndarray:
    """Counts only: one multinomial over the 16 cells (no per-trial records)."""
    from bellmodels.simulate import singlet_behaviour

    p = singlet_behaviour(scenario) / (scenario.n_a * scenario.n_b)
    return np.random.default_rng(seed).multinomial(n, p.ravel()).reshape(p.shape)


def best_of(fn, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def child(mode: str, path: Path, chunk: int) -> dict:
    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, mode, str(path), str(chunk)],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    return json.loads(proc.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000, help="trials / CSV rows")
    parser.add_argument("--naive", type=int, default=100_000, help="trials in the naive loop")
    args = parser.parse_args()
    n = args.rows
    scn = Scenario.chsh()

    print(f"== simulate_singlet, N = {n:,} (best of 3) ==")
    t_vec = best_of(lambda: simulate_singlet(scn, n, seed=0))
    t_naive = best_of(lambda: naive_singlet(scn, args.naive, seed=0), repeats=1) * n / args.naive
    t_multi = best_of(lambda: multinomial_counts(scn, n, seed=0))
    print(f"  vectorised simulate_singlet   {t_vec:8.3f} s   {n / t_vec:14,.0f} trials/s")
    print(
        f"  per-trial Python loop         {t_naive:8.3f} s   {n / t_naive:14,.0f} trials/s"
        f"   (timed on {args.naive:,}, scaled)   ratio {t_naive / t_vec:,.0f}x slower"
    )
    print(f"  multinomial counts only       {t_multi:8.4f} s   (counts without trials: the floor)")

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "trials.csv"
        trials = simulate_singlet(scn, n, seed=1)
        t0 = time.perf_counter()
        write_counts(trials, path, form="trials")
        t_write = time.perf_counter() - t0
        size = path.stat().st_size
        expected = trials.counts().total
        del trials
        print(f"\n== per-trial CSV: {n:,} rows, {size / 2**20:.1f} MiB ==")
        print(f"  write_counts(form='trials')   {t_write:8.3f} s   {n / t_write:14,.0f} rows/s")

        print("\n== reading (fresh process each) ==")
        print(f"  {'reader':36s} {'seconds':>8s} {'rows/s':>14s} {'peak MiB':>9s} {'/file':>7s}")
        for label, mode, chunk in (
            ("read_counts, chunk_rows=1e6", "bellmodels", 1_000_000),
            ("read_counts, chunk_rows=1e5", "bellmodels", 100_000),
            ("read_counts, one chunk", "bellmodels", max(n, 1)),
            ("pandas.read_csv (whole, no checks)", "pandas", 0),
        ):
            r = child(mode, path, chunk)
            assert r["rows"] == expected, (label, r)
            mib = r["extra_bytes"] / 2**20
            print(
                f"  {label:36s} {r['seconds']:8.2f} {n / r['seconds']:14,.0f} {mib:9.1f}"
                f" {mib * 2**20 / size:7.2f}"
            )
        quarter = Path(tmp) / "quarter.csv"
        write_counts(simulate_singlet(scn, n // 4, seed=2), quarter, form="trials")
        r = child("bellmodels", quarter, 1_000_000)
        mib = r["extra_bytes"] / 2**20
        print(
            f"  {'same, chunk_rows=1e6, N/4 rows':36s} {r['seconds']:8.2f} "
            f"{n // 4 / r['seconds']:14,.0f} {mib:9.1f} {mib * 2**20 / quarter.stat().st_size:7.2f}"
        )
        print(
            "\n  peak = largest resident set size during the read (sampled every 2 ms) minus the "
            "size before it; '/file' = peak / file "
            "size. Streaming keeps the peak at one chunk's worth: "
            "compare the 1e6-chunk peak at N and N/4 rows."
        )


if __name__ == "__main__":
    main()
