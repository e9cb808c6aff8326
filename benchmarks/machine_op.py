"""The machines' log density in three forms, cold compile cache: PyTensor algebra, the fused Op
on the canonical arrays, and the fused Op on the free variables with the likelihood in log space.

``fit`` builds a machine's likelihood from ``BoltzmannModel.log_behaviour_tensor``: one fused
PyTensor Op (:mod:`bellmodels.models.boltzmann._tensor_op`, a Numba loop for the value and one
for its gradient) on the model's free variables, the +-1 to 0/1 map inside it, and the
multinomial log likelihood written out as ``sum(n log p)``. The two forms before it are kept
here to measure against: ``ALGEBRA``, some forty PyTensor Ops (tensordot, softplus, logsumexp),
and ``CANONICAL``, the fused Op on the canonical arrays ``(W, c, d, A)`` with the map as
PyTensor algebra and the likelihood a floored ``Multinomial``. For each machine and each form,
in a fresh subprocess with an empty compile cache:

- *nutpie compile*: ``nutpie.compile_pymc_model`` (graph rewriting and Numba's JIT), cold and
  warm (a second process with the caches the first one left);
- *per leapfrog*: nutpie's sampling time over its leapfrog steps (1 chain, 300 tuning steps
  and 300 draws from the posterior mode), the cost NUTS pays per gradient;
- *SMC compile* and *per particle*: the batched log densities and gradients of tempered SMC
  (:class:`bellmodels.inference._tempered_smc.TemperedParts`), 1,000 particles a call;
- *differs*: the largest difference between a form's log density and gradient and the free
  Op's at the same 1,000 points, so a faster form that computed something else would show.

Prints the rows and the ratios form / free Op side by side, and writes
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
BoltzmannModel.log_behaviour_tensor = lambda self, *args: None
"""

CANONICAL = r"""
from bellmodels.models.boltzmann.base import BoltzmannModel
def behaviour_tensor(self, params):
    import pytensor.tensor as pt
    from bellmodels.models.boltzmann._tensor_op import MachineLogBehaviour
    W, c, d, A = self._tensor_arrays(params)
    if A is None:
        A = pt.zeros((self.layout.n_settings, 2))
    op = MachineLogBehaviour(self.layout.visible, self.layout.n_settings)
    return pt.exp(op(W, c, d, A))
BoltzmannModel.behaviour_tensor = behaviour_tensor
BoltzmannModel.log_behaviour_tensor = lambda self, *args: None
"""

FORMS = {"algebra": ALGEBRA, "canonical Op": CANONICAL, "free Op": ""}

CHILD = r"""
import json, sys, time, warnings
warnings.simplefilter("ignore")
import numpy as np
name, out, patch = sys.argv[1:4]
exec(patch)
import nutpie
import bellmodels as bm
from bellmodels import models
from bellmodels.inference._backend import numba_quiet
from bellmodels.inference._evidence_kernels import FreeSpace
from bellmodels.inference._tempered_smc import TemperedParts
from bellmodels.inference._start import initial_values as _initvals
from bellmodels.inference.fit import build_model
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
    cache = Path(tempfile.mkdtemp(prefix="bm-form-", dir=scratch))
    out = scratch / f"{model}-{form.replace(' ', '-')}.npy"
    cold, warm = cold_then_warm(
        CHILD, [model, str(out), FORMS[form]], cache, f"{model} {form}", numba_cache=True
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
            forms = {form: measure(model, form, Path(tmp)) for form in FORMS}
            free = forms["free Op"]
            for form, r in forms.items():
                r["differs"] = max_rel_diff(free["values"], r["values"])
                print(
                    f"{model:5s} {form:13s} "
                    + " | ".join(f"{k} {r[k]:.2f} ({r[k] / free[k]:.2f}x free Op)" for k in keys)
                    + f" | leapfrogs/draw {r['leapfrogs_per_draw']:.0f} | "
                    f"differs {r['differs']:.1e}",
                    flush=True,
                )
            rows.append((model, forms))
    lines = [
        "<!-- generated by `python benchmarks/machine_op.py`; do not edit -->",
        "",
        "# The machines' log density: PyTensor algebra, the Op on the canonical arrays, the Op "
        "on the free variables",
        "",
        "Each form of each machine in a fresh process with empty PyTensor and Numba caches, on "
        "100,000 simulated singlet trials. *algebra*: the log behaviour as PyTensor Ops; "
        "*canonical Op*: the fused Op on `(W, c, d, A)`, the +-1 to 0/1 map as PyTensor "
        "algebra, a floored Multinomial likelihood; *free Op* (what `fit` builds): the fused Op "
        "on the free variables, the likelihood `sum(n log p)`. *nutpie compile*: "
        "`nutpie.compile_pymc_model`, cold (empty caches) and warm (a second process with the "
        "caches the first left: a user's later runs); *per leapfrog*: nutpie's sampling time "
        "over its leapfrog steps (1 chain, 300 + 300 steps from the posterior mode); *SMC "
        "compile*: the batched tempered-SMC densities compiled and called once; *per "
        "particle*: a later call at 1,000 particles over 1,000. Ratio = form / free Op (above "
        "1: the free Op is faster). *Differs*: the largest relative difference from the free "
        "Op's log densities and gradients at the same 1,000 points. "
        f"{platform.machine()}, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, load average {load0:.1f} at the start (the machine is shared).",
        "",
        "| machine | form | nutpie compile cold (s) | warm (s) | per leapfrog (us) | "
        "leapfrogs per draw | SMC compile cold (s) | warm (s) | per particle (us) | differs |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for model, forms in rows:
        free = forms["free Op"]
        for form, r in forms.items():
            lines.append(
                f"| {model} | {form} | {r['nutpie_compile']:.1f} | {r['nutpie_warm']:.1f} | "
                f"{r['us_per_leapfrog']:.2f} | {r['leapfrogs_per_draw']:.0f} | "
                f"{r['smc_compile']:.1f} | {r['smc_warm']:.1f} | {r['us_per_particle']:.2f} | "
                f"{r['differs']:.0e} |"
            )
        for form, r in forms.items():
            if form == "free Op":
                continue
            ratio = {k: f"{r[k] / free[k]:.2f}x" for k in keys}
            lines.append(
                f"| {model} | {form} / free Op | {ratio['nutpie_compile']} | "
                f"{ratio['nutpie_warm']} | {ratio['us_per_leapfrog']} | | "
                f"{ratio['smc_compile']} | {ratio['smc_warm']} | {ratio['us_per_particle']} | |"
            )
    lines.append("")
    write_doc(args.doc, lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
