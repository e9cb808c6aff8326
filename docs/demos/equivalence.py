"""Demonstration: empirically equivalent, metaphysically different.

Fits quantum-singlet, toner-bacon, brans, hall2010, dlr-one-sided and the RBM (and, as a
contrast, the local and measurement-independent local-polytope) to the same simulated singlet
data with PyMC (``bellmodels.inference.fit``), and compares them by exact per-trial PSIS-LOO
(``bellmodels.inference.loo``, ``az.compare``) and by the SMC log evidence
(``bellmodels.inference.estimate_log_evidence``). Next to each model's scores stands its audit (what it
gives up, and how much): the scores tie where the behaviours agree, the audit does not.

Outputs (``--out``): ``demo_equivalence.md`` (comparison + audit table, priors table) and
``demo_equivalence.json``. Run: ``python docs/demos/equivalence.py --size full`` (minutes);
``--size small`` uses fewer trials and draws (the slow test suite runs it).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))

from docgen import audit_dict, fmt, md_table, parser, provenance, write_atomic, write_json

COMMAND = "python docs/demos/equivalence.py --size {size}"
EQUIVALENT = ("quantum-singlet", "toner-bacon", "brans", "hall2010", "dlr-one-sided", "rbm")
CONTRAST = ("local-polytope",)
SIZES: dict[str, dict[str, int]] = {
    "small": {"n_trials": 2_000, "draws": 300, "tune": 300, "chains": 2, "evidence_draws": 300},
    "full": {"n_trials": 20_000, "draws": 1000, "tune": 1000, "chains": 4, "evidence_draws": 1000},
}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parser(__doc__.splitlines()[0]).parse_args(argv)
    import bellmodels as bm
    from bellmodels.comparison import rank
    from bellmodels.inference import diagnostics, estimate_log_evidence, fit, loo

    size = SIZES[args.size]
    scn = bm.Scenario.chsh()
    counts = bm.simulate_singlet(scn, n_trials=size["n_trials"], seed=0).counts()
    names = [n for n in (*EQUIVALENT, *CONTRAST) if n in bm.models.names()]
    rows: dict[str, dict[str, Any]] = {}
    elpds = {}
    for k, name in enumerate(names):
        model = bm.models.get(name)
        idata = fit(
            model,
            counts,
            # the RBM's MI mixes slowest (its ridge, see Concepts): twice the draws
            draws=size["draws"] * (2 if model.trainable else 1),
            tune=size["tune"],
            chains=size["chains"],
            seed=100 + k,
        )
        elpd = loo(idata)
        elpds[name] = elpd
        ev = estimate_log_evidence(
            model,
            counts,
            method="pymc-smc",
            evidence_draws=size["evidence_draws"],
            evidence_chains=size["chains"],
            seed=200 + k,
        )
        le, le_se = ev.log_evidence, ev.se
        gate = diagnostics(idata)
        a = audit_dict(model)
        post = idata.posterior
        rows[name] = {
            "family": model.family,
            "assumption_dropped": model.assumption_dropped,
            "classification": a["classification"],
            "mi_bits": a["mi_bits"],
            "hall_M": a["hall_M"],
            "parameter_independence_violation": a["parameter_independence_violation"],
            "outcome_independence_violation": a["outcome_independence_violation"],
            "S_mean": float(post["S"].mean()) if "S" in post else float("nan"),
            "elpd_loo": float(elpd["elpd_loo"]),
            "se": float(elpd["se"]),
            "p_loo": float(elpd["p_loo"]),
            "log_evidence": float(le),
            "log_evidence_se": float(le_se),
            "diagnostics_ok": bool(gate["ok"]),
            "diagnostics_reasons": list(gate["reasons"]),
            "priors": {p: spec.prior_repr for p, spec in model.parameters.items()},
        }
    table = rank(
        {n: e["loo_cells"] for n, e in elpds.items()},
        elpds[names[0]]["cell_counts"],
        {n: rows[n]["diagnostics_ok"] for n in names},
    )
    for name in names:
        rows[name]["elpd_diff"] = float(table.loc[name, "elpd_diff"])
        rows[name]["dse"] = float(table.loc[name, "dse"])
        rows[name]["weight"] = float(table.loc[name, "weight"])
    best_ev = max(r["log_evidence"] for r in rows.values())
    for r in rows.values():
        r["d_log_evidence"] = r["log_evidence"] - best_ev
    order = list(table.index)

    text = provenance(COMMAND.format(size=args.size))
    text += (
        f"{size['n_trials']:,} simulated singlet trials (seed 0) at the CHSH angles; NUTS "
        f"{size['chains']} chains x {size['draws']} draws (the RBM {2 * size['draws']}); "
        f"SMC {size['chains']} x "
        f"{size['evidence_draws']}. Best model first; the audit columns are at the default (ideal) "
        "parameters.\n\n"
    )
    text += md_table(
        [
            "model",
            "elpd_loo ± se",
            "elpd_diff ± dse",
            "p_loo",
            "log evidence ± MC error",
            "diagnostics",
            "classification",
            "MI (bits)",
            "Hall M",
        ],
        [
            [
                name,
                f"{rows[name]['elpd_loo']:.1f} ± {rows[name]['se']:.1f}",
                f"{rows[name]['elpd_diff']:.2f} ± {rows[name]['dse']:.2f}",
                fmt(rows[name]["p_loo"], 2),
                f"{rows[name]['log_evidence']:.2f} ± {fmt(rows[name]['log_evidence_se'], 2)}",
                "ok" if rows[name]["diagnostics_ok"] else "**failed**",
                rows[name]["classification"],
                rows[name]["mi_bits"],
                rows[name]["hall_M"],
            ]
            for name in order
        ],
    )
    text += "\n**The priors**, on which the evidence (and so every Bayes factor) depends:\n\n"
    text += md_table(
        ["model", "parameters and priors"],
        [
            [name, "; ".join(f"`{p}` ~ `{v}`" for p, v in rows[name]["priors"].items())]
            for name in order
        ],
    )
    unreliable = [
        n
        for n in order
        if not np.isfinite(rows[n]["log_evidence_se"]) or rows[n]["log_evidence_se"] > 1.0
    ]
    for n in order:
        rows[n]["log_evidence_reliable"] = n not in unreliable
    if unreliable:
        text += (
            "\nSMC evidence without a usable Monte Carlo error (the chains' estimates are not "
            "finite or disagree by more than 1 nat), so no Bayes factor should be read from it: "
            + ", ".join(unreliable)
            + ".\n"
        )
    failed = [n for n in order if not rows[n]["diagnostics_ok"]]
    if failed:
        text += (
            "\nFits that failed the diagnostics gate (not to be read as ranked): "
            + "; ".join(f"{n} ({', '.join(rows[n]['diagnostics_reasons'])})" for n in failed)
            + "\n"
        )
    out = Path(args.out)
    write_atomic(out / "demo_equivalence.md", text)
    write_json(
        out / "demo_equivalence.json",
        {"size": args.size, **size, "order": order, "models": rows},
    )
    return rows


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
