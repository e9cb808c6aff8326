"""A reduced main-job comparison on the installed PyMC / ArviZ line, to hold against the other.

Three models (local-polytope, quantum-singlet, hall2010) on 2,000 simulated singlet trials, 2 x
500 draws with PyMC's own NUTS, bridge-sampling evidence, seed 1; plus the exact audits of four
models. Prints JSON (the line, the comparison rows, the audits). Run it on each line and compare:
the ranking and the audits should be equal, the evidence within its Monte Carlo error, LOO within
its standard error. ``python benchmarks/lines_check.py > lines_<line>.json``

Measured 2026-12-03 (2 shared cores): the audits were identical; the same order on both lines;
local-polytope log evidence -2339.563 +- 0.023 (PyMC 5.28 / ArviZ 0.23) vs -2339.537 +- 0.022
(PyMC 6.4 / ArviZ 1.3); quantum-singlet and hall2010 -2240.76694 +- 0.011 on both; ELPD-LOO
-2307.81 vs -2307.87 (se 17.3) and -2239.0632 vs -2239.0634 (se 27.2).
"""

from __future__ import annotations

import json
import time

MODELS = ("local-polytope", "quantum-singlet", "hall2010")
AUDITED = (*MODELS, "rbm-weinstein2017")
ROW = (
    "model",
    "elpd_loo",
    "se",
    "elpd_diff",
    "dse",
    "p_loo",
    "log_evidence",
    "log_evidence_se",
    "mi_bits",
    "hall_M",
    "S_mean",
    "classification",
    "diagnostics_ok",
)
AUDIT = ("S", "mi_bits", "hall_M", "min_mi_bits", "classification")


def main() -> dict:
    import bellmodels as bm
    from bellmodels import _arviz

    t0 = time.perf_counter()
    counts = bm.simulate_singlet(bm.Scenario.chsh(), n_trials=2000, seed=0).counts()
    res = bm.compare(
        list(MODELS),
        counts,
        draws=500,
        tune=500,
        chains=2,
        seed=1,
        progressbar=False,
        sampler="pymc",
    )
    audits = {m: bm.audit(bm.models.get(m)).to_dict() for m in AUDITED}
    return {
        "line": _arviz.line(),
        "seconds": round(time.perf_counter() - t0, 1),
        "rows": [{k: r[k] for k in ROW} for r in res.to_records()],
        "audit": {m: {k: a[k] for k in AUDIT} for m, a in audits.items()},
    }


if __name__ == "__main__":
    print(json.dumps(main(), indent=1, default=str))
