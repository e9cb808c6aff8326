"""PyTensor's C backend against its Numba backend on bellmodels' log densities, cold cache.

For each model, in a fresh subprocess with an empty compile cache (C modules and Numba cache
both), compile one graph with one backend and time: the compile (graph rewriting, C compiler
runs, Numba's JIT at the first call) and the mean of later calls. Two graphs per model, the two
that every fit and evidence estimate compiles:

- ``nuts``: PyMC's single-point ``logp_dlogp`` function (what ``pm.sample`` calls per leapfrog);
- ``smc``: the batched log prior, log likelihood and gradients of tempered SMC
  (:class:`bellmodels.inference._tempered_smc.TemperedParts`, 1,000 particles per call).

Prints the times side by side, and the ratio C / Numba, and writes
``docs/generated/compile_backend.md`` (atomically). The two backends' outputs are compared at
the same points (relative difference printed), so a faster backend that computed something else
would show.

    python benchmarks/compile_backend.py
    python benchmarks/compile_backend.py --models quantum-singlet --doc -
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "generated" / "compile_backend.md"
MODELS = ("quantum-singlet", "no-signalling", "rbm")

CHILD = r"""
import json, os, sys, time
import numpy as np
name, graph, mode = sys.argv[1:4]
import bellmodels as bm
from bellmodels import models
from bellmodels.inference.fit import build_model
from bellmodels.inference._evidence_kernels import FreeSpace
from bellmodels.inference._tempered_smc import TemperedParts
counts = bm.simulate_singlet(bm.Scenario.chsh(), n=100_000, seed=0).counts()
pmodel = build_model(models.get(name), counts)
space = FreeSpace(pmodel)
mode = None if mode == "C" else mode
rng = np.random.default_rng(0)
children = lambda: os.times().children_user + os.times().children_system
t0, c0 = time.perf_counter(), children()
if graph == "smc":
    import pymc.pytensorf as pf
    orig = pf.compile
    pf.compile = lambda i, o, **kw: orig(i, o, **{**kw, "mode": mode})
    parts = TemperedParts(space)
    z = parts.prior_draws(1000, seed=0)
    call = lambda x: np.concatenate([np.c_[a] if a.ndim == 1 else a for a in parts(x)], axis=1)
else:
    fn = pmodel.logp_dlogp_function(ravel_inputs=True, mode=mode)
    fn.set_extra_values({})
    point = pmodel.initial_point()
    z = np.concatenate([np.ravel(point[v.name]) for v in fn._grad_vars])
    z = z + 0.1 * rng.standard_normal(z.size)
    call = lambda x: np.concatenate([np.atleast_1d(a) for a in fn(x)])
first = call(z)
compile_s, gcc_s = time.perf_counter() - t0, children() - c0
n = 50 if graph == "smc" else 2000
t1 = time.perf_counter()
for i in range(n):
    call(z + 1e-3 * i)
per_call = (time.perf_counter() - t1) / n
np.save(sys.argv[4], first)
print(json.dumps({"compile": compile_s, "compiler": gcc_s, "call_ms": 1e3 * per_call}))
"""


def measure(model: str, graph: str, mode: str, scratch: Path) -> dict:
    cache = Path(tempfile.mkdtemp(prefix=f"bm-{mode}-", dir=scratch))
    env = dict(os.environ)
    env["PYTENSOR_FLAGS"] = f"base_compiledir={cache},compiledir={cache}/c"
    env.setdefault("OMP_NUM_THREADS", "1")
    out = scratch / f"{model}-{graph}-{mode}.npy"
    runs = []
    for _ in ("cold", "warm"):  # the same cache twice: what a first and a later run pay
        proc = subprocess.run(
            [sys.executable, "-c", CHILD, model, graph, mode, str(out)],
            env=env,
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        if proc.returncode != 0:
            raise SystemExit(f"{model} {graph} {mode} failed:\n{proc.stderr[-3000:]}")
        runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    row = dict(runs[0])
    row["warm"] = runs[1]["compile"]
    row["values"] = out
    return row


def main(argv: list[str] | None = None) -> int:
    import numpy as np

    from bellmodels.data import write_atomic

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default=",".join(MODELS), help="comma-separated model names")
    ap.add_argument("--doc", default=str(DOC), help="Markdown output ('-' for none)")
    args = ap.parse_args(argv)
    load0 = os.getloadavg()[0]
    rows = []
    with tempfile.TemporaryDirectory(prefix="bm-compile-bench-") as tmp:
        for model in [m for m in args.models.split(",") if m]:
            for graph in ("nuts", "smc"):
                c = measure(model, graph, "C", Path(tmp))
                nb = measure(model, graph, "NUMBA", Path(tmp))
                a, b = np.load(c["values"]), np.load(nb["values"])
                diff = float(np.max(np.abs(a - b) / (1.0 + np.abs(a))))
                rows.append((model, graph, c, nb, diff))
                print(
                    f"{model:16s} {graph:4s} compile C {c['compile']:6.1f} s "
                    f"(compiler {c['compiler']:5.1f}) Numba {nb['compile']:6.1f} s  ratio "
                    f"{c['compile'] / nb['compile']:5.1f}x | warm C {c['warm']:5.1f} s Numba "
                    f"{nb['warm']:5.1f} s | call C {c['call_ms']:7.3f} ms "
                    f"Numba {nb['call_ms']:7.3f} ms | max rel diff {diff:.1e}",
                    flush=True,
                )
    lines = [
        "<!-- generated by `python benchmarks/compile_backend.py`; do not edit -->",
        "",
        "# PyTensor backends on a cold compile cache: C against Numba",
        "",
        "Each cell is a fresh process with an empty compile cache (C modules and Numba cache), "
        "100,000 simulated singlet trials, one graph compiled with one backend. *Compile* = "
        "graph rewriting + C compiler runs (children's CPU in brackets) or Numba's JIT at the "
        "first call; *warm* = the same in a second process with the cache the first one left "
        "(a user's later runs); *call* = mean time of a later call (the NUTS graph at one point, the SMC "
        "graph at 1,000 particles). *Differs* = the largest relative difference between the "
        "two backends' outputs at the same point. "
        f"{platform.machine()}, Python {platform.python_version()}, {os.cpu_count()} CPUs, "
        f"load average {load0:.1f} at the start.",
        "",
        "| model | graph | compile C (s) | compile Numba (s) | ratio | warm C (s) | "
        "warm Numba (s) | call C (ms) | call Numba (ms) | differs |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for model, graph, c, nb, diff in rows:
        lines.append(
            f"| {model} | {graph} | {c['compile']:.1f} ({c['compiler']:.1f}) | "
            f"{nb['compile']:.1f} | {c['compile'] / nb['compile']:.1f}x | {c['warm']:.1f} | "
            f"{nb['warm']:.1f} | {c['call_ms']:.3f} | "
            f"{nb['call_ms']:.3f} | {diff:.0e} |"
        )
    lines += [
        "",
        "bellmodels therefore compiles its log densities with Numba where it is installed "
        "(`bellmodels.inference._backend`); the MAP search, a few hundred single-point calls, "
        "uses `FAST_COMPILE` (no compiler at all).",
        "",
    ]
    if args.doc != "-":
        write_atomic(Path(args.doc), "\n".join(lines))
        print(f"wrote {args.doc}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
