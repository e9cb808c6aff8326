"""Wall time of a full ``compare`` of 6 models on 100,000 simulated singlet trials.

Default settings of :func:`bellmodels.compare` (4 chains x 1000 draws after 1000 tuning steps,
SMC evidence 4 x 2000, per-draw audit). Target: under 3 minutes on a 2-core machine; the script
prints the time, the target and their ratio, and the table. PyTensor's compile cache makes a
second run faster than the first: both are printed when ``--repeat 2``.

Run: ``OMP_NUM_THREADS=1 python benchmarks/compare_speed.py``.
"""

from __future__ import annotations

import argparse
import sys
import time

MODELS = ("local-polytope", "bell1964", "quantum-singlet", "hall2010", "no-signalling", "rbm")
TARGET_S = 180.0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--trials", type=int, default=100_000)
    p.add_argument("--models", default=",".join(MODELS))
    p.add_argument("--repeat", type=int, default=1)
    p.add_argument("--no-evidence", action="store_true")
    args = p.parse_args(argv)
    import bellmodels as bm

    names = [n for n in args.models.split(",") if n in bm.models.names()]
    missing = sorted(set(args.models.split(",")) - set(names))
    if missing:
        print(f"not registered (skipped): {missing}")
    counts = bm.simulate_singlet(bm.Scenario.chsh(), n=args.trials, seed=0).counts()
    for run in range(args.repeat):
        t0 = time.perf_counter()
        res = bm.compare(names, counts, seed=1, evidence=not args.no_evidence, progress=True)
        wall = time.perf_counter() - t0
        print(res.to_markdown())
        print(
            f"run {run + 1}: {len(names)} models, {args.trials} trials: {wall:.1f} s "
            f"(target {TARGET_S:.0f} s; ratio {wall / TARGET_S:.2f})",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
