"""The machines' log behaviour as PyTensor algebra against the fused Op, cold compile cache.

``BoltzmannModel.behaviour_tensor`` builds the machines' behaviour from one fused PyTensor Op
(:mod:`bellmodels.models.boltzmann._tensor_op`: a Numba loop for the value and one for its
gradient). Before it, the same quantity was some forty PyTensor Ops (tensordot, softplus,
logsumexp); that graph is kept here, as ``ALGEBRA``, to measure against. For each machine and
each form, in a fresh subprocess with an empty compile cache:

- *nutpie compile*: ``nutpie.compile_pymc_model`` (graph rewriting and Numba's JIT), cold and
  warm (a second process with the caches the first one left);
- *per leapfrog*: nutpie's sampling time over its leapfrog steps (1 chain, 300 tuning steps
  and 300 draws from the posterior mode), the cost NUTS pays per gradient;
- *SMC compile* and *per particle*: the batched log densities and gradients of tempered SMC
  (:class:`bellmodels.inference._tempered_smc.TemperedParts`), 1,000 particles a call;
- *differs*: the largest difference between the two forms' log density and gradient at the same
  1,000 points, so a faster form that computed something else would show.

Prints the rows and the ratios algebra / Op side by side, and writes
``docs/generated/machine_op.md`` (atomically).

    python benchmarks/machine_op.py
    python benchmarks/machine_op.py --models rbm --doc -
"""

from __future__ import annotations

import os
import platform
import sys
import tempfile
from pathlib import Path

from _cold_cache import cold_then_warm, max_rel_diff, options, write_doc

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "generated" / "machine_op.md"
MODELS = ("rbm", "crbm")

ALGEBRA = r"""
def behaviour_tensor(self, params):
    import pytensor.tensor as pt
    W, c, d, A = self._tensor_arrays(params)
    v = pt.as_tensor_variable(self.layout.visible)
    n_s = self.layout.n_settings
    f = pt.tensordot(v, c, axes=[[4], [0]])
    f = f + pt.sum(pt.softplus(d + pt.tensordot(v, W, axes=[[4], [0]])), axis=-1)
    if A is not None:
        s = pt.as_tensor_variable(self.layout.visible[..., :n_s])
        x = pt.as_tensor_variable(self.layout.visible[..., n_s:])
        f = f + pt.sum(pt.tensordot(s, A, axes=[[4], [0]]) * x, axis=-1)
    return pt.exp(f - pt.logsumexp(f, axis=(2, 3), keepdims=True))
from bellmodels.models.boltzmann.base import BoltzmannModel
BoltzmannModel.behaviour_tensor = behaviour_tensor
"""

CHILD = r"""
import json, sys, time, warnings
warnings.simplefilter("ignore")
import numpy as np
name, form, out = sys.argv[1:4]
if form == "algebra":
    exec(sys.argv[4])
import nutpie
import bellmodels as bm
from bellmodels import models
from bellmodels.inference._backend import numba_quiet
from bellmodels.inference._evidence_kernels import FreeSpace
from bellmodels.inference._tempered_smc import TemperedParts
from bellmodels.inference.fit import _initvals, build_model
counts = bm.simulate_singlet(bm.Scenario.chsh(), n_trials=100_000, seed=0).counts()
model = models.get(name)
pmodel = build_model(model, counts)
init, _ = _initvals(model, counts, "auto", pmodel)
row = {}
with numba_quiet():
    t0 = time.perf_counter()
    compiled = nutpie.compile_pymc_model(pmodel, initial_points=init, jitter_rvs=set())
    row["nutpie_compile"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    idata = nutpie.sample(compiled, draws=300, tune=300, chains=1, cores=1, seed=1,
                          progress_bar=False, save_warmup=True)
    seconds = time.perf_counter() - t0
steps = sum(float(idata[g]["n_steps"].sum()) for g in ("warmup_sample_stats", "sample_stats"))
row["us_per_leapfrog"] = 1e6 * seconds / steps
row["leapfrogs_per_draw"] = float(idata.sample_stats["n_steps"].mean())
space = FreeSpace(pmodel)
t0 = time.perf_counter()
parts = TemperedParts(space)
z = parts.prior_draws(1000, seed=0)
first = parts(z)
row["smc_compile"] = time.perf_counter() - t0
t0 = time.perf_counter()
for i in range(30):
    parts(z)
row["us_per_particle"] = 1e6 * (time.perf_counter() - t0) / 30 / 1000
np.save(out, np.concatenate([np.c_[a] if a.ndim == 1 else a for a in first], axis=1))
print(json.dumps(row))
"""


def measure(model: str, form: str, scratch: Path) -> dict:
    cache = Path(tempfile.mkdtemp(prefix=f"bm-{form}-", dir=scratch))
    out = scratch / f"{model}-{form}.npy"
    cold, warm = cold_then_warm(
        CHILD, [model, form, str(out), ALGEBRA], cache, f"{model} {form}", numba_cache=True
    )
    row = dict(cold)
    row["nutpie_warm"] = warm["nutpie_compile"]
    row["smc_warm"] = warm["smc_compile"]
    row["values"] = out
    return row


def main(argv: list[str] | None = None) -> int:
    args = options(argv, __doc__.splitlines()[0], MODELS, "machine", DOC)
    load0 = os.getloadavg()[0]
    keys = (
        "nutpie_compile",
        "nutpie_warm",
        "us_per_leapfrog",
        "smc_compile",
        "smc_warm",
        "us_per_particle",
    )
    rows = []
    with tempfile.TemporaryDirectory(prefix="bm-machine-op-") as tmp:
        for model in args.models:
            alg = measure(model, "algebra", Path(tmp))
            op = measure(model, "op", Path(tmp))
            diff = max_rel_diff(alg["values"], op["values"])
            rows.append((model, alg, op, diff))
            print(
                f"{model:5s} "
                + " | ".join(
                    f"{k} {alg[k]:.2f} -> {op[k]:.2f} ({alg[k] / op[k]:.2f}x)" for k in keys
                )
                + f" | leapfrogs/draw {alg['leapfrogs_per_draw']:.0f} / "
                f"{op['leapfrogs_per_draw']:.0f} | max rel diff {diff:.1e}",
                flush=True,
            )
    lines = [
        "<!-- generated by `python benchmarks/machine_op.py`; do not edit -->",
        "",
        "# The machines' log behaviour: PyTensor algebra against the fused Op",
        "",
        "Each form of each machine in a fresh process with empty PyTensor and Numba caches, on "
        "100,000 simulated singlet trials. *nutpie compile*: `nutpie.compile_pymc_model`, cold "
        "(empty caches) and warm (a second process with the caches the first left: a user's "
        "later runs); "
        "*per leapfrog*: nutpie's sampling time over its leapfrog steps (1 chain, 300 + 300 "
        "steps from the posterior mode); *SMC compile*: the batched tempered-SMC densities "
        "compiled and called once; *per particle*: a later call at 1,000 particles over 1,000. "
        "Ratio = algebra / Op (above 1: the Op is faster). *Differs*: the largest relative "
        "difference between the two forms' log densities and gradients at the same 1,000 "
        f"points. {platform.machine()}, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, load average {load0:.1f} at the start (the machine is shared).",
        "",
        "| machine | form | nutpie compile cold (s) | warm (s) | per leapfrog (us) | "
        "leapfrogs per draw | SMC compile cold (s) | warm (s) | per particle (us) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for model, alg, op, _ in rows:
        for form, r in (("algebra", alg), ("fused Op", op)):
            lines.append(
                f"| {model} | {form} | {r['nutpie_compile']:.1f} | {r['nutpie_warm']:.1f} | "
                f"{r['us_per_leapfrog']:.2f} | {r['leapfrogs_per_draw']:.0f} | "
                f"{r['smc_compile']:.1f} | {r['smc_warm']:.1f} | {r['us_per_particle']:.2f} |"
            )
        ratio = {k: f"{alg[k] / op[k]:.2f}x" for k in keys}
        lines.append(
            f"| {model} | ratio | {ratio['nutpie_compile']} | {ratio['nutpie_warm']} | "
            f"{ratio['us_per_leapfrog']} | | {ratio['smc_compile']} | {ratio['smc_warm']} | "
            f"{ratio['us_per_particle']} |"
        )
    lines += [
        "",
        "Largest relative difference between the forms: "
        + ", ".join(f"{m} {d:.0e}" for m, _, _, d in rows)
        + ".",
        "",
    ]
    write_doc(args.doc, lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
